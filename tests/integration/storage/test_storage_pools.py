"""kvm_pool against the machine's real libvirtd: dir pools, the default-pool path change (simulated with a
kvmtest- pool), and bad inputs that must change nothing. netfs runs inside lab guests (test_netfs_lab.py)."""

import os
import stat
import subprocess

import libvirt
from lxml import etree

from harness import contract, fails, ok


def pool_xml(conn, name, inactive=True):
    pool = conn.storagePoolLookupByName(name)
    return etree.fromstring(pool.XMLDesc(libvirt.VIR_STORAGE_XML_INACTIVE if inactive else 0))


def pool_names(conn):
    return [p.name() for p in conn.listAllStoragePools()]


def test_dir_pool_built_with_permissions(conn, workdir):
    path = os.path.join(workdir, 'images')
    args = dict(name='kvmtest-images', path=path, build=True, owner='libvirt-qemu', group=0, mode='0750')
    predicted, applied, _last = contract('kvm_pool', args)
    assert applied['actions'] == ["define pool 'kvmtest-images'", "build pool 'kvmtest-images': create %s" % path,
                                  "start pool 'kvmtest-images'", "enable autostart on pool 'kvmtest-images'"]
    assert predicted['pool']['uuid'] is None and applied['pool']['uuid']
    info = os.stat(path)
    assert stat.S_IMODE(info.st_mode) == 0o750 and info.st_uid == 64055 and info.st_gid == 0
    pool = conn.storagePoolLookupByName('kvmtest-images')
    assert pool.isActive() and pool.autostart()
    assert applied['pool']['capacity'] > 0 and applied['pool']['path'] == path

    # a permission change on the running pool: set on the directory, kept in the definition
    predicted, applied, _last = contract('kvm_pool', dict(args, mode='0755'))
    assert applied['actions'] == ["define pool 'kvmtest-images': mode",
                                  "set permissions of pool 'kvmtest-images': %s mode=0755" % path]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o755
    assert pool_xml(conn, 'kvmtest-images').findtext('target/permissions/mode') == '0755'


def test_default_pool_path_change_in_place(conn, workdir):
    """The seeds' edit of default.xml to /iso, done declaratively on a stand-in for `default`."""
    old, new = os.path.join(workdir, 'images'), os.path.join(workdir, 'iso')
    os.mkdir(old)
    os.mkdir(new)
    ok('kvm_pool', dict(name='kvmtest-default', path=old))
    uuid = conn.storagePoolLookupByName('kvmtest-default').UUIDString()
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', os.path.join(old, 'web1.qcow2'), '16M'], check=True)
    predicted, applied, last = contract('kvm_pool', dict(name='kvmtest-default', path=new))
    assert applied['actions'] == [
        "stop pool 'kvmtest-default': to apply path", "define pool 'kvmtest-default': path",
        "start pool 'kvmtest-default': with path applied"]
    assert applied['diff'] == {'before': {'path': old}, 'after': {'path': new}}
    left = [os.path.join(old, 'web1.qcow2')]
    assert predicted['volumes_left_behind'] == applied['volumes_left_behind'] == left
    assert 'web1.qcow2' in applied['_stderr'] or any('web1.qcow2' in w for w in applied.get('warnings', []))
    assert last['volumes_left_behind'] == []
    pool = conn.storagePoolLookupByName('kvmtest-default')
    assert pool.UUIDString() == uuid and pool.isActive() and pool.autostart()
    assert pool_xml(conn, 'kvmtest-default').findtext('target/path') == new
    assert os.path.exists(os.path.join(old, 'web1.qcow2'))   # never moved or deleted


def test_bad_inputs_change_nothing(conn, workdir):
    ok('kvm_pool', dict(name='kvmtest-first', path=workdir))
    before = etree.tostring(pool_xml(conn, 'kvmtest-first'))
    taken = fails('kvm_pool', dict(name='kvmtest-second', path=workdir + '/'))
    assert "already the target of pool 'kvmtest-first'" in taken['msg']
    missing = fails('kvm_pool', dict(name='kvmtest-third', path=os.path.join(workdir, 'nothing')))
    assert 'build: true' in missing['msg']
    moved = fails('kvm_pool', dict(name='kvmtest-first', path=os.path.join(workdir, 'nothing')))
    assert moved['parameter'] == 'path'
    # no NFS server on this machine: the export is missing; nothing is defined
    export = fails('kvm_pool', dict(name='kvmtest-nfs', type='netfs', path=os.path.join(workdir, 'nfs'), build=True,
                                    source=dict(host='127.0.0.1', path='/export/missing')))
    assert "define pool 'kvmtest-nfs' failed" in export['msg'] and 'TCP 2049' in export['msg']
    assert sorted(n for n in pool_names(conn) if n.startswith('kvmtest-')) == ['kvmtest-first']
    assert etree.tostring(pool_xml(conn, 'kvmtest-first')) == before
    assert conn.storagePoolLookupByName('kvmtest-first').isActive()


def test_states_and_removal_keep_volumes_unless_purged(conn, workdir):
    path = os.path.join(workdir, 'p')
    ok('kvm_pool', dict(name='kvmtest-p', path=path, build=True))
    ok('kvm_volume', dict(pool='kvmtest-p', name='keep.qcow2', capacity='16M'))
    predicted, applied, _last = contract('kvm_pool', dict(name='kvmtest-p', state='inactive'))
    assert applied['actions'] == ["stop pool 'kvmtest-p'"] and applied['pool']['active'] is False
    predicted, applied, _last = contract('kvm_pool', dict(name='kvmtest-p', state='absent'))
    assert applied['actions'] == ["undefine pool 'kvmtest-p'"] and applied['pool'] is None
    assert os.path.exists(os.path.join(path, 'keep.qcow2'))

    ok('kvm_pool', dict(name='kvmtest-p', path=path))
    purge = dict(name='kvmtest-p', state='absent', purge=True)
    predicted, applied, _last = contract('kvm_pool', purge)
    assert applied['actions'] == [
        "delete volumes of pool 'kvmtest-p': keep.qcow2", "stop pool 'kvmtest-p'",
        "delete target of pool 'kvmtest-p': %s" % path, "undefine pool 'kvmtest-p'"]
    assert not os.path.exists(path)
