"""The four info modules on the real daemon, through Ansible: they list what is there, change nothing, and
their params given back to the main modules change nothing."""

from harness import ok
from hoststate import snapshot

NET = dict(name='kvmth-inet', ipv4=dict(address='172.30.41.1', prefix=24, dhcp=dict(
    ranges=[dict(start='172.30.41.100', end='172.30.41.150')], hosts=[dict(mac='52:54:00:41:00:01', ip='172.30.41.5')])))


def definitions(conn):
    return snapshot(conn)


def fed_back(module, params):
    for check in (True, False):
        again = ok(module, params, check=check)
        assert again['changed'] is False and again['actions'] == [], (params, again)


def test_info_modules_round_trip(conn, workdir):
    ok('kvm_network', NET)
    ok('kvm_pool', dict(name='kvmth-ipool', path=workdir, mode='0755'))
    ok('kvm_volume', dict(pool='kvmth-ipool', name='kvmth-idisk.qcow2', capacity='8M', mode='0600'))
    ok('kvm_domain', dict(name='kvmth-iguest', type='qemu', memory=64, vcpus=1, state='shutdown',
                          disks=[dict(pool='kvmth-ipool', volume='kvmth-idisk.qcow2')],
                          interfaces=[dict(network='kvmth-inet', mac='52:54:00:41:00:02')]))
    before = definitions(conn)

    nets = ok('kvm_network_info', dict(name=['kvmth-inet']))['networks']
    assert nets[0]['model']['ipv4']['dhcp']['ranges'] == [{'start': '172.30.41.100', 'end': '172.30.41.150'}]
    pools = ok('kvm_pool_info', dict(name='kvmth-ipool'))['pools']
    assert pools[0]['volumes'] == ['kvmth-idisk.qcow2'] and pools[0]['model']['mode'] == '0755'
    volumes = ok('kvm_volume_info', dict(pool='kvmth-ipool'))['volumes']
    assert volumes[0]['capacity'] == 8 * 1024 ** 2 and volumes[0]['mode'] == '0600'
    domains = ok('kvm_domain_info', dict(name='kvmth-iguest'))['domains']
    assert domains[0]['state'] == 'shutdown' and domains[0]['params']['disks'][0]['volume'] == 'kvmth-idisk.qcow2'
    everything = ok('kvm_domain_info', dict(xml=False))['domains']
    assert 'kvmth-iguest' in [d['name'] for d in everything]
    assert definitions(conn) == before

    fed_back('kvm_network', nets[0]['params'])
    fed_back('kvm_pool', pools[0]['params'])
    fed_back('kvm_volume', volumes[0]['params'])
    fed_back('kvm_domain', domains[0]['params'])
    assert definitions(conn) == before
