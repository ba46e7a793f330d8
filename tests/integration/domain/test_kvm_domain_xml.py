"""kvm_domain with a full domain `xml`: typed fields and everything else compared by meaning."""

import libvirt
from lxml import etree

from domain_env import NETWORK, PREFIX
from harness import contract

NAME = PREFIX + 'xml'
XML = """<domain type='qemu'><name>%(name)s</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>%(kernel)s</kernel><initrd>%(initrd)s</initrd>
  <cmdline>console=ttyS0 quiet</cmdline><bootmenu enable='no'/></os>
  <features><acpi/><apic/></features>
  <clock offset='utc'><timer name='rtc' tickpolicy='catchup'/></clock>
  <on_crash>destroy</on_crash>
  <devices><interface type='network'><source network='%(network)s'/><model type='virtio'/></interface>
    <controller type='usb' model='qemu-xhci'/>
    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
    <serial type='pty'/><console type='pty'/></devices></domain>"""


def xml(tiny, **changes):
    text = XML % dict(name=NAME, kernel=tiny.kernel, initrd=tiny.initrd, network=NETWORK)
    for old, new in changes.items():
        assert old in text
        text = text.replace(old, new)
    return dict(name=NAME, xml=text, state='present')


def defined(conn):
    return etree.fromstring(conn.lookupByName(NAME).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))


def test_full_xml_is_compared_by_meaning(conn, tiny):
    contract('kvm_domain', xml(tiny))
    uuid = conn.lookupByName(NAME).UUIDString()
    mac = defined(conn).find('devices/interface/mac').get('address')
    # the same guest in other units: nothing to do, nothing regenerated
    same = {"<memory unit='MiB'>128</memory>": "<memory unit='KiB'>131072</memory>"}
    contract('kvm_domain', xml(tiny, **same), expect_change=False)
    assert conn.lookupByName(NAME).UUIDString() == uuid
    bigger = {"<memory unit='MiB'>128</memory>": "<memory unit='MiB'>192</memory>"}
    contract('kvm_domain', xml(tiny, **bigger))
    assert int(defined(conn).findtext('memory')) == 192 * 1024
    assert defined(conn).find('devices/interface/mac').get('address') == mac


def test_unmodelled_elements_are_compared_and_laid_over(conn, tiny):
    contract('kvm_domain', xml(tiny))
    usb_address = defined(conn).find("devices/controller[@type='usb']/address").attrib
    changes = {"tickpolicy='catchup'": "tickpolicy='delay'",
               "<on_crash>destroy</on_crash>": "<on_crash>restart</on_crash>",
               "<bootmenu enable='no'/>": "<bootmenu enable='yes'/>",
               "model='qemu-xhci'": "model='ich9-ehci1'",
               "<serial type='pty'/>": "<serial type='pty'/><channel type='unix'>"
                                       "<target type='virtio' name='org.qemu.guest_agent.0'/></channel>"}
    predicted, applied, last = contract('kvm_domain', xml(tiny, **changes))
    assert sorted(applied['diff']['before']) == sorted(applied['diff']['after'])
    after = applied['diff']['after']
    assert set(after) >= {'clock', 'on_crash', 'os', 'devices'} and set(after['devices']) == {'controller', 'channel'}
    root = defined(conn)
    assert root.find("clock/timer[@name='rtc']").get('tickpolicy') == 'delay'
    assert root.findtext('on_crash') == 'restart'
    assert root.find('os/bootmenu').get('enable') == 'yes'
    assert root.find('os/kernel') is not None
    usb = root.findall("devices/controller[@type='usb']")
    assert [c.get('model') for c in usb] == ['ich9-ehci1']
    assert usb[0].find('address').attrib == usb_address     # the slot libvirt gave it is kept
    assert root.find("devices/channel/target[@name='org.qemu.guest_agent.0']") is not None
    assert root.find('devices/rng/backend').text == '/dev/urandom'


def test_unmodelled_change_on_a_running_guest_needs_a_restart(conn, tiny):
    running = dict(xml(tiny), state='running')
    contract('kvm_domain', running)
    changed = dict(xml(tiny, **{"<on_crash>destroy</on_crash>": "<on_crash>restart</on_crash>"}), state='running')
    predicted, applied, last = contract('kvm_domain', changed)
    assert applied['restart_required'] is True and last['restart_required'] is True
    assert defined(conn).findtext('on_crash') == 'restart'
    live = etree.fromstring(conn.lookupByName(NAME).XMLDesc(0))
    assert live.findtext('on_crash') == 'destroy'
