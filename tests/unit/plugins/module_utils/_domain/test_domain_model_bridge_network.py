"""A guest's NIC on a libvirt network of mode bridge reads as that network, also from the live XML."""

from lxml import etree

from ansible_collections.kvmops.kvm.plugins.module_utils._domain import model

LIVE = """<interface type='bridge'><mac address='52:54:00:06:39:21'/>
<source network='brnet' portid='5d0b' bridge='br0'/><target dev='vnet3'/><model type='virtio'/></interface>"""


def test_live_nic_on_a_bridge_mode_network_is_the_network():
    found = model.read_interface(etree.fromstring(LIVE))
    assert (found['type'], found['source']) == ('network', 'brnet')


def test_plain_bridge_nic_stays_a_bridge():
    found = model.read_interface(etree.fromstring("<interface type='bridge'><source bridge='br0'/></interface>"))
    assert (found['type'], found['source']) == ('bridge', 'br0')
