"""kvm_bridge persisting to ifupdown inside a namespace that sees a /etc/network of the test's own."""

import os

from harness import contract, ok
from netns import links

INTERFACES = """auto lo
iface lo inet loopback

allow-hotplug nic0
iface nic0 inet static
    address {address}
    gateway {gateway}
"""


def test_ifupdown_files_written_and_old_stanza_taken_out(ns):
    etc = os.path.join(ns.dir, 'etc-network')
    os.makedirs(os.path.join(etc, 'interfaces.d'))
    with open(os.path.join(etc, 'interfaces'), 'w') as stream:
        stream.write(INTERFACES.format(address=ns.address, gateway=ns.gateway))
    ns.etc_network = etc
    ns.down()
    ns.up()
    args = dict(name='br0', ports=['nic0'], persist='ifupdown', stp=False, forward_delay=0,
                taps=[{'name': 'vm-vnic', 'multi_queue': True}])
    predicted, applied, last = contract('kvm_bridge', args, **ns.kwargs())
    assert "write file '/etc/network/interfaces.d/kvmops-br0'" in applied['actions']
    assert "write file '/etc/network/interfaces'" in applied['actions']
    assert last['persisted'] == applied['persisted'] == {'backend': 'ifupdown',
                                                         'files': ['/etc/network/interfaces.d/kvmops-br0']}
    with open(os.path.join(etc, 'interfaces.d', 'kvmops-br0')) as stream:
        ours = stream.read()
    for line in ('iface br0 inet static', 'bridge_ports nic0 vm-vnic', 'bridge_stp off', 'bridge_fd 0',
                 'address %s' % ns.address, 'gateway %s' % ns.gateway,
                 'hwaddress ether %s' % links(ns.host)['nic0']['address'],
                 'pre-up ip tuntap add dev vm-vnic mode tap multi_queue vnet_hdr || true'):
        assert line in ours, (line, ours)
    with open(os.path.join(etc, 'interfaces')) as stream:
        interfaces = stream.read()
    assert 'nic0' not in interfaces and 'iface lo inet loopback' in interfaces
    assert 'source /etc/network/interfaces.d/*' in interfaces
    assert predicted['diff']['after']['files']['/etc/network/interfaces.d/kvmops-br0'] == ours
    # auto finds ifupdown here; nothing left to do
    again = ok('kvm_bridge', dict(args, persist='auto'), check=True, **ns.kwargs())
    assert again['changed'] is False and again['persisted']['backend'] == 'ifupdown'
    # removal takes our file away
    gone = ok('kvm_bridge', dict(name='br0', state='absent', ports=['nic0'], persist='ifupdown'), **ns.kwargs())
    assert "remove file '/etc/network/interfaces.d/kvmops-br0'" in gone['actions']
    assert not os.path.exists(os.path.join(etc, 'interfaces.d', 'kvmops-br0'))


def test_bridge_without_uplink_persists_its_pinned_mac_from_the_first_run(ns):
    """A port-less bridge (taps only) gets a MAC known while planning: the first run writes it to the file, so the
    second run has nothing to add (it once wrote the MAC the kernel had picked only on its second run)."""
    etc = os.path.join(ns.dir, 'etc-network')
    os.makedirs(os.path.join(etc, 'interfaces.d'))
    with open(os.path.join(etc, 'interfaces'), 'w') as stream:
        stream.write('auto lo\niface lo inet loopback\n')
    ns.etc_network = etc
    ns.down()
    ns.up()
    args = dict(name='tester', taps=['vm-vnic'], persist='ifupdown', ipv4={'method': 'none'})
    predicted, applied, last = contract('kvm_bridge', args, **ns.kwargs())
    mac = links(ns.host)['tester']['address']
    assert predicted['bridge']['mac'] == applied['bridge']['mac'] == last['bridge']['mac'] == mac
    assert int(mac.split(':')[0], 16) & 0x03 == 0x02      # locally administered, unicast
    with open(os.path.join(etc, 'interfaces.d', 'kvmops-tester')) as stream:
        assert 'hwaddress ether %s' % mac in stream.read()
    ok('kvm_bridge', dict(name='tester', state='absent', persist='ifupdown', force=True), **ns.kwargs())
