"""kvm_networks in-process against libvirt's test driver: many networks in one run, each as kvm_network converges it."""

import re

import pytest

libvirt = pytest.importorskip('libvirt')

from ansible_collections.kvmops.kvm.plugins.modules import kvm_networks  # noqa: E402

PREFIX = 'kvmtbn-n'


@pytest.fixture
def conn(test_driver):
    yield test_driver
    for net in test_driver.listAllNetworks():
        if net.name().startswith(PREFIX):
            if net.isActive():
                net.destroy()
            net.undefine()


@pytest.fixture
def run(module_runner):
    return module_runner(kvm_networks)


def networks(count):
    return [dict(name='%s%d' % (PREFIX, index), bridge='kvmtbn%d' % index,
                 ipv4=dict(address='10.77.%d.1' % index, prefix=24)) for index in range(count)]


def ours(conn):
    return sorted(net.name() for net in conn.listAllNetworks() if net.name().startswith(PREFIX))


def test_a_batch_of_networks_follows_the_contract(conn, run):
    items = networks(3)
    items[2].update(mode='isolated', state='inactive', autostart=False)
    check = run(check=True, networks=items)
    assert check['changed'] is True and ours(conn) == []
    applied = run(networks=items)
    for item in items:
        assert applied['networks'][item['name']]['actions'] == check['networks'][item['name']]['actions']
    assert applied['networks'][PREFIX + '0']['network']['active'] is True
    assert conn.networkLookupByName(PREFIX + '2').isActive() == 0
    for again in (run(check=True, networks=items), run(networks=items)):
        assert again['changed'] is False and again['actions'] == []


def test_bad_input_names_the_item_and_changes_nothing(conn, run):
    items = networks(2)
    items[1]['ipv4'] = dict(address='10.77.1.1', prefix=33)
    result = run(networks=items)
    assert result['failed'] and result['parameter'].startswith('networks[1].ipv4'), result
    assert ours(conn) == []


def test_the_items_are_documented_as_kvm_network_options():
    import yaml
    from ansible_collections.kvmops.kvm.plugins.modules import kvm_network
    text = re.sub(r'O\(([^)]+)\)', lambda m: 'O(networks[].%s)' % m.group(1), kvm_network.DOCUMENTATION)
    text = re.sub(r'RV\(([^)]+)\)', lambda m: 'C(%s) in RV(networks)' % m.group(1), text)
    documented = yaml.safe_load(kvm_networks.DOCUMENTATION)['options']['networks']['suboptions']
    assert documented.pop('hypervisor')['description']   # the batch's own: which of its hypervisors
    assert documented == yaml.safe_load(text)['options']


def test_the_fleet_form_converges_networks_per_hypervisor(run, conn, tmp_path):
    """kvm_networks takes `hypervisors` as kvm_domains does (the engine's run_fleet; test_kvm_domains_fleet.py
    covers its rules): each network where it belongs, results keyed by hypervisor."""
    second = tmp_path / 'host2.xml'
    second.write_text('<node/>')
    fleet = dict(h1='test:///default', h2='test://%s' % second)
    items = [dict(name=PREFIX + 'all', mode='isolated'), dict(name=PREFIX + 'two', mode='isolated', hypervisor='h2')]
    check = run(check=True, hypervisors=fleet, networks=items)
    assert check['rc'] == 0 and check['changed'] and 'networks' not in check
    done = run(hypervisors=fleet, networks=items)
    assert done['actions'] == check['actions']
    assert sorted(done['hypervisors']['h1']['networks']) == [PREFIX + 'all']
    assert sorted(done['hypervisors']['h2']['networks']) == [PREFIX + 'all', PREFIX + 'two']
    assert PREFIX + 'all' in conn.listNetworks() + conn.listDefinedNetworks()
    again = run(hypervisors=dict(h1='test:///default'), networks=items[:1])
    assert again['rc'] == 0 and not again['changed']
