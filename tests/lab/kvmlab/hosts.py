"""Hypervisor hosts: per host a network namespace on the lab bridge, its own libvirtd (private
mount namespace with its own config, state and host_uuid, listening on TCP) and an sshd."""
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import libvirt

from . import config, network, processes, tls
from .keys import LabKeys
from .shell import wait_for
from .sshd import start_sshd
from .state import State


@dataclass
class HypervisorHost:
    index: int
    name: str          # also its hostname, netns name and Ansible inventory name
    ip: str
    host_uuid: str
    state_dir: str     # etc/ run/ varlib/ log/ of its libvirtd, as seen from the root namespace
    ssh_key: str
    libvirtd: tuple[int, int] | None = None   # (pid, start time)
    sshd: tuple[int, int] | None = None

    @property
    def netns(self) -> str:
        return self.name

    @property
    def tcp_uri(self) -> str:
        return f"qemu+tcp://{self.ip}/system"

    @property
    def ssh_uri(self) -> str:
        return f"qemu+ssh://root@{self.ip}/system?keyfile={self.ssh_key}&no_verify=1&no_tty=1"

    @property
    def tls_uri(self) -> str:
        """x509 client certificate of the lab CA (kvmlab/tls.py), from the root namespace."""
        return f"qemu+tls://{self.ip}/system?pkipath={tls.CLIENT_DIR}"

    @property
    def unix_uri(self) -> str:
        """Reaches the daemon from the root namespace without the network."""
        return f"qemu+unix:///system?socket={self.state_dir}/run/libvirt-sock"

    @property
    def uris(self) -> dict[str, str]:
        return {"tcp": self.tcp_uri, "ssh": self.ssh_uri, "unix": self.unix_uri}

    @property
    def bridge(self) -> str:
        """The bridge inside the host that puts guests on the lab segment."""
        return "br0"

    def is_running(self) -> bool:
        return all(p and processes.is_running(*p) for p in (self.libvirtd, self.sshd))

    def connect(self) -> libvirt.virConnect:
        return libvirt.open(self.unix_uri)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "HypervisorHost":
        data = dict(data)
        for key in ("libvirtd", "sshd"):
            data[key] = tuple(data[key]) if data.get(key) else None
        return cls(**data)


def ensure_host(state: State, keys: LabKeys, index: int) -> HypervisorHost:
    name = config.host_name(index)
    saved = state.component(f"host:{name}")
    host = HypervisorHost.from_dict(saved) if saved else HypervisorHost(
        index, name, config.host_ip(index), str(uuid.uuid4()), str(config.RUN_DIR / "hosts" / name),
        str(keys.private_key))
    if host.is_running():
        return host
    network.ensure_netns(state, name, host.ip, bridge_inside=True)
    root = Path(host.state_dir)
    for sub in config.LIBVIRT_DIRS:
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "log" / "qemu").mkdir(exist_ok=True)  # guests' serial logs go there
    _write_libvirt_config(host, root / "etc")
    if not (host.libvirtd and processes.is_running(*host.libvirtd)):
        host.sshd = None  # an sshd lives in the libvirtd's mount namespace: it goes with it
        host.libvirtd = _start_libvirtd(state, host, root)
        state.set_component(f"host:{name}", host.to_dict())
    wait_for(lambda: _answers(host.unix_uri) and _answers(host.tcp_uri), 30, f"libvirtd of {name}")
    if not (host.sshd and processes.is_running(*host.sshd)):
        host.sshd = start_sshd(state, keys, host.libvirtd[0], host.ip, root, f"sshd {name}")
    state.set_component(f"host:{name}", host.to_dict())
    return host


def _write_libvirt_config(host: HypervisorHost, etc: Path) -> None:
    tls.ensure_pki()
    (etc / "libvirtd.conf").write_text(
        f'listen_tls = 1\nlisten_tcp = 1\nlisten_addr = "{host.ip}"\nauth_tcp = "none"\nauth_tls = "none"\n'
        f'ca_file = "{tls.SERVER_DIR}/cacert.pem"\ncert_file = "{tls.SERVER_DIR}/servercert.pem"\n'
        f'key_file = "{tls.SERVER_DIR}/serverkey.pem"\n'
        f'auth_unix_rw = "none"\nauth_unix_ro = "none"\nhost_uuid = "{host.host_uuid}"\n'
        'log_outputs = "3:file:/var/log/libvirt/libvirtd.log"\n')
    (etc / "qemu.conf").write_text(
        'user = "root"\ngroup = "root"\nremember_owner = 0\ncgroup_controllers = [ ]\n'
        'stdio_handler = "file"\nsecurity_driver = "none"\n'
        f'migration_host = "{host.ip}"\nmigration_address = "{host.ip}"\n'
        f'migrate_tls_x509_cert_dir = "{tls.QEMU_DIR}"\nmigrate_tls_x509_verify = 1\n')


def _start_libvirtd(state: State, host: HypervisorHost, root: Path) -> tuple[int, int]:
    config.LIBVIRT_CAPS_CACHE.mkdir(parents=True, exist_ok=True)
    binds = [(root / sub, target) for sub, target in config.LIBVIRT_DIRS.items()]
    binds.append((config.LIBVIRT_CAPS_CACHE, "/var/cache/libvirt"))
    mounts = "; ".join(f"mount --bind {source} {target}" for source, target in binds)
    script = f"set -e; {mounts}; {network.private_etc_mounts(root, host.name)}; exec libvirtd --listen --pid-file /run/libvirt/libvirtd.pid"
    pid, started = processes.spawn(
        ["ip", "netns", "exec", host.netns, "unshare", "-m", "-u", "--propagation", "private", "sh", "-c", script],
        root / "libvirtd.out")
    state.add("process", pid=pid, started=started, what=f"libvirtd {host.name}")
    return pid, started


def _answers(uri: str) -> bool:
    conn = libvirt.open(uri)
    try:
        return conn.getLibVersion() > 0
    finally:
        conn.close()
