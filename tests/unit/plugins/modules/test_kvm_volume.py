"""kvm_volume's logic in-process against libvirt's test driver (it simulates volumes but cannot resize or
upload them: growth, imports and downloads are proven in tests/integration/storage)."""

import pytest

libvirt = pytest.importorskip('libvirt')

from ansible_collections.kvmops.kvm.plugins.modules import kvm_volume  # noqa: E402

POOL = 'default-pool'   # the test driver's own pool, at /default-pool


@pytest.fixture
def conn(test_driver):
    connection = test_driver
    yield connection
    pool = connection.storagePoolLookupByName(POOL)
    for volume in pool.listAllVolumes():
        if volume.name().startswith('unit-'):
            volume.delete(0)


@pytest.fixture
def run(module_runner):
    return module_runner(kvm_volume)


def names(conn):
    return [v.name() for v in conn.storagePoolLookupByName(POOL).listAllVolumes()]


def test_create_contract(conn, run):
    args = dict(pool=POOL, name='unit-a.qcow2', capacity='64M')
    predicted = run(check=True, **args)
    assert 'unit-a.qcow2' not in names(conn)
    applied = run(**args)
    assert applied['actions'] == predicted['actions'] == ["create volume 'default-pool/unit-a.qcow2': qcow2, 64 MiB"]
    assert applied['diff'] == predicted['diff'] == {
        'before': {'state': 'absent', 'capacity': None, 'format': None},
        'after': {'state': 'present', 'capacity': 64 * 1024 ** 2, 'format': 'qcow2'}}
    assert applied['volume']['capacity'] == 64 * 1024 ** 2 and applied['volume']['format'] == 'qcow2'
    assert predicted['volume']['path'] == applied['volume']['path'] == '/default-pool/unit-a.qcow2'
    assert run(check=True, **args)['changed'] is False
    assert run(**args)['changed'] is False
    # a bare number is bytes, the unit volume.capacity comes back in: the returned value fed back changes nothing
    assert applied['volume']['capacity_human'] == '64 MiB'
    assert run(pool=POOL, name='unit-a.qcow2', capacity=applied['volume']['capacity'])['changed'] is False
    assert run(pool=POOL, name='unit-a.qcow2', capacity='0.0625GiB')['changed'] is False


def test_shrink_is_refused(conn, run):
    run(pool=POOL, name='unit-b.qcow2', capacity='64M')
    result = run(pool=POOL, name='unit-b.qcow2', capacity='32M')
    assert result['failed'] and result['parameter'] == 'capacity'
    assert 'shrink' in result['msg'] and 'at least 64 MiB' in result['msg']


def test_new_volume_needs_capacity(run):
    result = run(pool=POOL, name='unit-c.qcow2')
    assert result['failed'] and result['parameter'] == 'capacity'


def test_format_of_existing_volume_is_not_converted(conn, run):
    run(pool=POOL, name='unit-d.img', capacity='16M', format='raw')
    result = run(pool=POOL, name='unit-d.img', format='qcow2')
    assert result['failed'] and result['parameter'] == 'format'


def test_clone(conn, run):
    run(pool=POOL, name='unit-base.qcow2', capacity='32M')
    args = dict(pool=POOL, name='unit-clone.img', format='raw', source=dict(volume='unit-base.qcow2'))
    predicted = run(check=True, **args)
    applied = run(**args)
    assert applied['actions'] == predicted['actions'] == [
        "create volume 'default-pool/unit-clone.img': clone of volume default-pool/unit-base.qcow2, raw"]
    assert applied['volume']['format'] == 'raw'
    assert run(**args)['changed'] is False


def test_clone_of_missing_volume(run):
    result = run(pool=POOL, name='unit-e', source=dict(volume='unit-nothing'))
    assert result['failed'] and result['parameter'] == 'source.volume'


@pytest.mark.parametrize('source, parameter', [
    (dict(url='https://example.invalid/x.qcow2'), 'source.checksum'),
    (dict(url='https://example.invalid/x.qcow2', checksum='md5:abc'), 'source.checksum'),
    (dict(url='ftp://example.invalid/x.qcow2', checksum='sha256:' + '0' * 64), 'source.url'),
    (dict(file='/nonexistent/x.qcow2'), 'source.file'),
    (dict(volume='a', url='https://example.invalid/x'), 'source'),
    (dict(pool='x'), 'source'),
])
def test_bad_sources(run, source, parameter):
    result = run(pool=POOL, name='unit-f', source=source)
    assert result['failed'] and result['parameter'] == parameter, result['msg']


def test_download_in_check_mode_predicts_without_downloading(run):
    url = 'http://127.0.0.1:9/never-fetched.qcow2'   # the discard port: nothing answers there
    predicted = run(check=True, pool=POOL, name='unit-g.qcow2', capacity='1G',
                    source=dict(url=url, checksum='sha256:' + 'a' * 64))
    assert predicted['changed'] and predicted['actions'] == [
        "create volume 'default-pool/unit-g.qcow2': download of %s (sha256 checked before use), 1 GiB" % url]


def test_file_import_checks_format_and_size(run, tmp_path):
    image = tmp_path / 'disk.img'
    image.write_bytes(b'\0' * 1024 * 1024)
    result = run(pool=POOL, name='unit-h.img', format='qcow2', source=dict(file=str(image)))
    assert result['failed'] and result['parameter'] == 'format' and 'raw image' in result['msg']
    result = run(pool=POOL, name='unit-h.img', capacity='512K', source=dict(file=str(image)))
    assert result['failed'] and result['parameter'] == 'capacity'


