"""Integration tests run against the real libvirtd of this machine (started when needed)."""

import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import ROOT  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, 'tests', 'lab'))
pytest_plugins = ['kvmlab.fixtures']   # lab, lab_debian_image, lab_debian_guest

libvirt = pytest.importorskip('libvirt')

URI = 'qemu:///system'
PREFIX = 'kvmtest-'


def pytest_configure(config):
    config.addinivalue_line('markers', 'lab: slow tests that boot the lab (Debian guests, namespaced hosts)')
    config.addinivalue_line('markers', 'last: runs after every other test of the session (it takes the lab down)')


def pytest_collection_modifyitems(items):
    """The slow `lab` tests (Debian guests) run after the others, and `last` tests (the lab's own `down` test) at
    the very end: the lab and its Debian guests are shared by the whole session (the lab's tests, kvm_host in a
    guest, storage in guests, the demo) and come up once; quick failures show first; and a stream that runs beside
    another (tests/integration/parallel.py) has work to do while the Debian image is built."""
    items.sort(key=lambda item: (item.get_closest_marker('last') is not None,
                                 item.get_closest_marker('lab') is not None))


@pytest.fixture(scope='session', autouse=True)
def libvirtd():
    subprocess.run([os.path.join(ROOT, 'scripts', 'daemons.sh')], check=True)
    libvirt.registerErrorHandler(lambda *_: None, None)
    conn = libvirt.open(URI)
    yield conn
    conn.close()


@pytest.fixture
def conn(libvirtd):
    return libvirtd
