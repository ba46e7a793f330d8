"""kvm_volume against the machine's real libvirtd: create, grow (also under a guest), overlay, clone,
import, a download served over loopback HTTP, and refusals that change nothing."""

import functools
import hashlib
import http.server
import json
import os
import shutil
import stat
import subprocess
import threading

import pytest

from harness import contract, fails, ok

MiB = 1024 ** 2
POOL = 'kvmtest-vols'


@pytest.fixture
def pool(conn, workdir):
    path = os.path.join(workdir, 'vols')
    ok('kvm_pool', dict(name=POOL, path=path, build=True, mode='0755'))
    return path


def image_info(path):
    out = subprocess.run(['qemu-img', 'info', '-U', '--output=json', path], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def make_image(path, size='24M', fmt='qcow2'):
    subprocess.run(['qemu-img', 'create', '-q', '-f', fmt, path, size], check=True)
    subprocess.run(['qemu-io', '-f', fmt, '-c', 'write -P 0x5a 0 1M', path], check=True, capture_output=True)
    with open(path, 'rb') as stream:
        return 'sha256:' + hashlib.sha256(stream.read()).hexdigest()


@pytest.fixture
def http_server(workdir):
    """Serves workdir/www on 127.0.0.1 and counts the requests."""
    root = os.path.join(workdir, 'www')
    os.mkdir(root)
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *_args):
            requests.append(self.path)

    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Handler, directory=root))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, 'http://127.0.0.1:%d' % server.server_address[1], requests
    server.shutdown()
    server.server_close()


def test_create_grow_and_refuse_shrink(conn, pool):
    args = dict(pool=POOL, name='web1.qcow2', capacity='64MiB')
    predicted, applied, _last = contract('kvm_volume', args)
    assert applied['actions'] == ["create volume 'kvmtest-vols/web1.qcow2': qcow2, 64 MiB"]
    path = os.path.join(pool, 'web1.qcow2')
    assert applied['volume']['path'] == predicted['volume']['path'] == path
    assert image_info(path)['format'] == 'qcow2' and image_info(path)['virtual-size'] == 64 * MiB
    assert applied['volume']['allocation'] < applied['volume']['capacity']   # qcow2: allocation is not capacity

    predicted, applied, _last = contract('kvm_volume', dict(args, capacity='96M'))
    assert applied['actions'] == ["grow volume 'kvmtest-vols/web1.qcow2': 64 MiB to 96 MiB"]
    assert applied['diff'] == {'before': {'capacity': 64 * MiB}, 'after': {'capacity': 96 * MiB}}
    assert image_info(path)['virtual-size'] == 96 * MiB

    refused = fails('kvm_volume', dict(args, capacity='32M'))
    assert refused['parameter'] == 'capacity' and 'shrink' in refused['msg']
    assert image_info(path)['virtual-size'] == 96 * MiB


def _guest(conn, disk, start):
    """A guest with the volume as its disk; started, SeaBIOS finds nothing to boot and waits."""
    xml = """<domain type='qemu'><name>kvmtest-vguest</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>
      <os><type arch='x86_64' machine='pc'>hvm</type></os>
      <devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='%s'/>
      <target dev='vda' bus='virtio'/></disk><memballoon model='none'/></devices></domain>""" % disk
    dom = conn.defineXML(xml)
    if start:
        dom.create()
    return dom


@pytest.mark.parametrize('running', [False, True], ids=['stopped-guest', 'running-guest'])
def test_grow_a_volume_in_use(conn, pool, running):
    ok('kvm_volume', dict(pool=POOL, name='disk.qcow2', capacity='32M'))
    path = os.path.join(pool, 'disk.qcow2')
    dom = _guest(conn, path, start=running)
    predicted, applied, _last = contract('kvm_volume', dict(pool=POOL, name='disk.qcow2', capacity='48M'))
    detail = " (live, through running guest kvmtest-vguest disk vda)" if running else ''
    assert applied['actions'] == ["grow volume 'kvmtest-vols/disk.qcow2': 32 MiB to 48 MiB%s" % detail]
    assert image_info(path)['virtual-size'] == 48 * MiB
    if running:
        assert dom.blockInfo('vda')[0] == 48 * MiB
        refused = fails('kvm_volume', dict(pool=POOL, name='disk.qcow2', state='absent'))
        assert 'running guest(s) use it' in refused['msg'] and os.path.exists(path)