def test_backing_must_exist(run):
    result = run(pool=POOL, name='unit-i.qcow2', backing='unit-nothing.qcow2')
    assert result['failed'] and result['parameter'] == 'backing'


def test_backing_and_source_are_exclusive(run):
    result = run(pool=POOL, name='unit-j.qcow2', backing='a', source=dict(volume='b'))
    assert result['failed'] and 'mutually exclusive' in result['msg']


def test_missing_pool(run):
    result = run(pool='unit-nopool', name='x.qcow2', capacity='1M')
    assert result['failed'] and result['parameter'] == 'pool'


def test_bad_names(run):
    assert run(pool=POOL, name='a/b', capacity='1M')['parameter'] == 'name'
    assert run(pool=POOL, name='..', capacity='1M')['parameter'] == 'name'
    assert run(pool=POOL, name='ok.img', capacity='ten')['parameter'] == 'capacity'


def test_absent(conn, run):
    run(pool=POOL, name='unit-k.qcow2', capacity='16M')
    removed = run(pool=POOL, name='unit-k.qcow2', state='absent')
    assert removed['actions'] == ["delete volume 'default-pool/unit-k.qcow2': /default-pool/unit-k.qcow2"]
    assert removed['volume'] is None and 'unit-k.qcow2' not in names(conn)
    assert run(pool=POOL, name='unit-k.qcow2', state='absent')['changed'] is False


@pytest.fixture
def lvm_pool(test_driver):
    """A logical pool in the test driver (it keeps LVM volumes as records, like any other)."""
    pool = test_driver.storagePoolDefineXML("<pool type='logical'><name>unit-vg</name><source><name>unit-vg</name>"
                                            "</source><target><path>/dev/unit-vg</path></target></pool>", 0)
    pool.create(0)
    yield pool
    for volume in pool.listAllVolumes():
        volume.delete(0)
    pool.destroy()
    pool.undefine()


def test_lvm_volume_grows_with_lvextend_here_and_is_refused_remotely(lvm_pool, run, monkeypatch):
    from ansible_collections.kvmops.kvm.plugins.module_utils._engine.module import KvmModule
    commands = []
    monkeypatch.setattr(KvmModule, 'run_command', lambda self, args: commands.append(args) or (0, '', ''))
    run(pool='unit-vg', name='unit-lv', capacity='8M')
    predicted = run(check=True, pool='unit-vg', name='unit-lv', capacity='10M')
    applied = run(pool='unit-vg', name='unit-lv', capacity='10M')
    assert predicted['actions'] == applied['actions'] == [
        "grow volume 'unit-vg/unit-lv': 8 MiB to 12 MiB (lvextend)"]   # 4 MiB extents
    assert commands == [['lvextend', '--size', '%db' % (12 * 1024 ** 2), '/dev/unit-vg/unit-lv']]
    # libvirt cannot grow an LVM volume: on a remote host the module refuses before anything changes
    monkeypatch.setattr(KvmModule, 'is_local', property(lambda self: False))
    remote = run(check=True, pool='unit-vg', name='unit-lv', capacity='16M')
    assert remote['failed'] and remote['parameter'] == 'capacity' and 'lvextend' in remote['msg']


def _cut_off_upload(conn, name):
    """What an import cut off mid-upload leaves: the volume and its marker volume."""
    pool = conn.storagePoolLookupByName(POOL)
    for volume in (name, name + '.kvmops-partial'):
        pool.createXML("<volume><name>%s</name><capacity>1048576</capacity><target><format type='raw'/></target>"
                       "</volume>" % volume, 0)


def test_a_volume_cut_off_mid_upload_is_made_again_from_its_source(conn, run, tmp_path):
    image = tmp_path / 'disk.img'
    image.write_bytes(b'\0' * 1024 * 1024)
    _cut_off_upload(conn, 'unit-p.img')
    predicted = run(check=True, pool=POOL, name='unit-p.img', source=dict(file=str(image)))
    assert predicted['changed'] and predicted['actions'] == [
        "delete volume 'default-pool/unit-p.img': holds part of its image: its upload was cut off",
        "create volume 'default-pool/unit-p.img': import of %s, raw" % image], predicted
    assert predicted['diff']['before']['state'] == 'incomplete'


def test_a_volume_cut_off_mid_upload_is_kept_with_a_warning_without_its_source(conn, run):
    _cut_off_upload(conn, 'unit-q.img')
    kept = run(pool=POOL, name='unit-q.img')
    assert kept['changed'] is False and 'holds part of an image' in str(kept['warnings']), kept
    removed = run(pool=POOL, name='unit-q.img', state='absent')
    assert removed['actions'] == [
        "delete volume 'default-pool/unit-q.img.kvmops-partial': marker of an upload that was cut off",
        "delete volume 'default-pool/unit-q.img': /default-pool/unit-q.img"]
    assert not [n for n in names(conn) if n.startswith('unit-q')]


def test_a_stale_marker_goes_with_the_next_create(conn, run):
    conn.storagePoolLookupByName(POOL).createXML(
        "<volume><name>unit-r.img.kvmops-partial</name><capacity>0</capacity></volume>", 0)
    made = run(pool=POOL, name='unit-r.img', capacity='1M', format='raw')
    assert made['changed'] and sorted(n for n in names(conn) if n.startswith('unit-r')) == ['unit-r.img']
