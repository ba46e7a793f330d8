"""kvm_volumes in-process against libvirt's test driver: many volumes in one run, each as kvm_volume converges it,
keyed '<pool>/<name>', and items that build on what earlier items of the batch make (a base and its overlays).

What the test driver cannot serve (resizing, uploads) is proven for kvm_volume itself; the batch adds none of
its own. tests/integration/batch/test_kvm_volumes_batch.py runs it on qemu:///system."""

import re

import pytest

libvirt = pytest.importorskip('libvirt')

from ansible_collections.kvmops.kvm.plugins.modules import kvm_volumes  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._storage.volume import Volume  # noqa: E402

POOL = 'default-pool'   # the test driver's own pool, at /default-pool
OTHER = 'unit-vols2'    # a second pool, at /unit-vols2
PREFIX = 'unit-vb-'


@pytest.fixture
def conn(test_driver, libvirt_calls):
    other = test_driver.storagePoolDefineXML("<pool type='dir'><name>%s</name><target><path>/%s</path></target>"
                                             "</pool>" % (OTHER, OTHER), 0)
    other.create(0)
    yield test_driver
    for volume in test_driver.storagePoolLookupByName(POOL).listAllVolumes():
        if volume.name().startswith(PREFIX):
            volume.delete(0)
    for volume in other.listAllVolumes():
        volume.delete(0)
    other.destroy()
    other.undefine()


@pytest.fixture
def run(module_runner):
    return module_runner(kvm_volumes)


def names(conn, pool=POOL):
    return sorted(v.name() for v in conn.storagePoolLookupByName(pool).listAllVolumes() if v.name().startswith(PREFIX))


def vol(name, pool=POOL, **options):
    return dict(dict(pool=pool, name=PREFIX + name), **options)


def test_a_batch_follows_the_contract_volume_by_volume(conn, run):
    items = [vol('a.qcow2', capacity='64M'), vol('b.img', capacity='16M', format='raw'),
             vol('a.qcow2', pool=OTHER, capacity='32M')]   # the same name in another pool is another volume
    predicted = run(check=True, volumes=items)
    assert names(conn) == [] and names(conn, OTHER) == []
    applied = run(volumes=items)
    keys = [POOL + '/' + PREFIX + 'a.qcow2', POOL + '/' + PREFIX + 'b.img', OTHER + '/' + PREFIX + 'a.qcow2']
    for result in (predicted, applied):
        assert result['changed'] is True and list(result['volumes']) == keys
        assert result['actions'] == ["create volume '%s': qcow2, 64 MiB" % keys[0],
                                     "create volume '%s': raw, 16 MiB" % keys[1],
                                     "create volume '%s': qcow2, 32 MiB" % keys[2]]
        assert sorted(result['diff']['after']) == sorted(keys)
        assert result['volumes'][keys[2]]['volume']['path'] == '/%s/%sa.qcow2' % (OTHER, PREFIX)
    assert applied['volumes'][keys[1]]['volume']['format'] == 'raw'
    assert names(conn) == [PREFIX + 'a.qcow2', PREFIX + 'b.img'] and names(conn, OTHER) == [PREFIX + 'a.qcow2']
    assert run(check=True, volumes=items)['changed'] is False
    again = run(volumes=items)
    assert again['changed'] is False and again['actions'] == [] and again['diff'] == {'before': {}, 'after': {}}


def test_a_no_op_batch_opens_one_connection_and_reads_each_pool_once(conn, run, opened, libvirt_calls):
    items = [vol('n%d.qcow2' % index, capacity='8M') for index in range(5)] + [vol('n.qcow2', pool=OTHER, capacity='8M')]
    run(volumes=items)
    del opened[:]
    libvirt_calls.reset()
    assert run(volumes=items)['changed'] is False
    assert opened == ['test:///default']
    assert libvirt_calls.count('storagePoolLookupByName') == 2, libvirt_calls.calls
    assert libvirt_calls.count('refresh') == 2, libvirt_calls.calls
    # no capability query, no listing of guests or volumes: per volume a lookup, its marker's and its XML
    assert libvirt_calls.capability_queries() == [] and libvirt_calls.count('listAllDomains') == 0
    assert libvirt_calls.count('listAllVolumes') == 0 and libvirt_calls.count('XMLDesc') <= 2 * len(items) + 2


