"""Fixtures for kvm_domain: a test network, a disk directory QEMU can reach, the lab's tiny guest."""

import os

import libvirt
import pytest

from kvmlab.artifacts import ensure_tiny_artifacts
from kvmlab.console import SerialConsole

from domain_env import DISK_DIR, NETWORK, NETWORK_XML, purge


@pytest.fixture(scope='session')
def tiny():
    return ensure_tiny_artifacts()


@pytest.fixture(scope='module')
def test_network(libvirtd):
    try:
        net = libvirtd.networkLookupByName(NETWORK)
    except libvirt.libvirtError:
        net = libvirtd.networkDefineXML(NETWORK_XML)
    if not net.isActive():
        net.create()
    yield NETWORK
    purge(libvirtd)
    net.destroy()
    net.undefine()


@pytest.fixture(autouse=True)
def clean(conn, test_network):
    purge(conn)
    os.makedirs(DISK_DIR, mode=0o755)
    yield
    purge(conn)


@pytest.fixture
def console():
    """console(name) -> SerialConsole of a running test guest; all are closed after the test."""
    opened = []

    def open_console(name):
        opened.append(SerialConsole('qemu:///system', name))
        return opened[-1]
    yield open_console
    for item in opened:
        item.close()
