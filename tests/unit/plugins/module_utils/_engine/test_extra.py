"""The engine's piece for what a full `xml` says beyond a typed model: compared by meaning, written in place."""

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.extra import ExtraElements, unmodelled_part

DEFINED = """<thing><name>t</name><size unit='KiB'>1024</size>
<tuning mode='a'><knob name='x' value='1'/><knob name='y' value='2'/></tuning>
<group name='one' default='yes'><rule id='1'/></group><group name='two'/>
<box><typed/><part type='p' index='0'><address slot='3'/></part><part type='q' index='0'/></box></thing>"""


def test_only_what_the_user_wrote_is_compared():
    user = """<thing><name>t</name><size unit='MiB'>1</size><tuning><knob value='2' name='y'/></tuning>
      <box><part type='p'/></box></thing>"""
    extra = ExtraElements(_xml.parse(user), modelled=('name',), containers={'box': ('typed',)})
    assert [path for path, _element in extra.top] == ['size', 'tuning']
    assert extra.differences(_xml.parse(DEFINED)) == []


def test_a_single_element_is_laid_over_its_namesake():
    user = "<thing><tuning mode='b'><knob name='x' value='9'/></tuning></thing>"
    extra = ExtraElements(_xml.parse(user))
    found = extra.differences(_xml.parse(DEFINED))
    assert [d.path for d in found] == ['tuning'] and 'mode="a"' in found[0].before and 'mode="b"' in found[0].after
    root = extra.write(_xml.parse(DEFINED))
    assert root.find('tuning').get('mode') == 'b'
    assert root.find("tuning/knob[@name='x']").get('value') == '9'
    assert root.find("tuning/knob[@name='y']").get('value') == '2'   # not mentioned: kept
    assert extra.differences(root) == []


def test_repeated_elements_each_need_their_own_and_replace_their_counterpart():
    user = "<thing><group name='two' default='no'/><group name='three'/></thing>"
    extra = ExtraElements(_xml.parse(user), repeated=True)
    found = extra.differences(_xml.parse(DEFINED))
    assert [d.path for d in found] == ['group']
    assert len(found[0].before) == 2 and len(found[0].after) == 2
    root = extra.write(_xml.parse(DEFINED))
    assert [(g.get('name'), g.get('default')) for g in root.findall('group')] == [
        ('one', 'yes'), ('two', 'no'), ('three', None)]   # one (not mentioned) stays, two replaced, three added
    assert extra.differences(root) == []


def test_a_replaced_device_keeps_its_address():
    user = "<thing><box><part type='p' index='0' model='new'/></box></thing>"
    extra = ExtraElements(_xml.parse(user), containers={'box': ()})
    assert [d.path for d in extra.differences(_xml.parse(DEFINED))] == ['box.part']
    root = extra.write(_xml.parse(DEFINED))
    part = root.find("box/part[@type='p']")
    assert part.get('model') == 'new' and part.find('address').get('slot') == '3'
    assert len(root.findall('box/part')) == 2


def test_a_modelled_part_leaves_the_rest():
    element = _xml.parse("<os firmware='efi'><type>hvm</type><bios useserial='yes'/></os>")
    assert _xml.to_string(unmodelled_part(element, ('firmware',), ('type',))) == '<os><bios useserial="yes"/></os>'
    assert unmodelled_part(_xml.parse("<os firmware='efi'><type>hvm</type></os>"), ('firmware',), ('type',)) is None


def test_a_missing_element_is_added_and_namespaces_are_left_out_of_paths():
    user = ("<thing xmlns:d='http://example.org/d'><d:options><d:option value='x'/></d:options>"
            "<extra/></thing>")
    extra = ExtraElements(_xml.parse(user), repeated=True)
    assert sorted(d.path for d in extra.differences(_xml.parse(DEFINED))) == ['extra', 'options']
    root = extra.write(_xml.parse(DEFINED))
    assert extra.differences(root) == []
