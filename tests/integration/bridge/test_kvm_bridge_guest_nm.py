"""kvm_bridge inside a second lab Debian guest that NetworkManager manages (the image has network-manager masked; this
guest unmasks it and hands eth0 over to it): NetworkManager profiles that bring br0 over bond0 back after a reboot, and
wrong changes rolled back through NetworkManager's checkpoints, the guest staying reachable. Also VLAN 100 under a
bridge in both Debian guests, pinging each other over it."""

import os
import time

import pytest
from kvmlab.fixtures import LAB_HOSTS

from bridge_guests import Guest, install_pyroute2, wait
from harness import contract, fails, ok

pytestmark = pytest.mark.lab

SECOND_MAC = '52:54:00:7b:00:12'
PROFILES = '/etc/NetworkManager/system-connections'
EXPECTED = ['kvmops-br0', 'kvmops-br0--bond0', 'kvmops-br0--eth0', 'kvmops-br0--eth1']
DEAD = 'kvmtb-dead'
# eth0 as NetworkManager would have it on a host it manages; no automatic profiles for NICs without one (eth1)
TO_NETWORKMANAGER = r"""set -e
printf '[main]\nno-auto-default=*\n' > /etc/NetworkManager/conf.d/kvmtb.conf
printf '[connection]\nid=eth0\ntype=ethernet\ninterface-name=eth0\n\n[ipv4]\nmethod=auto\n\n[ipv6]\nmethod=ignore\n' \
    > %(profiles)s/eth0.nmconnection
chmod 600 %(profiles)s/eth0.nmconnection
printf 'auto lo\niface lo inet loopback\n\nsource /etc/network/interfaces.d/*\n' > /etc/network/interfaces
# ifenslave's ifupdown hooks (the image has ifenslave for the ifupdown tests; a host NetworkManager runs has none) are
# run by NetworkManager's 01-ifupdown dispatcher script too: for each port's "down" event its post-down hook releases
# the port from NetworkManager's bond, NetworkManager enslaves it again, and so on without end
rm -f /etc/network/if-pre-up.d/ifenslave /etc/network/if-up.d/ifenslave /etc/network/if-post-down.d/ifenslave
systemctl unmask NetworkManager.service NetworkManager-wait-online.service NetworkManager-dispatcher.service
systemctl enable NetworkManager.service
# the hand-over cuts this ssh session: it runs as a unit of its own. ifupdown's dhclient releases the lease (the lab's
# DHCP server gives the reserved address to one client identity at a time; NetworkManager's sends a client id)
systemd-run --unit kvmtb-to-nm --no-block sh -c \
    'dhclient -r -pf /run/dhclient.eth0.pid eth0; rm -f /run/network/ifstate.eth0; systemctl start NetworkManager'
""" % dict(profiles=PROFILES)


def _connected(guest, device):
    result = guest.ssh('nmcli -g GENERAL.STATE device show %s' % device, check=False)
    return result.returncode == 0 and result.stdout.strip().startswith('100')


def _active(guest):
    """{profile: device} of NetworkManager's active connections."""
    lines = guest.out('nmcli -t -f NAME,DEVICE connection show --active').splitlines()
    return dict(line.rsplit(':', 1) for line in lines if line)


@pytest.fixture(scope='module')
def nm_guest(request):
    lab = request.getfixturevalue('lab')
    request.getfixturevalue('lab_debian_guest')
    lab.reload()
    second = [g for g in lab.guests if g.role == 'guest'][1:]
    # up already (an earlier run kept the lab): no `up`, which also waits for the first guest, busy in other suites
    if not second or Guest.answers(lab, second[0]) is False:
        lab.up(hosts=LAB_HOSTS, storage=True, debian_guests=2)
    debian = [g for g in lab.guests if g.role == 'guest'][1]
    made = Guest(lab, debian, SECOND_MAC)
    try:
        made.ssh(TO_NETWORKMANAGER, timeout=120)
        wait(lambda: _connected(made, 'eth0'), 300, 'NetworkManager to connect eth0 on ' + made.name)
        made.plug()
        made.address = made.addresses('eth0')[0]
        yield made
    finally:
        # nobody else uses the second guest: it stops here (the lab's `down` removes it), its CPU goes back; kept for
        # a look at its journal with KVMLAB_KEEP=1
        if not os.environ.get('KVMLAB_KEEP'):
            made.dom.destroy()
        made.conn.close()


def test_vlan_100_under_a_bridge_across_two_guests(nm_guest, lab_debian_guest):
    """brv100 over eth0.100 in both guests (one NetworkManager-managed, runtime only): they ping each other over it."""
    install_pyroute2(nm_guest.lab, lab_debian_guest)
    first = Guest(nm_guest.lab, lab_debian_guest, None)
    sides = [(nm_guest, '192.168.100.2'), (first, '192.168.100.1')]
    try:
        for guest, address in sides:
            args = dict(name='brv100', vlan={'id': 100, 'parent': 'eth0'}, persist='none', stp=False,
                        forward_delay=0, ipv4={'method': 'static', 'addresses': [address + '/24']},
                        ipv6={'method': 'none'})
            predicted, applied, last = contract('kvm_bridge', args, **guest.on)
            assert last['bridge']['vlan']['id'] == 100 and last['bridge']['ports'] == ['eth0.100']
            found = guest.links()
            assert found['eth0.100']['linkinfo']['info_data']['id'] == 100
            assert found['eth0.100']['linkinfo']['info_data']['protocol'] == '802.1Q'
            assert found['eth0.100']['master'] == 'brv100' and 'master' not in found['eth0']
            assert guest.addresses('brv100') == [address + '/24']
            assert guest.addresses('eth0') == [guest.ip + '/24']   # the lab address stays on the parent
        assert nm_guest.ssh('ping -c 3 -W 2 -q -I brv100 192.168.100.1', check=False).returncode == 0
        assert first.ssh('ping -c 3 -W 2 -q -I brv100 192.168.100.2', check=False).returncode == 0
    finally:
        for guest, _address in sides:
            ok('kvm_bridge', dict(name='brv100', state='absent', vlan={'id': 100, 'parent': 'eth0'}, persist='none'),
               **guest.on)
        first.conn.close()
    assert 'eth0.100' not in first.links() and 'brv100' not in nm_guest.links()


