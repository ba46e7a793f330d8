"""Fixed names, addresses and paths of the lab. Every name the lab creates starts with PREFIX.

KVMLAB_INSTANCE=N (1-9) selects a separate lab beside the default one (0): prefix `kvlN-`,
subnet 10.213.(47+N).0/24, its own run dir and lock; caches are shared. Two sessions on one
machine (say, a developer's demo and a test run) then never touch each other's lab."""
import os
from pathlib import Path

INSTANCE = int(os.environ.get("KVMLAB_INSTANCE", "0"))
if not 0 <= INSTANCE <= 9:
    raise ValueError("KVMLAB_INSTANCE must be 0..9")
_SUFFIX = str(INSTANCE) if INSTANCE else ""


def prefix(instance: int) -> str:
    """The prefix of every name lab instance N makes."""
    return f"kvl{instance or ''}-"


def bridge_name(instance: int) -> str:
    """Lab instance N's bridge: while it exists, that instance is up."""
    return f"{prefix(instance)}br0"


PREFIX = prefix(INSTANCE)
REPO_ROOT = Path(__file__).resolve().parents[3]
CACHE_DIR = Path(os.environ.get("KVMLAB_CACHE", REPO_ROOT / ".cache" / "lab"))
RUN_DIR = CACHE_DIR / f"run{_SUFFIX}"  # everything of a running lab; `down` deletes it
ARTIFACTS_DIR = CACHE_DIR / "artifacts"
IMAGES_DIR = CACHE_DIR / "images"
KEYS_DIR = CACHE_DIR / "keys"
LOCK_FILE = CACHE_DIR / f"lab{_SUFFIX}.lock"
VENV_PYTHON = REPO_ROOT / ".venv" / "bin" / "python"

# 10.213.47.0/24 lives only on the lab bridge: .1 root namespace, .2 storage, .11.. hypervisor
# hosts, .50-.99 static guest addresses, .100-.199 DHCP (reservations by MAC).
SUBNET_PREFIX = f"10.213.{47 + INSTANCE}"
NETMASK_BITS = 24
BRIDGE = bridge_name(INSTANCE)
BRIDGE_IP = f"{SUBNET_PREFIX}.1"
STORAGE_IP = f"{SUBNET_PREFIX}.2"
DHCP_RANGE = (f"{SUBNET_PREFIX}.100", f"{SUBNET_PREFIX}.199")
MAX_HOSTS = 20   # fleet benchmarks (bench/fleet_bench.py); host addresses .11-.30 stay below the guests' .50

SYSTEM_URI = "qemu:///system"  # the machine's own libvirtd: only Debian guests named PREFIX* go there
DEBIAN_SUITE = "bookworm"
LIBVIRT_DIRS = {  # host-namespace directory -> where its libvirtd sees it
    "etc": "/etc/libvirt",
    "run": "/run/libvirt",
    "varlib": "/var/lib/libvirt",
    "log": "/var/log/libvirt",
}
# QEMU capabilities that libvirtd probes (~8 s under TCG) on its first domain operation; shared by
# all lab hosts and kept across runs (libvirtd itself re-probes when QEMU or libvirt change)
LIBVIRT_CAPS_CACHE = CACHE_DIR / "libvirt-cache"


def host_name(index: int) -> str:
    return f"{PREFIX}h{index}"


def host_ip(index: int) -> str:
    return f"{SUBNET_PREFIX}.{10 + index}"
