"""The Debian guest image: a debootstrap rootfs packed into an ext4 raw disk (no loop device),
with its kernel and initrd beside it for direct kernel boot. Cached under a key derived from the
recipe (package list, this file, the lab's ssh key); guests run on qcow2 overlays of it."""
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import config
from .keys import LabKeys
from .shell import LabError, log, run

PACKAGES = [
    "systemd-sysv", "udev", "kmod", "linux-image-amd64", "openssh-server", "python3", "iproute2",
    "iputils-ping", "procps", "ifupdown", "isc-dhcp-client", "ifenslave", "bridge-utils", "vlan",
    "netbase", "nfs-common", "nfs-kernel-server", "cloud-init", "qemu-guest-agent",
    # debootstrap does not resolve virtual packages: python3-cryptography (for cloud-init) needs
    # python3-cffi-backend-api-*, which only this package provides
    "python3-cffi-backend",
    # a KVM host for the storage tests (netfs and logical pools through the modules over ssh): libvirtd
    # (enabled at boot; no QEMU, the guest defines pools and volumes only), its Python bindings, LVM
    "libvirt-daemon-system", "python3-libvirt", "python3-lxml", "lvm2",
    # systemd-logind (the ACPI power button: `virsh shutdown`) needs the system bus; polkitd (for
    # libvirtd) depends on the virtual packages these two provide, which debootstrap cannot resolve
    "dbus", "libpam-systemd",
    # kvm_bridge's NetworkManager backend: installed, but masked (the guests keep ifupdown); a test unmasks it
    "network-manager",
]
# units masked in the image (a link to /dev/null): present, started by nothing until a test unmasks them
MASKED = ["NetworkManager.service", "NetworkManager-wait-online.service", "NetworkManager-dispatcher.service"]
DISK_SIZE = "4G"
KERNEL_CMDLINE = "root=/dev/vda rw console=ttyS0 net.ifnames=0 quiet"
SCRATCH = Path("/dev/shm")  # dpkg's fsyncs make debootstrap on disk twice as slow

FILES = {
    "etc/hostname": "kvl-debian\n",
    "etc/hosts": "127.0.0.1 localhost\n127.0.1.1 kvl-debian\n",
    "etc/fstab": "/dev/vda / ext4 defaults,noatime 0 1\n",
    "etc/network/interfaces": "auto lo\niface lo inet loopback\n\nallow-hotplug eth0\niface eth0 inet dhcp\n"
                              "\nsource /etc/network/interfaces.d/*\n",
    "etc/ssh/sshd_config.d/kvmlab.conf": "PermitRootLogin prohibit-password\nUseDNS no\n",
    # cloud-init is installed but off unless a guest boots with `cloud-init=enabled` on its cmdline
    "etc/cloud/cloud-init.disabled": "",
    "etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf":
        "[Service]\nExecStart=\nExecStart=-/sbin/agetty --autologin root --keep-baud 115200,57600,38400,9600 %I $TERM\n",
    "etc/dhcp/dhclient.conf": "timeout 30;\nretry 5;\nrequest subnet-mask, broadcast-address, routers, host-name;\n",
}


@dataclass(frozen=True)
class DebianImage:
    disk: Path      # raw ext4 filesystem, the backing file of every guest overlay
    kernel: Path
    initrd: Path
    cmdline: str


def recipe_key(keys: LabKeys) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([config.DEBIAN_SUITE, PACKAGES, DISK_SIZE, FILES]).encode())
    digest.update(Path(__file__).read_bytes())
    digest.update(keys.public_key.read_bytes())
    return digest.hexdigest()[:12]


def image_dir(keys: LabKeys) -> Path:
    return config.IMAGES_DIR / f"debian-{config.DEBIAN_SUITE}-{recipe_key(keys)}"


def cached_image(keys: LabKeys) -> DebianImage | None:
    target = image_dir(keys)
    if not (target / "image.json").exists():
        return None
    return DebianImage(target / "disk.raw", target / "vmlinuz", target / "initrd.img", KERNEL_CMDLINE)


