import pytest

from ansible_collections.kvmops.kvm.plugins.module_utils._domain import model
from ansible_collections.kvmops.kvm.plugins.module_utils._domain import spec
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._domain.match import complete, generated_mac
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import ParameterError

LIVE = """<domain type='qemu'><name>g1</name><uuid>0b0cb0a4-7c39-4a36-9d0b-0a1e2f3c4d5e</uuid>
  <memory unit='GiB'>1</memory><currentMemory unit='KiB'>524288</currentMemory>
  <vcpu placement='static' current='1'>4</vcpu>
  <os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type><boot dev='hd'/></os>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/images/g1.qcow2'/>
      <target dev='vda' bus='virtio'/><address type='pci' slot='0x05'/></disk>
    <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><target dev='hdc' bus='ide'/><readonly/></disk>
    <interface type='network'><mac address='52:54:00:AA:00:01'/><source network='default'/><model type='virtio'/>
      <address type='pci' slot='0x03'/></interface>
    <graphics type='vnc' port='5901' autoport='yes' listen='127.0.0.1'><listen type='address' address='127.0.0.1'/></graphics>
    <memballoon model='virtio'/>
  </devices></domain>"""


class FakeDomain(object):
    name = 'g1'
    used_macs = {'52:54:00:aa:00:09': 'other'}

    class store(object):
        volumes = {('images', 'g1.qcow2'): '/images/g1.qcow2'}

        @staticmethod
        def path_exists(path):
            return False

        @classmethod
        def volume_path(cls, pool, volume):
            return cls.volumes.get((pool, volume))


def options(**kwargs):
    base = dict((key, None) for key in spec.TYPED_OPTIONS)
    base.update(kwargs)
    return base


def test_read_normalizes_units_and_keys():
    m = model.read(_xml.parse(LIVE))
    assert (m['memory'], m['max_memory'], m['vcpus'], m['max_vcpus']) == (512, 1024, 1, 4)
    assert m['interfaces'][0]['mac'] == '52:54:00:aa:00:01' and m['interfaces'][0]['link_state'] == 'up'
    assert m['disks'] == [dict(target='vda', bus='virtio', format='qcow2', cache=None, readonly=False, path='/images/g1.qcow2')]
    assert m['cdroms'][0]['path'] is None
    assert m['graphics'] == dict(type='vnc', listen='127.0.0.1', port=None, password=None)


@pytest.mark.parametrize('value,mib', [(512, 512), ('512MiB', 512), ('2GiB', 2048), ('1G', 1024), ('1.5 GiB', 1536)])
def test_memory_units(value, mib):
    assert spec.memory_mib('memory', value) == mib


def test_options_complete_against_live_keep_generated_values():
    desired = spec.from_options(options(memory='512MiB', interfaces=[dict(network='default')],
                                        disks=[dict(path='/images/g1.qcow2')]))
    live = model.read(_xml.parse(LIVE))
    done = complete(desired, live, FakeDomain)
    assert done['interfaces'][0]['mac'] == '52:54:00:aa:00:01'        # matched by position, MAC kept
    assert done['disks'][0]['target'] == 'vda' and done['disks'][0]['format'] == 'qcow2'
    assert model.comparable(done)['disks'] == model.comparable(live)['disks']


def test_a_pool_volume_is_the_file_at_its_path():
    """A task that names a disk by pool and volume finds the guest's disk defined by that volume's path (the guests
    role attaches volumes by path; its fleet drift check knows only their pools), and the other way round."""
    live = model.read(_xml.parse(LIVE))
    done = complete(spec.from_options(options(disks=[dict(pool='images', volume='g1.qcow2')])), live, FakeDomain)
    assert model.comparable(done)['disks'] == model.comparable(live)['disks']   # no change: the same disk
    other = complete(spec.from_options(options(disks=[dict(pool='images', volume='other.qcow2')])), live, FakeDomain)
    assert other['disks'][0]['volume'] == 'other.qcow2' and other['disks'][0]['target'] == 'vdb'
    by_volume = model.read(_xml.parse(LIVE.replace("<source file='/images/g1.qcow2'/>",
                                                   "<source pool='images' volume='g1.qcow2'/>")))
    done = complete(spec.from_options(options(disks=[dict(path='/images/g1.qcow2')])), by_volume, FakeDomain)
    assert model.comparable(done)['disks'] == model.comparable(by_volume)['disks']


def test_new_nic_gets_a_stable_mac_that_nobody_has():
    first = generated_mac('g1', 1, set())
    assert first == generated_mac('g1', 1, set()) and first.startswith('52:54:00:')
    assert generated_mac('g1', 1, {first}) != first


