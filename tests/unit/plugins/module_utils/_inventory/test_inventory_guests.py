"""_inventory/guests.py: a hypervisor's guests as plain records, read from libvirt's test driver."""

import os

import pytest

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError
from ansible_collections.kvmops.kvm.plugins.module_utils._inventory import guests

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
                        'fixtures', 'inventory')
KVM1 = 'test://' + os.path.join(FIXTURES, 'kvm1.xml')
KVM2 = 'test://' + os.path.join(FIXTURES, 'kvm2.xml')


def by_name(hypervisor):
    return dict((guest['name'], guest) for guest in hypervisor['guests'])


def test_every_guest_with_its_state_sizes_and_nics():
    read = guests.read_hypervisor(KVM1, 'kvm1')
    assert read['uri'] == KVM1 and read['hypervisor'] == 'kvm1'
    found = by_name(read)
    assert sorted(found) == ['db1', 'moved', 'web1']
    web = found['web1']
    assert web['uuid'] == '11111111-1111-1111-1111-111111111111'
    assert web['title'] == 'frontend' and web['state'] == 'running' and web['persistent'] is True
    assert (web['memory'], web['max_memory'], web['vcpus'], web['max_vcpus']) == (1024, 2048, 1, 4)
    assert web['arch'] == 'x86_64'
    network, bridge = web['interfaces']
    assert network['mac'] == '52:54:00:aa:00:01'   # lower-cased
    assert (network['type'], network['network'], network['model']) == ('network', 'kvmtinv-nat', 'virtio')
    assert (bridge['type'], bridge['bridge'], bridge['network']) == ('bridge', 'br-mgmt', None)
    assert [a['family'] for a in network['addresses']] == ['ipv4']
    assert network['addresses'][0]['source'] == 'lease'
    db = found['db1']
    assert db['state'] == 'shutoff' and db['memory'] == 4096 == db['max_memory']   # GiB read as MiB
    assert db['interfaces'][0]['addresses'] == []   # a guest that is not running has no address


def test_paused_guests_and_the_name_the_daemon_reports():
    read = guests.read_hypervisor(KVM2)
    assert read['hypervisor']   # the daemon's host name when none is given
    assert by_name(read)['paused1']['state'] == 'paused'


def test_an_unreachable_hypervisor_is_named_with_libvirts_reason():
    with pytest.raises(KvmError) as failed:
        guests.read_hypervisor('test:///kvmtinv/does/not/exist.xml')
    assert "connect to hypervisor 'test:///kvmtinv/does/not/exist.xml' failed" in str(failed.value)


class FakeDomain(object):
    """Answers interfaceAddresses per source, records which sources were asked."""

    def __init__(self, answers):
        self.answers = answers
        self.asked = []

    def interfaceAddresses(self, source):   # noqa: N802 (libvirt's name)
        self.asked.append(source)
        answer = self.answers.get(source)
        if isinstance(answer, Exception):
            raise answer
        return answer


def nic(mac):
    return dict(mac=mac, addresses=[])


def test_sources_in_order_first_keeps_an_address_and_unknown_macs_are_ignored():
    libvirt = pytest.importorskip('libvirt')
    lease, agent, arp = (libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE, libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT,
                         libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP)
    dom = FakeDomain({
        lease: {'vnet0': dict(hwaddr='52:54:00:00:00:01', addrs=[dict(addr='10.0.0.5', prefix=24, type=0)])},
        agent: {'lo': dict(hwaddr='00:00:00:00:00:00', addrs=[dict(addr='127.0.0.1', prefix=8, type=0)]),
                'ens3': dict(hwaddr='52:54:00:00:00:01',
                             addrs=[dict(addr='10.0.0.5', prefix=24, type=0), dict(addr='fd00::5', prefix=64, type=1)])},
        arp: libvirt.libvirtError('no ARP here'),
    })
    nics = [nic('52:54:00:00:00:01')]
    errors = guests._add_addresses(dom, nics, ['lease', 'agent', 'arp'])   # pylint: disable=protected-access
    assert dom.asked == [lease, agent, arp]
    assert list(errors) == ['arp']   # the reason is libvirt's (its last error), for -vvv
    assert nics[0]['addresses'] == [dict(address='10.0.0.5', prefix=24, family='ipv4', source='lease'),
                                    dict(address='fd00::5', prefix=64, family='ipv6', source='agent')]
    assert nics[0]['guest_name'] == 'ens3'


def test_the_agent_is_asked_only_when_its_channel_is_connected(monkeypatch):
    libvirt = pytest.importorskip('libvirt')
    from lxml import etree
    channel = ("<domain><devices><channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0' "
               "state='%s'/></channel></devices></domain>")
    assert guests._agent_connected(etree.fromstring(channel % 'connected'))   # pylint: disable=protected-access
    assert not guests._agent_connected(etree.fromstring(channel % 'disconnected'))   # pylint: disable=protected-access
    assert not guests._agent_connected(etree.fromstring('<domain><devices/></domain>'))   # pylint: disable=protected-access
    conn = libvirt.open(KVM1)
    try:
        dom = conn.lookupByName('web1')
        asked = []
        real = type(dom).interfaceAddresses
        monkeypatch.setattr(type(dom), 'interfaceAddresses', lambda self, source: asked.append(source) or real(self, source))
        guests.read_guest(dom)
        assert libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT not in asked
        assert asked == [libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE, libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP]
    finally:
        conn.close()


def test_sizes_in_any_unit_are_mib():
    from lxml import etree
    mib = guests._mib   # pylint: disable=protected-access
    assert mib(etree.fromstring("<memory>1048576</memory>")) == 1024
    assert mib(etree.fromstring("<memory unit='GiB'>2</memory>")) == 2048
    assert mib(etree.fromstring("<memory unit='bytes'>1073741824</memory>")) == 1024
    assert mib(None) is None
