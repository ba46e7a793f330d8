"""The snapshot model: XML <-> dict, settings compared, the tree, age order and pruning."""

import pytest

pytest.importorskip('lxml')

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._snapshot import model  # noqa: E402

EXTERNAL = """<domainsnapshot><name>s2</name><state>disk-snapshot</state><parent><name>s1</name></parent>
<creationTime>1700000000</creationTime><memory snapshot='no'/>
<disks><disk name='vda' snapshot='external' type='file'><driver type='qcow2'/><source file='/i/g.s2'/></disk></disks>
</domainsnapshot>"""

DOMAIN = """<domain><devices>
<disk type='file' device='disk'><driver type='qcow2'/><source file='/i/g.qcow2'/><target dev='vda'/></disk>
<disk type='file' device='disk' snapshot='no'><source file='/i/scratch.img'/><target dev='vdb'/></disk>
<disk type='file' device='cdrom'><source file='/i/cd.iso'/><target dev='hdc'/><readonly/></disk>
<disk type='block' device='disk'><source dev='/dev/sdb'/><target dev='vdc'/></disk>
</devices></domain>"""


def item(name, created, parent=None):
    return dict(name=name, creation_time=created, parent=parent)


def test_read_external_disk_only():
    snap = model.read(_xml.parse(EXTERNAL))
    assert snap == dict(name='s2', description=None, state='disk-snapshot', created='2023-11-14T22:13:20Z',
                        creation_time=1700000000, memory=False, memory_file=None, disk_only=True, type='external',
                        disks=[dict(name='vda', snapshot='external', file='/i/g.s2')], parent='s1')


def test_snapshotted_disks_skip_readonly_and_opted_out():
    disks = model.snapshotted_disks(_xml.parse(DOMAIN))
    assert [(d['target'], d['format'], d['source_type']) for d in disks] == [
        ('vda', 'qcow2', 'file'), ('vdc', None, 'block')]


def test_new_external_definition_names_files_like_libvirt():
    disks = [dict(target='vda', file='/i/g.qcow2')]
    root = model.new_definition('before', 'why', True, True, disks, 'g')
    assert root.find('memory').get('file') == '/i/g.before.mem'
    assert root.find('disks/disk/source').get('file') == '/i/g.before'
    assert root.findtext('description') == 'why'
    internal = model.new_definition('before', None, False, False, disks, 'g')
    assert internal.find('memory').get('snapshot') == 'no'
    assert internal.find('disks/disk').get('snapshot') == 'internal'


def test_only_given_settings_are_compared():
    have = model.read(_xml.parse(EXTERNAL))
    assert model.differing_settings(dict(description=None, memory=None, disk_only=None, type=None), have) == []
    assert model.differing_settings(dict(description='', memory=False, disk_only=True, type='external'), have) == []
    assert model.differing_settings(dict(description='x', memory=True, disk_only=False, type='internal'), have) == [
        ('description', None, 'x'), ('memory', False, True), ('type', 'external', 'internal')]


def test_tree_orders_by_age_then_parent_first():
    snapshots = dict((s['name'], s) for s in [item('b', 10, 'a'), item('a', 10), item('c', 5), item('new', None, 'b')])
    listed = model.tree(snapshots, 'new')
    assert [s['name'] for s in listed] == ['c', 'a', 'b', 'new']
    assert listed[1]['children'] == ['b'] and listed[3]['current'] and not listed[0]['current']


def test_oldest_beyond_spares_the_named_one():
    snapshots = dict((s['name'], s) for s in [item('s1', 1), item('s2', 2), item('s3', 3), item('s4', 4)])
    assert model.oldest_beyond(snapshots, 2, set()) == ['s1', 's2']
    assert model.oldest_beyond(snapshots, 2, set(['s1'])) == ['s2', 's3']
    assert model.oldest_beyond(snapshots, 5, set()) == []
