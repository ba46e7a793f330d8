"""libvirtd restarted while a module runs: the task fails with a clear error naming the URI, and a rerun
converges. The daemon restarted is a private one (private_libvirtd.py); the machine's is shared.

The module is held at a known point by the download it makes (a local http server sends half the image and
waits): the daemon is restarted there, between two libvirt calls of one run (`between_calls`); or it is frozen
(SIGSTOP), the download let go, and once the module's create request sits unread in the daemon's socket, the
daemon is killed and started again (`during_a_call`: the call in flight is answered by a closed socket)."""

import hashlib
import http.server
import os
import signal
import threading
import time

import pytest

from harness import finish_module, ok, start_module
from private_libvirtd import PrivateLibvirtd

IMAGE = os.urandom(2 * 1024 * 1024)
CHECKSUM = 'sha256:' + hashlib.sha256(IMAGE).hexdigest()


@pytest.fixture
def daemon():
    private = PrivateLibvirtd().start()
    yield private
    private.remove()


class _GatedHandler(http.server.BaseHTTPRequestHandler):
    """Sends half of IMAGE, says so (half_sent) and waits for `release` before the rest."""
    half_sent = None
    release = None

    def do_GET(self):
        self.send_response(200)
        self.send_header('Content-Length', str(len(IMAGE)))
        self.end_headers()
        self.wfile.write(IMAGE[:len(IMAGE) // 2])
        self.wfile.flush()
        self.half_sent.set()
        self.release.wait(120)
        self.wfile.write(IMAGE[len(IMAGE) // 2:])

    def log_message(self, *args):
        pass


@pytest.fixture
def gated_server():
    handler = type('Handler', (_GatedHandler,), dict(half_sent=threading.Event(), release=threading.Event()))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler, 'http://127.0.0.1:%d/image.raw' % server.server_address[1]
    handler.release.set()
    server.shutdown()


def wait_until(condition, timeout, what):
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, what
        time.sleep(0.05)


@pytest.mark.parametrize('when', ['between_calls', 'during_a_call'])
def test_daemon_restarted_mid_run(daemon, workdir, gated_server, when):
    handler, url = gated_server
    pool = dict(name='kvmth-rst', path=workdir, uri=daemon.uri)
    ok('kvm_pool', pool)
    args = dict(pool='kvmth-rst', name='kvmth-rst.img', source=dict(url=url, checksum=CHECKSUM), uri=daemon.uri)
    proc, record = start_module('kvm_volume', args)
    assert handler.half_sent.wait(120), 'the module never started its download'
    if when == 'between_calls':
        daemon.restart()
        handler.release.set()
    else:
        daemon.stop(signal.SIGSTOP)
        handler.release.set()
        wait_until(lambda: daemon.pending_requests() > 0 or proc.poll() is not None, 120,
                   'the module never called the frozen daemon')
        assert proc.poll() is None, 'the module ended before the daemon went away'
        daemon.restart(signal.SIGKILL)
    result = finish_module(proc, record)

    assert result['_status'] == 'failed', result
    msg = result['msg']
    assert daemon.uri in msg and 'was lost' in msg and 'run the task again' in msg, msg
    assert 'Traceback' not in msg and 'unexpected error' not in msg, msg
    assert result.get('changed') is False, result   # nothing was made before the daemon went
    assert daemon.starts == 2

    # the rerun converges against the restarted daemon, and nothing half-made is around
    assert ok('kvm_pool', pool)['changed'] is False
    made = ok('kvm_volume', args)
    assert made['changed'] is True and made['volume']['capacity'] == len(IMAGE), made
    assert ok('kvm_volume', args)['changed'] is False
    assert os.listdir(workdir) == ['kvmth-rst.img']
    with open(os.path.join(workdir, 'kvmth-rst.img'), 'rb') as stream:
        assert hashlib.sha256(stream.read()).hexdigest() == CHECKSUM.split(':')[1]
