"""kvm_volumes on the machine's libvirtd: many volumes of two pools in one task, keyed '<pool>/<name>', a base
image with an overlay and a clone made from it on a first run, and bad input that changes nothing."""

import json
import os
import shutil
import subprocess
import tempfile

import pytest

from harness import contract, fails, ok, purge
# the storage suite's loopback HTTP server (a fixture, used by name) and its test image
from storage.test_storage_volumes import http_server, make_image  # noqa: F401  pylint: disable=unused-import

SLOT = int(os.environ.get('KVMOPS_TEST_SLOT', '0'))
PREFIX = 'kvmtbv%s-' % (SLOT or '')
MiB = 1024 ** 2


@pytest.fixture
def pools(conn):
    """Two directory pools of this suite, in a directory QEMU's user can traverse; removed even on failure."""
    purge(conn, PREFIX)
    root = tempfile.mkdtemp(prefix=PREFIX, dir='/var/tmp')
    os.chmod(root, 0o755)
    names = [PREFIX + 'a', PREFIX + 'b']
    try:
        for name in names:
            ok('kvm_pool', dict(name=name, path=os.path.join(root, name), build=True, mode='0755'))
        yield dict((name, os.path.join(root, name)) for name in names)
    finally:
        purge(conn, PREFIX)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def workdir():
    """Where http_server serves from (www/)."""
    path = tempfile.mkdtemp(prefix=PREFIX, dir='/var/tmp')
    yield path
    shutil.rmtree(path, ignore_errors=True)


def image_info(path):
    out = subprocess.run(['qemu-img', 'info', '-U', '--output=json', path], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def volumes_of(conn, pool):
    pool = conn.storagePoolLookupByName(pool)
    pool.refresh(0)
    return sorted(volume.name() for volume in pool.listAllVolumes())


def test_a_base_its_overlay_and_a_clone_on_a_first_run_follow_the_contract(conn, pools):
    a, b = sorted(pools)
    items = [dict(pool=a, name='base.qcow2', capacity='16MiB'),
             dict(pool=a, name='web1.qcow2', backing='base.qcow2', capacity='32MiB'),
             dict(pool=b, name='copy.img', format='raw', source=dict(volume='base.qcow2', pool=a)),
             dict(pool=a, name='data.img', format='raw', capacity='4MiB'),
             dict(pool=b, name='data.img', format='raw', capacity='8MiB')]   # the same name in another pool
    predicted, applied, last = contract('kvm_volumes', dict(volumes=items))
    keys = ['%s/base.qcow2' % a, '%s/web1.qcow2' % a, '%s/copy.img' % b, '%s/data.img' % a, '%s/data.img' % b]
    assert list(applied['volumes']) == list(last['volumes']) == keys
    base = os.path.join(pools[a], 'base.qcow2')
    assert applied['actions'][1] == ("create volume '%s/web1.qcow2': qcow2, overlay on %s (which this run creates "
                                     "first), 32 MiB" % (a, base))
    assert applied['actions'][2] == ("create volume '%s/copy.img': clone of volume %s/base.qcow2 (which this run "
                                     "creates first), raw" % (b, a))
    assert predicted['volumes'][keys[1]]['volume']['backing'] == applied['volumes'][keys[1]]['volume']['backing'] == base
    # the host: libvirt's pools hold the volumes, the overlay is on the base, the clone is a raw copy
    assert volumes_of(conn, a) == ['base.qcow2', 'data.img', 'web1.qcow2']
    assert volumes_of(conn, b) == ['copy.img', 'data.img']
    overlay = image_info(os.path.join(pools[a], 'web1.qcow2'))
    assert overlay['format'] == 'qcow2' and overlay['virtual-size'] == 32 * MiB
    assert overlay['backing-filename'] == base
    copy = image_info(os.path.join(pools[b], 'copy.img'))
    assert copy['format'] == 'raw' and copy['virtual-size'] == 16 * MiB
    assert image_info(os.path.join(pools[a], 'data.img'))['virtual-size'] == 4 * MiB
    assert image_info(os.path.join(pools[b], 'data.img'))['virtual-size'] == 8 * MiB
    assert last['volumes'][keys[4]]['volume']['capacity'] == 8 * MiB


def test_bad_input_names_the_item_and_leaves_the_pools_unchanged(conn, pools):
    a, b = sorted(pools)
    ok('kvm_volumes', dict(volumes=[dict(pool=a, name='keep.qcow2', capacity='8MiB')]))
    items = [dict(pool=a, name='new.qcow2', capacity='8MiB'),
             dict(pool=b, name='over.qcow2', backing='/nonexistent/base.qcow2'),
             dict(pool=a, name='keep.qcow2', capacity='4MiB')]
    result = fails('kvm_volumes', dict(volumes=items))
    assert result['parameter'] == 'volumes[1].backing', result
    result = fails('kvm_volumes', dict(volumes=[items[0], items[2]]))
    assert result['parameter'] == 'volumes[1].capacity' and 'shrink' in result['msg'], result
    assert volumes_of(conn, a) == ['keep.qcow2'] and volumes_of(conn, b) == []
    assert image_info(os.path.join(pools[a], 'keep.qcow2'))['virtual-size'] == 8 * MiB


def test_an_overlay_on_a_base_the_same_task_downloads(conn, pools, http_server):  # noqa: F811
    """The base's size and format are known only once it is downloaded: the overlay is predicted without a size and
    made as large as the base the download made; check mode downloads nothing."""
    a = sorted(pools)[0]
    root, url, requests = http_server
    checksum = make_image(os.path.join(root, 'base.qcow2'), size='24M')
    items = [dict(pool=a, name='dl.qcow2', source=dict(url=url + '/base.qcow2', checksum=checksum)),
             dict(pool=a, name='over.qcow2', backing='dl.qcow2')]
    predicted = ok('kvm_volumes', dict(volumes=items), check=True)
    assert requests == [] and volumes_of(conn, a) == []
    base = os.path.join(pools[a], 'dl.qcow2')
    assert predicted['actions'][1] == ("create volume '%s/over.qcow2': qcow2, overlay on %s (which this run creates "
                                       "first)" % (a, base))
    _predicted, applied, _last = contract('kvm_volumes', dict(volumes=items))
    assert len(requests) == 1   # downloaded once, by the first real run
    assert applied['volumes']['%s/over.qcow2' % a]['volume']['capacity'] == 24 * MiB
    overlay = image_info(os.path.join(pools[a], 'over.qcow2'))
    assert overlay['backing-filename'] == base and overlay['virtual-size'] == 24 * MiB
