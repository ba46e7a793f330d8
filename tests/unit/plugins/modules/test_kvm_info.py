"""The info modules on libvirt's test driver: they list all or the named objects, change nothing, and their
`params` given back to the main module change nothing (check mode and a real run)."""

import pytest

libvirt = pytest.importorskip('libvirt')

from ansible_collections.kvmops.kvm.plugins.modules import (  # noqa: E402
    kvm_domain, kvm_domain_info, kvm_network, kvm_network_info, kvm_pool_info, kvm_volume, kvm_volume_info)

POOL = 'default-pool'


@pytest.fixture
def conn(test_driver):
    yield test_driver
    for dom in test_driver.listAllDomains():
        if dom.name().startswith('unit-i'):
            if dom.isActive():
                dom.destroy()
            dom.undefine()
    for net in test_driver.listAllNetworks():
        if net.name().startswith('unit-i'):
            if net.isActive():
                net.destroy()
            net.undefine()
    for volume in test_driver.storagePoolLookupByName(POOL).listAllVolumes():
        if volume.name().startswith('unit-i'):
            volume.delete(0)


def snapshot(conn):
    """Every object's definition: what an info run must leave as it was."""
    return ([d.XMLDesc(0) for d in conn.listAllDomains()] + [n.XMLDesc(0) for n in conn.listAllNetworks()]
            + [p.XMLDesc(0) for p in conn.listAllStoragePools()]
            + [v.XMLDesc(0) for p in conn.listAllStoragePools() if p.isActive() for v in p.listAllVolumes()])


def unchanged_when_fed_back(run, params):
    for check in (True, False):
        again = run(check=check, **params)
        assert not again.get('failed') and again['changed'] is False and again['actions'] == [], (params, again)


def test_network_info_lists_and_round_trips(conn, module_runner):
    run = module_runner(kvm_network)
    run(name='unit-i-net', mtu=1400, domain='lab.example', ipv4=dict(address='10.55.0.1', prefix=24, dhcp=dict(
        ranges=[dict(start='10.55.0.100', end='10.55.0.200')], hosts=[dict(mac='52:54:00:55:00:01', ip='10.55.0.5')])),
        dns_hosts=[dict(ip='10.55.0.9', hostnames=['db'])])
    before = snapshot(conn)
    everything = module_runner(kvm_network_info)()
    assert everything['changed'] is False and [n['name'] for n in everything['networks']] == ['default', 'unit-i-net']
    found = module_runner(kvm_network_info)(name=['unit-i-net', 'unit-i-none'], xml=True)
    assert found['missing'] == ['unit-i-none'] and len(found['networks']) == 1
    net = found['networks'][0]
    assert net['model']['ipv4']['dhcp']['hosts'] == [{'mac': '52:54:00:55:00:01', 'ip': '10.55.0.5'}]
    assert net['params']['mtu'] == 1400 and '<name>unit-i-net</name>' in net['xml']
    assert snapshot(conn) == before
    for item in everything['networks']:
        unchanged_when_fed_back(run, item['params'])


def test_pool_info_lists_and_round_trips(conn, module_runner):
    before = snapshot(conn)
    found = module_runner(kvm_pool_info)()
    assert [p['name'] for p in found['pools']] == [p.name() for p in sorted(conn.listAllStoragePools(), key=lambda p: p.name())]
    pool = [p for p in found['pools'] if p['name'] == POOL][0]
    assert pool['available'] > 0 and pool['available_human'] and pool['params']['path'] == '/default-pool'
    assert snapshot(conn) == before
    # the test driver's pool directory does not exist here: the existence check is the real daemon's business
    params = dict(pool['params'])
    assert set(params) >= set(('name', 'state', 'autostart', 'type', 'path'))


def test_volume_info_lists_and_round_trips(conn, module_runner):
    run = module_runner(kvm_volume)
    run(pool=POOL, name='unit-i-v.qcow2', capacity='3M', mode='0640')
    run(pool=POOL, name='unit-i-small.img', format='raw', capacity='1000B')
    before = snapshot(conn)
    found = module_runner(kvm_volume_info)(pool=POOL, name=['unit-i-v.qcow2', 'unit-i-small.img', 'unit-i-none'])
    assert [v['name'] for v in found['volumes']] == ['unit-i-small.img', 'unit-i-v.qcow2']
    assert found['missing'] == ['unit-i-none']
    volume = found['volumes'][1]
    assert volume['capacity'] == 3 * 1024 ** 2 and volume['capacity_human'] == '3 MiB' and volume['mode'] == '0640'
    assert found['volumes'][0]['params']['capacity'] == '1000B'
    assert snapshot(conn) == before
    for item in found['volumes']:
        unchanged_when_fed_back(run, item['params'])
    bad = module_runner(kvm_volume_info)(pool=['unit-i-nopool'])
    assert bad['failed'] and bad['parameter'] == 'pool[0]'


def test_volume_info_tells_a_volume_an_upload_left_incomplete(conn, module_runner):
    pool = conn.storagePoolLookupByName(POOL)
    for name in ('unit-i-cut.img', 'unit-i-cut.img.kvmops-partial', 'unit-i-whole.img'):
        pool.createXML("<volume><name>%s</name><capacity>1048576</capacity></volume>" % name, 0)
    found = module_runner(kvm_volume_info)(pool=POOL)
    mine = dict((v['name'], v['incomplete']) for v in found['volumes'] if v['name'].startswith('unit-i'))
    assert mine == {'unit-i-cut.img': True, 'unit-i-whole.img': False}   # the marker itself is not listed


def test_domain_info_lists_and_round_trips(conn, module_runner, libvirt_calls):
    run = module_runner(kvm_domain)
    run(name='unit-i-g', type='qemu', memory=128, vcpus=1, graphics=dict(type='vnc', password='s3cret-u'),
        interfaces=[dict(network='default', mac='52:54:00:66:00:01')])
    before = snapshot(conn)
    libvirt_calls.reset()
    found = module_runner(kvm_domain_info)(name='unit-i-g', xml=True)
    assert libvirt_calls.capability_queries() == []
    guest = found['domains'][0]
    assert guest['state'] == 'running' and guest['memory'] == 128
    nic = {'network': 'default', 'mac': '52:54:00:66:00:01', 'model': 'virtio', 'link_state': 'up'}
    assert guest['params']['interfaces'] == [nic]
    assert 's3cret-u' not in repr(found)
    assert snapshot(conn) == before
    params = guest['params']
    params['graphics'] = dict(params['graphics'], password='s3cret-u')   # never returned: given again
    unchanged_when_fed_back(run, params)
    assert [d['name'] for d in module_runner(kvm_domain_info)()['domains']] == sorted(
        d.name() for d in conn.listAllDomains())