def ensure_image(keys: LabKeys) -> DebianImage:
    image = cached_image(keys)
    if image:
        return image
    target = image_dir(keys)
    log.info("building Debian image %s (debootstrap, a few minutes)", target.name)
    config.IMAGES_DIR.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=SCRATCH if SCRATCH.is_dir() else config.IMAGES_DIR, prefix=f"kvmlab-image-{os.getpid()}-"))
    staging = Path(tempfile.mkdtemp(dir=config.IMAGES_DIR, prefix=".build-"))
    try:
        rootfs = scratch / "rootfs"
        _debootstrap(rootfs)
        _customize(rootfs, keys)
        kernel_version = _copy_boot_files(rootfs, staging)
        run(["truncate", "-s", DISK_SIZE, staging / "disk.raw"])
        run(["mkfs.ext4", "-F", "-q", "-L", "kvl-root", "-d", rootfs, staging / "disk.raw"], timeout=600)
        (staging / "image.json").write_text(json.dumps(
            {"suite": config.DEBIAN_SUITE, "kernel": kernel_version, "packages": PACKAGES}, indent=1))
        os.chmod(staging, 0o755)
        staging.rename(target)
    except Exception:
        failed_log = scratch / "rootfs" / "debootstrap" / "debootstrap.log"
        if failed_log.exists():
            shutil.copy(failed_log, config.IMAGES_DIR / "last-failed-debootstrap.log")
            log.error("debootstrap failed; its log: %s", config.IMAGES_DIR / "last-failed-debootstrap.log")
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)
    return cached_image(keys)


def apt_mirror() -> str:
    """The Debian mirror apt already uses on this machine (the only one reachable)."""
    if os.environ.get("KVMLAB_MIRROR"):
        return os.environ["KVMLAB_MIRROR"]
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for source in sources:
        if not source.is_file():
            continue
        for line in source.read_text().splitlines():
            words = line.split()
            for word in words:
                if word.startswith("http") and word.rstrip("/").endswith("/debian"):
                    return word
    raise LabError("no Debian mirror found in apt sources; set KVMLAB_MIRROR")


def _debootstrap(rootfs: Path) -> None:
    debs = config.IMAGES_DIR / "debs"  # downloaded packages, kept so a rebuild only unpacks
    debs.mkdir(parents=True, exist_ok=True)
    # a private mount namespace: the /proc and /sys debootstrap mounts vanish with it, even on a crash
    run(["unshare", "-m", "--propagation", "private", "debootstrap", "--variant=minbase",
         f"--include={','.join(PACKAGES)}", f"--cache-dir={debs}", config.DEBIAN_SUITE, rootfs,
         apt_mirror()], timeout=900)


def _customize(rootfs: Path, keys: LabKeys) -> None:
    for relative, content in FILES.items():
        path = rootfs / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    for unit in MASKED:
        link = rootfs / "etc" / "systemd" / "system" / unit
        link.unlink(missing_ok=True)
        link.symlink_to("/dev/null")
    ssh_dir = rootfs / "root" / ".ssh"
    ssh_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    (ssh_dir / "authorized_keys").write_text(keys.public_key.read_text())
    os.chmod(ssh_dir / "authorized_keys", 0o600)
    # empty machine-id: each guest generates its own on first boot
    (rootfs / "etc" / "machine-id").write_text("")
    (rootfs / "var" / "lib" / "dbus" / "machine-id").unlink(missing_ok=True)
    shutil.rmtree(rootfs / "var" / "cache" / "apt" / "archives", ignore_errors=True)
    (rootfs / "var" / "cache" / "apt" / "archives" / "partial").mkdir(parents=True)


def _copy_boot_files(rootfs: Path, staging: Path) -> str:
    kernels = sorted((rootfs / "boot").glob("vmlinuz-*"))
    if not kernels:
        raise LabError("debootstrap produced no kernel")
    kernel_version = kernels[-1].name.removeprefix("vmlinuz-")
    shutil.copy(kernels[-1], staging / "vmlinuz")
    shutil.copy(rootfs / "boot" / f"initrd.img-{kernel_version}", staging / "initrd.img")
    return kernel_version
