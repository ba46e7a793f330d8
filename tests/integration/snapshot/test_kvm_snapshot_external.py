"""kvm_snapshot with external snapshots (overlay files) of a running tiny guest: create, revert (the module's own
on libvirt before 9.7), delete with block-commit, and no file left behind."""

import os

import libvirt

from harness import contract, fails
from snapshot_env import (DISK_DIR, define_guest, disk_marker, files, ram_marker, shell, snapshot_tree, state,
                          virsh_view, write_marker, xml_disk_source)


def test_external_create_revert_delete_leave_no_files(conn, tiny, clean):
    dom = define_guest(conn, tiny, 'ext')
    guest = dom.name()
    dom.create()
    console = shell(guest)
    write_marker(console, 'ext-one')
    base = DISK_DIR + '/ext.qcow2'
    first = dict(domain=guest, name='first', type='external')
    predicted, applied, last = contract('kvm_snapshot', first)
    assert applied['actions'] == ["create snapshot 'first': external, with RAM, overlays %s/ext.first" % DISK_DIR]
    assert xml_disk_source(conn, guest) == DISK_DIR + '/ext.first'
    assert last['snapshot']['memory_file'] == DISK_DIR + '/kvmtsn-ext.first.mem'
    assert last['snapshot']['disks'] == [{'name': 'vda', 'snapshot': 'external', 'file': DISK_DIR + '/ext.first'}]

    write_marker(console, 'ext-two')
    console.close()
    predicted, applied, last = contract('kvm_snapshot', dict(first, state='current'))
    assert applied['actions'][0].startswith("revert to snapshot 'first': guest running")
    assert state(conn, guest) == libvirt.VIR_DOMAIN_RUNNING
    console = shell(guest, timeout=20)
    assert ram_marker(console) == 'ext-one' and disk_marker(console) == 'ext-one'
    assert snapshot_tree(conn, guest) == ({'first': None}, 'first')

    second = dict(domain=guest, name='second', type='external', disk_only=True)
    predicted, applied, last = contract('kvm_snapshot', second)
    assert applied['actions'] == ["create snapshot 'second': external, disk-only, overlays %s/ext.second" % DISK_DIR]
    assert snapshot_tree(conn, guest) == ({'first': None, 'second': 'first'}, 'second')
    write_marker(console, 'ext-three')
    console.close()

    # 'second' builds on the overlay of 'first': refused before anything changes
    views = virsh_view(guest)
    result = fails('kvm_snapshot', dict(first, state='current'))
    assert 'second' in result['msg'] and 'build on' in result['msg']
    assert virsh_view(guest) == views

    predicted, applied, last = contract('kvm_snapshot', dict(second, state='current', running_after_revert=True))
    console = shell(guest, timeout=240)   # a disk-only snapshot has no RAM: the guest boots afresh from the disk of that moment
    assert disk_marker(console) == 'ext-one' and ram_marker(console) == 'none'
    console.close()

    predicted, applied, last = contract('kvm_snapshot', dict(second, state='absent'))
    assert applied['actions'] == ["delete snapshot 'second'"]
    assert snapshot_tree(conn, guest) == ({'first': None}, 'first')
    assert xml_disk_source(conn, guest) == DISK_DIR + '/ext.first'
    predicted, applied, last = contract('kvm_snapshot', dict(first, state='absent'))
    assert applied['actions'] == ["delete snapshot 'first'",
                                  "remove RAM file of snapshot 'first': %s/kvmtsn-ext.first.mem" % DISK_DIR]
    assert snapshot_tree(conn, guest) == ({}, None)
    assert xml_disk_source(conn, guest) == base
    assert [f for f in files() if f.startswith('ext') or f.startswith('kvmtsn-ext')] == ['ext.qcow2']
    # the data written since went down into the base image
    console = shell(guest, timeout=20)
    assert disk_marker(console) == 'ext-one'
    console.close()
    assert os.path.exists(base)
