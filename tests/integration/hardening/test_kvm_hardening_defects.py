"""Issue 18's defects where the real daemon matters (libvirt's own checks, real files), through Ansible itself."""

import os

from harness import contract, fails, ok

NET = 'kvmth-private1'
EXAMPLE2 = dict(name=NET, mode='nat', bridge='kvmthbr1', ipv4=dict(
    address='172.30.10.1', netmask='255.255.255.0',
    dhcp=dict(ranges=[dict(start='172.30.10.100', end='172.30.10.200')],
              hosts=[dict(mac='52:54:00:10:00:11', ip='172.30.10.11', name='web1')])))
# the module's 4th example, after its 2nd (addresses moved to a range nobody else uses here)
EXAMPLE4 = dict(name=NET, ipv4=dict(address='172.30.20.1', prefix=24), restart=True)


def test_subnet_change_checked_with_kept_dhcp(conn):
    ok('kvm_network', EXAMPLE2)
    before = conn.networkLookupByName(NET).XMLDesc(0)
    for check in (True, False):
        result = fails('kvm_network', EXAMPLE4, check=check)
        assert result['parameter'] == 'ipv4' and 'ipv4.dhcp.ranges' in result['msg'], result
    assert conn.networkLookupByName(NET).XMLDesc(0) == before


def test_empty_dhcp_converges(conn):
    contract('kvm_network', dict(name='kvmth-n6', ipv4=dict(address='172.30.66.1', prefix=24, dhcp={})))
    last = ok('kvm_network', dict(name='kvmth-n6', ipv4=dict(address='172.30.66.1', prefix=24, dhcp={})))
    assert last['restart_required'] is False and not last.get('warnings'), last


def test_one_field_leaves_autostart(conn):
    ok('kvm_network', dict(name='kvmth-n10', state='inactive', ipv4=dict(address='172.30.100.1', prefix=24)))
    result = ok('kvm_network', dict(name='kvmth-n10', mtu=1400))
    assert result['actions'] == ["define network 'kvmth-n10': mtu", "start network 'kvmth-n10'"], result
    assert conn.networkLookupByName('kvmth-n10').autostart() == 0


def test_raw_bytes_capacity_converges(conn, workdir):
    ok('kvm_pool', dict(name='kvmth-p7', path=workdir))
    args = dict(pool='kvmth-p7', name='kvmth-v7.img', format='raw', capacity='1000B')
    contract('kvm_volume', args)
    assert os.path.getsize(os.path.join(workdir, 'kvmth-v7.img')) == 1000


def test_capacity_fed_back_and_free_space(conn, tmpfs):
    path = tmpfs('64m')
    ok('kvm_pool', dict(name='kvmth-p8', path=path))
    made = ok('kvm_volume', dict(pool='kvmth-p8', name='kvmth-v8.qcow2', capacity='16M'))
    assert made['volume']['capacity'] == 16 * 1024 ** 2 and made['volume']['capacity_human'] == '16 MiB'
    again = ok('kvm_volume', dict(pool='kvmth-p8', name='kvmth-v8.qcow2', capacity=made['volume']['capacity']))
    assert again['changed'] is False
    for args in (dict(name='kvmth-v8b.qcow2', capacity='1G'), dict(name='kvmth-v8.qcow2', capacity='1G')):
        result = fails('kvm_volume', dict(args, pool='kvmth-p8'))
        assert result['parameter'] == 'capacity' and "pool 'kvmth-p8'" in result['msg'] and 'free' in result['msg']
    assert sorted(os.listdir(path)) == ['kvmth-v8.qcow2']


def test_partial_failure_told_on_the_real_daemon(conn, tmpfs):
    """purge on a pool whose target is a mount point: libvirt empties and stops it, then cannot remove the
    directory (busy): the result tells the steps done, the one that failed and the state left."""
    path = tmpfs('8m', 'busy')
    ok('kvm_pool', dict(name='kvmth-p3', path=path))
    ok('kvm_volume', dict(pool='kvmth-p3', name='kvmth-v3.qcow2', capacity='1M'))
    result = fails('kvm_pool', dict(name='kvmth-p3', state='absent', purge=True))
    assert result['changed'] is True, result
    assert result['actions'] == ["delete volumes of pool 'kvmth-p3': kvmth-v3.qcow2", "stop pool 'kvmth-p3'"], result
    assert result['failed_action'].startswith("delete target of pool 'kvmth-p3'")
    assert result['state_left'] == {'pool kvmth-p3': 'inactive, defined'}, result
    assert 'done before it' in result['msg'] and 'inactive, defined' in result['msg']
