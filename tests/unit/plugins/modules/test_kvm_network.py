"""kvm_network's logic in-process against libvirt's test driver (fast; the real proof is the integration suite)."""

import pytest

libvirt = pytest.importorskip('libvirt')

from ansible_collections.kvmops.kvm.plugins.modules import kvm_network  # noqa: E402


@pytest.fixture
def conn(test_driver):
    connection = test_driver
    yield connection
    for net in connection.listAllNetworks():
        if net.name().startswith('unit-'):
            if net.isActive():
                net.destroy()
            net.undefine()


@pytest.fixture
def run(module_runner):
    return module_runner(kvm_network)


NET = dict(name='unit-n1', bridge='unitbr1', ipv4=dict(address='10.50.0.1', prefix=24, dhcp=dict(
    ranges=[dict(start='10.50.0.10', end='10.50.0.20')])))


def test_create_contract(conn, run):
    predicted = run(check=True, **NET)
    assert predicted['changed'] and predicted['network']['uuid'] is None
    assert 'unit-n1' not in [n.name() for n in conn.listAllNetworks()]
    applied = run(**NET)
    assert applied['actions'] == predicted['actions'] == [
        "define network 'unit-n1'", "start network 'unit-n1'", "enable autostart on network 'unit-n1'"]
    assert applied['network']['uuid'] == conn.networkLookupByName('unit-n1').UUIDString()
    assert run(check=True, **NET)['changed'] is False
    assert run(**NET)['changed'] is False


def test_dhcp_host_is_a_live_update(conn, run):
    run(**NET)
    with_host = dict(NET, ipv4=dict(NET['ipv4'], dhcp=dict(hosts=[dict(mac='52:54:00:00:00:09', ip='10.50.0.9')])))
    applied = run(**with_host)
    assert applied['actions'][0].startswith("define network 'unit-n1'")
    assert "add DHCP host 52:54:00:00:00:09 10.50.0.9 (live)" in applied['actions'][1]
    assert applied['restart_required'] is False
    assert run(**with_host)['changed'] is False


def test_non_live_change_reports_restart_required(conn, run):
    run(**NET)
    applied = run(domain='unit.test', **NET)
    assert applied['changed'] and applied['restart_required'] is True
    # the test driver shows no pending definition apart from the live one, so the rerun
    # (changed false, restart_required still true) is proven on a real libvirtd in tests/integration
    restarted = run(domain='unit.test', restart=True, **NET)
    assert "restart network 'unit-n1'" in ' '.join(restarted['actions'])
    assert restarted['restart_required'] is False


def test_absent(conn, run):
    run(**NET)
    assert run(name='unit-n1', state='absent')['actions'] == ["stop network 'unit-n1'", "undefine network 'unit-n1'"]
    assert run(name='unit-n1', state='absent')['changed'] is False


def test_invalid_input_fails_before_connecting(run):
    result = run(name='unit-bad', ipv4=dict(address='10.50.0.1', prefix=24, dhcp=dict(
        ranges=[dict(start='10.60.0.10', end='10.60.0.20')])))
    assert result['failed'] and result['parameter'] == 'ipv4.dhcp.ranges[0]'


def test_xml_and_typed_options_are_exclusive(run):
    result = run(name='unit-x', xml='<network/>', mode='nat')
    assert result['failed'] and 'mutually exclusive' in result['msg']


XML_GROUPS = ("<network><name>unit-xg</name><bridge name='unitxg'/><portgroup name='web' default='yes'/>"
              "<portgroup name='db'/></network>")


def test_xml_elements_outside_the_model_are_compared_by_meaning(conn, run):
    assert run(state='inactive', name='unit-xg', xml=XML_GROUPS)['changed'] is True
    assert run(check=True, state='inactive', name='unit-xg', xml=XML_GROUPS)['changed'] is False
    # one portgroup named, attributes in another order: the same meaning, and the other portgroup stays
    only_web = "<network><name>unit-xg</name><bridge name='unitxg'/><portgroup default='yes' name='web'/></network>"
    assert run(state='inactive', name='unit-xg', xml=only_web)['changed'] is False
    with_vlan = only_web.replace("name='web'/>", "name='web'><vlan><tag id='7'/></vlan></portgroup>")
    predicted = run(check=True, state='inactive', name='unit-xg', xml=with_vlan)
    applied = run(state='inactive', name='unit-xg', xml=with_vlan)
    assert predicted['actions'] == applied['actions'] and applied['actions'][0] == "define network 'unit-xg': portgroup"
    assert applied['diff']['after']['portgroup'] == [
        '<portgroup default="yes" name="web"><vlan><tag id="7"/></vlan></portgroup>']
    assert len(applied['diff']['before']['portgroup']) == 2
    groups = conn.networkLookupByName('unit-xg').XMLDesc(0)   # inactive: the test driver shows its one definition
    assert "name='db'" in groups and "<tag id='7'/>" in groups
    assert run(check=True, state='inactive', name='unit-xg', xml=with_vlan)['changed'] is False
