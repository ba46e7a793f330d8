"""The lab's local package mirror, as an air-gapped site has one: the exact .debs the collection's roles install on
Debian 12 (every `*_packages` list of roles/*/vars/Debian.yml) and the dependencies the Debian guest image lacks,
resolved by this machine's apt against the image's own dpkg status, fetched with apt, indexed as a flat repository
(dpkg-scanpackages) and served to the guests over HTTP from the lab bridge's address only."""
import gzip
import hashlib
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import config, processes
from .image import DebianImage
from .shell import LabError, log, run, wait_for
from .state import State

MIRROR_DIR = config.CACHE_DIR / "mirror"
ROLES_DIR = config.REPO_ROOT / "roles"
PORT = 8040 + config.INSTANCE   # on the lab bridge's address only; one per lab instance
# what Ansible itself needs on a Debian host to install packages (its apt module imports python3-apt)
ANSIBLE_PACKAGES = ["python3-apt"]
# what the molecule scenarios themselves put on a guest beside the roles: the hypervisor scenario makes nftables the
# guest's firewall (a policy-drop input chain) so that the role's nftables step really runs
SCENARIO_PACKAGES = ["nftables"]


@dataclass(frozen=True)
class Mirror:
    path: Path          # the flat repository: *.deb, Packages, Packages.gz, mirror.json
    packages: list      # what was asked for
    debs: list          # what it holds (asked for + the dependencies the image lacks)

    @property
    def url(self) -> str:
        return f"http://{config.BRIDGE_IP}:{PORT}/"

    @property
    def apt_line(self) -> str:
        # a flat repository without a signed Release: trusted by this source line only, as a site mirror would be
        return f"deb [trusted=yes] {self.url} ./"


def role_packages() -> list[str]:
    """Every package a role installs on Debian 12 (the `__<role>_*packages` lists of roles/*/vars/Debian.yml), what
    Ansible's apt module needs, and what the molecule scenarios install themselves."""
    names: list[str] = list(ANSIBLE_PACKAGES) + SCENARIO_PACKAGES
    for path in sorted(ROLES_DIR.glob("*/vars/Debian.yml")):
        for key, value in (yaml.safe_load(path.read_text()) or {}).items():
            if key.endswith("packages") and isinstance(value, list):
                names += [name for name in value if name not in names]
    return names


def mirror_key(image: DebianImage, packages: list[str]) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([image.disk.parent.name, packages]).encode())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:12]


def ensure_mirror(image: DebianImage, packages: list[str] | None = None) -> Mirror:
    """The mirror for this image and package list, built when missing (cached under KVMLAB_CACHE/mirror)."""
    packages = packages or role_packages()
    target = MIRROR_DIR / f"debian-{config.DEBIAN_SUITE}-{mirror_key(image, packages)}"
    if not (target / "mirror.json").exists():
        _build(image, packages, target)
    debs = json.loads((target / "mirror.json").read_text())["debs"]
    return Mirror(target, packages, debs)


def _build(image: DebianImage, packages: list[str], target: Path) -> None:
    log.info("building the package mirror %s (%d packages and their dependencies)", target.name, len(packages))
    MIRROR_DIR.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=MIRROR_DIR, prefix=".build-"))
    try:
        apt_root = staging / "apt"
        (apt_root / "archives" / "partial").mkdir(parents=True)
        status = apt_root / "status"
        # the image's dpkg database, read out of its ext4 file system without mounting it
        run(["debugfs", "-R", "dump /var/lib/dpkg/status " + str(status), str(image.disk)], timeout=60)
        if not status.exists() or not status.stat().st_size:
            raise LabError(f"could not read /var/lib/dpkg/status from {image.disk}")
        # apt as the guest would resolve it: this machine's package lists (bookworm and its updates), the image's
        # installed packages; Recommends left out (apt in the guest skips those the mirror does not have)
        apt = ["apt-get", "-q", "-y", "--no-install-recommends",
               "-o", f"Dir::State::status={status}", "-o", f"Dir::Cache::archives={apt_root / 'archives'}",
               "-o", f"Dir::Cache={apt_root}", "-o", "Debug::NoLocking=true",
               "-o", "APT::Get::AllowUnauthenticated=false"]
        planned = run(apt + ["install", "--print-uris", *packages], timeout=300).stdout
        uris = [line.split()[0].strip("'") for line in planned.splitlines() if line.startswith("'")]
        if not uris:
            raise LabError(f"apt finds nothing to fetch for {packages}: does the image have them all already?")
        run(apt + ["install", "--download-only", *packages], timeout=900)
        repo = staging / "repo"
        repo.mkdir()
        debs = sorted(path.name for path in (apt_root / "archives").glob("*.deb"))
        if len(debs) != len(uris):
            raise LabError(f"apt planned {len(uris)} packages but fetched {len(debs)}")
        for name in debs:
            shutil.move(str(apt_root / "archives" / name), repo / name)
        index = _scan(repo)
        (repo / "Packages").write_text(index)
        with gzip.open(repo / "Packages.gz", "wt") as stream:
            stream.write(index)
        record = {"image": image.disk.parent.name, "packages": packages, "debs": debs}
        (repo / "mirror.json").write_text(json.dumps(record, indent=1))
        repo.chmod(0o755)
        if target.exists():
            shutil.rmtree(target)
        repo.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _scan(repo: Path) -> str:
    """The Packages index; run inside the repository, so Filename: paths are relative to it."""
    proc = subprocess.run(["dpkg-scanpackages", "--multiversion", "."], cwd=repo, capture_output=True, text=True,
                          timeout=300, check=False, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise LabError(f"dpkg-scanpackages failed: {proc.stderr.strip()}")
    return proc.stdout


def serve(state: State, mirror: Mirror) -> Mirror:
    """Serve the mirror on the lab bridge's address (recorded, so `down` stops it); idempotent."""
    current = state.component("mirror")
    if current and processes.is_running(current["pid"], current["started"]) and current["path"] == str(mirror.path):
        return mirror
    if current:
        processes.terminate(current["pid"], current["started"])
    cmd = [config.VENV_PYTHON, "-m", "http.server", "--bind", config.BRIDGE_IP, "--directory", mirror.path, str(PORT)]
    pid, started = processes.spawn(cmd, config.RUN_DIR / "mirror.log")
    state.add("process", pid=pid, started=started, what="mirror")
    state.set_component("mirror", {"pid": pid, "started": started, "path": str(mirror.path), "url": mirror.url,
                                   "apt_line": mirror.apt_line})

    def listening() -> bool:
        return f"pid={pid}," in run(["ss", "-Hltnp", "sport", f"= :{PORT}"], quiet=True).stdout

    wait_for(listening, 10, f"the package mirror on {config.BRIDGE_IP}:{PORT}")
    return mirror
