"""kvm_bridge inside a lab Debian guest (Debian's kernel: bonding; ifupdown manages it), over the very ssh connection
Ansible uses: bond0 (active-backup, then 802.3ad) over eth0 and a second NIC under br0, the guest's own address moved
onto br0; a slave failed from the host with `virsh domif-setlink`: the bond fails over and the guest stays reachable;
the ifupdown files bring it all back after a reboot; wrong changes are rolled back and the guest stays reachable."""

import subprocess
import time

import pytest

from bridge_guests import Guest, wait
from harness import contract, fails, ok

pytestmark = pytest.mark.lab

SECOND_MAC = '52:54:00:7b:00:02'
INTERFACES = '/etc/network/interfaces'
OURS = '/etc/network/interfaces.d/kvmops-br0'
SAVED = '/root/kvmtb-interfaces'
DEAD = 'kvmtb-dead'


@pytest.fixture(scope='module')
def guest(request):
    lab = request.getfixturevalue('lab')
    debian = request.getfixturevalue('lab_debian_guest')
    made = Guest(lab, debian, SECOND_MAC)
    made.plug()
    made.ssh('cp -p %s %s' % (INTERFACES, SAVED))
    made.address = made.addresses('eth0')[0]
    yield made
    # put the guest back as the other suites know it: the address on eth0 (its lease renewed by ifupdown's dhclient
    # again), no bond, no second NIC, no files of ours
    made.ssh('ip link del %s' % DEAD, check=False)
    made.forget_link_speed()
    ok('kvm_bridge', dict(name='br0', state='absent', bond={'name': 'bond0', 'slaves': ['eth0', 'eth1']},
                          persist='ifupdown', force=True), **made.on)
    made.ssh('cp -p %s %s && rm -f %s; if [ -e /run/dhclient.br0.pid ]; then dhclient -x -pf /run/dhclient.br0.pid; '
             'fi; ifup eth0' % (SAVED, INTERFACES, SAVED), timeout=120)
    made.unplug()


def test_bond_under_br0_moves_the_address_over_ansibles_own_ssh_and_fails_over(guest):
    debian = guest.debian
    args = dict(name='br0', bond={'name': 'bond0', 'slaves': ['eth0', 'eth1'], 'options': 'mode=1 miimon=100',
                                  'primary': 'eth0'},
                persist='none', rollback={'timeout': 60})
    predicted, applied, last = contract('kvm_bridge', args, **guest.on)
    assert predicted['bridge']['bond']['mode'] == 'active-backup'
    assert last['bridge']['addresses'] == [guest.address] and last['bridge']['ports'] == ['bond0']
    assert last['bridge']['bond']['slaves'] == ['eth0', 'eth1'] and last['bridge']['bond']['miimon'] == 100
    assert last['rolled_back'] is False
    bonding = guest.bonding()
    assert 'Bonding Mode: fault-tolerance (active-backup)' in bonding
    assert 'Currently Active Slave: eth0' in bonding and 'MII Polling Interval (ms): 100' in bonding
    assert guest.addresses('br0') == [guest.address]
    # the active slave's link fails on the host: the bond switches, no ssh is lost
    subprocess.run(['virsh', '-c', debian.uri, 'domif-setlink', debian.name, debian.mac, 'down'], check=True,
                   capture_output=True)
    try:
        def failed_over():
            text = guest.bonding()
            return 'Currently Active Slave: eth1' in text and text
        bonding = wait(failed_over, 30, 'the failover to eth1')
        failed = ok('kvm_bridge', dict(args), **guest.on)
        assert failed['bridge']['bond']['active_slave'] == 'eth1' and failed['changed'] is False
    finally:
        subprocess.run(['virsh', '-c', debian.uri, 'domif-setlink', debian.name, debian.mac, 'up'], check=True,
                       capture_output=True)


def test_a_vlan_bridge_on_the_bond_keeps_its_mac_when_the_bonds_moves(guest):
    """host_network's idempotence step on its VLAN bridge: the bridge is pinned to the bond's first slave's own MAC,
    not to the VLAN's, which follows the bond's (the slave enslaved first at boot, fail_over_mac): when the bond's
    MAC moves, a second run still changes nothing."""
    args = dict(name='kvmthabr100', vlan={'id': 100, 'parent': 'bond0'}, ipv4={'method': 'none'},
                ipv6={'method': 'none'}, persist='none')
    try:
        _predicted, _applied, last = contract('kvm_bridge', args, **guest.on)
        assert last['bridge']['mac'] == guest.debian.mac and last['bridge']['ports'] == ['bond0.100']
        guest.ssh('ip link set bond0 address %s' % SECOND_MAC)
        assert guest.links()['bond0.100']['address'] == SECOND_MAC   # the VLAN follows its bond
        again = ok('kvm_bridge', dict(args), check=True, **guest.on)
        assert again['changed'] is False and again['bridge']['mac'] == guest.debian.mac, again
    finally:
        guest.ssh('ip link set bond0 address %s' % guest.debian.mac, check=False)
        ok('kvm_bridge', dict(name='kvmthabr100', state='absent', vlan={'id': 100, 'parent': 'bond0'},
                              persist='none'), **guest.on)


