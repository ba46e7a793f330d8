"""kvm_bridge's plan read from a given netlink state (no host touched): bonds and VLANs, which this machine's
kernel cannot make, planned in the order that keeps the host reachable; a second plan over the result is empty."""

import pytest

from ansible_collections.kvmops.kvm.plugins.module_utils._bridge import spec
from ansible_collections.kvmops.kvm.plugins.module_utils._bridge.bridge import Bridge
from ansible_collections.kvmops.kvm.plugins.module_utils._bridge.netlink import State
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError, ParameterError
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.plan import Plan


def nic(name, mac, master=None, kind=None, **extra):
    link = dict(name=name, index=0, kind=kind, master=master, mtu=1500, mac=mac, up=True, carrier=True)
    link.update(extra)
    return link


def host(extra_links=(), addresses=None, routes=None):
    links = dict((l['name'], l) for l in [nic('eth0', '52:54:00:00:00:01'), nic('eth1', '52:54:00:00:00:02')]
                 + list(extra_links))
    return State(links, addresses if addresses is not None else {'eth0': ['192.168.1.10/24']},
                 routes if routes is not None else [
                     {'family': 4, 'dst': 'default', 'gateway': '192.168.1.1', 'dev': 'eth0', 'metric': 0,
                      'proto': 4, 'scope': 0, 'prefsrc': None}])


class _Module(object):
    check_mode = True

    def __init__(self, params):
        self.params = params
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)


def params(**given):
    base = dict(name='br0', state='present', ports=None, bond=None, vlan=None, ipv4=None, ipv6=None, stp=None,
                forward_delay=None, mtu=None, mac=None, taps=None, persist='none', rollback=None, force=False)
    base.update(given)
    return base


def planned(state, **given):
    resource = Bridge(_Module(params(**given)))
    resource.desired = spec.desired(resource.params)
    resource.before = state
    if resource.state == 'present':
        spec.check_host(resource.desired, state)
    plan = Plan()
    resource.plan(plan)
    return resource, plan


SEEDS = dict(bond={'name': 'bond0', 'slaves': ['eth0', 'eth1'], 'options': 'mode=1 miimon=100', 'primary': 'eth0'})


def test_seeds_bond_under_br0_in_the_order_that_keeps_the_host_reachable():
    resource, plan = planned(host(), **SEEDS)
    assert plan.describe() == [
        "create bond 'bond0': mode=active-backup miimon=100",
        "create bridge 'br0'",
        "set MAC of bridge 'br0': 52:54:00:00:00:01",
        "bring up bridge 'br0'",
        "add address to bridge 'br0': 192.168.1.10/24",
        "attach port to bridge 'br0': bond0",
        "enslave to bond bond0 interface 'eth0'",
        "enslave to bond bond0 interface 'eth1'",
        "set primary slave of bond 'bond0': eth0",
        "bring up bond 'bond0'",
        "move route to bridge 'br0': default via 192.168.1.1 (from eth0)",
        "remove address moved to br0 from interface 'eth0': 192.168.1.10/24",
    ]
    assert resource.after['bond']['mode'] == 'active-backup' and resource.after['bond']['miimon'] == 100
    assert resource.after['addresses'] == ['192.168.1.10/24'] and resource.after['ports'] == ['bond0']
    assert resource.gateways == {4: '192.168.1.1'}


def _applied():
    """The host as the seeds' plan leaves it."""
    bond = nic('bond0', '52:54:00:00:00:01', master='br0', kind='bond',
               bond={'mode': 'active-backup', 'miimon': 100, 'primary': 'eth0', 'active_slave': 'eth0'})
    bridge = nic('br0', '52:54:00:00:00:01', kind='bridge', bridge={'stp': False, 'forward_delay': 15})
    state = host([bond, bridge], addresses={'br0': ['192.168.1.10/24']}, routes=[
        {'family': 4, 'dst': 'default', 'gateway': '192.168.1.1', 'dev': 'br0', 'metric': 0, 'proto': 4,
         'scope': 0, 'prefsrc': None}])
    state.links['eth0']['master'] = state.links['eth1']['master'] = 'bond0'
    return state


def test_second_plan_over_the_result_is_empty():
    _resource, plan = planned(_applied(), **SEEDS)
    assert plan.describe() == []


def test_bond_mode_by_number_and_name_is_the_same():
    _resource, plan = planned(_applied(), bond={'name': 'bond0', 'slaves': ['eth0', 'eth1'], 'mode': '1',
                                                'miimon': 100})
    assert plan.describe() == []


def test_mode_change_re_enslaves_and_takes_the_options_the_kernel_wants_down_in_the_same_window():
    _resource, plan = planned(_applied(), bond={'name': 'bond0', 'slaves': ['eth0', 'eth1'], 'mode': '802.3ad',
                                                'lacp_rate': 'fast', 'miimon': 100})
    assert plan.describe() == [
        "change mode of bond 'bond0': active-backup -> 802.3ad, lacp_rate=fast (slaves re-enslaved)",
        "enslave to bond bond0 interface 'eth0'",
        "enslave to bond bond0 interface 'eth1'",
    ]
    assert plan.diff['after']['bond']['mode'] == '802.3ad'


def test_option_changes_are_live_except_those_the_kernel_takes_only_from_a_bond_that_is_down():
    _resource, plan = planned(_applied(), bond={'name': 'bond0', 'slaves': ['eth0', 'eth1'],
                                                'mode': 'active-backup', 'miimon': 200, 'options': 'ad_select=count'})
    assert plan.describe() == [
        "set options of bond 'bond0': ad_select=count (bond down meanwhile)",
        "set options of bond 'bond0': miimon=200",
    ]