def test_a_base_and_its_overlays_and_a_clone_in_one_batch_on_a_first_run(conn, run):
    base = POOL + '/' + PREFIX + 'base.qcow2'
    items = [vol('base.qcow2', capacity='64M'),
             vol('o1.qcow2', backing=PREFIX + 'base.qcow2'),
             vol('o2.qcow2', backing='/%s/%sbase.qcow2' % (POOL, PREFIX), capacity='128M'),
             # the test driver clones within a pool only: a clone into another pool is proven on qemu:///system
             vol('copy.img', format='raw', source=dict(volume=PREFIX + 'base.qcow2'))]
    predicted = run(check=True, volumes=items)
    assert names(conn) == []
    applied = run(volumes=items)
    assert applied['actions'] == predicted['actions'] == [
        "create volume '%s': qcow2, 64 MiB" % base,
        "create volume '%s/%so1.qcow2': qcow2, overlay on /%s/%sbase.qcow2 (which this run creates first), 64 MiB"
        % (POOL, PREFIX, POOL, PREFIX),
        "create volume '%s/%so2.qcow2': qcow2, overlay on /%s/%sbase.qcow2 (which this run creates first), 128 MiB"
        % (POOL, PREFIX, POOL, PREFIX),
        "create volume '%s/%scopy.img': clone of volume %s (which this run creates first), raw" % (POOL, PREFIX, base)]
    for result in (predicted, applied):
        overlay = result['volumes'][POOL + '/' + PREFIX + 'o1.qcow2']['volume']
        assert overlay['backing'] == '/%s/%sbase.qcow2' % (POOL, PREFIX)
        assert overlay['capacity'] == 64 * 1024 ** 2    # the base's size, as kvm_volume defaults it
    # libvirt holds the overlay on the base the batch made
    xml = conn.storagePoolLookupByName(POOL).storageVolLookupByName(PREFIX + 'o1.qcow2').XMLDesc(0)
    assert '/%s/%sbase.qcow2' % (POOL, PREFIX) in xml
    assert PREFIX + 'copy.img' in names(conn)
    assert run(check=True, volumes=items)['changed'] is False
    assert run(volumes=items)['changed'] is False


def test_a_later_overlay_smaller_than_the_base_the_batch_makes_is_refused(conn, run):
    items = [vol('base.qcow2', capacity='64M'), vol('o.qcow2', backing=PREFIX + 'base.qcow2', capacity='32M')]
    result = run(volumes=items)
    assert result['failed'] and result['parameter'] == 'volumes[1].capacity' and 'smaller' in result['msg']
    assert names(conn) == []


def test_an_overlay_on_a_base_an_earlier_item_deletes_is_refused(conn, run):
    run(volumes=[vol('base.qcow2', capacity='8M')])
    result = run(volumes=[vol('base.qcow2', state='absent'), vol('o.qcow2', backing=PREFIX + 'base.qcow2')])
    assert result['failed'] and result['parameter'] == 'volumes[1].backing', result
    assert 'deleted by an earlier item' in result['msg']
    assert names(conn) == [PREFIX + 'base.qcow2']


def test_an_overlay_on_a_later_item_is_refused_before_anything_changes(conn, run):
    # the list is the order of creation: an item may use only what the items before it make
    result = run(volumes=[vol('o.qcow2', backing=PREFIX + 'base.qcow2'), vol('base.qcow2', capacity='8M')])
    assert result['failed'] and result['parameter'] == 'volumes[0].backing'
    assert names(conn) == []


