import pytest

from ansible_collections.kvmops.kvm.plugins.module_utils._network import model
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import ParameterError

LIVE = """<network>
  <name>private1</name><uuid>2ff12f37-996a-4859-9b64-3c99d5c08b25</uuid>
  <forward mode='nat'><nat><port start='1024' end='65535'/></nat></forward>
  <bridge name='virbr1' stp='on' delay='0'/><mac address='52:54:00:1d:1a:f9'/>
  <ip address='172.16.10.1' netmask='255.255.255.0'>
    <dhcp><range start='172.16.10.100' end='172.16.10.200'/>
      <host mac='52:54:00:AA:00:02' ip='172.16.10.12'/><host mac='52:54:00:aa:00:01' name='web1' ip='172.16.10.11'/>
    </dhcp>
  </ip>
  <ip family='ipv6' address='fd00:10::1' prefix='64'/>
</network>"""


def options(**kwargs):
    base = dict((key, None) for key in model.TYPED_OPTIONS)
    base.update(kwargs)
    return base


def test_read_normalizes_units_case_and_order():
    m = model.read(_xml.parse(LIVE))
    assert m['mode'] == 'nat' and m['bridge'] == 'virbr1'
    assert m['ipv4']['prefix'] == 24
    assert [h['mac'] for h in m['ipv4']['dhcp']['hosts']] == ['52:54:00:aa:00:01', '52:54:00:aa:00:02']
    assert m['ipv6'] == {'address': 'fd00:10::1', 'prefix': 64, 'dhcp': {'ranges': [], 'hosts': []}}  # no <dhcp>: no ranges, no hosts
    assert model.read(_xml.parse('<network><name>x</name></network>'))['mode'] == 'isolated'


def test_options_mean_the_same_as_libvirt():
    desired = model.from_options(options(mode='nat', bridge='virbr1', ipv4=dict(
        address='172.16.10.1', netmask='255.255.255.0', dhcp=dict(
            ranges=[dict(start='172.16.10.100', end='172.16.10.200')],
            hosts=[dict(mac='52:54:00:AA:00:01', ip='172.16.10.11', name='web1'),
                   dict(mac='52:54:00:aa:00:02', ip='172.16.10.12')]))))
    live = model.read(_xml.parse(LIVE))
    for key, value in desired.items():
        assert live[key] == value, key


def test_write_keeps_generated_values():
    root = _xml.parse(LIVE)
    model.write(root, {'domain': 'lab.test', 'ipv4': {'address': '172.16.10.1', 'prefix': 24,
                                                      'dhcp': {'hosts': []}}})
    assert root.findtext('uuid') == '2ff12f37-996a-4859-9b64-3c99d5c08b25'
    assert root.find('mac').get('address') == '52:54:00:1d:1a:f9'
    assert root.find('domain').get('name') == 'lab.test'
    assert root.find('ip/dhcp/host') is None and root.find('ip/dhcp/range') is not None


def test_switching_to_bridge_mode_drops_addressing():
    root = _xml.parse(LIVE)
    model.write(root, {'mode': 'bridge', 'bridge': 'br0'})
    assert root.find('ip') is None and root.find('forward').get('mode') == 'bridge'
    assert root.find('bridge').attrib == {'name': 'br0'}


def test_new_definition_defaults_to_nat():
    root = model.new_definition('n1', {'ipv4': {'address': '10.1.0.1', 'prefix': 24}})
    assert root.find('forward').get('mode') == 'nat'
    assert model.read(root)['ipv4']['address'] == '10.1.0.1'


def test_ip_index_counts_every_ip_element():
    root = _xml.parse(LIVE)
    assert model.ip_index(root, 'ipv4') == 0
    assert model.ip_index(root, 'ipv6') == 1


@pytest.mark.parametrize('kwargs,parameter,words', [
    (dict(ipv4=dict(address='127.16.10.1', prefix=24, dhcp=dict(ranges=[dict(start='172.16.10.100', end='172.16.10.200')]))),
     'ipv4.dhcp.ranges[0]', ['127.16.10.1', '172.16.10.100']),
    (dict(ipv4=dict(address='127.16.10.1', prefix=24)), 'ipv4.address', ['loopback']),
    (dict(ipv4=dict(address='10.0.0.0', prefix=24)), 'ipv4.address', ['network or broadcast']),
    (dict(ipv4=dict(address='10.0.0.1', prefix=24, netmask='255.255.255.0')), 'ipv4', ['not both']),
    (dict(ipv4=dict(address='10.0.0.1', netmask='255.0.255.0')), 'ipv4.netmask', ['not a netmask']),
    (dict(ipv4=dict(address='10.0.0.1', prefix=33)), 'ipv4.prefix', ['out of range']),
    (dict(ipv4=dict(address='10.0.0.1', prefix=24, dhcp=dict(ranges=[dict(start='10.0.0.20', end='10.0.0.10')]))),
     'ipv4.dhcp.ranges[0]', ['after']),
    (dict(ipv4=dict(address='10.0.0.1', prefix=24, dhcp=dict(ranges=[dict(start='10.0.0.1', end='10.0.0.10')]))),
     'ipv4.dhcp.ranges[0].start', ["network's own address"]),
    (dict(ipv4=dict(address='10.0.0.1', prefix=24, dhcp=dict(hosts=[dict(mac='01:00:5e:00:00:01', ip='10.0.0.5')]))),
     'ipv4.dhcp.hosts[0].mac', ['multicast']),
    (dict(ipv4=dict(address='10.0.0.1', prefix=24, dhcp=dict(hosts=[dict(mac='52:54:00:00:00:01', ip='10.0.1.5')]))),
     'ipv4.dhcp.hosts[0].ip', ['outside']),
    (dict(ipv6=dict(address='fd00::1', prefix=64, dhcp=dict(hosts=[dict(mac='52:54:00:00:00:01', ip='fd00::5')]))),
     'ipv6.dhcp.hosts[0].mac', ['name or id']),
    (dict(ipv4=dict(address='fd00::1', prefix=24)), 'ipv4.address', ['not an IPv4']),
    (dict(mode='isolated', forward_dev='eth1'), 'forward_dev', ['nat and route']),
    (dict(dns_hosts=[dict(ip='10.0.0.5', hostnames=[])]), 'dns_hosts[0].hostnames', ['at least one']),
    (dict(dns_hosts=[dict(ip='10.0.0.5', hostnames=['a']), dict(ip='10.0.0.5', hostnames=['b'])]), 'dns_hosts[1].ip', ['already listed']),
    (dict(domain='bad_domain!'), 'domain', ['not a valid']),
])
def test_bad_options_name_the_parameter(kwargs, parameter, words):
    with pytest.raises(ParameterError) as caught:
        model.from_options(options(**kwargs))
    assert caught.value.parameter == parameter
    for word in words:
        assert word in str(caught.value)


def test_xml_input_is_read_into_the_same_model():
    desired, _root = model.from_xml('private1', LIVE)
    assert desired['ipv4']['prefix'] == 24 and desired['bridge'] == 'virbr1'
    with pytest.raises(ParameterError, match="names the network 'private1'"):
        model.from_xml('other', LIVE)
    with pytest.raises(ParameterError, match='not well-formed'):
        model.from_xml('x', '<network>')
