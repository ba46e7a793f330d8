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
