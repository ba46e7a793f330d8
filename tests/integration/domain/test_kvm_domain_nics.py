"""kvm_domain NICs beyond the plain network: macvtap (direct) on a veth pair whose other end lives in a
namespace this test made, and libvirt network portgroups. Real libvirtd, tiny guests."""

import subprocess
import time

import libvirt
import pytest

from domain_env import PREFIX, SLOT, purge
from harness import contract, fails, ok
from test_kvm_domain_live import boot, guest, xml_of

# test-made host objects: names start with kvmt (interface names have 15 characters at most)
VETH_HOST = 'kvmt%d-mv0' % SLOT     # the macvtap's lower device, in this namespace
VETH_PEER = 'kvmt%d-mv1' % SLOT     # its peer, in NETNS: the guest's only neighbour
NETNS = 'kvmtest%d-mvns' % SLOT
# only inside the namespace and the guest; no address of this machine (its namespace would answer ARP for
# one of its own on VETH_HOST and take the traffic)
SUBNET = '10.213.%d.' % (70 + SLOT)
PEER_IP, GUEST_IP = SUBNET + '1', SUBNET + '2'
PG_NETWORK = PREFIX + 'pgnet'
PG_NETWORK_XML = """<network><name>%s</name><bridge name='kvmt-dpg%d'/>
<portgroup name='office' default='yes'/><portgroup name='lab'/></network>""" % (PG_NETWORK, SLOT)
NO_DHCP = 'console=ttyS0 quiet panic=-1 ip=off kvmlab.hostname=%s'


def _ip(*args, check=True):
    return subprocess.run(['ip', *args], capture_output=True, text=True, check=check)


def _remove_veth():
    _ip('netns', 'del', NETNS, check=False)       # takes the peer, and with it the pair
    _ip('link', 'del', VETH_HOST, check=False)


@pytest.fixture
def veth(conn):
    """A veth pair: VETH_HOST here (up, no address), VETH_PEER in NETNS with PEER_IP. Removed after the
    test, the guests on it first (their macvtap sits on VETH_HOST)."""
    _remove_veth()   # what a killed run may have left
    assert ' inet %s' % SUBNET not in _ip('-o', 'addr').stdout, 'this machine uses %s0/24' % SUBNET
    try:
        _ip('netns', 'add', NETNS)
        _ip('link', 'add', VETH_HOST, 'type', 'veth', 'peer', 'name', VETH_PEER)
        _ip('link', 'set', VETH_PEER, 'netns', NETNS)
        _ip('link', 'set', VETH_HOST, 'up')
        _ip('-n', NETNS, 'link', 'set', 'lo', 'up')
        _ip('-n', NETNS, 'link', 'set', VETH_PEER, 'up')
        _ip('-n', NETNS, 'addr', 'add', PEER_IP + '/24', 'dev', VETH_PEER)
        yield VETH_HOST
    finally:
        purge(conn)
        _remove_veth()


@pytest.fixture
def pg_network(conn):
    """An isolated libvirt network (no addresses, no DHCP) with two portgroups."""
    def remove():
        try:
            net = conn.networkLookupByName(PG_NETWORK)
        except libvirt.libvirtError:
            return
        if net.isActive():
            net.destroy()
        net.undefine()
    remove()
    try:
        net = conn.networkDefineXML(PG_NETWORK_XML)
        net.create()
        yield PG_NETWORK
    finally:
        purge(conn)
        remove()


def _macvtap(conn, name):
    """(name of the macvtap device of the guest's first NIC, `ip -d link` of it)."""
    device = xml_of(conn, name).find('devices/interface/target').get('dev')
    return device, _ip('-d', 'link', 'show', 'dev', device).stdout