def test_guests_on_the_bridge_refuse_a_mode_change_without_force():
    state = _applied()
    state.links['vnet0'] = nic('vnet0', 'fe:54:00:00:00:09', master='br0', kind='tun',
                               tun={'type': 'tap', 'persist': False, 'owner': None, 'group': None,
                                    'multi_queue': False})
    with pytest.raises(KvmError) as raised:
        planned(state, bond={'name': 'bond0', 'mode': 'balance-rr'})
    assert 'vnet0' in str(raised.value) and 'force' in str(raised.value)
    _resource, plan = planned(state, bond={'name': 'bond0', 'mode': 'balance-rr'}, force=True)
    assert plan.describe()[0].startswith("change mode of bond 'bond0'")


def test_vlan_uplink_created_on_the_bond():
    state = _applied()
    _resource, plan = planned(state, name='br1', vlan={'id': 100, 'parent': 'bond0'}, ipv4={'method': 'none'},
                              taps=['vm-vnic'], mtu=1400)
    assert plan.describe() == [
        "create vlan 'bond0.100': id 100 on bond0",
        "bring up vlan 'bond0.100'",
        "create bridge 'br1'",
        "set MTU of vlan 'bond0.100': 1400",
        "set MTU of bridge 'br1': 1400",
        "set MAC of bridge 'br1': 52:54:00:00:00:01",
        "bring up bridge 'br1'",
        "attach port to bridge 'br1': bond0.100",
        "create tap 'vm-vnic'",
        "attach tap to bridge 'br1': vm-vnic",
        "set MTU of tap 'vm-vnic': 1400",
    ]


def test_slave_enslaved_elsewhere_is_refused_before_anything():
    state = _applied()
    with pytest.raises(ParameterError) as raised:
        planned(state, name='br9', bond={'name': 'bond9', 'slaves': ['eth1']})
    assert "'eth1' is already enslaved to 'bond0'" in str(raised.value)


def test_the_bridge_keeps_the_first_slaves_own_mac_whichever_mac_the_bond_took_at_boot():
    """After a reboot the bond (and every slave, in active-backup) can wear eth1's MAC or one udev gave it: the bridge's
    default MAC is eth0's permanent one, so nothing changes."""
    state = _applied()
    for name, own in (('eth0', '52:54:00:00:00:01'), ('eth1', '52:54:00:00:00:02')):
        state.links[name]['perm_mac'] = own
        state.links[name]['mac'] = '52:54:00:00:00:02'
    state.links['bond0']['mac'] = '52:54:00:00:00:02'
    _resource, plan = planned(state, **SEEDS)
    assert plan.describe() == []


def test_a_new_bridge_is_created_with_the_mac_it_is_pinned_to(monkeypatch):
    """Never a real netlink socket here: the recorder stands in for it before anything is planned."""
    made = []

    class Recorder(object):
        def create_bridge(self, name, stp=None, forward_delay=None, address=None):
            made.append((name, address))

    monkeypatch.setattr(Bridge, 'nl', lambda self: Recorder())
    _resource, plan = planned(host(), ports=['eth1'])
    [create] = [a for a in plan.actions if a.describe() == "create bridge 'br0'"]
    create.apply()
    assert made == [('br0', '52:54:00:00:00:02')]
    assert "set MAC of bridge 'br0': 52:54:00:00:00:02" in plan.describe()


def _vlan_bridge_applied(bond_mac):
    """The seeds' bond under br0 and br1 on VLAN 100 of the bond, made when the bond wore eth0's MAC; the bond (and
    its VLAN, which follows it) now wears `bond_mac`."""
    state = _applied()
    for name, own in (('eth0', '52:54:00:00:00:01'), ('eth1', '52:54:00:00:00:02')):
        state.links[name]['perm_mac'] = own
        state.links[name]['mac'] = bond_mac
    state.links['bond0']['mac'] = bond_mac
    state.links['bond0.100'] = nic('bond0.100', bond_mac, master='br1', kind='vlan', vlan={'id': 100, 'parent': 'bond0'})
    state.links['br1'] = nic('br1', '52:54:00:00:00:01', kind='bridge', bridge={'stp': False, 'forward_delay': 15})
    return state


@pytest.mark.parametrize('bond_mac', ['52:54:00:00:00:01', '52:54:00:00:00:02'])
def test_the_vlan_bridge_keeps_its_mac_whichever_mac_the_bond_and_its_vlan_wear_now(bond_mac):
    """host_network's idempotence step: the VLAN bridge's default MAC is the parent bond's first slave's own MAC, not
    the VLAN's current one (which follows the bond's: the slave enslaved first at boot, or fail_over_mac)."""
    _resource, plan = planned(_vlan_bridge_applied(bond_mac), name='br1', vlan={'id': 100, 'parent': 'bond0'},
                              ipv4={'method': 'none'}, ipv6={'method': 'none'})
    assert plan.describe() == []


def test_a_vlan_bridge_on_a_nic_takes_the_nics_permanent_mac():
    state = host()
    state.links['eth1']['perm_mac'] = '52:54:00:00:00:02'
    state.links['eth1']['mac'] = '02:00:00:00:00:99'   # changed by someone since boot
    _resource, plan = planned(state, name='br1', vlan={'id': 100, 'parent': 'eth1'}, ipv4={'method': 'none'})
    assert "set MAC of bridge 'br1': 52:54:00:00:00:02" in plan.describe()
