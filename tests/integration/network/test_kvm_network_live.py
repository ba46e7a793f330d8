"""kvm_network against the machine's real libvirtd: the contract for every mode, then the host itself."""

import os
import subprocess

import libvirt
import pytest
from lxml import etree

from harness import contract, fails, ok, purge

PREFIX = 'kvmtestn-'   # not kvmtest-: the storage suite purges that prefix, maybe while this one runs


@pytest.fixture(autouse=True)
def clean(conn):
    purge(conn, PREFIX)
    yield
    purge(conn, PREFIX)


@pytest.fixture
def host_links():
    """Links a test makes in the root namespace (a bridge, a veth end); removed afterwards."""
    made = []

    def make(name, *spec):
        subprocess.run(['ip', 'link', 'add', name] + list(spec), check=True)
        subprocess.run(['ip', 'link', 'set', name, 'up'], check=True)
        made.append(name)
        return name
    yield make
    for name in made:
        subprocess.run(['ip', 'link', 'del', name], check=False, capture_output=True)


def xml_of(conn, name, inactive=False):
    net = conn.networkLookupByName(name)
    return etree.fromstring(net.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE if inactive else 0))


def dnsmasq_pid(name):
    with open('/run/libvirt/network/%s.pid' % name) as stream:
        pid = int(stream.read().strip())
    assert os.path.exists('/proc/%d' % pid), 'dnsmasq of %s is not running' % name
    with open('/proc/%d/cmdline' % pid) as stream:
        assert 'dnsmasq' in stream.read()
    return pid


def bridge_exists(name):
    return os.path.isdir('/sys/class/net/%s/bridge' % name)


def snapshot(conn):
    """Everything a rejected input must leave as it was: every network on the machine but those of other test
    runs (kvmt*, kvl*), which may change on their own meanwhile (the domain suite beside this one in `make test`,
    another developer's run)."""
    return sorted((n.name(), n.isActive(), n.XMLDesc(0)) for n in conn.listAllNetworks()
                  if n.name().startswith(PREFIX) or not n.name().startswith(('kvmt', 'kvl')))


HOSTONLY = dict(name=PREFIX + 'hostonly', mode='isolated', bridge='kvmt-ho0',
                ipv4=dict(address='192.168.110.1', prefix=24))
PRIVATE1 = dict(name=PREFIX + 'private1', mode='nat', bridge='kvmt-virbr1',
                ipv4=dict(address='172.16.20.1', netmask='255.255.255.0',
                          dhcp=dict(ranges=[dict(start='172.16.20.100', end='172.16.20.200')])))


def test_isolated_host_only_network(conn):
    predicted, applied, last = contract('kvm_network', HOSTONLY)
    assert predicted['diff']['before']['state'] == 'absent'
    assert predicted['diff']['after']['state'] == 'active'
    root = xml_of(conn, HOSTONLY['name'])
    assert root.find('forward') is None
    assert root.find('ip').get('address') == '192.168.110.1'
    assert root.find('ip/dhcp') is None
    assert bridge_exists('kvmt-ho0')
    net = conn.networkLookupByName(HOSTONLY['name'])
    assert net.isActive() and net.autostart() and net.isPersistent()
    assert last['network'] == dict(name=HOSTONLY['name'], uuid=net.UUIDString(), bridge='kvmt-ho0',
                                   active=True, autostart=True, persistent=True)


def test_nat_network_with_dhcp(conn):
    contract('kvm_network', PRIVATE1)
    root = xml_of(conn, PRIVATE1['name'])
    assert root.find('forward').get('mode') == 'nat'
    assert root.find('ip').get('prefix') == '24'   # the netmask, normalized
    assert root.find('ip/dhcp/range').get('start') == '172.16.20.100'
    assert bridge_exists('kvmt-virbr1')
    dnsmasq_pid(PRIVATE1['name'])


def test_routed_network_through_an_uplink(conn, host_links):
    host_links('kvmt-up0', 'type', 'veth', 'peer', 'name', 'kvmt-up0p')
    args = dict(name=PREFIX + 'routed', mode='route', forward_dev='kvmt-up0', bridge='kvmt-rt0',
                ipv4=dict(address='10.213.92.1', prefix=24))
    contract('kvm_network', args)
    forward = xml_of(conn, args['name']).find('forward')
    assert forward.get('mode') == 'route' and forward.get('dev') == 'kvmt-up0'