def test_direct_nic_is_a_macvtap_that_carries_traffic(conn, tiny, veth, console):
    name = PREFIX + 'mv'
    args = guest(tiny, name='mv', cmdline=NO_DHCP % 'mv', interfaces=[dict(direct=veth)])
    predicted, applied, last = contract('kvm_domain', args)
    iface = last['domain']['interfaces'][0]
    assert (iface['type'], iface['source']) == ('direct', veth)
    mac = iface['mac']
    assert predicted['domain']['interfaces'][0]['mac'] == mac
    source = xml_of(conn, name, inactive=True).find('devices/interface/source')
    assert (source.get('dev'), source.get('mode')) == (veth, 'bridge')
    device, link = _macvtap(conn, name)
    assert '%s@%s' % (device, veth) in link and 'macvtap mode bridge' in link, link
    assert 'link/ether %s' % mac in link

    shell = boot(console, name)
    rc, out = shell.run('cat /sys/class/net/eth0/address')
    assert rc == 0 and out.strip() == mac
    rc, out = shell.run('ip link set eth0 up && ip addr add %s/24 dev eth0' % GUEST_IP)
    assert rc == 0, out
    ping = _ip('netns', 'exec', NETNS, 'ping', '-c', '2', '-w', '30', GUEST_IP, check=False)
    assert ping.returncode == 0, 'no traffic from the namespace to the guest over macvtap:\n%s' % ping.stdout
    rc, out = shell.run('ping -c 1 -W 5 %s' % PEER_IP, timeout=40)
    assert rc == 0, out

    # the peer's bug (a new MAC on every run) would show here: the same MAC, run after run
    for _run in range(2):
        again = ok('kvm_domain', args)
        assert again['changed'] is False and again['domain']['interfaces'][0]['mac'] == mac
    assert _macvtap(conn, name)[0] == device

    # the link state of a macvtap NIC changes live; the guest sees the carrier go
    down = dict(args, interfaces=[dict(direct=veth, link_state='down')])
    predicted, applied, last = contract('kvm_domain', down)
    assert "update interface of domain '%s': %s: link_state down (live)" % (name, mac) in applied['actions']
    assert applied['restart_required'] is False
    rc, out = shell.run('cat /sys/class/net/eth0/carrier')
    assert rc == 0 and out.strip() == '0'
    ping = _ip('netns', 'exec', NETNS, 'ping', '-c', '1', '-w', '3', GUEST_IP, check=False)
    assert ping.returncode != 0, 'a NIC whose link is down still answers'
    predicted, applied, last = contract('kvm_domain', args)
    rc, out = shell.run('cat /sys/class/net/eth0/carrier')
    assert rc == 0 and out.strip() == '1'

    # a second macvtap on the same device, hot-plugged and unplugged
    two = dict(args, interfaces=[dict(direct=veth), dict(direct=veth)])
    predicted, applied, last = contract('kvm_domain', two)
    second = last['domain']['interfaces'][1]['mac']
    assert "attach interface to domain '%s': %s on direct %s (live)" % (name, second, veth) in applied['actions']
    assert applied['restart_required'] is False
    rc, out = shell.run('sleep 2; cat /sys/class/net/eth1/address')
    assert rc == 0 and out.strip() == second
    devices = [t.get('dev') for t in xml_of(conn, name).findall('devices/interface/target')]
    assert len(devices) == 2 and devices[0] == device
    predicted, applied, last = contract('kvm_domain', args)
    assert applied['actions'] == ["define domain '%s': interfaces" % name,
                                  "detach interface from domain '%s': %s (live)" % (name, second)]
    deadline = time.monotonic() + 30   # libvirt waits 5 s for the guest to let go of the NIC, then finishes later
    while _ip('link', 'show', 'dev', devices[1], check=False).returncode == 0 and time.monotonic() < deadline:
        time.sleep(1)
    assert _ip('link', 'show', 'dev', devices[1], check=False).returncode != 0, 'the unplugged macvtap is still there'


