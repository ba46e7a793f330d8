"""Domain XML for lab guests. Every guest: TCG (no usable hardware KVM here) with a translation cache of
its size (the 1 GiB default makes a small guest's QEMU use >1 GB): 32 MiB for the tiny guest, 256 MiB for
a Debian guest (with 32 MiB, QEMU threw its translated code away every 2-3 s while Python ran in it, and
translated it all again), a serial console with a log file, and no balloon."""
import hashlib
from xml.sax.saxutils import quoteattr

from . import config

TB_CACHE_MIB = 32          # the tiny guest
DEBIAN_TB_CACHE_MIB = 256  # a Debian guest running Python, libvirtd, LVM, NFS


def guest_mac(name: str, nic: int = 0) -> str:
    digest = hashlib.sha256(f"{name}/{nic}".encode()).digest()
    return "52:54:00:" + ":".join(f"{b:02x}" for b in digest[:3])


def kernel_ip_arg(ip: str | None, hostname: str) -> str:
    """ip= for the tiny guest's /init: 'dhcp', or a static address (with or without /prefix)."""
    if not ip:
        return ""
    if ip == "dhcp":
        return "ip=dhcp"
    address = ip if "/" in ip else f"{ip}/{config.NETMASK_BITS}"
    return f"ip={address}::{config.BRIDGE_IP}::{hostname}:eth0:off"


def bridge_nic_xml(bridge: str, mac: str, tap: str | None = None) -> str:
    target = f"<target dev={quoteattr(tap)}/>" if tap else ""
    return (f"<interface type='bridge'><source bridge={quoteattr(bridge)}/><mac address='{mac}'/>"
            f"{target}<model type='virtio'/></interface>")


def nfs_disk_xml(storage_ip: str, export_file_path: str, target: str = "vda", fmt: str = "qcow2") -> str:
    """A disk on NFS through QEMU's own client: libvirt treats it as shared storage for migration."""
    return (f"<disk type='network' device='disk'><driver name='qemu' type='{fmt}' cache='none'/>"
            f"<source protocol='nfs' name={quoteattr(export_file_path)}><host name='{storage_ip}'/></source>"
            f"<target dev='{target}' bus='virtio'/></disk>")


def file_disk_xml(path: str, target: str = "vda", fmt: str = "qcow2") -> str:
    return (f"<disk type='file' device='disk'><driver name='qemu' type='{fmt}'/>"
            f"<source file={quoteattr(path)}/><target dev='{target}' bus='virtio'/></disk>")


def domain_xml(name: str, kernel: str, initrd: str, cmdline: str, memory_mib: int, devices: list[str],
               serial_log: str, vcpus: int = 1, channels: bool = False, tb_cache_mib: int = TB_CACHE_MIB) -> str:
    agent = ("<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
             if channels else "")
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>{memory_mib}</memory>
  <vcpu>{vcpus}</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{kernel}</kernel>
    <initrd>{initrd}</initrd>
    <cmdline>{cmdline}</cmdline>
  </os>
  <features><acpi/><tcg><tb-cache unit='MiB'>{tb_cache_mib}</tb-cache></tcg></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    {''.join(devices)}
    <serial type='pty'><log file={quoteattr(serial_log)} append='off'/><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    {agent}
    <memballoon model='none'/>
  </devices>
</domain>
"""


def tiny_guest_xml(name: str, kernel: str, initrd: str, bridge: str | None = "br0", ip: str | None = "dhcp",
                   memory_mib: int = 128, disks: list[str] | None = None,
                   serial_log: str | None = None) -> str:
    """A busybox guest booting in a few seconds. On a lab hypervisor host, bridge 'br0' puts it on
    the lab segment; ip is 'dhcp', a static address, or None for no network."""
    cmdline = " ".join(filter(None, ["console=ttyS0 quiet panic=-1", kernel_ip_arg(ip if bridge else None, name),
                                     f"kvmlab.hostname={name}"]))
    devices = list(disks or [])
    if bridge:
        devices.append(bridge_nic_xml(bridge, guest_mac(name)))
    return domain_xml(name, kernel, initrd, cmdline, memory_mib, devices,
                      serial_log or f"/var/log/libvirt/qemu/{name}-serial.log")