def test_overlay_on_a_base(conn, pool):
    ok('kvm_volume', dict(pool=POOL, name='base.qcow2', capacity='32M'))
    args = dict(pool=POOL, name='overlay.qcow2', backing='base.qcow2')
    predicted, applied, _last = contract('kvm_volume', args)
    base = os.path.join(pool, 'base.qcow2')
    assert applied['actions'] == ["create volume 'kvmtest-vols/overlay.qcow2': qcow2, overlay on %s, 32 MiB" % base]
    info = image_info(os.path.join(pool, 'overlay.qcow2'))
    assert info['backing-filename'] == base and info['virtual-size'] == 32 * MiB
    assert applied['volume']['backing'] == base
    refused = fails('kvm_volume', dict(args, backing='other.qcow2'))
    assert refused['parameter'] == 'backing'


def test_clone_and_import_with_owner_and_mode(conn, pool, workdir):
    source = os.path.join(workdir, 'appliance.qcow2')
    checksum = make_image(source)
    args = dict(pool=POOL, name='appliance.qcow2', capacity='32M', mode='0640', owner='libvirt-qemu',
                source=dict(file=source, checksum=checksum))
    predicted, applied, _last = contract('kvm_volume', args)
    assert applied['actions'] == [
        "create volume 'kvmtest-vols/appliance.qcow2': import of %s (sha256 checked), qcow2, 32 MiB" % source]
    imported = os.path.join(pool, 'appliance.qcow2')
    assert image_info(imported)['virtual-size'] == 32 * MiB
    assert subprocess.run(['qemu-img', 'compare', '-q', source, imported], check=False).returncode == 0
    info = os.stat(imported)
    assert stat.S_IMODE(info.st_mode) == 0o640 and info.st_uid == 64055

    clone = dict(pool=POOL, name='appliance.img', format='raw', source=dict(volume='appliance.qcow2'))
    contract('kvm_volume', clone)
    assert image_info(os.path.join(pool, 'appliance.img'))['format'] == 'raw'

    predicted, applied, _last = contract('kvm_volume', dict(pool=POOL, name='appliance.img', mode='0644', owner=64055))
    assert applied['actions'] == ["set permissions of volume 'kvmtest-vols/appliance.img': owner=64055, mode=0644"]
    info = os.stat(os.path.join(pool, 'appliance.img'))
    assert stat.S_IMODE(info.st_mode) == 0o644 and info.st_uid == 64055


def test_download_good_and_bad_checksum(conn, pool, http_server):
    root, base_url, requests = http_server
    good = make_image(os.path.join(root, 'cloud.qcow2'))
    url = base_url + '/cloud.qcow2'
    bad = 'sha256:' + '0' * 64
    refused = fails('kvm_volume', dict(pool=POOL, name='bad.qcow2', source=dict(url=url, checksum=bad)))
    assert 'not the expected' in refused['msg'] and 'nothing was created' in refused['msg']
    assert not os.path.exists(os.path.join(pool, 'bad.qcow2'))
    assert conn.storagePoolLookupByName(POOL).numOfVolumes() == 0
    del requests[:]

    args = dict(pool=POOL, name='cloud.qcow2', capacity='1G', source=dict(url=url, checksum=good))
    predicted, applied, _last = contract('kvm_volume', args)
    assert requests == ['/cloud.qcow2']   # once: not in check mode, not once the volume exists
    assert applied['actions'] == [
        "create volume 'kvmtest-vols/cloud.qcow2': download of %s (sha256 checked before use), 1 GiB" % url]
    assert predicted['volume']['format'] is None and applied['volume']['format'] == 'qcow2'
    volume = os.path.join(pool, 'cloud.qcow2')
    assert image_info(volume)['virtual-size'] == 1024 * MiB
    assert subprocess.run(['qemu-io', '-f', 'qcow2', '-c', 'read -P 0x5a 0 1M', volume],
                          check=False, capture_output=True).returncode == 0

    missing = fails('kvm_volume', dict(args, name='gone.qcow2', source=dict(url=base_url + '/gone', checksum=good)))
    assert '404' in missing['msg'] and not os.path.exists(os.path.join(pool, 'gone.qcow2'))


def test_delete(conn, pool):
    ok('kvm_volume', dict(pool=POOL, name='old.qcow2', capacity='16M'))
    path = os.path.join(pool, 'old.qcow2')
    predicted, applied, _last = contract('kvm_volume', dict(pool=POOL, name='old.qcow2', state='absent'))
    assert applied['actions'] == ["delete volume 'kvmtest-vols/old.qcow2': %s" % path]
    assert not os.path.exists(path)


def test_pool_must_be_active(conn, pool):
    ok('kvm_pool', dict(name=POOL, state='inactive'))
    refused = fails('kvm_volume', dict(pool=POOL, name='x.qcow2', capacity='16M'))
    assert "use pool '%s' failed: it is not active" % POOL in refused['msg']
    shutil.rmtree(pool, ignore_errors=True)
