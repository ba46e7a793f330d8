"""The tiny guest: Debian's kernel and a busybox initramfs with virtio (balloon included), bonding, 8021q
and bridge modules, built from Debian packages (apt-get download + dpkg-deb -x) and cached by recipe.

The guest honours the ACPI power button (the button and evdev modules, busybox acpid, a handler that
powers off) unless its kernel command line says kvmlab.acpi=off: a guest that ignores it."""
import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import config
from .shell import LabError, log, run

GUEST_FILES = Path(__file__).parent / "guest_files"
MODULES = ["virtio_pci", "virtio_net", "virtio_blk", "virtio_console", "virtio_balloon", "button", "evdev",
           "bonding", "8021q", "bridge"]
BUSYBOX = Path("/bin/busybox")


@dataclass(frozen=True)
class TinyArtifacts:
    kernel: Path
    initrd: Path
    kernel_version: str


def kernel_package() -> str:
    """linux-image-<abi>-amd64, the package the linux-image-amd64 metapackage points at now."""
    for attempt in range(2):
        out = run(["apt-cache", "depends", "linux-image-amd64"], check=False, quiet=True).stdout
        names = [line.split()[-1] for line in out.splitlines() if "Depends: linux-image-" in line]
        if names:
            return names[0]
        if attempt == 0:
            run(["apt-get", "update", "-q"], timeout=300)
    raise LabError("apt knows no linux-image-amd64")


def _recipe_key(package: str) -> str:
    digest = hashlib.sha256(package.encode())
    for path in [Path(__file__), *sorted(GUEST_FILES.iterdir())]:
        digest.update(path.read_bytes())
    digest.update(" ".join(MODULES).encode())
    return digest.hexdigest()[:12]


def ensure_tiny_artifacts() -> TinyArtifacts:
    package = kernel_package()
    kernel_version = package.removeprefix("linux-image-")
    target = config.ARTIFACTS_DIR / f"tiny-{_recipe_key(package)}"
    if not (target / "initrd.img").exists():
        log.info("building tiny guest artifacts (%s)", package)
        config.ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=config.ARTIFACTS_DIR, prefix=".build-") as tmp:
            build = Path(tmp)
            _build(build, package, kernel_version)
            try:
                (build / "out").rename(target)
            except OSError:
                if not (target / "initrd.img").exists():   # not another session that built it meanwhile
                    raise
    return TinyArtifacts(target / "vmlinuz", target / "initrd.img", kernel_version)


def _build(build: Path, package: str, kernel_version: str) -> None:
    subprocess.run(["apt-get", "download", "-q", package], cwd=build, check=True, capture_output=True, timeout=600)
    deb = next(build.glob(f"{package}_*.deb"))
    kroot = build / "kroot"
    run(["dpkg-deb", "-x", deb, kroot])
    run(["depmod", "-b", kroot, kernel_version])
    out = build / "out"
    out.mkdir()
    shutil.copy(kroot / "boot" / f"vmlinuz-{kernel_version}", out / "vmlinuz")

    initramfs = build / "initramfs"
    for sub in ("bin", "sbin", "etc", "proc", "sys", "dev", "tmp", "run", "root", "usr/share/udhcpc"):
        (initramfs / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy(BUSYBOX, initramfs / "bin" / "busybox")
    (initramfs / "bin" / "sh").symlink_to("busybox")
    shutil.copy(GUEST_FILES / "init", initramfs / "init")
    shutil.copy(GUEST_FILES / "udhcpc.script", initramfs / "etc" / "udhcpc.script")
    shutil.copy(GUEST_FILES / "profile", initramfs / "etc" / "profile")
    power_button = initramfs / "etc" / "acpi" / "PWRF" / "00000080"   # busybox acpid's handler for it
    power_button.parent.mkdir(parents=True)
    shutil.copy(GUEST_FILES / "power-button", power_button)
    for script in ("init", "etc/udhcpc.script", "etc/acpi/PWRF/00000080"):
        os.chmod(initramfs / script, 0o755)
    (initramfs / "etc" / "modules").write_text("\n".join(MODULES) + "\n")
    (initramfs / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")

    modules_dir = Path("lib/modules") / kernel_version
    for ko in _module_closure(kroot, kernel_version):
        relative = ko.relative_to(kroot)
        (initramfs / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ko, initramfs / relative)
    for meta in ("modules.order", "modules.builtin", "modules.builtin.modinfo"):
        if (kroot / modules_dir / meta).exists():
            shutil.copy(kroot / modules_dir / meta, initramfs / modules_dir / meta)
    run(["depmod", "-b", initramfs, kernel_version])

    with open(out / "initrd.img", "wb") as image:
        subprocess.run("find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -1",
                       shell=True, cwd=initramfs, stdout=image, check=True)


def _module_closure(kroot: Path, kernel_version: str) -> list[Path]:
    out = run(["modprobe", "-d", kroot, "-S", kernel_version, "-a", "--show-depends", *MODULES]).stdout
    paths = []
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] == "insmod" and Path(parts[1]) not in paths:
            paths.append(Path(parts[1]))
    return paths
