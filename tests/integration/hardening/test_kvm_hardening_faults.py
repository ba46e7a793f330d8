"""Faults on the real daemon: two converges of one object at once, downloads cut off or not matching their
checksum, a pool's file system full during a create, the module killed (SIGKILL) mid-apply. Each ends with the
host consistent and a rerun converging."""

import hashlib
import http.server
import os
import signal
import threading
import time

import libvirt
import pytest

from harness import fails, finish_module, ok, start_module
from private_libvirtd import PrivateLibvirtd

IMAGE = os.urandom(4 * 1024 * 1024)
CHECKSUM = 'sha256:' + hashlib.sha256(IMAGE).hexdigest()


def together(module, args, count=2):
    runs = [start_module(module, args) for _index in range(count)]
    return [finish_module(proc, record) for proc, record in runs]


def clear_failure(result):
    msg = result.get('msg') or ''
    assert 'Traceback' not in msg and 'unexpected error' not in msg, msg
    assert 'failed' in msg or 'Invalid parameter' in msg, msg


def both_or_one_clearly(results):
    for result in results:
        if result['_status'] != 'ok':
            clear_failure(result)
    assert any(r['_status'] == 'ok' for r in results), results


# ---------------------------------------------------------------- two converges at once

def test_concurrent_converges(conn, workdir):
    net = dict(name='kvmth-cnet', ipv4=dict(address='172.30.77.1', prefix=24, dhcp=dict(
        ranges=[dict(start='172.30.77.10', end='172.30.77.20')])))
    both_or_one_clearly(together('kvm_network', net))
    ok('kvm_pool', dict(name='kvmth-cpool', path=workdir))
    vol = dict(pool='kvmth-cpool', name='kvmth-cvol.qcow2', capacity='16M')
    both_or_one_clearly(together('kvm_volume', vol))
    guest = dict(name='kvmth-cguest', type='qemu', memory=64, state='shutdown', graphics=dict(type='none'),
                 disks=[dict(pool='kvmth-cpool', volume='kvmth-cvol.qcow2')], interfaces=[dict(network='kvmth-cnet')])
    both_or_one_clearly(together('kvm_domain', guest))
    # consistent afterwards: one of each, and a rerun of each changes nothing
    assert [n.name() for n in conn.listAllNetworks() if n.name() == 'kvmth-cnet'] == ['kvmth-cnet']
    assert [v.name() for v in conn.storagePoolLookupByName('kvmth-cpool').listAllVolumes(0)] == ['kvmth-cvol.qcow2']
    assert os.listdir(workdir) == ['kvmth-cvol.qcow2']
    for module, args in (('kvm_network', net), ('kvm_volume', vol), ('kvm_domain', guest)):
        assert ok(module, args)['changed'] is False, module


# ---------------------------------------------------------------- downloads that go wrong

