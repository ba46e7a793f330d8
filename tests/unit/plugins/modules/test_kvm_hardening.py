"""Regression tests for the defects of issue 18, in-process on libvirt's test driver (the ones where the real
daemon matters are in tests/integration/hardening)."""

import pytest

libvirt = pytest.importorskip('libvirt')

from ansible_collections.kvmops.kvm.plugins.modules import (  # noqa: E402
    kvm_domain, kvm_network, kvm_network_info, kvm_pool, kvm_volume)

POOL = 'default-pool'
PRIVATE1 = dict(name='unit-h-private1', mode='nat', bridge='virbrh1', ipv4=dict(
    address='172.16.10.1', netmask='255.255.255.0',
    dhcp=dict(ranges=[dict(start='172.16.10.100', end='172.16.10.200')],
              hosts=[dict(mac='52:54:00:10:00:11', ip='172.16.10.11', name='web1')])))


@pytest.fixture
def conn(test_driver):
    yield test_driver
    for dom in test_driver.listAllDomains():
        if dom.name().startswith('unit-h'):
            if dom.isActive():
                dom.destroy()
            dom.undefine()
    for net in test_driver.listAllNetworks():
        if net.name().startswith('unit-h'):
            if net.isActive():
                net.destroy()
            net.undefine()
    for pool in test_driver.listAllStoragePools():
        if pool.name().startswith('unit-h'):
            if pool.isActive():
                pool.destroy()
            pool.undefine()
    for volume in test_driver.storagePoolLookupByName(POOL).listAllVolumes():
        if volume.name().startswith('unit-h'):
            volume.delete(0)


def warnings(result):
    """The warning texts of a result (ansible-core 2.19 returns them as event objects)."""
    return [w.get('event', {}).get('msg', '') if isinstance(w, dict) else w for w in result.get('warnings', [])]


def failed(result, parameter=None):
    assert result['rc'] == 1 and result.get('failed'), result
    assert 'Traceback' not in result['msg'] and 'exception' not in result, result
    if parameter:
        assert result.get('parameter') == parameter, result
    return result['msg']


# ---- 1: kvm_domain asks the host only for what the task needs, and blames the host, not an option

def test_domain_power_change_needs_no_capabilities(conn, module_runner):
    run = module_runner(kvm_domain)
    assert run(name='test', state='destroyed')['changed'] is True   # the test driver offers no domain capabilities


def test_domain_input_errors_come_before_host_errors(conn, module_runner):
    run = module_runner(kvm_domain)
    msg = failed(run(name='unit-h-g', memory='lots', vcpus=2), 'memory')
    assert 'not a size' in msg


def test_domain_host_without_guests_is_named_as_the_cause(conn, module_runner):
    run = module_runner(kvm_domain)
    result = run(name='unit-h-g', memory=128)
    msg = failed(result)
    assert result.get('parameter') is None and "Invalid parameter 'type'" not in msg
    assert 'test:///default' in msg and 'cannot run guests' in msg
    # the user who asks for a type is told about that type
    assert failed(run(name='unit-h-g', memory=128, type='qemu'), 'type')


# ---- 2: a subnet change is validated together with what the network keeps

def test_subnet_change_checked_against_kept_dhcp(conn, module_runner):
    run = module_runner(kvm_network)
    run(**PRIVATE1)
    before = conn.networkLookupByName('unit-h-private1').XMLDesc(0)
    change = dict(name='unit-h-private1', ipv4=dict(address='172.16.20.1', prefix=24), restart=True)
    for check in (True, False):
        msg = failed(run(check=check, **change), 'ipv4')
        assert '172.16.10.100-172.16.10.200' in msg and 'ipv4.dhcp.ranges' in msg
    assert conn.networkLookupByName('unit-h-private1').XMLDesc(0) == before
    # given anew with it, the change goes through
    ok = run(name='unit-h-private1', restart=True, ipv4=dict(address='172.16.20.1', prefix=24, dhcp=dict(
        ranges=[dict(start='172.16.20.100', end='172.16.20.200')], hosts=[])))
    assert ok['changed'] is True and not ok.get('failed'), ok


