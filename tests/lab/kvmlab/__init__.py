"""kvmlab: the local lab kvmops.kvm is tested and demoed on (namespaced libvirtd hosts, NFS
storage, tiny and Debian guests). Use `from kvmlab import Lab`."""
import libvirt

from .console import SerialConsole
from .hosts import HypervisorHost
from .lab import READY_MARKER, Lab
from .shell import LabError

# libvirt prints every error to stderr by default; the lab reports errors itself
libvirt.registerErrorHandler(lambda _ctx, _err: None, None)

__all__ = ["Lab", "LabError", "HypervisorHost", "SerialConsole", "READY_MARKER"]
