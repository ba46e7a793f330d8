"""Shared storage: nfs-ganesha (with rpcbind, for NFSv3 and QEMU's nfs:// driver) in a network
namespace of its own on the lab bridge, exporting a directory of the lab's run dir, plus an sshd so
the storage host is an Ansible host too."""
import socket
from dataclasses import asdict, dataclass
from pathlib import Path

from . import config, network, processes
from .keys import LabKeys
from .shell import run, wait_for
from .sshd import start_sshd
from .state import State

NAME = f"{config.PREFIX}nfs"
PSEUDO_PATH = "/export"


@dataclass
class StorageHost:
    name: str
    ip: str
    export_dir: str           # the exported directory on this machine
    export_path: str          # what NFS clients mount (v3 and v4): ip:/export
    rpcbind: tuple[int, int] | None = None
    ganesha: tuple[int, int] | None = None
    sshd: tuple[int, int] | None = None

    @property
    def netns(self) -> str:
        return self.name

    def nfs_url(self, filename: str) -> str:
        """URL of a file in the export for QEMU's nfs:// block driver."""
        return f"nfs://{self.ip}{self.export_path}/{filename}"

    def is_running(self) -> bool:
        return all(p and processes.is_running(*p) for p in (self.rpcbind, self.ganesha, self.sshd))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "StorageHost":
        data = dict(data)
        for key in ("rpcbind", "ganesha", "sshd"):
            data[key] = tuple(data[key]) if data.get(key) else None
        return cls(**data)


def ensure_storage(state: State, keys: LabKeys) -> StorageHost:
    saved = state.component("storage")
    work = config.RUN_DIR / "storage"
    storage = StorageHost.from_dict(saved) if saved else StorageHost(
        NAME, config.STORAGE_IP, str(work / "export"), PSEUDO_PATH)
    if storage.is_running():
        return storage
    network.ensure_netns(state, NAME, storage.ip)
    (work / "recovery").mkdir(parents=True, exist_ok=True)
    Path(storage.export_dir).mkdir(parents=True, exist_ok=True)
    Path(storage.export_dir).chmod(0o1777)
    if not (storage.rpcbind and processes.is_running(*storage.rpcbind)):
        # rpcbind, ganesha and sshd share a mount namespace with a private /run
        storage.ganesha = storage.sshd = None
        script = (f"set -e; mount -t tmpfs -o mode=755 tmpfs /run; mkdir -p /run/rpcbind /run/sshd; "
                  f"{network.private_etc_mounts(work, NAME)}; exec rpcbind -f -w")
        storage.rpcbind = processes.spawn(
            ["ip", "netns", "exec", NAME, "unshare", "-m", "-u", "--propagation", "private", "sh", "-c", script],
            work / "rpcbind.log")
        state.add("process", pid=storage.rpcbind[0], started=storage.rpcbind[1], what="rpcbind")
        state.set_component("storage", storage.to_dict())
        wait_for(lambda: run(["ip", "netns", "exec", NAME, "rpcinfo", "-p", "127.0.0.1"], check=False,
                             quiet=True).returncode == 0, 10, "rpcbind")
    if not (storage.ganesha and processes.is_running(*storage.ganesha)):
        conf = work / "ganesha.conf"
        conf.write_text(_ganesha_config(storage, work / "recovery"))
        storage.ganesha = processes.spawn(
            ["nsenter", "-t", str(storage.rpcbind[0]), "-m", "-u", "-n", "ganesha.nfsd", "-F",
             "-L", work / "ganesha.log", "-f", conf, "-p", "/run/ganesha.pid"], work / "ganesha.out")
        state.add("process", pid=storage.ganesha[0], started=storage.ganesha[1], what="ganesha")
        state.set_component("storage", storage.to_dict())
        wait_for(lambda: _port_open(storage.ip, 2049) and _mountd_registered(), 30, "nfs-ganesha")
    if not (storage.sshd and processes.is_running(*storage.sshd)):
        storage.sshd = start_sshd(state, keys, storage.rpcbind[0], storage.ip, work, f"sshd {NAME}")
    state.set_component("storage", storage.to_dict())
    return storage


def _ganesha_config(storage: StorageHost, recovery: Path) -> str:
    return f"""
NFS_CORE_PARAM {{
    Protocols = 3, 4;
    Bind_addr = {storage.ip};
    Enable_NLM = false;
    Enable_RQUOTA = false;
    mount_path_pseudo = true;
}}
NFSV4 {{
    Graceless = true;
    RecoveryRoot = "{recovery}";
}}
EXPORT {{
    Export_Id = 1;
    Path = "{storage.export_dir}";
    Pseudo = "{storage.export_path}";
    Access_Type = RW;
    Squash = No_Root_Squash;
    SecType = sys;
    Protocols = 3, 4;
    Transports = TCP;
    # without this, permission changes made by one client are not seen by the next
    Attr_Expiration_Time = 0;
    FSAL {{ Name = VFS; }}
    CLIENT {{ Clients = {config.SUBNET_PREFIX}.0/{config.NETMASK_BITS}; Access_Type = RW; }}
}}
LOG {{ Default_Log_Level = WARN; }}
"""


def _mountd_registered() -> bool:
    out = run(["ip", "netns", "exec", NAME, "rpcinfo", "-p", "127.0.0.1"], check=False, quiet=True).stdout
    return "mountd" in out and "nfs" in out


def _port_open(ip: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((ip, port)) == 0