def test_bad_input_names_the_item_and_changes_nothing(conn, run):
    items = [vol('a.qcow2', capacity='8M'), vol('b.qcow2', capacity='lots')]
    result = run(volumes=items)
    assert result['failed'] and result['parameter'] == 'volumes[1].capacity'
    assert result['msg'].startswith("Invalid parameter 'volumes[1].capacity': (volume %s/%sb.qcow2) "
                                    % (POOL, PREFIX)), result['msg']
    result = run(volumes=[vol('a.qcow2', capacity='8M'), vol('c.qcow2', pool='unit-nopool', capacity='8M')])
    assert result['failed'] and result['parameter'] == 'volumes[1].pool'
    result = run(volumes=[vol('a.qcow2', capacity='8M'), vol('d.qcow2', backing='x', source=dict(volume='y'))])
    assert result['failed'] and 'backing' in result['msg'] and 'source' in result['msg']
    assert names(conn) == []


def test_a_volume_given_twice_in_one_pool_is_refused(conn, run):
    result = run(volumes=[vol('a.qcow2', capacity='8M'), vol('a.qcow2', capacity='16M')])
    assert result['failed'] and result['parameter'] == 'volumes'
    assert '%s/%sa.qcow2' % (POOL, PREFIX) in result['msg']
    assert names(conn) == []


def test_a_failed_volume_does_not_stop_the_others_and_what_builds_on_it_fails_saying_so(conn, run, monkeypatch):
    create = Volume._create

    def failing(self):
        if self.name == PREFIX + 'base.qcow2':
            raise KvmError('create', 'volume', self.label, 'the disk is on fire')
        return create(self)
    monkeypatch.setattr(Volume, '_create', failing)
    result = run(volumes=[vol('base.qcow2', capacity='8M'), vol('o.qcow2', backing=PREFIX + 'base.qcow2'),
                          vol('other.qcow2', capacity='8M')])
    base, overlay = POOL + '/' + PREFIX + 'base.qcow2', POOL + '/' + PREFIX + 'o.qcow2'
    assert result['failed'] and result['failed_volumes'] == [base, overlay]
    assert 'on fire' in result['volumes'][base]['msg']
    assert 'earlier item of this batch, which did not make it' in result['volumes'][overlay]['msg']
    assert result['volumes'][POOL + '/' + PREFIX + 'other.qcow2']['changed'] is True
    assert names(conn) == [PREFIX + 'other.qcow2']


def test_the_fleet_form_keys_each_hypervisors_volumes_by_pool_and_name(conn, run):
    items = [vol('f.qcow2', capacity='8M'), vol('g.qcow2', capacity='8M', hypervisor='one')]
    result = run(hypervisors={'one': 'test:///default'}, volumes=items)
    assert result['changed'] is True
    assert list(result['hypervisors']['one']['volumes']) == [POOL + '/' + PREFIX + 'f.qcow2', POOL + '/' + PREFIX + 'g.qcow2']
    assert names(conn) == [PREFIX + 'f.qcow2', PREFIX + 'g.qcow2']


def as_items(text):
    """kvm_volume's option documentation as kvm_volumes documents its items: option references under volumes[]."""
    text = re.sub(r'O\((?!uri\))([^)]+)\)', lambda m: 'O(volumes[].%s)' % m.group(1), text)
    return text.replace('RV(volume.capacity)', 'the C(capacity) of RV(volumes)')


def test_the_items_are_documented_as_kvm_volume_options():
    import yaml
    from ansible_collections.kvmops.kvm.plugins.modules import kvm_volume
    documented = yaml.safe_load(kvm_volumes.DOCUMENTATION)['options']['volumes']['suboptions']
    assert documented.pop('hypervisor')['description']   # the batch's own: which of its hypervisors
    assert documented == yaml.safe_load(as_items(kvm_volume.DOCUMENTATION))['options']
    assert set(kvm_volumes.argument_spec()['volumes']['options']) == set(documented) | {'hypervisor'}
