"""kvm_domains on the machine's libvirtd: many guests converged in one task, each as kvm_domain would.

The guests are defined, not started (the batch adds no device or power handling of its own; kvm_domain's
suites prove those on running guests)."""

import os

import libvirt
import pytest
from lxml import etree

from harness import contract, fails, ok, purge

SLOT = int(os.environ.get('KVMOPS_TEST_SLOT', '0'))
PREFIX = 'kvmtbn%s-' % (SLOT or '')


@pytest.fixture(autouse=True)
def clean(conn):
    purge(conn, PREFIX)
    yield
    purge(conn, PREFIX)


def guests(count, **options):
    return [dict(dict(name='%s%02d' % (PREFIX, index), type='qemu', memory=64, vcpus=1, state='present'), **options)
            for index in range(count)]


def defined(conn, name):
    return etree.fromstring(conn.lookupByName(name).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))


def ours(conn):
    return sorted(dom.name() for dom in conn.listAllDomains() if dom.name().startswith(PREFIX))


def test_a_batch_follows_the_contract_and_keeps_what_libvirt_generated(conn):
    items = guests(6)
    items[5].update(memory='96MiB', vcpus=2, max_vcpus=3, autostart=False)
    predicted, applied, last = contract('kvm_domains', dict(domains=items))
    assert sorted(applied['domains']) == [item['name'] for item in items]
    for item in items:
        done = applied['domains'][item['name']]
        assert done['changed'] is True and done['actions'] == predicted['domains'][item['name']]['actions']
        assert done['domain']['state'] == 'shutoff' and last['domains'][item['name']]['changed'] is False
    # libvirt holds what each item asked for
    assert ours(conn) == [item['name'] for item in items]
    root = defined(conn, items[5]['name'])
    assert int(root.findtext('memory')) == 96 * 1024 and root.findtext('vcpu') == '3'
    assert root.find('vcpu').get('current') == '2'
    assert int(defined(conn, items[0]['name']).findtext('memory')) == 64 * 1024
    uuids = dict((item['name'], conn.lookupByName(item['name']).UUIDString()) for item in items)

    # one guest drifts: only it changes, the others (and every UUID) stay as they are
    items[3]['memory'] = 80
    predicted, applied, _last = contract('kvm_domains', dict(domains=items))
    changed = sorted(name for name, result in applied['domains'].items() if result['changed'])
    assert changed == [items[3]['name']]
    # max_memory follows memory unless given, as with kvm_domain
    expected = {'before': {'memory': 64, 'max_memory': 64}, 'after': {'memory': 80, 'max_memory': 80}}
    assert applied['domains'][items[3]['name']]['diff'] == expected
    assert applied['diff']['after'] == {items[3]['name']: {'memory': 80, 'max_memory': 80}}
    assert int(defined(conn, items[3]['name']).findtext('memory')) == 80 * 1024
    assert uuids == dict((item['name'], conn.lookupByName(item['name']).UUIDString()) for item in items)

    # removal in the same way
    gone = [dict(name=item['name'], state='absent') for item in items]
    contract('kvm_domains', dict(domains=gone))
    assert ours(conn) == []


def test_bad_input_names_the_item_and_leaves_the_host_alone(conn):
    items = guests(3)
    items[2]['memory'] = '12 parsecs'
    result = fails('kvm_domains', dict(domains=items))
    assert "domains[2].memory" in result['msg'] and items[2]['name'] in result['msg'], result['msg']
    assert ours(conn) == []
    items = guests(2) + [dict(name=PREFIX + 'nic', type='qemu', state='present',
                              interfaces=[dict(network=PREFIX + 'no-such-net')])]
    result = fails('kvm_domains', dict(domains=items))
    assert 'domains[2].interfaces' in result['msg'] and PREFIX + 'no-such-net' in result['msg'], result['msg']
    assert ours(conn) == []


def test_a_name_given_twice_is_refused_before_anything_changes(conn):
    result = fails('kvm_domains', dict(domains=guests(2) + guests(1)))
    assert 'more than once' in result['msg'] and ours(conn) == []


def test_the_action_group_applies_module_defaults(conn):
    result = ok('kvm_domains', dict(domains=guests(1)), check=True)
    assert result['changed'] is True and ours(conn) == []


def test_a_pool_volume_and_the_file_at_its_path_are_one_disk(conn, tmp_path):
    """The guests role attaches volumes by path; its fleet drift check names them by pool and volume: the same disk,
    no change either way."""
    directory = '/var/lib/libvirt/images/%spool' % PREFIX
    pool = conn.storagePoolDefineXML("<pool type='dir'><name>%spool</name><target><path>%s</path></target></pool>"
                                     % (PREFIX, directory))
    pool.build(0)
    pool.create(0)
    try:
        volume = pool.createXML("<volume><name>d.qcow2</name><capacity unit='MiB'>8</capacity>"
                                "<target><format type='qcow2'/></target></volume>", 0)
        by_path = dict(guests(1)[0], disks=[dict(path=volume.path())])
        ok('kvm_domains', dict(domains=[by_path]))
        by_volume = dict(guests(1)[0], disks=[dict(pool=PREFIX + 'pool', volume='d.qcow2')])
        for check in (True, False):
            again = ok('kvm_domains', dict(domains=[by_volume]), check=check)
            assert again['changed'] is False and again['actions'] == [], again
        assert defined(conn, by_path['name']).find('devices/disk/source').get('file') == volume.path()
    finally:
        for dom in conn.listAllDomains():
            if dom.name().startswith(PREFIX):
                dom.undefine()
        for vol in pool.listAllVolumes():
            vol.delete(0)
        pool.destroy()
        pool.delete(0)
        pool.undefine()