def test_open_network(conn):
    args = dict(name=PREFIX + 'open', mode='open', bridge='kvmt-op0', ipv4=dict(address='10.213.93.1', prefix=24))
    contract('kvm_network', args)
    assert xml_of(conn, args['name']).find('forward').get('mode') == 'open'
    assert bridge_exists('kvmt-op0')


def test_dual_stack_network_with_dhcpv6(conn):
    args = dict(name=PREFIX + 'v6', bridge='kvmt-v6', ipv4=dict(address='10.213.97.1', prefix=24),
                ipv6=dict(address='fd00:213:97::1', prefix=64, dhcp=dict(
                    ranges=[dict(start='fd00:213:97::100', end='fd00:213:97::1ff')],
                    hosts=[dict(name='web1', ip='fd00:213:97::11')])))
    contract('kvm_network', args)
    ips = xml_of(conn, args['name']).findall('ip')
    v6 = [ip for ip in ips if ip.get('family') == 'ipv6'][0]
    assert v6.get('prefix') == '64' and v6.find('dhcp/host').get('name') == 'web1'
    pid = dnsmasq_pid(args['name'])
    # a second DHCPv6 host is a live update too
    more = dict(args, ipv6=dict(args['ipv6'], dhcp=dict(hosts=[dict(name='web1', ip='fd00:213:97::11'),
                                                               dict(name='web2', ip='fd00:213:97::12')])))
    predicted, applied, last = contract('kvm_network', more)
    assert any('web2' in action and '(live)' in action for action in applied['actions'])
    assert dnsmasq_pid(args['name']) == pid


def test_bridge_mode_on_an_existing_host_bridge(conn, host_links):
    host_links('kvmt-br0', 'type', 'bridge')
    args = dict(name=PREFIX + 'lan', mode='bridge', bridge='kvmt-br0')
    contract('kvm_network', args)
    root = xml_of(conn, args['name'])
    assert root.find('forward').get('mode') == 'bridge'
    assert root.find('bridge').get('name') == 'kvmt-br0'
    assert root.find('ip') is None


def test_dhcp_host_added_live_without_restart(conn):
    ok('kvm_network', PRIVATE1)
    pid = dnsmasq_pid(PRIVATE1['name'])
    uuid = conn.networkLookupByName(PRIVATE1['name']).UUIDString()
    changed = dict(PRIVATE1, ipv4=dict(PRIVATE1['ipv4'], dhcp=dict(
        PRIVATE1['ipv4']['dhcp'], hosts=[dict(mac='52:54:00:10:00:11', ip='172.16.20.11', name='web1')])))
    predicted, applied, last = contract('kvm_network', changed)
    assert any('(live)' in action for action in applied['actions'])
    assert applied['restart_required'] is False
    assert applied['diff']['after']['ipv4']['dhcp']['hosts'] == [dict(mac='52:54:00:10:00:11', ip='172.16.20.11',
                                                                      name='web1')]
    assert dnsmasq_pid(PRIVATE1['name']) == pid, 'dnsmasq was restarted'
    for inactive in (False, True):
        host = xml_of(conn, PRIVATE1['name'], inactive).find('ip/dhcp/host')
        assert (host.get('mac'), host.get('ip'), host.get('name')) == ('52:54:00:10:00:11', '172.16.20.11', 'web1')
    with open('/var/lib/libvirt/dnsmasq/%s.hostsfile' % PRIVATE1['name']) as stream:
        assert '52:54:00:10:00:11,172.16.20.11,web1' in stream.read()
    assert conn.networkLookupByName(PRIVATE1['name']).UUIDString() == uuid
    # removing it is live as well
    contract('kvm_network', dict(changed, ipv4=dict(changed['ipv4'], dhcp=dict(hosts=[]))))
    assert xml_of(conn, PRIVATE1['name']).find('ip/dhcp/host') is None
    assert dnsmasq_pid(PRIVATE1['name']) == pid


def test_dns_hosts_change_live(conn):
    ok('kvm_network', PRIVATE1)
    pid = dnsmasq_pid(PRIVATE1['name'])
    args = dict(PRIVATE1, dns_hosts=[dict(ip='172.16.20.5', hostnames=['storage', 'nfs'])])
    contract('kvm_network', args)
    host = xml_of(conn, PRIVATE1['name']).find('dns/host')
    assert host.get('ip') == '172.16.20.5'
    assert sorted(h.text for h in host.findall('hostname')) == ['nfs', 'storage']
    assert dnsmasq_pid(PRIVATE1['name']) == pid


