"""lxml helpers (_engine/xml.py): parsing, building, and comparing elements by meaning, not by text."""

import pytest

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml


def test_parse_drops_comments_and_blank_text_and_takes_text_or_bytes():
    for text in ("<a>\n  <!-- note -->\n  <b x='1'/>\n</a>", b"<a><b x='1'/></a>"):
        assert _xml.to_string(_xml.parse(text)) == '<a><b x="1"/></a>'


def test_parse_takes_an_encoding_declaration_as_bytes():
    assert _xml.parse(b"<?xml version='1.0' encoding='UTF-8'?><a/>").tag == 'a'


def test_pretty_indents():
    assert _xml.pretty(_xml.parse('<a><b/></a>')) == '<a>\n  <b/>\n</a>\n'


def test_sub_skips_attributes_that_are_none_and_stringifies_the_rest():
    root = _xml.parse('<a/>')
    _xml.sub(root, 'memory', unit='MiB', dumpCore=None)
    _xml.sub(root, 'vcpu', placement='static', current=2)
    assert _xml.to_string(root) == '<a><memory unit="MiB"/><vcpu placement="static" current="2"/></a>'


def test_ensure_finds_or_creates_and_remove_all_removes():
    root = _xml.parse('<a><b/><c/><c/></a>')
    assert _xml.ensure(root, 'b') is root.find('b')
    _xml.ensure(root, 'd')
    _xml.remove_all(root, 'c')
    assert _xml.to_string(root) == '<a><b/><d/></a>'


def test_canonical_ignores_attribute_order_whitespace_and_comments():
    one = _xml.parse("<a y='2' x='1'>\n <b> text </b><!-- c --></a>")
    two = _xml.parse("<a x='1' y='2'><b>text</b></a>")
    assert _xml.canonical(one) == _xml.canonical(two)
    assert _xml.canonical(one) != _xml.canonical(_xml.parse("<a x='1' y='3'><b>text</b></a>"))


@pytest.mark.parametrize('value, default_unit, expected', [
    ('512MiB', 'b', 512 * 1024 ** 2),
    ('2 GiB', 'b', 2 * 1024 ** 3),
    ('1G', 'b', 1024 ** 3),
    ('1GB', 'b', 1000 ** 3),
    ('1.5k', 'b', 1536),
    (1024, 'b', 1024),
    (1024, 'MiB', 1024 ** 3),
    ('3', 'kib', 3072),
    ('1 TiB', 'b', 1024 ** 4),
])
def test_sizes_to_bytes(value, default_unit, expected):
    assert _xml.to_bytes(value, default_unit) == expected


def test_no_size_is_none_and_nonsense_is_refused():
    assert _xml.to_bytes(None) is None
    for value in ('lots', '12 parsecs', '-1G', ''):
        with pytest.raises(ValueError, match='is not a size'):
            _xml.to_bytes(value)


def covers(want, have):
    return _xml.covers(_xml.parse(want), _xml.parse(have))


def test_covers_what_libvirt_adds_is_no_difference():
    assert covers("<clock offset='utc'/>",
                  "<clock offset='utc'><timer name='rtc' tickpolicy='catchup'/></clock>")
    assert covers("<controller type='usb' model='qemu-xhci'/>",
                  "<controller type='usb' index='0' model='qemu-xhci'><address type='pci' bus='0x02'/></controller>")


def test_covers_children_in_any_order_each_matched_once():
    have = "<features><apic/><acpi/><pae/></features>"
    assert covers("<features><acpi/><apic/></features>", have)
    assert not covers("<features><acpi/><acpi/></features>", have)
    assert not covers("<features><hap/></features>", have)


def test_covers_sizes_by_meaning():
    assert covers("<memory unit='GiB'>1</memory>", "<memory unit='KiB'>1048576</memory>")
    assert not covers("<memory unit='GiB'>2</memory>", "<memory unit='KiB'>1048576</memory>")
    assert covers("<page size='2' unit='MiB'/>", "<page size='2048' unit='KiB'/>")


def test_covers_text_attributes_and_tags_must_agree():
    assert not covers("<on_crash>restart</on_crash>", "<on_crash>destroy</on_crash>")
    assert not covers("<clock offset='localtime'/>", "<clock offset='utc'/>")
    assert not covers('<a/>', '<b/>')
    assert covers('<on_crash/>', '<on_crash>destroy</on_crash>')   # no text given: any text


def test_counterpart_is_the_element_the_user_means_to_change():
    devices = _xml.parse("<devices><controller type='usb' index='0'/><controller type='pci' index='0'/>"
                         "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
                         "<channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0'/></channel></devices>")
    pci = _xml.counterpart(_xml.parse("<controller type='pci' index='0' model='pcie-root'/>"), list(devices))
    assert pci is devices[1]
    spice = _xml.counterpart(_xml.parse("<channel><target name='com.redhat.spice.0'/></channel>"), list(devices))
    assert spice is devices[3]
    assert _xml.counterpart(_xml.parse("<controller type='sata'/>"), list(devices)) is None
    assert _xml.counterpart(_xml.parse('<video/>'), list(devices)) is None


def test_overlay_lays_what_is_written_over_what_is_there():
    have = _xml.parse("<features><acpi/><hyperv mode='custom'><relaxed state='on'/></hyperv></features>")
    want = _xml.parse("<features><hyperv mode='passthrough'><vapic state='on'/></hyperv><pae/></features>")
    _xml.overlay(want, have)
    assert _xml.to_string(have) == ('<features><acpi/><hyperv mode="passthrough"><relaxed state="on"/>'
                                    '<vapic state="on"/></hyperv><pae/></features>')
    assert _xml.covers(want, have)


def test_overlay_replaces_text_only_when_text_is_written():
    have = _xml.parse('<os><type>hvm</type><bootmenu/></os>')
    _xml.overlay(_xml.parse("<os><type arch='x86_64'/></os>"), have)
    assert _xml.to_string(have) == '<os><type arch="x86_64">hvm</type><bootmenu/></os>'