def test_direct_nic_moves_only_with_a_restart(conn, tiny, veth, test_network, console):
    """libvirt cannot move a running macvtap NIC to another source ('unable to change config'): the new
    source goes to the definition, restart_required until the guest restarts; restart: true does it."""
    name = PREFIX + 'mv'
    ok('kvm_domain', guest(tiny, name='mv', cmdline=NO_DHCP % 'mv', interfaces=[dict(direct=veth)]))
    boot(console, name)
    mac = xml_of(conn, name).find('devices/interface/mac').get('address')
    moved = guest(tiny, name='mv', cmdline=NO_DHCP % 'mv', interfaces=[dict(network=test_network)])
    predicted, applied, last = contract('kvm_domain', moved)
    assert applied['actions'] == ["define domain '%s': interfaces" % name]
    assert applied['restart_required'] is True and last['restart_required'] is True
    assert xml_of(conn, name).find('devices/interface').get('type') == 'direct'
    assert xml_of(conn, name, inactive=True).find('devices/interface').get('type') == 'network'
    predicted, applied, last = contract('kvm_domain', dict(moved, restart=True, shutdown_timeout=60))
    assert [a.split(':')[0] for a in applied['actions']] == ["restart domain '%s'" % name]
    assert last['restart_required'] is False and not applied.get('warnings')
    live = xml_of(conn, name).find('devices/interface')
    assert live.get('type') == 'network' and live.find('mac').get('address') == mac


def test_portgroup_nic(conn, tiny, pg_network, console):
    name = PREFIX + 'pg'
    args = guest(tiny, name='pg', cmdline=NO_DHCP % 'pg', interfaces=[dict(network=pg_network, portgroup='lab')])
    predicted, applied, last = contract('kvm_domain', args)
    for inactive in (True, False):
        source = xml_of(conn, name, inactive=inactive).find('devices/interface/source')
        assert (source.get('network'), source.get('portgroup')) == (pg_network, 'lab')
    mac = last['domain']['interfaces'][0]['mac']
    port = xml_of(conn, name).find('devices/interface/source').get('portid')
    network_port = conn.networkLookupByName(pg_network).portLookupByUUIDString(port)
    assert "<group>lab</group>" in network_port.XMLDesc(0).replace(' ', '')

    # the default portgroup applies without being named, and is not a difference
    plain = guest(tiny, name='pg2', cmdline=NO_DHCP % 'pg2', interfaces=[dict(network=pg_network)], state='present')
    contract('kvm_domain', plain)
    assert xml_of(conn, PREFIX + 'pg2', inactive=True).find('devices/interface/source').get('portgroup') is None

    # a portgroup the network does not have: refused before the host is touched
    before = conn.lookupByName(name).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    for check in (True, False):
        failed = fails('kvm_domain', dict(args, interfaces=[dict(network=pg_network, portgroup='nope')]), check=check)
        assert 'interfaces[0].portgroup' in failed['msg'] and "no portgroup 'nope'" in failed['msg'], failed['msg']
    assert conn.lookupByName(name).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE) == before

    # another portgroup on the running guest: libvirt 9.0 accepts a live update and keeps the old group, so
    # it is a definition change with restart_required, and a restart applies it (same MAC, same NIC)
    boot(console, name)
    office = dict(args, interfaces=[dict(network=pg_network, portgroup='office')])
    predicted, applied, last = contract('kvm_domain', office)
    assert applied['actions'] == ["define domain '%s': interfaces" % name]
    assert applied['restart_required'] is True and last['restart_required'] is True
    assert xml_of(conn, name, inactive=True).find('devices/interface/source').get('portgroup') == 'office'
    assert xml_of(conn, name).find('devices/interface/source').get('portgroup') == 'lab'
    # with a link state change alongside, that part is still applied live
    office_down = dict(args, interfaces=[dict(network=pg_network, portgroup='office', link_state='down')])
    predicted, applied, last = contract('kvm_domain', office_down)
    assert "update interface of domain '%s': %s: link_state down (live)" % (name, mac) in applied['actions']
    assert applied['restart_required'] is True
    live = xml_of(conn, name).find('devices/interface')
    assert live.find('link').get('state') == 'down' and live.find('source').get('portgroup') == 'lab'
    started = time.monotonic()
    predicted, applied, last = contract('kvm_domain', dict(office_down, restart=True, shutdown_timeout=60))
    assert [a.split(':')[0] for a in applied['actions']] == ["restart domain '%s'" % name]
    assert last['restart_required'] is False and not applied.get('warnings'), applied
    assert time.monotonic() - started < 300
    live = xml_of(conn, name).find('devices/interface')
    assert live.find('source').get('portgroup') == 'office' and live.find('mac').get('address') == mac
