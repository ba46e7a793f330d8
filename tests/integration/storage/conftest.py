"""Storage tests: every pool, volume and guest they make is named kvmtest-* and lives in a directory of
their own, removed afterwards even when a test failed.

The lab-marked ones (netfs and logical pools) run the modules over ssh on a lab Debian guest: the image has
libvirtd (started at boot), python3-libvirt, python3-lxml and LVM, so that guest is a KVM host as far as
storage goes. They share the session's lab (kvmlab.fixtures.lab): in `make test` it is already up from the
lab tests, run alone they bring it up and take it down afterwards (unless KVMLAB_KEEP=1)."""

import os
import shutil
import tempfile

import pytest

from harness import purge

PREFIX = 'kvmtest-'
LIBVIRT_READY = 'virsh -q -c qemu:///system pool-list --all >/dev/null && python3 -c "import libvirt, lxml"'


@pytest.fixture(autouse=True)
def clean(request):
    """This machine's kvmtest-* guests, networks and pools, removed before and after each test that works on its
    libvirtd. The lab-marked tests make nothing there (they work inside a lab guest), so they leave it alone: in
    `make test` another suite runs beside them on the same libvirtd (tests/integration/parallel.py)."""
    if request.node.get_closest_marker('lab'):
        yield
        return
    conn = request.getfixturevalue('conn')
    purge(conn, PREFIX)
    yield
    purge(conn, PREFIX)


@pytest.fixture
def workdir():
    """A directory QEMU's user can traverse (pytest's tmp_path is 0700 root)."""
    path = tempfile.mkdtemp(prefix=PREFIX, dir='/var/tmp')
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope='session')
def storage_lab(lab):
    """(lab, KVM-host guest, NFS server guest): the lab's first Debian guest, whose libvirtd the modules drive
    over ssh, and its NFS server guest (kernel nfsd, export /srv/nfs). Both boot together when neither is up."""
    from kvmlab.fixtures import LAB_HOSTS
    lab.up(hosts=LAB_HOSTS, storage=True, debian_guests=1, nfs_guest=True)
    kvm = [g for g in lab.guests if g.role == 'guest'][0]
    nfs = [g for g in lab.guests if g.role == 'nfs-server'][0]
    # libvirtd is enabled at boot (socket activation): the first connection may wait for it to come up
    lab.ssh(kvm.ip, 'for i in $(seq 120); do %s && exit 0; sleep 1; done; %s' % (LIBVIRT_READY, LIBVIRT_READY),
            timeout=180)
    yield lab, kvm, nfs
    remove_pools(lab, kvm)


def remove_pools(lab, guest):
    """Stop and undefine the guest's kvmtest-* pools (their volumes stay: each test removes its own)."""
    lab.ssh(guest.ip, 'for p in $(virsh -q pool-list --all --name | grep ^%s); do virsh -q pool-destroy $p; '
                      'virsh -q pool-undefine $p; done; true' % PREFIX, check=False)


def pytest_configure(config):
    config.addinivalue_line('markers', 'lab: slow tests inside lab Debian guests (netfs and logical pools)')
