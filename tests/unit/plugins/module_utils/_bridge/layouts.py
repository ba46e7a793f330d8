"""The seeds' host network as kvm_bridge persistence configs: bond0 (mode=1 miimon=100) over eth0+eth1 under br0
with the host's address, br1 over eth2 for guests only, and br2 on VLAN 100 of bond0 with taps."""

NONE = {'method': 'none', 'addresses': [], 'gateway': None, 'dns': []}

BR0 = dict(name='br0', uplink={'kind': 'bond', 'name': 'bond0', 'slaves': ['eth0', 'eth1'],
                               'options': {'mode': 'active-backup', 'miimon': 100}},
           ipv4={'method': 'static', 'addresses': ['192.168.1.10/24'], 'gateway': '192.168.1.1',
                 'dns': ['192.168.1.1']},
           ipv6=NONE, stp=False, forward_delay=0, mtu=None, mac='52:54:00:12:34:56', taps=[])

BR1 = dict(name='br1', uplink={'kind': 'ports', 'ports': ['eth2']}, ipv4=NONE, ipv6=NONE, stp=False,
           forward_delay=0, mtu=None, mac='52:54:00:12:34:99', taps=[])

BR2 = dict(name='br2', uplink={'kind': 'vlan', 'name': 'bond0.100', 'id': 100, 'parent': 'bond0'},
           ipv4={'method': 'dhcp', 'addresses': [], 'gateway': None, 'dns': []},
           ipv6={'method': 'static', 'addresses': ['2001:db8:100::10/64'], 'gateway': '2001:db8:100::1', 'dns': []},
           stp=True, forward_delay=4, mtu=9000, mac=None,
           taps=[{'name': 'vm-vnic', 'owner': None, 'group': None, 'multi_queue': False},
                 {'name': 'tap1', 'owner': 1000, 'group': 1000, 'multi_queue': True}])

LAYOUTS = {'br0': BR0, 'br1': BR1, 'br2': BR2}
