"""What of a NIC change the live planner applies to a running guest, and what waits for a restart."""

import pytest

from ansible_collections.kvmops.kvm.plugins.module_utils._domain import model
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._domain.live import LivePlanner
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.plan import Plan

MAC = '52:54:00:aa:00:01'
LIVE = """<domain type='qemu'><name>g1</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os><devices>%s</devices></domain>"""
NICS = {
    'network': "<interface type='network'><mac address='%s'/><source network='n1' portgroup='a' bridge='virbr9'/>"
               "<target dev='vnet3'/><model type='virtio'/><alias name='net0'/></interface>" % MAC,
    'direct': "<interface type='direct'><mac address='%s'/><source dev='veth0' mode='bridge'/>"
              "<target dev='macvtap0'/><model type='virtio'/><alias name='net0'/></interface>" % MAC,
}


class FakeDom(object):
    def __init__(self):
        self.calls = []

    def updateDeviceFlags(self, xml, flags):
        self.calls.append(_xml.parse(xml))


class FakeDomain(object):
    name = 'g1'

    def __init__(self):
        self.dom = FakeDom()


def plan_nic(live_nic, **change):
    """Plan the change of the guest's only NIC; returns (actions, pending, XML sent to libvirt)."""
    root = _xml.parse(LIVE % NICS[live_nic])
    live = model.read(root)
    wanted = dict(live, interfaces=[dict(live['interfaces'][0], **change)])
    domain = FakeDomain()
    plan = Plan()
    pending = LivePlanner(domain, root, live, wanted, set(['interfaces'])).plan(plan)
    plan.apply()
    return plan.describe(), pending, domain.dom.calls


def test_link_state_changes_live():
    actions, pending, calls = plan_nic('direct', link_state='down')
    assert actions == ["update interface of domain 'g1': %s: link_state down (live)" % MAC] and pending == []
    assert calls[0].find('link').get('state') == 'down' and calls[0].find('source').get('dev') == 'veth0'


def test_network_or_bridge_moves_live():
    actions, pending, calls = plan_nic('network', type='bridge', source='br1', portgroup=None)
    assert pending == [] and actions == ["update interface of domain 'g1': %s: type bridge, source br1, portgroup None (live)"
                                         % MAC]


@pytest.mark.parametrize('live_nic,change', [
    ('network', dict(portgroup='b')),                                  # accepted by libvirt 9.0, never applied
    ('direct', dict(source='veth1')),                                  # 'unable to change config'
    ('direct', dict(type='network', source='n1')),
    ('network', dict(type='direct', source='veth0', portgroup=None)),
])
def test_what_libvirt_cannot_move_waits_for_a_restart(live_nic, change):
    actions, pending, calls = plan_nic(live_nic, **change)
    assert (actions, pending, calls) == ([], ['interfaces'], [])


def test_the_link_state_still_changes_live_beside_a_pending_source():
    actions, pending, calls = plan_nic('network', portgroup='b', link_state='down')
    assert pending == ['interfaces']
    assert actions == ["update interface of domain 'g1': %s: link_state down (live)" % MAC]
    assert calls[0].find('source').get('portgroup') == 'a' and calls[0].find('link').get('state') == 'down'