# ---- 3: a failure in the middle of a plan says what was done, what failed and the state left

def test_partial_failure_is_told(conn, module_runner, monkeypatch):
    run = module_runner(kvm_domain)
    conn.defineXML(conn.lookupByName('test').XMLDesc(0).replace('<name>test</name>', '<name>unit-h-pf</name>')
                   .replace(conn.lookupByName('test').UUIDString(), '6695eb01-f6a4-8304-79aa-97f2502e1931'))
    conn.lookupByName('unit-h-pf').create()

    def refuse(self, flags=0):
        raise libvirt.libvirtError('operation refused for the test')
    monkeypatch.setattr(libvirt.virDomain, 'undefineFlags', refuse)
    result = run(name='unit-h-pf', state='absent')
    msg = failed(result)
    assert result['changed'] is True
    assert result['actions'] == ["stop domain 'unit-h-pf': forced off"]
    assert result['failed_action'] == "undefine domain 'unit-h-pf'"
    assert result['state_left'] == {'domain unit-h-pf': 'shut off, defined'}
    assert 'done before it' in msg and 'shut off, defined' in msg


def test_failure_of_the_first_step_changed_nothing(conn, module_runner, monkeypatch):
    run = module_runner(kvm_network)

    def refuse(self, xml, flags=0):
        raise libvirt.libvirtError('no more networks today')
    monkeypatch.setattr(libvirt.virConnect, 'networkDefineXML', refuse)
    result = run(name='unit-h-nodef', ipv4=dict(address='10.77.0.1', prefix=24))
    msg = failed(result)
    assert result['changed'] is False and result['actions'] == []
    assert result['failed_action'] == "define network 'unit-h-nodef'"
    assert result['state_left'] == {'network unit-h-nodef': 'absent'}
    assert 'nothing was changed before it' in msg


# ---- 4 and 5: owner/group of the wrong type, one mode rule everywhere

@pytest.mark.parametrize('module, args, parameter', [
    (kvm_pool, dict(name='unit-h-p', path='/tmp', owner=True), 'owner'),
    (kvm_pool, dict(name='unit-h-p', path='/tmp', owner=-5), 'owner'),
    (kvm_pool, dict(name='unit-h-p', path='/tmp', group=[1]), 'group'),
    (kvm_volume, dict(pool=POOL, name='unit-h-v', capacity='1M', group=[1]), 'group'),
    (kvm_volume, dict(pool=POOL, name='unit-h-v', capacity='1M', owner={'a': 1}), 'owner'),
    (kvm_volume, dict(pool=POOL, name='unit-h-v', capacity='1M', mode=644), 'mode'),
    (kvm_volume, dict(pool=POOL, name='unit-h-v', capacity='1M', mode='01777'), 'mode'),
    (kvm_pool, dict(name='unit-h-p', path='/tmp', mode=493), 'mode'),
    (kvm_pool, dict(name='unit-h-p', path='/tmp', mode='rwxr-xr-x'), 'mode'),
    (kvm_pool, dict(name='unit-h-p', path='/tmp', mode=True), 'mode'),
])
def test_wrong_types_are_clear_errors(conn, module_runner, module, args, parameter):
    for check in (True, False):
        msg = failed(module_runner(module)(check=check, **args), parameter)
        assert "'0" in msg or 'ID' in msg or 'name' in msg, msg


def test_mode_integer_message_says_how_to_quote(conn, module_runner):
    msg = failed(module_runner(kvm_volume)(pool=POOL, name='unit-h-v', capacity='1M', mode=644), 'mode')
    assert "quote it, e.g. '0644'" in msg
    msg = failed(module_runner(kvm_volume)(pool=POOL, name='unit-h-v', capacity='1M', mode=0o755), 'mode')
    assert "'0755'" in msg


