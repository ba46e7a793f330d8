"""The ssh keys the lab owns: a client key (root on every lab host and guest trusts it) and the
host key of the lab's sshds. Kept in the cache so they survive `down`."""
from dataclasses import dataclass
from pathlib import Path

from . import config
from .shell import run
from .state import cache_locked


@dataclass(frozen=True)
class LabKeys:
    private_key: Path
    public_key: Path
    authorized_keys: Path
    host_key: Path


def ensure_keys() -> LabKeys:
    keys_dir = config.KEYS_DIR
    keys_dir.mkdir(parents=True, exist_ok=True)
    keys = LabKeys(keys_dir / "id_ed25519", keys_dir / "id_ed25519.pub", keys_dir / "authorized_keys",
                   keys_dir / "ssh_host_ed25519_key")
    if all(path.exists() for path in (keys.private_key, keys.host_key, keys.authorized_keys)):
        return keys
    with cache_locked("keys"):   # two sessions starting at once must not both generate them
        for path, comment in ((keys.private_key, "kvmlab"), (keys.host_key, "kvmlab-host")):
            if not path.exists():
                run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path])
        if not keys.authorized_keys.exists():
            keys.authorized_keys.write_text(keys.public_key.read_text())
    return keys


def ssh_options(keys: LabKeys) -> list[str]:
    """Options for ssh/scp to lab machines: the lab key, and no host key bookkeeping (lab hosts
    come and go with new keys on the same addresses)."""
    return ["-i", str(keys.private_key), "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes",
            "-o", "ConnectTimeout=5"]


def ssh(keys: LabKeys, ip: str, command: str, timeout: float = 60, check: bool = True):
    return run(["ssh", *ssh_options(keys), f"root@{ip}", command], timeout=timeout, check=check)