SEEDS = dict(name='br0', bond={'name': 'bond0', 'slaves': ['eth0', 'eth1'], 'options': 'mode=1 miimon=100',
                               'primary': 'eth0'},
             stp=False, forward_delay=0, rollback={'timeout': 60})


def _check_bond_bridge(guest):
    found = guest.links()
    assert found['bond0']['master'] == 'br0' and found['bond0']['linkinfo']['info_data']['mode'] == 'active-backup'
    assert found['eth0']['master'] == 'bond0' and found['eth1']['master'] == 'bond0'
    assert guest.addresses('br0') == [guest.address] and guest.addresses('eth0') == []
    bonding = guest.bonding()
    assert 'Bonding Mode: fault-tolerance (active-backup)' in bonding and 'Currently Active Slave: eth0' in bonding
    assert 'MII Polling Interval (ms): 100' in bonding and bonding.count('Slave Interface: eth') == 2


def test_networkmanager_profiles_bring_the_bond_bridge_back_after_a_reboot(nm_guest):
    guest = nm_guest
    predicted, applied, last = contract('kvm_bridge', dict(SEEDS, persist='auto'), **guest.on)
    assert applied['persisted']['backend'] == 'networkmanager'
    assert applied['persisted']['files'] == sorted('%s/%s.nmconnection' % (PROFILES, p) for p in EXPECTED)
    assert last['rolled_back'] is False and last['bridge']['addresses'] == [guest.address]
    _check_bond_bridge(guest)
    known = guest.out('nmcli -t -f NAME connection show').split()
    assert all(p in known for p in EXPECTED), known
    took = guest.reboot()
    print('reboot of %s: %.0fs' % (guest.name, took))
    wait(lambda: _connected(guest, 'br0') and guest.addresses('br0'), 120, 'NetworkManager to bring br0 up')
    active = _active(guest)
    assert dict((p, active.get(p)) for p in EXPECTED) == {
        'kvmops-br0': 'br0', 'kvmops-br0--bond0': 'bond0', 'kvmops-br0--eth0': 'eth0', 'kvmops-br0--eth1': 'eth1'}
    _check_bond_bridge(guest)
    again = ok('kvm_bridge', dict(SEEDS, persist='auto'), check=True, **guest.on)
    assert again['changed'] is False and again['actions'] == [], again


def _profiles(guest):
    return guest.digest(*('%s/%s.nmconnection' % (PROFILES, p) for p in EXPECTED))


def test_wrong_gateway_is_rolled_back_through_a_networkmanager_checkpoint(nm_guest):
    guest = nm_guest
    ok('kvm_bridge', dict(SEEDS, persist='networkmanager'), **guest.on)
    before = (_profiles(guest), guest.defaults(), _active(guest))
    wrong = guest.address.rsplit('.', 1)[0] + '.254'
    started = time.time()
    failed = fails('kvm_bridge', dict(SEEDS, persist='networkmanager', rollback={'timeout': 8},
                                      ipv4={'method': 'static', 'addresses': [guest.address], 'gateway': wrong}),
                   **guest.on)
    assert time.time() - started < 240   # the module run itself: ansible over ssh to a TCG guest on a busy machine
    assert failed['rolled_back'] is True and failed['lost'] == ['gateway ' + wrong], failed
    assert any(step.startswith('NetworkManager checkpoint /org/freedesktop/NetworkManager/Checkpoint/')
               for step in failed['restored']), failed['restored']
    wait(lambda: (_profiles(guest), guest.defaults(), _active(guest)) == before, 60, 'the checkpoint to be restored')
    _check_bond_bridge(guest)


def test_address_moved_to_a_bridge_without_uplink_is_rolled_back_through_a_checkpoint(nm_guest):
    guest = nm_guest
    ok('kvm_bridge', dict(SEEDS, persist='networkmanager'), **guest.on)
    guest.ssh('ip link add %s type dummy && ip link set %s up' % (DEAD, DEAD))
    # eth0's own profile would take eth0 (and the address, over DHCP) back once bond0's profiles are gone, and the host
    # would stay reachable: the change would cut nothing. Without it, the address is on a bridge that leads nowhere
    guest.ssh('nmcli connection modify eth0 connection.autoconnect no')
    before = (_profiles(guest), guest.defaults())
    try:
        failed = fails('kvm_bridge', dict(name='br0', ports=[DEAD], persist='networkmanager', force=True,
                                          rollback={'timeout': 8}), **guest.on)
        assert failed['rolled_back'] is True and 'did not answer' in failed['msg'], failed['msg']
        assert any(step.startswith('NetworkManager checkpoint') for step in failed['restored']), failed['restored']
        wait(lambda: (_profiles(guest), guest.defaults()) == before, 60, 'the checkpoint to be restored')
        assert 'master' not in guest.links()[DEAD]
        _check_bond_bridge(guest)
    finally:
        guest.ssh('ip link del %s; nmcli connection modify eth0 connection.autoconnect yes' % DEAD, check=False)
