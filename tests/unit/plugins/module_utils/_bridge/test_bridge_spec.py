"""kvm_bridge's options -> desired model, and the bond option grammar (`mode=1 miimon=100`)."""

import pytest

from ansible_collections.kvmops.kvm.plugins.module_utils._bridge import bond, spec
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import ParameterError


def params(**given):
    base = dict(name='br0', state='present', ports=None, bond=None, vlan=None, ipv4=None, ipv6=None, stp=None,
                forward_delay=None, mtu=None, mac=None, taps=None)
    base.update(given)
    return base


@pytest.mark.parametrize('text,expected', [
    ('mode=1 miimon=100', {'mode': 'active-backup', 'miimon': 100}),
    ('mode=802.3ad lacp_rate=fast xmit_hash_policy=layer3+4',
     {'mode': '802.3ad', 'lacp_rate': 'fast', 'xmit_hash_policy': 'layer3+4'}),
    ('mode=4 lacp_rate=1 xmit_hash_policy=2', {'mode': '802.3ad', 'lacp_rate': 'fast', 'xmit_hash_policy': 'layer2+3'}),
    ('arp_interval=200 arp_ip_target=+10.0.0.2,10.0.0.1', {'arp_interval': 200, 'arp_ip_target': ['10.0.0.1', '10.0.0.2']}),
    ({'mode': 0, 'use_carrier': 'yes'}, {'mode': 'balance-rr', 'use_carrier': 1}),
    ('', {}),
])
def test_bond_options_parse(text, expected):
    assert bond.parse_options(text, 'bond.options') == expected


@pytest.mark.parametrize('text,message', [
    ('mode=7', "unknown bond mode '7'"),
    ('mode=active-passive', "unknown bond mode 'active-passive'"),
    ('miimon', 'option=value'),
    ('frobnicate=1', "unknown bond option 'frobnicate'"),
    ('miimon=fast', 'non-negative integer'),
])
def test_bond_options_refused(text, message):
    with pytest.raises(ParameterError) as raised:
        bond.parse_options(text, 'bond.options')
    assert message in str(raised.value) and "'bond.options'" in str(raised.value)


def test_bond_typed_and_free_options_merge_and_must_agree():
    model = spec.desired(params(bond={'name': 'bond0', 'slaves': ['eth0', 'eth1'], 'mode': '1', 'miimon': None,
                                      'primary': 'eth0', 'lacp_rate': None, 'xmit_hash_policy': None,
                                      'options': 'miimon=100'}))
    assert model['uplink'] == {'kind': 'bond', 'name': 'bond0', 'slaves': ['eth0', 'eth1'],
                               'options': {'mode': 'active-backup', 'miimon': 100, 'primary': 'eth0'}}
    with pytest.raises(ParameterError, match='contradicts'):
        spec.desired(params(bond={'name': 'bond0', 'slaves': ['eth0'], 'mode': 'balance-rr', 'options': 'mode=1'}))
    with pytest.raises(ParameterError, match="'eth9' is not one of the slaves"):
        spec.desired(params(bond={'name': 'bond0', 'slaves': ['eth0'], 'primary': 'eth9'}))


def test_option_text_is_stable():
    assert bond.option_text({'miimon': 100, 'mode': 'active-backup'}) == 'mode=active-backup miimon=100'


@pytest.mark.parametrize('given,parameter,message', [
    (dict(name='a-very-long-bridge'), 'name', 'at most 15'),
    (dict(ports=['eth0'], bond={'name': 'bond0'}), 'bond', "'ports' and 'bond'"),
    (dict(ports=['eth0', 'eth0']), 'ports', 'listed twice'),
    (dict(ports=['br0']), 'ports', 'the bridge itself'),
    (dict(vlan={'id': 0, 'parent': 'eth0'}), 'vlan.id', '1 to 4094'),
    (dict(vlan={'id': 4095, 'parent': 'eth0'}), 'vlan.id', '1 to 4094'),
    (dict(vlan={'id': 100, 'parent': 'abcdefghijklm'}), 'vlan.name', 'at most 15'),
    (dict(ipv4={'addresses': ['10.0.0.2']}), 'ipv4.addresses', 'no prefix length'),
    (dict(ipv4={'addresses': ['fd00::2/64']}), 'ipv4.addresses', 'not an IPv4'),
    (dict(ipv4={'addresses': ['10.0.0.2/24'], 'gateway': '10.0.1.1'}), 'ipv4.gateway', "outside every address"),
    (dict(ipv4={'method': 'dhcp', 'addresses': ['10.0.0.2/24']}), 'ipv4.addresses', "need method 'static'"),
    (dict(ipv4={'method': 'static'}), 'ipv4.addresses', 'needs addresses'),
    (dict(ipv6={'addresses': ['fd00::2/64'], 'gateway': 'fd01::1'}), 'ipv6.gateway', 'outside every address'),
    (dict(mtu=40), 'mtu', 'use 68 to 65535'),
    (dict(stp=True, forward_delay=1), 'forward_delay', 'use 2 to 30'),
    (dict(mac='zz'), 'mac', 'not a MAC'),
    (dict(taps=[{'name': 'tap0', 'color': 'red'}]), 'taps', 'unknown key'),
    (dict(taps=[{'name': 'tap0', 'owner': 'no-such-user-kvmtb'}]), 'taps', "no user 'no-such-user-kvmtb'"),
    (dict(taps=['tap0', 'tap0']), 'taps', 'listed twice'),
    (dict(ports=['eth0'], taps=['eth0']), 'taps', 'also an uplink'),
])
def test_invalid_input_names_the_parameter(given, parameter, message):
    with pytest.raises(ParameterError) as raised:
        spec.desired(params(**given))
    assert raised.value.parameter == parameter and message in str(raised.value), str(raised.value)


def test_model_only_what_was_given():
    model = spec.desired(params(ports=['eth0'], ipv4={'addresses': ['192.0.2.10/24'], 'gateway': '192.0.2.1'},
                                taps=['vm-vnic', {'name': 'tap1', 'owner': '0', 'group': 0, 'multi_queue': True}]))
    assert model['uplink'] == {'kind': 'ports', 'ports': ['eth0']}
    assert model['ipv4'] == {'method': 'static', 'addresses': ['192.0.2.10/24'], 'gateway': '192.0.2.1'}
    assert model['ipv6'] is None and model['stp'] is None and model['mac'] is None
    assert model['taps'] == [{'name': 'tap1', 'owner': 0, 'group': 0, 'multi_queue': True},
                             {'name': 'vm-vnic', 'owner': None, 'group': None, 'multi_queue': False}]
    vlan = spec.desired(params(vlan={'id': 100, 'parent': 'bond0'}))['uplink']
    assert vlan == {'kind': 'vlan', 'name': 'bond0.100', 'id': 100, 'parent': 'bond0'}
