"""Host capabilities (_engine/capabilities.py): asked only when needed, at most once per run, errors remembered."""

import os

import pytest

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.capabilities import Capabilities
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'fixtures')


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as stream:
        return stream.read()


class Host(object):
    """A connection that answers as a real Debian 12 host (QEMU 7.2) does, without KVM, and counts the questions."""

    def __init__(self):
        self.asked = []

    def getCapabilities(self):
        self.asked.append('host')
        return fixture('capabilities.xml')

    def getDomainCapabilities(self, emulator, arch, machine, virttype, flags):
        self.asked.append((virttype, arch))
        if virttype == 'kvm':
            raise libvirt.libvirtError('invalid argument: KVM is not supported by this QEMU binary')
        return fixture('domcapabilities-qemu.xml')


def test_nothing_is_asked_before_it_is_needed():
    conn = Host()
    Capabilities(conn)
    assert conn.asked == []


def test_host_capabilities_are_asked_once():
    conn = Host()
    caps = Capabilities(conn)
    assert caps.host().tag == 'capabilities'
    assert caps.host() is caps.host()
    assert conn.asked == ['host']


def test_domain_capabilities_are_asked_once_per_type_and_arch():
    conn = Host()
    caps = Capabilities(conn)
    assert caps.domain('qemu').findtext('domain') == 'qemu'
    caps.domain('qemu')
    caps.domain('qemu', 'x86_64')
    assert conn.asked == [('qemu', None), ('qemu', 'x86_64')]


def test_a_refusal_is_remembered_and_raised_again():
    conn = Host()
    caps = Capabilities(conn)
    for _attempt in range(2):
        with pytest.raises(libvirt.libvirtError, match='KVM is not supported'):
            caps.domain('kvm')
    assert caps.offers('kvm') is False and caps.offers('qemu') is True
    assert conn.asked == [('kvm', None), ('qemu', None)]


def test_machine_types_map_aliases_to_canonical_names():
    machines = Capabilities(Host()).machines()
    assert machines['pc'] == 'pc-i440fx-7.2' and machines['q35'] == 'pc-q35-7.2'
    assert machines['pc-q35-7.2'] == 'pc-q35-7.2'
    assert Capabilities(Host()).machines('sparc') == {}
