"""pytest fixtures for tests that need the lab. In a conftest.py (with tests/lab on sys.path):
    from kvmlab.fixtures import lab, lab_debian_image, lab_debian_guest  # noqa: F401
Set KVMLAB_KEEP=1 to leave the lab up after the session (for debugging)."""
import os
from collections.abc import Iterator

import pytest

from .guests import DebianGuest
from .image import DebianImage
from .keys import LabKeys, ensure_keys
from .lab import Lab

LAB_HOSTS = 2


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    """Two hypervisor hosts and the ganesha storage host, torn down after the session (also when
    bringing it up failed half-way)."""
    the_lab = Lab()
    try:
        the_lab.up(hosts=LAB_HOSTS, storage=True)
        yield the_lab
    finally:
        if not os.environ.get("KVMLAB_KEEP"):
            the_lab.down()


@pytest.fixture(scope="session")
def lab_debian_image() -> DebianImage:
    """The Debian guest image, built at most once (cached on disk under a key of its recipe). Needs no lab up:
    tests that boot the image on the machine's own libvirtd (kvm_domain) use it alone."""
    return Lab().debian_image()


@pytest.fixture(scope="session")
def lab_keys() -> LabKeys:
    """The lab's ssh client key (root on every lab guest and on guests of the Debian image), no lab up."""
    return ensure_keys()


@pytest.fixture(scope="session")
def lab_debian_guest(lab: Lab, lab_debian_image: DebianImage) -> DebianGuest:
    """One Debian guest, up and answering ssh, in the inventory's `guests` group."""
    lab.up(hosts=LAB_HOSTS, storage=True, debian_guests=1)
    return next(g for g in lab.guests if g.role == "guest")
