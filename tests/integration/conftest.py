"""Integration tests run against the real libvirtd of this machine (started when needed)."""

import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import ROOT  # noqa: E402

libvirt = pytest.importorskip('libvirt')

URI = 'qemu:///system'
PREFIX = 'kvmtest-'


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