def test_new_disks_get_free_targets():
    desired = spec.from_options(options(disks=[dict(path='/images/g1.qcow2'), dict(path='/images/data.qcow2', size=1),
                                               dict(path='/images/s.qcow2', size=1, bus='sata')]))
    done = complete(desired, model.read(_xml.parse(LIVE)), FakeDomain)
    assert [d['target'] for d in done['disks']] == ['vda', 'vdb', 'sda']


def test_write_keeps_addresses_and_uuid():
    root = _xml.parse(LIVE)
    live = model.read(root)
    desired = complete(spec.from_options(options(memory=768, interfaces=[dict(network='other', link_state='down')])),
                       live, FakeDomain)
    model.write(root, desired)
    assert root.findtext('uuid') == '0b0cb0a4-7c39-4a36-9d0b-0a1e2f3c4d5e'
    iface = root.find('devices/interface')
    assert iface.find('address').get('slot') == '0x03' and iface.find('mac').get('address') == '52:54:00:aa:00:01'
    assert iface.find('source').get('network') == 'other' and iface.find('link').get('state') == 'down'
    assert root.findtext('currentMemory') == str(768 * 1024)


def test_cdrom_media_goes_into_the_existing_drive():
    live = model.read(_xml.parse(LIVE))
    done = complete(spec.from_options(options(cdrom='/iso/x.iso')), live, FakeDomain)
    assert done['cdroms'] == [dict(target='hdc', bus='ide', path='/iso/x.iso')]


def test_new_definition_is_secure_and_complete():
    desired = spec.creation_defaults(spec.from_options(options()))
    root = model.new_definition('g2', dict(desired, type='qemu'), tcg_cache_mib=64)
    graphics = root.find('devices/graphics')
    assert graphics.find('listen').get('address') == '127.0.0.1'
    assert root.find('devices/serial') is not None and root.find('devices/console') is not None
    assert root.find('features/tcg/tb-cache').text == '64'
    assert model.read(root)['memory'] == spec.DEFAULT_MEMORY_MIB


@pytest.mark.parametrize('kwargs,parameter', [
    (dict(memory='1TB!'), 'memory'),
    (dict(memory=8), 'memory'),
    (dict(memory=1024, max_memory=512), 'max_memory'),
    (dict(vcpus=4, max_vcpus=2), 'max_vcpus'),
    (dict(cpu=dict(mode='custom')), 'cpu.model'),
    (dict(cpu=dict(mode='host-model', model='Westmere')), 'cpu.model'),
    (dict(boot=['hd', 'hd']), 'boot'),
    (dict(kernel='vmlinuz'), 'kernel'),
    (dict(cdrom='x.iso'), 'cdrom'),
    (dict(disks=[dict(size=1)]), 'disks[0]'),
    (dict(disks=[dict(path='/a', volume='v', pool='p')]), 'disks[0]'),
    (dict(disks=[dict(volume='v')]), 'disks[0].pool'),
    (dict(disks=[dict(path='/a', target='vda'), dict(path='/b', target='vda')]), 'disks[1].target'),
    (dict(disks=[dict(path='/a'), dict(path='/a')]), 'disks[1]'),
    (dict(interfaces=[dict(network='a', bridge='b')]), 'interfaces[0]'),
    (dict(interfaces=[dict(bridge='br0', portgroup='x')]), 'interfaces[0].portgroup'),
    (dict(interfaces=[dict(network='a', mac='52:54:00:00:00:01'), dict(network='a', mac='52:54:00:00:00:01')]),
     'interfaces[1].mac'),
    (dict(graphics=dict(type='vnc', listen='everywhere')), 'graphics.listen'),
    (dict(graphics=dict(type='vnc', port=80)), 'graphics.port'),
])
def test_bad_options_name_the_parameter(kwargs, parameter):
    with pytest.raises(ParameterError) as caught:
        spec.from_options(options(**kwargs))
    assert caught.value.parameter == parameter


def test_a_direct_nic_keeps_its_macvtap_mode_when_redefined():
    root = _xml.parse("<domain><devices><interface type='direct'><mac address='52:54:00:00:00:01'/>"
                      "<source dev='eth9' mode='vepa'/><model type='virtio'/></interface></devices></domain>")
    iface = dict(type='direct', source='eth9', mac='52:54:00:00:00:01', model='virtio', link_state='down')
    written = model.write(root, {'interfaces': [iface]})
    source = written.find('devices/interface/source')
    assert (source.get('dev'), source.get('mode')) == ('eth9', 'vepa')
    assert written.find('devices/interface/link').get('state') == 'down'