LACP = dict(name='br0', bond={'name': 'bond0', 'slaves': ['eth0', 'eth1'], 'mode': '802.3ad', 'miimon': 100,
                              'lacp_rate': 'fast'},
            stp=False, forward_delay=0, persist='ifupdown', rollback={'timeout': 60})


def _check_lacp_bridge(guest):
    found = guest.links()
    assert found['br0']['linkinfo']['info_kind'] == 'bridge'
    assert found['bond0']['master'] == 'br0' and found['bond0']['linkinfo']['info_data']['mode'] == '802.3ad'
    assert found['eth0']['master'] == 'bond0' and found['eth1']['master'] == 'bond0'
    assert found['br0']['address'] == guest.debian.mac   # pinned to eth0's MAC (bond0's can be eth1's after a boot)
    assert guest.addresses('br0') == [guest.address] and guest.addresses('eth0') == []
    bonding = guest.bonding()
    assert 'Bonding Mode: IEEE 802.3ad Dynamic link aggregation' in bonding, bonding
    assert 'LACP rate: fast' in bonding and 'MII Polling Interval (ms): 100' in bonding
    assert bonding.count('Slave Interface: eth') == 2 and 'MII Status: down' not in bonding, bonding


def test_802_3ad_bond_under_br0_persisted_with_ifupdown(guest):
    predicted, applied, last = contract('kvm_bridge', LACP, **guest.on)
    assert last['bridge']['bond']['mode'] == '802.3ad' and last['bridge']['addresses'] == [guest.address]
    assert applied['persisted'] == {'backend': 'ifupdown', 'files': [OURS]} and last['rolled_back'] is False
    _check_lacp_bridge(guest)
    ours = guest.out('cat %s' % OURS)
    for line in ('bridge_ports bond0', 'bond-slaves eth0 eth1', 'bond-mode 802.3ad', 'bond-master bond0',
                 'bond-lacp-rate fast', 'bond-miimon 100', 'bridge_stp off'):
        assert line in ours, (line, ours)
    # the address as the guest holds it: a lease (DHCP at boot) or a static address with the default gateway
    assert 'iface br0 inet dhcp' in ours or 'address %s' % guest.address in ours, ours
    assert 'eth0' not in guest.out('cat %s' % INTERFACES)


def test_802_3ad_bond_persisted_with_ifupdown_survives_a_reboot(guest):
    """QEMU's NICs report no speed/duplex, which 802.3ad needs once a slave's link bounced after enslaving: the guest
    is told the speed a real NIC would report (bridge_guests.LINK_SPEED), else eth1 stays MII down after the boot."""
    ok('kvm_bridge', LACP, **guest.on)
    guest.report_link_speed()
    took = guest.reboot()
    print('reboot of %s: %.0fs' % (guest.name, took))
    _check_lacp_bridge(guest)
    # what ifupdown brought up at boot is what the module wants: nothing to do
    again = ok('kvm_bridge', LACP, check=True, **guest.on)
    assert again['changed'] is False and again['actions'] == [], again


def test_wrong_gateway_is_rolled_back_with_ifupdown(guest):
    ok('kvm_bridge', LACP, **guest.on)
    files = guest.digest(INTERFACES, OURS)
    defaults = guest.defaults()
    started = time.time()
    failed = fails('kvm_bridge', dict(LACP, ipv4={'method': 'static', 'addresses': [guest.address],
                                                  'gateway': guest.address.rsplit('.', 1)[0] + '.254'},
                                      rollback={'timeout': 8}), **guest.on)
    assert time.time() - started < 240   # the module run itself: ansible over ssh to a TCG guest on a busy machine
    assert failed['rolled_back'] is True and 'did not answer within 8s' in failed['msg'], failed['msg']
    assert failed['lost'] == ['gateway ' + guest.address.rsplit('.', 1)[0] + '.254'], failed['lost']
    assert guest.digest(INTERFACES, OURS) == files and guest.defaults() == defaults, failed
    _check_lacp_bridge(guest)


def test_address_moved_to_a_bridge_without_uplink_is_rolled_back_with_ifupdown(guest):
    """br0 re-ported from bond0 onto a dummy NIC that leads nowhere: the ssh connection Ansible uses is cut until the
    rollback puts bond0 back under br0."""
    ok('kvm_bridge', LACP, **guest.on)
    guest.ssh('ip link add %s type dummy && ip link set %s up' % (DEAD, DEAD))
    files = guest.digest(INTERFACES, OURS)
    started = time.time()
    failed = fails('kvm_bridge', dict(name='br0', ports=[DEAD], persist='ifupdown', force=True,
                                      rollback={'timeout': 8}), **guest.on)
    assert time.time() - started < 240   # the module run itself: ansible over ssh to a TCG guest on a busy machine
    assert failed['rolled_back'] is True and 'did not answer' in failed['msg'], failed['msg']
    assert guest.digest(INTERFACES, OURS) == files
    assert 'master' not in guest.links()[DEAD]
    _check_lacp_bridge(guest)
