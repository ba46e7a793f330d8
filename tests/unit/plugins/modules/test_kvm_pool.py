"""kvm_pool's logic in-process against libvirt's test driver (fast; the real proof is tests/integration/storage)."""

import pytest

libvirt = pytest.importorskip('libvirt')

from ansible_collections.kvmops.kvm.plugins.modules import kvm_pool  # noqa: E402


@pytest.fixture
def conn(test_driver):
    connection = test_driver
    yield connection
    for pool in connection.listAllStoragePools():
        if pool.name().startswith('unit-'):
            if pool.isActive():
                pool.destroy()
            pool.undefine()


@pytest.fixture
def run(module_runner):
    return module_runner(kvm_pool)


@pytest.fixture
def pool_args(tmp_path):
    return dict(name='unit-p1', path=str(tmp_path / 'p1'), build=True)


def test_create_contract(conn, run, pool_args):
    predicted = run(check=True, **pool_args)
    assert predicted['changed'] and predicted['pool']['uuid'] is None
    assert 'unit-p1' not in [p.name() for p in conn.listAllStoragePools()]
    applied = run(**pool_args)
    assert applied['actions'] == predicted['actions'] == [
        "define pool 'unit-p1'", "build pool 'unit-p1': create %s" % pool_args['path'],
        "start pool 'unit-p1'", "enable autostart on pool 'unit-p1'"]
    assert applied['diff'] == predicted['diff']
    assert applied['pool']['uuid'] == conn.storagePoolLookupByName('unit-p1').UUIDString()
    assert applied['pool']['active'] and applied['pool']['type'] == 'dir'
    assert run(check=True, **pool_args)['changed'] is False
    assert run(**pool_args)['changed'] is False


def test_missing_target_without_build_changes_nothing(conn, run, tmp_path):
    result = run(name='unit-p2', path=str(tmp_path / 'missing'))
    assert result['failed'] and result['parameter'] == 'path'
    assert 'build: true' in result['msg']
    assert 'unit-p2' not in [p.name() for p in conn.listAllStoragePools()]


def test_path_change_restarts_in_place(conn, run, pool_args, tmp_path):
    run(**pool_args)
    (tmp_path / 'p1b').mkdir()
    moved = dict(pool_args, path=str(tmp_path / 'p1b'), build=False)
    predicted = run(check=True, **moved)
    applied = run(**moved)
    assert applied['actions'] == predicted['actions'] == [
        "stop pool 'unit-p1': to apply path", "define pool 'unit-p1': path",
        "start pool 'unit-p1': with path applied"]
    assert applied['diff'] == {'before': {'path': pool_args['path']}, 'after': {'path': moved['path']}}
    assert applied['pool']['path'] == moved['path'] and applied['pool']['active']
    assert run(**moved)['changed'] is False


def test_path_in_use_by_another_pool(conn, run, pool_args):
    run(**pool_args)
    result = run(name='unit-p3', path=pool_args['path'])
    assert result['failed'] and result['parameter'] == 'path' and "pool 'unit-p1'" in result['msg']
    assert 'unit-p3' not in [p.name() for p in conn.listAllStoragePools()]


def test_type_cannot_change(conn, run, pool_args):
    run(**pool_args)
    result = run(name='unit-p1', type='netfs', source=dict(host='127.0.0.1', path='/x'))
    assert result['failed'] and result['parameter'] == 'type'


def test_netfs_needs_source(run, tmp_path):
    result = run(name='unit-n', type='netfs', path=str(tmp_path), state='present')
    assert result['failed'] and result['parameter'] == 'source'
    result = run(name='unit-n', type='netfs', path=str(tmp_path), state='present', source=dict(host='h'))
    assert result['failed'] and result['parameter'] == 'source.path'


def test_dir_pool_takes_no_source(run, tmp_path):
    result = run(name='unit-d', path=str(tmp_path), source=dict(host='h', path='/x'))
    assert result['failed'] and result['parameter'] == 'source.host'
    result = run(name='unit-d', path=str(tmp_path), mount_options=['soft'])
    assert result['failed'] and result['parameter'] == 'mount_options'


def test_unreachable_export_changes_nothing(conn, run, tmp_path):
    # 127.0.0.1:2049 has no NFS server here; the probe fails at once (connection refused)
    result = run(name='unit-nfs', type='netfs', path=str(tmp_path), state='present',
                 source=dict(host='127.0.0.1', path='/export'))
    assert result['failed'] and "define pool 'unit-nfs' failed" in result['msg'] and 'TCP 2049' in result['msg']
    assert 'unit-nfs' not in [p.name() for p in conn.listAllStoragePools()]


def test_state_transitions_and_absent(conn, run, pool_args):
    run(**pool_args)
    stopped = run(name='unit-p1', state='inactive')
    assert stopped['actions'] == ["stop pool 'unit-p1'"] and stopped['pool']['capacity'] is None
    assert run(name='unit-p1', state='present')['changed'] is False
    removed = run(name='unit-p1', state='absent')
    assert removed['actions'] == ["undefine pool 'unit-p1'"] and removed['pool'] is None
    assert run(name='unit-p1', state='absent')['changed'] is False


def test_logical_defaults(conn, run):
    predicted = run(check=True, name='unit-vg', type='logical', state='present', source=dict(devices=['/dev/loop9']))
    assert predicted['pool']['path'] == '/dev/unit-vg'
    assert predicted['diff']['after']['source'] == {'name': 'unit-vg', 'devices': ['/dev/loop9']}


def test_logical_build_on_a_device_that_is_not_blank_changes_nothing(conn, run, tmp_path, monkeypatch):
    from ansible_collections.kvmops.kvm.plugins.module_utils._storage import pool as _pool
    args = dict(name='unit-vg', type='logical', build=True)
    missing = run(check=True, source=dict(devices=[str(tmp_path / 'nothing')]), **args)
    assert missing['failed'] and missing['parameter'] == 'source.devices' and 'does not exist' in missing['msg']
    plain = tmp_path / 'plain'
    plain.write_bytes(b'')
    not_block = run(source=dict(devices=[str(plain)]), **args)
    assert not_block['failed'] and 'is not a block device' in not_block['msg']
    # a block device with an LVM label on it (what blkid -p reports): refused in check mode and for real
    monkeypatch.setattr(_pool.stat, 'S_ISBLK', lambda mode: True)
    monkeypatch.setattr(_pool, '_signature', lambda module, device: 'TYPE=LVM2_member')
    for check in (True, False):
        used = run(check=check, source=dict(devices=[str(plain)]), **args)
        assert used['failed'] and 'is not blank (blkid finds TYPE=LVM2_member)' in used['msg']
        assert 'wipefs -a %s' % plain in used['msg']
    assert 'unit-vg' not in [p.name() for p in conn.listAllStoragePools()]


def test_bad_mode(run, tmp_path):
    result = run(name='unit-m', path=str(tmp_path), mode='rwx')
    assert result['failed'] and result['parameter'] == 'mode'
