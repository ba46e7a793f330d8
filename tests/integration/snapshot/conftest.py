"""Fixtures for kvm_snapshot: the lab's tiny guest with a qcow2 disk, booted once per module."""

import pytest

from kvmlab.artifacts import ensure_tiny_artifacts

from snapshot_env import define_guest, purge, shell


@pytest.fixture(scope='session')
def tiny():
    return ensure_tiny_artifacts()


@pytest.fixture(scope='module')
def clean(libvirtd):
    purge(libvirtd)
    yield
    purge(libvirtd)


@pytest.fixture(scope='module')
def running_guest(libvirtd, tiny, clean):
    """kvmtsn-g1, booted; its serial shell is opened by the tests (a revert may replace the QEMU process)."""
    dom = define_guest(libvirtd, tiny, 'g1')
    dom.create()
    shell(dom.name()).close()
    yield dom.name()