class _Handler(http.server.BaseHTTPRequestHandler):
    mode = 'ok'   # ok, cut, wrong, slow

    def do_GET(self):
        body = IMAGE
        if self.mode == 'wrong':
            body = IMAGE[:-1] + b'!'
        self.send_response(200)
        self.send_header('Content-Length', str(len(IMAGE)))
        self.end_headers()
        if self.mode == 'cut':
            self.wfile.write(body[:len(body) // 3])
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        if self.mode == 'slow':
            for start_at in range(0, len(body), 64 * 1024):
                self.wfile.write(body[start_at:start_at + 64 * 1024])
                self.wfile.flush()
                time.sleep(0.5)
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    """(set_mode, url): a local http server serving IMAGE whole, cut off, wrong or slowly."""
    handler = type('Handler', (_Handler,), {})
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def set_mode(mode):
        handler.mode = mode
    yield set_mode, 'http://127.0.0.1:%d/image.raw' % server.server_address[1]
    server.shutdown()


def leftovers(conn, workdir, pool):
    return (sorted(os.listdir(workdir)), [v.name() for v in conn.storagePoolLookupByName(pool).listAllVolumes(0)])


@pytest.mark.parametrize('mode, words', [('cut', 'broke off'), ('wrong', 'not the expected')])
def test_download_cut_off_or_wrong_leaves_nothing(conn, workdir, http_server, mode, words):
    set_mode, url = http_server
    ok('kvm_pool', dict(name='kvmth-dl', path=workdir))
    args = dict(pool='kvmth-dl', name='kvmth-dl.img', source=dict(url=url, checksum=CHECKSUM))
    set_mode(mode)
    result = fails('kvm_volume', args)
    assert words in result['msg'] and 'nothing was created' in result['msg'], result['msg']
    assert result['changed'] is False and result['actions'] == [], result
    assert leftovers(conn, workdir, 'kvmth-dl') == ([], [])
    set_mode('ok')
    made = ok('kvm_volume', args)
    assert made['changed'] is True and made['volume']['capacity'] == len(IMAGE)
    assert ok('kvm_volume', args)['changed'] is False


# ---------------------------------------------------------------- the pool's file system fills up

def test_pool_filesystem_full_during_create(conn, tmpfs):
    """Two 20 MiB raw volumes (fully allocated by libvirt) into a 32 MiB file system, at once: each fits the
    free space its run sees, together they do not. One is made; the other fails clearly and leaves nothing."""
    path = tmpfs('32m', 'full')
    ok('kvm_pool', dict(name='kvmth-full', path=path))
    first = dict(pool='kvmth-full', name='kvmth-a.img', format='raw', capacity='20M')
    second = dict(first, name='kvmth-b.img')
    runs = [start_module('kvm_volume', first), start_module('kvm_volume', second)]
    results = [finish_module(proc, record) for proc, record in runs]
    statuses = sorted(r['_status'] for r in results)
    assert statuses == ['failed', 'ok'], results
    failed = [r for r in results if r['_status'] == 'failed'][0]
    clear_failure(failed)
    assert "pool 'kvmth-full'" in failed['msg'] or 'space' in failed['msg'].lower(), failed['msg']
    made = [r for r in results if r['_status'] == 'ok'][0]['volume']['name']
    pool = conn.storagePoolLookupByName('kvmth-full')
    pool.refresh(0)
    assert [v.name() for v in pool.listAllVolumes(0)] == [made]
    assert os.listdir(path) == [made], os.listdir(path)
    # the one that failed is refused cleanly from now on (the space is gone), and nothing half-made stays
    again = fails('kvm_volume', first if made == 'kvmth-b.img' else second)
    assert again['parameter'] == 'capacity' and "pool 'kvmth-full'" in again['msg']
    assert os.listdir(path) == [made]


# ---------------------------------------------------------------- killed mid-apply

def descendants(pid):
    """Process ids below `pid` (read from /proc; only the processes this test started)."""
    children = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open('/proc/%s/stat' % entry) as stream:
                    parent = int(stream.read().rsplit(')', 1)[1].split()[1])
            except (IOError, OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def module_process(pid, name):
    for child in descendants(pid):
        try:
            with open('/proc/%d/cmdline' % child, 'rb') as stream:
                argv = stream.read().split(b'\0')
            # the python running the module, not the shell that started it
            if argv[0].endswith(b'python') or b'/python3' in argv[0]:
                if any(('AnsiballZ_%s' % name).encode() in arg for arg in argv):
                    return child
        except (IOError, OSError):
            pass
    return None


def test_sigkill_mid_apply_then_rerun_converges(conn, workdir, http_server):
    """The module process is killed while it downloads (the first step of its plan): nothing is left that
    the rerun cannot handle, and the rerun converges."""
    set_mode, url = http_server
    ok('kvm_pool', dict(name='kvmth-kill', path=workdir))
    args = dict(pool='kvmth-kill', name='kvmth-k.img', source=dict(url=url, checksum=CHECKSUM))
    set_mode('slow')
    proc, record = start_module('kvm_volume', args)
    deadline = time.time() + 60
    victim = None
    while victim is None and time.time() < deadline and proc.poll() is None:
        victim = module_process(proc.pid, 'kvm_volume')
        time.sleep(0.2)
    assert victim, 'the module process never showed'
    time.sleep(2)   # well into the download
    os.kill(victim, signal.SIGKILL)
    result = finish_module(proc, record)
    assert result['_status'] == 'failed', result
    assert leftovers(conn, workdir, 'kvmth-kill') == ([], [])
    set_mode('ok')
    assert ok('kvm_volume', args)['changed'] is True
    assert ok('kvm_volume', args)['changed'] is False
    assert conn.storagePoolLookupByName('kvmth-kill').storageVolLookupByName('kvmth-k.img').info()[1] == len(IMAGE)


@pytest.fixture
def frozen_daemon():
    private = PrivateLibvirtd().start()
    yield private
    private.remove()


@pytest.mark.parametrize('cut', ['module_killed', 'daemon_restarted'])
def test_upload_cut_off_leaves_a_volume_the_rerun_replaces(frozen_daemon, workdir, cut):
    """An import cut off mid-upload: the module SIGKILLed, or the daemon killed and restarted, while the volume
    holds part of the image. The volume's marker (<name>.kvmops-partial) tells the next run so: it deletes the
    incomplete volume and its marker, imports the image again, and the run after changes nothing.

    The moment is caught on a libvirtd of the test's own (private_libvirtd.py): frozen (SIGSTOP) as soon as the
    volume's file appears, so the 128 MiB upload cannot finish before the cut."""
    daemon = frozen_daemon
    pool_dir = os.path.join(workdir, 'pool')
    os.makedirs(pool_dir)
    image = os.path.join(workdir, 'kvmth-image.raw')
    content = os.urandom(128 * 1024 * 1024)
    with open(image, 'wb') as stream:
        stream.write(content)
    ok('kvm_pool', dict(name='kvmth-up', path=pool_dir, uri=daemon.uri))
    args = dict(pool='kvmth-up', name='kvmth-up.img', source=dict(file=image), uri=daemon.uri)
    target = os.path.join(pool_dir, 'kvmth-up.img')
    proc, record = start_module('kvm_volume', args)
    deadline = time.time() + 120
    while not os.path.exists(target):
        assert proc.poll() is None and time.time() < deadline, 'the module never created the volume'
        time.sleep(0.005)
    daemon.stop(signal.SIGSTOP)
    if cut == 'module_killed':
        victim = module_process(proc.pid, 'kvm_volume')
        assert victim, 'the module process is gone'
        os.kill(victim, signal.SIGKILL)
        daemon.resume()
    else:
        daemon.restart(signal.SIGKILL)
    result = finish_module(proc, record)
    assert result['_status'] == 'failed', result
    if cut == 'daemon_restarted':
        assert daemon.uri in result['msg'] and 'was lost' in result['msg'], result['msg']

    # what the cut left: the volume, shorter than the image or not yet written, and its marker
    assert sorted(os.listdir(pool_dir)) == ['kvmth-up.img', 'kvmth-up.img.kvmops-partial'], os.listdir(pool_dir)
    with open(target, 'rb') as stream:
        assert stream.read() != content, 'the upload finished before the cut: nothing was tested'

    if cut == 'module_killed':
        # without its source the volume is kept, said to be incomplete; state: absent removes the marker too
        kept = ok('kvm_volume', dict(pool='kvmth-up', name='kvmth-up.img', uri=daemon.uri))
        assert kept['changed'] is False and any('holds part of an image' in w for w in kept.get('warnings', [])), kept
        gone = ok('kvm_volume', dict(pool='kvmth-up', name='kvmth-up.img', state='absent', uri=daemon.uri), check=True)
        assert len(gone['actions']) == 2 and 'kvmth-up.img.kvmops-partial' in gone['actions'][0], gone
    check = ok('kvm_volume', args, check=True)
    assert check['changed'] is True and check['actions'][0].startswith("delete volume 'kvmth-up/kvmth-up.img'"), check
    rerun = ok('kvm_volume', args)
    assert rerun['actions'] == check['actions'], rerun
    assert sorted(os.listdir(pool_dir)) == ['kvmth-up.img'], os.listdir(pool_dir)
    with open(target, 'rb') as stream:
        assert stream.read() == content
    assert ok('kvm_volume', args)['changed'] is False


def test_sigkill_between_steps_of_a_network_plan(conn):
    """A network killed between define and start (SIGSTOP holds the module at the start call, then SIGKILL):
    the rerun sees a defined, stopped network and starts it."""
    net = dict(name='kvmth-knet', ipv4=dict(address='172.30.78.1', prefix=24))
    conn.networkDefineXML("<network><name>kvmth-knet</name><forward mode='nat'/>"
                          "<ip address='172.30.78.1' prefix='24'/></network>")   # as a killed run leaves it
    assert not conn.networkLookupByName('kvmth-knet').isActive()
    rerun = ok('kvm_network', net)
    assert rerun['actions'] == ["start network 'kvmth-knet'"], rerun
    assert conn.networkLookupByName('kvmth-knet').isActive()
    assert ok('kvm_network', net)['changed'] is False
    assert libvirt  # the module under test and this check talk to the same daemon


# ---------------------------------------------------------------- the daemon away

def test_daemon_not_answering_is_named_by_uri(conn):
    """The shared daemon is not restarted here (other suites use it): a daemon that does not answer is one whose
    socket is gone. The URI is named, with the hint; nothing else happens."""
    uri = 'qemu:///system?socket=/var/tmp/kvmth-no-daemon/libvirt-sock'
    for module, args in (('kvm_network', dict(name='kvmth-away', ipv4=dict(address='172.30.79.1', prefix=24))),
                         ('kvm_domain_info', dict(xml=False))):
        result = fails(module, dict(args, uri=uri))
        assert uri in result['msg'] and 'is the libvirt daemon running' in result['msg'], result['msg']
    assert 'kvmth-away' not in [n.name() for n in conn.listAllNetworks()]
