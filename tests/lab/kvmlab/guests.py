"""Debian guests: qcow2 overlays of the cached image, run by the machine's own libvirtd
(qemu:///system) on the lab bridge, with a DHCP reservation; real Ansible hosts over ssh."""
from dataclasses import asdict, dataclass
from pathlib import Path

import libvirt

from . import config, domains, network
from .image import DebianImage
from .keys import LabKeys, ssh
from .shell import run, wait_for
from .state import State

NFS_GUEST = f"{config.PREFIX}nfsd"
NFS_GUEST_EXPORT = "/srv/nfs"


@dataclass
class DebianGuest:
    name: str
    ip: str
    mac: str
    uri: str
    disk: str
    serial_log: str
    role: str = "guest"       # "guest", or "nfs-server" for the optional NFS server guest

    def to_dict(self) -> dict:
        return asdict(self)


def guest_ip(index: int) -> str:
    return f"{config.SUBNET_PREFIX}.{50 + index}"


def start_debian_guest(state: State, image: DebianImage, name: str, ip: str, role: str = "guest",
                       memory_mib: int = 512) -> DebianGuest:
    """Define and start the guest unless it runs already; does not wait for it (see wait_for_ssh)."""
    work = config.RUN_DIR / "guests"
    work.mkdir(parents=True, exist_ok=True)
    guest = DebianGuest(name, ip, domains.guest_mac(name), config.SYSTEM_URI, str(work / f"{name}.qcow2"),
                        str(work / f"{name}-serial.log"), role)
    network.reserve_address(state, guest.mac, ip, name)
    conn = libvirt.open(guest.uri)
    try:
        if _is_active(conn, name):
            state.set_component(f"guest:{name}", guest.to_dict())
            return guest
        state.add("domain", uri=guest.uri, name=name)
        state.add("path", path=f"/var/log/libvirt/qemu/{name}.log")
        state.set_component(f"guest:{name}", guest.to_dict())
        if not Path(guest.disk).exists():
            run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", image.disk, "-F", "raw", guest.disk])
        nic = domains.bridge_nic_xml(config.BRIDGE, guest.mac, tap=f"{name}-t")
        xml = domains.domain_xml(name, str(image.kernel), str(image.initrd),
                                 f"{image.cmdline} systemd.hostname={name}", memory_mib,
                                 [domains.file_disk_xml(guest.disk), nic], guest.serial_log, vcpus=2, channels=True,
                                 tb_cache_mib=domains.DEBIAN_TB_CACHE_MIB)
        _undefine_if_defined(conn, name)  # a stopped leftover: define afresh from the current recipe
        conn.defineXML(xml).create()
    finally:
        conn.close()
    return guest


def wait_for_ssh(keys: LabKeys, guest: DebianGuest, timeout: float = 360) -> None:
    wait_for(lambda: ssh(keys, guest.ip, "true", timeout=15, check=False).returncode == 0, timeout,
             f"ssh on {guest.name} ({guest.ip})", interval=1)


def configure_nfs_server(keys: LabKeys, guest: DebianGuest) -> None:
    exports = f"{NFS_GUEST_EXPORT} {config.SUBNET_PREFIX}.0/{config.NETMASK_BITS}(rw,sync,no_root_squash,no_subtree_check)"
    ssh(keys, guest.ip, f"mkdir -p {NFS_GUEST_EXPORT} && chmod 1777 {NFS_GUEST_EXPORT} && "
                        f"echo '{exports}' > /etc/exports && systemctl restart nfs-server && exportfs -ra")


def _undefine_if_defined(conn: libvirt.virConnect, name: str) -> None:
    try:
        conn.lookupByName(name).undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
    except libvirt.libvirtError:
        pass


def _is_active(conn: libvirt.virConnect, name: str) -> bool:
    try:
        return bool(conn.lookupByName(name).isActive())
    except libvirt.libvirtError:
        return False