def _start_guest(conn, network):
    """A diskless guest (SeaBIOS finds nothing to boot and waits): enough to own a tap on the network."""
    xml = """<domain type='qemu'><name>%sguest</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>
      <os><type arch='x86_64' machine='pc'>hvm</type></os>
      <features><tcg><tb-cache unit='MiB'>16</tb-cache></tcg></features>
      <devices><interface type='network'><source network='%s'/><model type='virtio'/></interface>
      <memballoon model='none'/></devices></domain>""" % (PREFIX, network)
    dom = conn.createXML(xml, 0)
    tap = etree.fromstring(dom.XMLDesc(0)).find('devices/interface/target').get('dev')
    return dom, tap


def _master(tap):
    path = '/sys/class/net/%s/master' % tap
    return os.path.basename(os.readlink(path)) if os.path.exists(path) else None


def test_change_that_needs_a_restart(conn):
    ok('kvm_network', PRIVATE1)
    dom, tap = _start_guest(conn, PRIVATE1['name'])
    assert _master(tap) == 'kvmt-virbr1'
    pid = dnsmasq_pid(PRIVATE1['name'])
    args = dict(PRIVATE1, domain='lab.test')
    predicted, applied, last = contract('kvm_network', args)
    assert applied['restart_required'] is True and last['restart_required'] is True
    assert xml_of(conn, PRIVATE1['name'], inactive=True).find('domain').get('name') == 'lab.test'
    assert xml_of(conn, PRIVATE1['name']).find('domain') is None
    assert dnsmasq_pid(PRIVATE1['name']) == pid
    # now allow the restart: the guest's tap must be back on the bridge
    predicted, applied, last = contract('kvm_network', dict(args, restart=True))
    assert [a.split(':')[0] for a in applied['actions']] == ["restart network '%s'" % PRIVATE1['name']]
    assert last['restart_required'] is False
    assert xml_of(conn, PRIVATE1['name']).find('domain').get('name') == 'lab.test'
    assert dnsmasq_pid(PRIVATE1['name']) != pid
    assert _master(tap) == 'kvmt-virbr1', 'the running guest was not re-attached to the bridge'
    dom.destroy()


def test_states(conn):
    name = HOSTONLY['name']
    contract('kvm_network', dict(HOSTONLY, state='present'))
    net = conn.networkLookupByName(name)
    assert not net.isActive() and net.isPersistent() and not net.autostart()
    contract('kvm_network', dict(HOSTONLY, state='active', autostart=False))
    assert net.isActive() and not net.autostart()
    contract('kvm_network', dict(name=name, state='present'), expect_change=False)
    contract('kvm_network', dict(name=name, state='inactive'))
    assert not net.isActive()
    predicted, applied, last = contract('kvm_network', dict(name=name, state='absent'))
    assert last['network'] is None
    assert name not in [n.name() for n in conn.listAllNetworks()]
    assert not bridge_exists('kvmt-ho0')


def test_transient_network_becomes_persistent(conn):
    conn.networkCreateXML("<network><name>%stransient</name><bridge name='kvmt-tr0'/>"
                          "<ip address='10.213.94.1' prefix='24'/></network>" % PREFIX)
    contract('kvm_network', dict(name=PREFIX + 'transient', state='active'))
    assert conn.networkLookupByName(PREFIX + 'transient').isPersistent()


def test_xml_is_compared_by_meaning(conn):
    xml = """<network><name>{p}xml</name><forward mode='nat'/><bridge name='kvmt-xml0'/>
      <ip netmask='255.255.255.0' address='10.213.95.1'><dhcp>
      <range end='10.213.95.20' start='10.213.95.10'/></dhcp></ip></network>""".format(p=PREFIX)
    contract('kvm_network', dict(name=PREFIX + 'xml', xml=xml))
    # the same meaning written differently: prefix instead of netmask, attributes reordered, a generated uuid
    uuid = conn.networkLookupByName(PREFIX + 'xml').UUIDString()
    same = """<network>
      <name>{p}xml</name>
      <forward mode='nat'/>
      <bridge name='kvmt-xml0'/>
      <ip address='10.213.95.1' prefix='24'>
        <dhcp><range start='10.213.95.10' end='10.213.95.20'/></dhcp>
      </ip>
    </network>""".format(p=PREFIX)
    contract('kvm_network', dict(name=PREFIX + 'xml', xml=same), expect_change=False)
    assert conn.networkLookupByName(PREFIX + 'xml').UUIDString() == uuid
    # unmodelled elements (a portgroup) are compared whole and applied
    with_group = same.replace('</network>', "<portgroup name='web' default='yes'/></network>")
    contract('kvm_network', dict(name=PREFIX + 'xml', xml=with_group))
    assert xml_of(conn, PREFIX + 'xml', inactive=True).find('portgroup').get('name') == 'web'


