"""kvm_snapshot with internal (qcow2) snapshots of a running tiny guest on the machine's real libvirtd."""

import libvirt

from harness import contract, fails, ok
from snapshot_env import (define_guest, disk_marker, files, ram_marker, shell, snapshot_tree, state, virsh_view,
                          write_marker)


def args(guest, name, **extra):
    return dict(domain=guest, name=name, **extra)


def test_revert_with_memory_brings_back_disk_and_ram(conn, running_guest):
    guest = running_guest
    console = shell(guest)
    write_marker(console, 'marker-one')
    predicted, applied, last = contract('kvm_snapshot', args(guest, 'one', description='before the change'))
    assert applied['actions'] == ["create snapshot 'one': internal, with RAM"]
    assert snapshot_tree(conn, guest) == ({'one': None}, 'one')
    assert last['snapshot']['memory'] and last['snapshot']['state'] == 'running' and last['snapshot']['current']

    write_marker(console, 'marker-two')
    assert disk_marker(console) == 'marker-two'
    console.close()
    predicted, applied, last = contract('kvm_snapshot', args(guest, 'one', state='current'))
    assert applied['actions'] == ["revert to snapshot 'one': guest running (disk vda was written since)"]
    assert state(conn, guest) == libvirt.VIR_DOMAIN_RUNNING
    console = shell(guest, timeout=20)
    # the guest resumed at the snapshot point: the shell it had then, with its RAM and its disk
    assert ram_marker(console) == 'marker-one'
    assert disk_marker(console) == 'marker-one'
    console.close()
    assert snapshot_tree(conn, guest) == ({'one': None}, 'one')


def test_tree_after_each_step_and_delete(conn, running_guest):
    guest = running_guest
    ok('kvm_snapshot', args(guest, 'two'))
    ok('kvm_snapshot', args(guest, 'three'))
    assert snapshot_tree(conn, guest) == ({'one': None, 'two': 'one', 'three': 'two'}, 'three')
    predicted, applied, last = contract('kvm_snapshot', args(guest, 'two', state='absent'))
    assert applied['actions'] == ["delete snapshot 'two': children three kept"]
    assert snapshot_tree(conn, guest) == ({'one': None, 'three': 'one'}, 'three')
    assert last['snapshot'] is None
    assert [(s['name'], s['parent'], s['children']) for s in last['snapshots']] == [
        ('one', None, ['three']), ('three', 'one', [])]


def test_revert_to_an_older_snapshot_then_branch(conn, running_guest):
    guest = running_guest
    contract('kvm_snapshot', args(guest, 'one', state='current'))
    assert snapshot_tree(conn, guest)[1] == 'one'
    ok('kvm_snapshot', args(guest, 'branch'))
    assert snapshot_tree(conn, guest) == ({'one': None, 'three': 'one', 'branch': 'one'}, 'branch')
    predicted, applied, last = contract('kvm_snapshot', args(guest, 'one', state='absent', children='delete'))
    assert applied['actions'] == ["delete snapshot 'three': child of one", "delete snapshot 'branch': child of one",
                                  "delete snapshot 'one'"]
    assert snapshot_tree(conn, guest) == ({}, None)


def test_keep_prunes_exactly_the_oldest(conn, running_guest):
    guest = running_guest
    for name in ('k1', 'k2', 'k3'):
        ok('kvm_snapshot', args(guest, name))
    predicted, applied, last = contract('kvm_snapshot', args(guest, 'k4', keep=2))
    assert applied['actions'] == ["create snapshot 'k4': internal, with RAM",
                                  "delete snapshot 'k1': oldest beyond keep: 2",
                                  "delete snapshot 'k2': oldest beyond keep: 2"]
    assert snapshot_tree(conn, guest) == ({'k3': None, 'k4': 'k3'}, 'k4')
    assert [s['name'] for s in predicted['snapshots']] == [s['name'] for s in last['snapshots']] == ['k3', 'k4']


def test_paused_after_revert_on_request(conn, running_guest):
    guest = running_guest
    contract('kvm_snapshot', args(guest, 'k3', state='current', running_after_revert=False))
    assert state(conn, guest) == libvirt.VIR_DOMAIN_PAUSED
    resumed = ok('kvm_snapshot', args(guest, 'k3', state='current'))
    assert resumed['diff'] == {'before': {'domain_state': 'paused'}, 'after': {'domain_state': 'running'}}
    assert state(conn, guest) == libvirt.VIR_DOMAIN_RUNNING


def test_bad_inputs_change_nothing(conn, running_guest, tiny):
    guest = running_guest
    off = define_guest(conn, tiny, 'off').name()
    raw = define_guest(conn, tiny, 'raw', fmt='raw').name()
    ok('kvm_snapshot', args(guest, 'base', description='base'))
    views = dict((name, virsh_view(name)) for name in (guest, off, raw))
    disk_files = files()

    def refused(parameter, text, **module_args):
        result = fails('kvm_snapshot', module_args)
        assert result.get('parameter') == parameter and text in result['msg'], result
        return result

    refused('domain', "no domain 'kvmtsn-nope'", domain='kvmtsn-nope', name='k4')
    refused('description', "description is 'base', not 'other'", domain=guest, name='base', description='other')
    refused('type', "type is 'internal', not 'external'", domain=guest, name='base', type='external')
    refused('memory', 'shut off', domain=off, name='s1', memory=True)
    refused('type', 'type: external', domain=raw, name='s1')
    refused('name', "belongs to domain '%s'" % guest, domain=off, name='base', state='current')
    refused('quiesce', 'agent', domain=guest, name='q1', quiesce=True)
    refused('disk_only', 'type: external', domain=guest, name='d1', disk_only=True)
    refused('type', 'do not mix', domain=guest, name='e1', type='external')
    for name, before in views.items():
        assert virsh_view(name) == before, name
    assert files() == disk_files