def test_quoted_modes_are_read_as_octal(conn, module_runner):
    result = module_runner(kvm_volume)(pool=POOL, name='unit-h-m', capacity='1M', mode='644')
    assert result['changed'] is True
    assert module_runner(kvm_volume)(pool=POOL, name='unit-h-m', capacity='1M', mode='0o644')['changed'] is False


# ---- 6: an empty dhcp converges

def test_empty_dhcp_converges(conn, module_runner):
    run = module_runner(kvm_network)
    args = dict(name='unit-h-n6', ipv4=dict(address='10.66.0.1', prefix=24, dhcp={}))
    assert run(**args)['changed'] is True
    for check in (True, False):
        again = run(check=check, **args)
        assert again['changed'] is False and not again['restart_required'], again
        assert not [w for w in warnings(again) if 'unit-h-n6' in w], again
    empty = dict(name='unit-h-n6', ipv4=dict(address='10.66.0.1', prefix=24, dhcp=dict(ranges=[], hosts=[])))
    assert run(**empty)['changed'] is False


# ---- 8: capacity speaks bytes both ways, and free space is checked first

def test_capacity_round_trips_and_free_space_is_checked(conn, module_runner):
    run = module_runner(kvm_volume)
    made = run(pool=POOL, name='unit-h-c', capacity='10M')
    assert made['volume']['capacity'] == 10 * 1024 ** 2 and made['volume']['capacity_human'] == '10 MiB'
    assert run(pool=POOL, name='unit-h-c', capacity=made['volume']['capacity'])['changed'] is False
    free = conn.storagePoolLookupByName(POOL).info()[3]
    for args in (dict(name='unit-h-big', capacity=free + 1024 ** 3), dict(name='unit-h-c', capacity=free * 2)):
        msg = failed(run(pool=POOL, **args), 'capacity')
        assert "pool '%s'" % POOL in msg and str(free) in msg, msg
    msg = failed(run(pool=POOL, name='unit-h-c', capacity=64), 'capacity')
    assert '64 bytes' in msg and '64M' in msg


# ---- 9: overlapping DHCP ranges

def test_overlapping_ranges_refused(conn, module_runner):
    msg = failed(module_runner(kvm_network)(name='unit-h-n9', ipv4=dict(address='10.99.0.1', prefix=24, dhcp=dict(
        ranges=[dict(start='10.99.0.10', end='10.99.0.50'), dict(start='10.99.0.40', end='10.99.0.60')]))),
        'ipv4.dhcp.ranges[1]')
    assert 'overlaps' in msg and 'ipv4.dhcp.ranges[0]' in msg


# ---- 10: an option not given is not changed, autostart included

def test_changing_one_field_leaves_autostart(conn, module_runner):
    run = module_runner(kvm_network)
    run(name='unit-h-n10', state='inactive', ipv4=dict(address='10.100.0.1', prefix=24))
    result = run(name='unit-h-n10', mtu=1400)   # state defaults to active
    assert result['actions'] == ["define network 'unit-h-n10': mtu", "start network 'unit-h-n10'"], result
    assert conn.networkLookupByName('unit-h-n10').autostart() == 0
    # a new network made active still starts at boot by default
    assert run(name='unit-h-n10b', ipv4=dict(address='10.101.0.1', prefix=24))['network']['autostart'] is True


def test_pool_change_leaves_autostart(conn, module_runner, tmp_path):
    run = module_runner(kvm_pool)
    run(name='unit-h-p10', path=str(tmp_path), autostart=False)
    result = run(name='unit-h-p10', path=str(tmp_path), mode='0750')
    assert not any('autostart' in action for action in result['actions']), result


# ---- unclear inputs made clear