def test_generated_values_are_kept(conn):
    ok('kvm_network', PRIVATE1)
    before = xml_of(conn, PRIVATE1['name'], inactive=True)
    ok('kvm_network', dict(PRIVATE1, domain='kept.test'))
    after = xml_of(conn, PRIVATE1['name'], inactive=True)
    assert after.find('uuid').text == before.find('uuid').text
    assert after.find('mac').get('address') == before.find('mac').get('address')


BAD_INPUTS = [
    (dict(name=PREFIX + 'typo', ipv4=dict(address='127.16.10.1', prefix=24, dhcp=dict(
        ranges=[dict(start='172.16.10.100', end='172.16.10.200')]))),
     ['ipv4.dhcp.ranges[0]', '172.16.10.100', '127.16.10.1']),
    (dict(name=PREFIX + 'gw', ipv4=dict(address='10.213.96.50', prefix=24, dhcp=dict(
        ranges=[dict(start='10.213.96.10', end='10.213.96.100')]))),
     ['ipv4.dhcp.ranges[0]', 'covers', '10.213.96.50']),
    (dict(name=PREFIX + 'dupmac', ipv4=dict(address='10.213.96.1', prefix=24, dhcp=dict(hosts=[
        dict(mac='52:54:00:00:00:01', ip='10.213.96.2'), dict(mac='52:54:00:00:00:01', ip='10.213.96.3')]))),
     ['ipv4.dhcp.hosts[1].mac', 'already used']),
    (dict(name=PREFIX + 'dupip', ipv4=dict(address='10.213.96.1', prefix=24, dhcp=dict(hosts=[
        dict(mac='52:54:00:00:00:01', ip='10.213.96.2'), dict(mac='52:54:00:00:00:02', ip='10.213.96.2')]))),
     ['ipv4.dhcp.hosts[1].ip', 'already given']),
    (dict(name=PREFIX + 'badmac', ipv4=dict(address='10.213.96.1', prefix=24, dhcp=dict(hosts=[
        dict(mac='52:54:00:zz:00:01', ip='10.213.96.2')]))),
     ['ipv4.dhcp.hosts[0].mac', 'not a MAC']),
    (dict(name=PREFIX + 'longbr', bridge='kvmt-much-too-long0'), ['bridge', 'at most 15']),
    (dict(name=PREFIX + 'nobr', mode='bridge'), ['bridge', "mode 'bridge' needs"]),
    (dict(name=PREFIX + 'bradr', mode='bridge', bridge='kvmt-br9', ipv4=dict(address='10.213.96.1', prefix=24)),
     ['ipv4', 'drop ipv4']),
    (dict(name='bad/name'), ['name', 'not a valid name']),
    (dict(name=PREFIX + 'noprefix', ipv4=dict(address='10.213.96.1')), ['ipv4', 'prefix']),
    (dict(name=PREFIX + 'xmlname', xml='<network><name>other</name></network>'), ['xml', "'other'"]),
    (dict(name=PREFIX + 'mtu', mtu=10), ['mtu', '68 to 65535']),
]


@pytest.mark.parametrize('args,words', BAD_INPUTS, ids=[case[0]['name'] for case in BAD_INPUTS])
def test_bad_input_is_rejected_and_changes_nothing(conn, args, words):
    ok('kvm_network', HOSTONLY)
    before = snapshot(conn)
    for check in (True, False):
        result = fails('kvm_network', args, check=check)
        for word in words:
            assert word in result['msg'], '%r not in %r' % (word, result['msg'])
    assert snapshot(conn) == before


def test_overlapping_subnet_is_rejected(conn):
    ok('kvm_network', HOSTONLY)
    before = snapshot(conn)
    result = fails('kvm_network', dict(name=PREFIX + 'overlap', ipv4=dict(address='192.168.110.254', prefix=25)))
    assert 'overlaps' in result['msg'] and HOSTONLY['name'] in result['msg']
    result = fails('kvm_network', dict(name=PREFIX + 'samebr', bridge='kvmt-ho0'))
    assert "already used by network '%s'" % HOSTONLY['name'] in result['msg']
    assert snapshot(conn) == before


def test_unreachable_daemon_is_reported_plainly():
    result = fails('kvm_network', dict(name=PREFIX + 'x', uri='qemu:///system?socket=/nonexistent/sock'))
    assert "connect to hypervisor 'qemu:///system?socket=/nonexistent/sock' failed" in result['msg']
    assert 'libvirtd' in result['msg']
