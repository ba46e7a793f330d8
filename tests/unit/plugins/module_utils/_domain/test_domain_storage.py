"""Guest disks go through the storage package: its pool lookup, volume definition and image reading."""

import struct

import pytest

libvirt = pytest.importorskip('libvirt')

from ansible_collections.kvmops.kvm.plugins.module_utils._domain.storage import DiskStore  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import ParameterError  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._storage import volume_model  # noqa: E402

MiB = 1024 ** 2


class FakeModule(object):
    def __init__(self, conn, local=True):
        self.conn = conn
        self.is_local = local
        self.params = {'uri': 'test:///default'}


@pytest.fixture
def store(test_driver):
    yield DiskStore(FakeModule(test_driver))
    pool = test_driver.storagePoolLookupByName('default-pool')
    for volume in pool.listAllVolumes(0):
        if volume.name().startswith('unit-'):
            volume.delete(0)


def test_a_missing_pool_names_the_parameter(store):
    with pytest.raises(ParameterError) as error:
        store.volume('unit-nopool', 'v', 'disks[0].pool')
    assert error.value.parameter == 'disks[0].pool' and "'unit-nopool' does not exist" in str(error.value)


def test_a_disk_volume_is_the_volume_models_definition(store, test_driver):
    disk = dict(pool='default-pool', volume='unit-disk.qcow2', size=64 * MiB, format='qcow2')
    assert store.volume('default-pool', 'unit-disk.qcow2', 'disks') is None
    store.creator(disk)()
    created = store.volume('default-pool', 'unit-disk.qcow2', 'disks')
    assert volume_model.read(_xml.parse(created.XMLDesc(0)))['capacity'] == 64 * MiB


def test_a_disk_in_a_pools_directory_is_made_by_that_pool(store, monkeypatch):
    defined = []
    pool = store.pool_for_directory('/default-pool/')
    monkeypatch.setattr(store, 'pool_for_directory', lambda _directory: FakePool(defined))
    store.creator(dict(path='/default-pool/unit-o.qcow2', size=MiB, backing='/nonexistent/base.img'))()
    assert pool is not None and pool.name() == 'default-pool'
    assert defined == [volume_model.new_definition('unit-o.qcow2', MiB, 'qcow2', None,
                                                   dict(path='/nonexistent/base.img', format='qcow2'))]


class FakePool(object):
    def __init__(self, defined):
        self.defined = defined

    def createXML(self, definition, _flags):
        self.defined.append(definition)


def test_a_local_files_format_comes_from_the_image_header(store, tmp_path):
    qcow2 = tmp_path / 'a.qcow2'
    qcow2.write_bytes(b'QFI\xfb' + b'\0' * 20 + struct.pack('>Q', MiB) + b'\0' * 40)
    raw = tmp_path / 'a.img'
    raw.write_bytes(b'\0' * 4096)
    assert store.file_format(str(qcow2)) == 'qcow2'
    assert store.file_format(str(raw)) == 'raw'
    assert store.file_format(str(tmp_path / 'missing')) is None
