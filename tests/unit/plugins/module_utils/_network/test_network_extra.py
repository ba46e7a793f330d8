"""A network `xml`'s elements outside the model (portgroups, routes, ...): compared by meaning."""

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._network import model

# what libvirt gives back: generated uuid and mac, attributes reordered, a portgroup the user did not name
DEFINED = """<network><name>n</name><uuid>0b5c7a52-8a1a-4d46-9b1c-4c9d2d9b5f00</uuid>
<forward mode='nat'><nat><port start='1024' end='65535'/></nat></forward>
<bridge name='virbr9' stp='on' delay='0'/><mac address='52:54:00:aa:bb:cc'/>
<portgroup name='web' default='yes'><vlan><tag id='10'/></vlan></portgroup>
<portgroup name='db'><bandwidth><inbound average='1000'/></bandwidth></portgroup>
<route address='10.9.0.0' prefix='24' gateway='10.50.0.2'/>
<ip address='10.50.0.1' prefix='24'/></network>"""


def extra(body):
    return model.extra_elements(_xml.parse('<network><name>n</name>%s</network>' % body))


def test_the_models_elements_are_left_to_the_model():
    found = extra("<bridge name='other'/><ip address='10.1.1.1' prefix='8'/><forward mode='route'/>")
    assert found.lists == [] and found.differences(_xml.parse(DEFINED)) == []


def test_same_meaning_written_differently_is_no_difference():
    same = extra("<portgroup default='yes' name='web'><vlan><tag id='10'/></vlan></portgroup>"
                 "<route gateway='10.50.0.2' prefix='24' address='10.9.0.0'/>")
    assert same.differences(_xml.parse(DEFINED)) == []


def test_elements_the_user_did_not_name_stay():
    only_db = extra("<portgroup name='db'/>")
    assert only_db.differences(_xml.parse(DEFINED)) == []
    root = only_db.write(_xml.parse(DEFINED))
    assert [g.get('name') for g in root.findall('portgroup')] == ['web', 'db']


def test_a_changed_portgroup_replaces_its_namesake_and_a_new_one_is_added():
    changed = extra("<portgroup name='web'><vlan><tag id='20'/></vlan></portgroup><portgroup name='ops'/>")
    found = changed.differences(_xml.parse(DEFINED))
    assert [d.path for d in found] == ['portgroup']
    assert len(found[0].before) == 2 and len(found[0].after) == 2 and "id=\"20\"" in found[0].after[0]
    root = changed.write(_xml.parse(DEFINED))
    assert [g.get('name') for g in root.findall('portgroup')] == ['web', 'db', 'ops']
    assert root.find("portgroup[@name='web']/vlan/tag").get('id') == '20'
    assert changed.differences(root) == []


def test_a_missing_group_is_shown_as_none_before():
    found = extra("<bandwidth><outbound average='500'/></bandwidth>").differences(
        _xml.parse(DEFINED))
    assert [(d.path, d.before) for d in found] == [('bandwidth', None)]
