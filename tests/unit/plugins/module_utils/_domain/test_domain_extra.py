"""The unmodelled part of a full domain XML: compared by meaning, laid over the definition."""

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._domain.extra import ExtraElements

# what libvirt gives back for a guest defined from USER: defaults, addresses, reordered children
DEFINED = """<domain type='qemu'><name>g</name><memory unit='KiB'>131072</memory>
<os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type><bootmenu enable='yes'/><boot dev='hd'/></os>
<features><apic/><acpi/></features>
<cpu mode='custom' match='exact' check='none'><model fallback='forbid'>qemu64</model></cpu>
<clock offset='utc'><timer name='pit' tickpolicy='delay'/><timer name='rtc' tickpolicy='catchup'/></clock>
<on_crash>destroy</on_crash>
<memoryBacking><hugepages><page size='2048' unit='KiB'/></hugepages></memoryBacking>
<devices>
 <emulator>/usr/bin/qemu-system-x86_64</emulator>
 <disk type='file' device='disk'><source file='/a.qcow2'/><target dev='vda' bus='virtio'/></disk>
 <controller type='usb' index='0' model='qemu-xhci'><address type='pci' bus='0x00' slot='0x03'/></controller>
 <controller type='pci' index='0' model='pci-root'/>
 <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/>
  <address type='virtio-serial' controller='0' bus='0' port='1'/></channel>
 <video><model type='vga' vram='16384' heads='1' primary='yes'/><address type='pci' slot='0x02'/></video>
</devices></domain>"""

USER = """<domain type='qemu'><name>g</name><memory unit='MiB'>128</memory>
<os><type machine='pc'>hvm</type><boot dev='hd'/><bootmenu enable='yes'/></os>
<features><acpi/><apic/></features><cpu mode='custom'><model>qemu64</model></cpu>
<clock offset='utc'><timer name='rtc' tickpolicy='catchup'/></clock><on_crash>destroy</on_crash>
<memoryBacking><hugepages><page size='2' unit='MiB'/></hugepages></memoryBacking>
<devices><disk type='file' device='disk'><source file='/a.qcow2'/><target dev='vda' bus='virtio'/></disk>
 <controller type='usb' model='qemu-xhci'/>
 <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
 <video><model type='vga'/></video></devices></domain>"""


def extra(text):
    return ExtraElements(_xml.parse(text))


def test_what_libvirt_adds_or_reorders_is_no_difference():
    assert extra(USER).differences(_xml.parse(DEFINED)) == []


def test_typed_fields_are_left_to_the_model():
    user = USER.replace("machine='pc'", "machine='q35'").replace("<model>qemu64", "<model>max")
    assert extra(user).differences(_xml.parse(DEFINED)) == []


def test_a_changed_element_is_a_difference_and_is_laid_over():
    user = USER.replace("<timer name='rtc' tickpolicy='catchup'/>", "<timer name='rtc' tickpolicy='delay'/>")
    found = extra(user).differences(_xml.parse(DEFINED))
    assert [d.path for d in found] == ['clock']
    assert "tickpolicy=\"catchup\"" in found[0].before and "tickpolicy=\"delay\"" in found[0].after
    root = extra(user).write(_xml.parse(DEFINED))
    assert root.find("clock/timer[@name='rtc']").get('tickpolicy') == 'delay'
    assert root.find("clock/timer[@name='pit']") is not None   # what the user did not mention stays
    assert extra(user).differences(root) == []


def test_sizes_compare_in_bytes():
    user = USER.replace("<page size='2' unit='MiB'/>", "<page size='4' unit='MiB'/>")
    assert [d.path for d in extra(user).differences(_xml.parse(DEFINED))] == ['memoryBacking']


def test_unmodelled_os_children_are_compared():
    user = USER.replace("<bootmenu enable='yes'/>", "<bootmenu enable='no'/>")
    assert [d.path for d in extra(user).differences(_xml.parse(DEFINED))] == ['os.other']
    root = extra(user).write(_xml.parse(DEFINED))
    assert root.find('os/bootmenu').get('enable') == 'no' and root.find('os/boot') is not None


def test_a_changed_device_replaces_its_counterpart_keeping_the_address():
    user = USER.replace("<video><model type='vga'/></video>", "<video><model type='virtio'/></video>")
    found = extra(user).differences(_xml.parse(DEFINED))
    assert [d.path for d in found] == ['devices.video']
    root = extra(user).write(_xml.parse(DEFINED))
    videos = root.findall('devices/video')
    assert len(videos) == 1 and videos[0].find('model').get('type') == 'virtio'
    assert videos[0].find('address').get('slot') == '0x02'


def test_a_new_device_is_added_and_the_others_stay():
    user = USER.replace("</devices>", "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"
                                      "<controller type='scsi' model='virtio-scsi'/></devices>")
    found = extra(user).differences(_xml.parse(DEFINED))
    assert sorted(d.path for d in found) == ['devices.controller', 'devices.rng']
    root = extra(user).write(_xml.parse(DEFINED))
    assert root.find('devices/rng/backend').text == '/dev/urandom'
    assert [c.get('type') for c in root.findall('devices/controller')] == ['usb', 'pci', 'scsi']
    assert extra(user).differences(root) == []


def test_a_missing_top_level_element_is_added():
    user = USER.replace("<on_crash>destroy</on_crash>", "<on_crash>destroy</on_crash><on_reboot>destroy</on_reboot>")
    found = extra(user).differences(_xml.parse(DEFINED))
    assert [(d.path, d.before) for d in found] == [('on_reboot', None)]
    assert extra(user).write(_xml.parse(DEFINED)).findtext('on_reboot') == 'destroy'
