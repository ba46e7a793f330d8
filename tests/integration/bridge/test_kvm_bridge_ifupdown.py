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
