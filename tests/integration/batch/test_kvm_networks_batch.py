"""kvm_networks on the machine's libvirtd: many virtual networks converged in one task, each as kvm_network would."""

import os

import libvirt
import pytest
from lxml import etree

from harness import contract, fails, purge

SLOT = int(os.environ.get('KVMOPS_TEST_SLOT', '0'))
PREFIX = 'kvmtbn%s-' % (SLOT or '')
SUBNET = '10.213.%d.' % (120 + SLOT)   # the network suite has 10.213.92-97, the domain suite 100-109, labs 47-56


@pytest.fixture(autouse=True)
def clean(conn):
    purge(conn, PREFIX)
    yield
    purge(conn, PREFIX)


def networks():
    return [dict(name=PREFIX + 'nat', bridge='kvmtbn%d-n0' % SLOT, ipv4=dict(address=SUBNET + '1', prefix=26)),
            dict(name=PREFIX + 'iso', bridge='kvmtbn%d-n1' % SLOT, mode='isolated', state='inactive',
                 autostart=False, ipv4=dict(address=SUBNET + '65', prefix=26))]


def test_networks_in_one_task_follow_the_contract(conn):
    items = networks()
    _predicted, applied, _last = contract('kvm_networks', dict(networks=items))
    assert sorted(applied['networks']) == sorted(item['name'] for item in items)
    nat = conn.networkLookupByName(PREFIX + 'nat')
    assert nat.isActive() == 1 and nat.autostart() == 1
    root = etree.fromstring(nat.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE))
    assert root.find('forward').get('mode') == 'nat' and root.find('ip').get('address') == SUBNET + '1'
    iso = conn.networkLookupByName(PREFIX + 'iso')
    assert iso.isActive() == 0 and etree.fromstring(iso.XMLDesc(0)).find('forward') is None


def test_a_bad_network_names_the_item_and_nothing_is_defined(conn):
    items = networks()
    items[1]['ipv4'] = dict(address=SUBNET + '65', prefix=40)
    result = fails('kvm_networks', dict(networks=items))
    assert 'networks' in result['msg'] and 'prefix' in result['msg'], result['msg']
    assert [n for n in conn.listAllNetworks() if n.name().startswith(PREFIX)] == []
