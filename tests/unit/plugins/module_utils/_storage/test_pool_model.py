"""The pool model: libvirt XML <-> canonical dicts, and the options' checks."""

import pytest

from ansible_collections.kvmops.kvm.plugins.module_utils._storage import pool_model as model
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import ParameterError

NETFS = """<pool type='netfs' xmlns:fs='http://libvirt.org/schemas/storagepool/fs/1.0'>
  <name>shared</name><uuid>51cbce14-5fb3-4932-87e4-b6a6fa49dc96</uuid>
  <source><host name='nfs1'/><dir path='/export/vm'/><format type='nfs'/></source>
  <target><path>/var/lib/libvirt/shared</path>
    <permissions><mode>0755</mode><owner>-1</owner><group>-1</group></permissions></target>
  <fs:mount_opts><fs:option name='vers=4.2'/><fs:option name='soft'/></fs:mount_opts>
</pool>"""


def test_read_netfs():
    assert model.read(_xml.parse(NETFS)) == {
        'type': 'netfs', 'path': '/var/lib/libvirt/shared', 'owner': None, 'group': None, 'mode': '0755',
        'source': {'host': 'nfs1', 'path': '/export/vm', 'format': 'nfs', 'name': None, 'devices': []},
        'mount_options': ['vers=4.2', 'soft']}


def test_write_keeps_what_libvirt_generated_and_round_trips():
    desired = {'path': '/srv/vm', 'mode': '0750', 'source': {'host': 'nfs2'}, 'mount_options': ['hard']}
    root = model.write(_xml.parse(NETFS), desired)
    assert root.findtext('uuid') == '51cbce14-5fb3-4932-87e4-b6a6fa49dc96'
    written = model.read(_xml.parse(_xml.to_string(root)))
    assert written['path'] == '/srv/vm' and written['mode'] == '0750'
    assert written['source']['host'] == 'nfs2' and written['source']['path'] == '/export/vm'
    assert written['mount_options'] == ['hard']
    assert [c.tag for c in root.find('source')] == ['host', 'dir', 'format']
    no_options = model.write(_xml.parse(NETFS), {'mount_options': []})
    assert model.read(no_options)['mount_options'] == []


def test_new_definition_of_a_dir_pool():
    root = model.new_definition('images', {'type': 'dir', 'path': '/srv/images', 'owner': 107})
    assert root.get('type') == 'dir' and root.findtext('name') == 'images'
    assert root.findtext('target/permissions/owner') == '107'


def test_paths_are_normalised_and_must_be_absolute():
    assert model.from_options({'path': '/srv//images/'}, 'dir', True) == {'path': '/srv/images'}
    with pytest.raises(ParameterError):
        model.from_options({'path': 'images'}, 'dir', True)


def test_completed_defaults():
    netfs = model.completed('s', {'path': '/m', 'source': {'host': 'h', 'path': '/e'}}, 'netfs')
    assert netfs['source']['format'] == 'nfs' and netfs['type'] == 'netfs'
    logical = model.completed('vg0', {}, 'logical')
    assert logical['path'] == '/dev/vg0' and logical['source'] == {'name': 'vg0'}
    with pytest.raises(ParameterError, match='target path'):
        model.completed('d', {}, 'dir')


def test_mount_options_are_one_per_item():
    with pytest.raises(ParameterError, match='one option'):
        model.from_options({'mount_options': ['vers=4,soft']}, 'netfs', True)