@pytest.mark.parametrize('module, args, parameter, words', [
    (kvm_network, dict(name='unit-h-r', mode='route'), 'ipv4', 'give ipv4'),
    (kvm_network, dict(name='unit-h-r', ipv4='10.9.0.1/24'), None, '{address: 10.9.0.1, prefix: 24}'),
    (kvm_pool, dict(name='unit-h-pf', path='/etc/hostname'), 'path', 'not a directory'),
    (kvm_domain, dict(name='unit-h-d', disks='vda'), None, "'disks' is a list of mappings"),
    (kvm_domain, dict(name='unit-h-d', xml='<domain type="qemu"><memory>1</memory></domain>'), 'xml', 'no <name>'),
    (kvm_volume, dict(pool=POOL, name='unit-h-v.qcow2.kvmops-partial', capacity='1M'), 'name',
     "ends in '.kvmops-partial', the suffix kvm_volume keeps for the marker"),
    (kvm_volume, dict(pool=POOL, name='unit-h-v.kvmops-partial', state='absent'), 'name',
     "state: absent on 'unit-h-v' removes a marker left behind"),
    (kvm_domain, dict(name='unit-h-d', memory=64, disks=[dict(pool=POOL, volume='d.kvmops-partial', size='1G')]),
     'disks[0].volume', "ends in '.kvmops-partial'"),
])
def test_unclear_inputs_are_clear(conn, module_runner, module, args, parameter, words):
    msg = failed(module_runner(module)(check=True, **args), parameter)
    assert words in msg, msg


def test_network_xml_with_another_uuid_refused(conn, module_runner):
    run = module_runner(kvm_network)
    run(name='unit-h-u', ipv4=dict(address='10.88.0.1', prefix=24))
    xml = ("<network><name>unit-h-u</name><uuid>11111111-2222-3333-4444-555555555555</uuid>"
           "<ip address='10.88.0.1' prefix='24'/></network>")
    msg = failed(run(name='unit-h-u', xml=xml), 'xml')
    assert 'UUID' in msg and conn.networkLookupByName('unit-h-u').UUIDString() in msg


def test_ignored_options_are_warned(conn, module_runner):
    run = module_runner(kvm_network)
    run(name='unit-h-w', ipv4=dict(address='10.89.0.1', prefix=24))
    result = run(name='unit-h-w', state='absent', mtu=1400)
    assert any('mtu' in w and 'ignored' in w for w in warnings(result)), result
    result = module_runner(kvm_pool)(check=True, name='unit-h-pw', path='/tmp', purge=True)
    assert any('purge' in w and 'state: absent' in w for w in warnings(result)), result


# ---- the daemon going away during a run is said as such, naming the URI

class _Lost(libvirt.libvirtError):
    def __init__(self):
        libvirt.libvirtError.__init__(self, 'Cannot recv data: Connection reset by peer')

    def get_error_code(self):
        return libvirt.VIR_ERR_SYSTEM_ERROR

    def get_error_domain(self):
        return libvirt.VIR_FROM_RPC

    def get_error_message(self):
        return 'Cannot recv data: Connection reset by peer'


def test_daemon_lost_mid_plan_is_named(conn, module_runner, monkeypatch):
    run = module_runner(kvm_network)

    def lost(self, *args):
        raise _Lost()
    monkeypatch.setattr(libvirt.virNetwork, 'create', lost)
    result = run(name='unit-h-lost', ipv4=dict(address='10.79.0.1', prefix=24))
    msg = failed(result)
    assert 'test:///default' in msg and 'connection to the libvirt daemon was lost' in msg, msg
    assert result['actions'] == ["define network 'unit-h-lost'"] and result['changed'] is True
    assert result['failed_action'] == "start network 'unit-h-lost'"


def test_daemon_lost_while_reading_is_named(conn, module_runner, monkeypatch):
    def lost(self, *args):
        raise _Lost()
    monkeypatch.setattr(libvirt.virConnect, 'listAllNetworks', lost)
    msg = failed(module_runner(kvm_network_info)())
    assert 'the connection to test:///default was lost' in msg and 'run the task again' in msg, msg
