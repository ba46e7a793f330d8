"""The pre-check logic that needs no hypervisor: the guest's disks, NICs, CPU and memory read from XML, cache
safety, verdicts, hosts, memory."""

import pytest

pytest.importorskip('lxml')

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._migrate import checks, guest  # noqa: E402

DOMAIN = """<domain type='qemu'><name>web1</name><memory unit='KiB'>131072</memory>
<os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os>
<cpu mode='custom' match='exact'><model>qemu64</model></cpu>
<devices>
 <disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='writeback'/>
  <source file='/var/lib/libvirt/images/web1.qcow2'/>
  <backingStore type='file'><source file='/var/lib/libvirt/images/base.qcow2'/><backingStore/></backingStore>
  <target dev='vda' bus='virtio'/></disk>
 <disk type='network' device='disk'><driver name='qemu' type='raw' cache='none'/>
  <source protocol='nfs' name='/export/data.raw'><host name='10.0.0.2'/></source><target dev='vdb' bus='virtio'/></disk>
 <disk type='network' device='disk'><driver name='qemu' type='raw'/>
  <source protocol='rbd' name='pool/img'><host name='ceph'/></source><target dev='vdc' bus='virtio'/></disk>
 <disk type='file' device='cdrom'><target dev='sda' bus='sata'/><readonly/></disk>
 <interface type='network'><mac address='52:54:00:00:00:01'/><source network='private1' portgroup='web'/></interface>
 <interface type='bridge'><mac address='52:54:00:00:00:02'/><source bridge='br0'/></interface>
 <interface type='direct'><mac address='52:54:00:00:00:03'/><source dev='eth1' mode='bridge'/></interface>
</devices></domain>"""


def test_disks_nics_cpu_memory_from_xml():
    root = _xml.parse(DOMAIN)
    vda, vdb, vdc, cdrom = guest.disks(root)
    assert (vda['kind'], vda['path'], vda['cache'], vda['backing']) == (
        'file', '/var/lib/libvirt/images/web1.qcow2', 'writeback', ['/var/lib/libvirt/images/base.qcow2'])
    assert guest.directory(vda) == '/var/lib/libvirt/images'
    assert vdb['url'] == 'nfs://10.0.0.2/export/data.raw' and vdb['protocol'] == 'nfs'
    assert guest.is_empty(cdrom) and cdrom['readonly']
    assert [guest.cache_is_safe(d) for d in (vda, vdb, vdc, cdrom)] == [False, True, True, True]
    assert guest.label(vda) == 'disk vda (/var/lib/libvirt/images/web1.qcow2)'
    nics = guest.nics(root)
    assert [(n['kind'], n['network'], n['bridge'], n['dev'], n['portgroup']) for n in nics] == [
        ('network', 'private1', None, None, 'web'), ('bridge', None, 'br0', None, None),
        ('direct', None, None, 'eth1', None)]
    mode, cpu_xml = guest.cpu(root)
    assert mode == 'custom' and '<model>qemu64</model>' in cpu_xml
    assert guest.memory_bytes(root) == 128 * 1024 ** 2
    assert guest.machine(root) == ('x86_64', 'pc-i440fx-7.2')


def test_verdicts_keep_the_worst_and_the_order():
    verdicts = checks.Verdicts()
    verdicts.record('storage', True, 'disk vda: shared')
    verdicts.record('storage', None, 'cdrom sda: empty')
    verdicts.record('cpu', True, 'ok')
    assert verdicts.failed() == []
    verdicts.record('storage', False, 'disk vdb: not shared')
    verdicts.record('networks', None, 'unverifiable')
    result = verdicts.result()
    assert list(result) == ['cpu', 'storage', 'networks']
    assert result['storage'] == {'verdict': 'fail', 'detail': 'disk vda: shared; cdrom sda: empty; disk vdb: not shared'}
    assert result['networks']['verdict'] == 'skip'
    assert verdicts.message() == 'storage: disk vda: shared; cdrom sda: empty; disk vdb: not shared'


def test_cache_modes_on_shared_storage():
    disks = guest.disks(_xml.parse(DOMAIN))
    verdicts = checks.Verdicts()
    checks.check_cache(verdicts, disks[:2], unsafe=False)
    assert verdicts.result()['cache']['verdict'] == 'fail'
    assert 'disk vda (/var/lib/libvirt/images/web1.qcow2) (cache=writeback)' in verdicts.message()
    allowed = checks.Verdicts()
    checks.check_cache(allowed, disks[:2], unsafe=True)
    assert allowed.result()['cache']['verdict'] == 'pass'


def test_hosts_and_memory():
    def caps(uuid):
        return _xml.parse('<capabilities><host><uuid>%s</uuid></host></capabilities>' % uuid)
    same = checks.Verdicts()
    checks.check_hosts(same, caps('a'), caps('a'), 'kvm1', 'kvm1b')
    assert same.result()['destination']['verdict'] == 'fail' and 'same host' in same.message()
    other = checks.Verdicts()
    checks.check_hosts(other, caps('a'), caps('b'), 'kvm1', 'kvm2')
    assert other.failed() == []
    mib = 1024 ** 2
    memory = checks.Verdicts()
    checks.check_memory(memory, 512 * mib, 1000 * mib, 600, 'kvm2')
    assert memory.message() == "memory: the guest needs 512 MiB; 'kvm2' has 1000 MiB available minus 600 MiB reserved"
    fits = checks.Verdicts()
    checks.check_memory(fits, 512 * mib, 1000 * mib, 0, 'kvm2')
    assert fits.failed() == []
