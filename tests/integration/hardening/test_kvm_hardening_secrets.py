"""Secrets and secure defaults on the real daemon: cloud-init user-data and passwords never reach Ansible's output
(-vvv, --diff, results, warnings, failures), seed ISOs are 0600 and QEMU's, downloads verify TLS, names never
become paths outside their pool, graphics listen on 127.0.0.1 unless told otherwise."""

import http.server
import json
import os
import pwd
import shutil
import ssl
import subprocess
import tempfile
import threading

import libvirt
import pytest
import yaml

from harness import PYTHON, ROOT, ansible_env, fails, ok

SECRETS = ('UdS3cret-kvmth-1', 'UdS3cret-kvmth-2', 'Gfx8-kvm', 'Chp4sswd-kvmth')
GUEST = 'kvmth-sec'


def playbook(workdir):
    user_data = dict(hostname=GUEST, password=SECRETS[0], chpasswd=dict(list='root:%s' % SECRETS[3], expire=False))
    guest = dict(name=GUEST, type='qemu', memory=64, state='shutdown',
                 graphics=dict(type='vnc', password=SECRETS[2]),
                 cloud_init=dict(user_data=user_data, directory=workdir))
    changed = dict(guest, cloud_init=dict(user_data=dict(user_data, password=SECRETS[1]), directory=workdir))
    broken = dict(guest, memory='lots')
    tasks = [
        {'name': 'create', 'kvmops.kvm.kvm_domain': guest},
        {'name': 'again', 'kvmops.kvm.kvm_domain': guest},
        {'name': 'new password, check mode', 'kvmops.kvm.kvm_domain': changed, 'check_mode': True},
        {'name': 'new password', 'kvmops.kvm.kvm_domain': changed},
        {'name': 'failing task carrying the secrets', 'kvmops.kvm.kvm_domain': broken, 'ignore_errors': True},
        {'name': 'info', 'kvmops.kvm.kvm_domain_info': {'name': GUEST, 'xml': True}},
    ]
    return [{'hosts': 'localhost', 'gather_facts': False,
             'vars': {'ansible_python_interpreter': PYTHON},
             'module_defaults': {'group/kvmops.kvm.kvm': {'uri': 'qemu:///system'}},
             'tasks': tasks}]


def test_secrets_never_in_output(conn, workdir):
    book = os.path.join(workdir, 'secrets.yml')
    with open(book, 'w') as stream:
        yaml.safe_dump(playbook(workdir), stream)
    record = os.path.join(workdir, 'record.jsonl')
    proc = subprocess.run([os.path.join(os.path.dirname(PYTHON), 'ansible-playbook'), '-vvv', '--diff', book],
                          env=ansible_env(record), capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
                          check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    with open(record) as stream:
        recorded = stream.read()
    results = [json.loads(line) for line in recorded.splitlines() if line.strip()]
    assert [(r['_status'], r.get('changed')) for r in results] == [
        ('ok', True), ('ok', False), ('ok', True), ('ok', True), ('failed', False), ('ok', False)], recorded[-2000:]
    assert results[4]['parameter'] == 'memory'
    for secret in SECRETS:
        assert secret not in output, 'secret %s in the -vvv output' % secret
        assert secret not in recorded, 'secret %s in a recorded result' % secret
    # the guest's name is public: it is not hidden for looking like a user_data value
    assert "'%s'" % GUEST in output or '"%s"' % GUEST in output

    seed = os.path.join(workdir, '%s-cidata.iso' % GUEST)
    info = os.stat(seed)
    qemu = pwd.getpwnam('libvirt-qemu')
    assert oct(info.st_mode & 0o777) == '0o600' and info.st_uid == qemu.pw_uid, (oct(info.st_mode), info.st_uid)
    assert not [f for f in os.listdir(workdir) if f.startswith('.seed-')]
    # graphics default to loopback
    xml = conn.lookupByName(GUEST).XMLDesc(0)
    assert "listen='127.0.0.1'" in xml


def test_graphics_default_to_loopback(conn):
    ok('kvm_domain', dict(name='kvmth-gfx', type='qemu', memory=64, state='shutdown', graphics=dict(type='spice')))
    xml = conn.lookupByName('kvmth-gfx').XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert "<listen type='address' address='127.0.0.1'/>" in xml, xml
    ok('kvm_domain', dict(name='kvmth-gfx2', type='qemu', memory=64, state='shutdown'))
    assert "address='127.0.0.1'" in conn.lookupByName('kvmth-gfx2').XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)


def test_names_never_become_paths_outside_the_pool(conn, workdir):
    ok('kvm_pool', dict(name='kvmth-names', path=workdir))
    outside = os.path.dirname(workdir)
    before = sorted(os.listdir(outside))
    for name in ('../kvmth-escape.qcow2', '..', 'a/../../kvmth-escape'):
        result = fails('kvm_volume', dict(pool='kvmth-names', name=name, capacity='1M'))
        assert result['parameter'] == 'name'
    result = fails('kvm_domain', dict(name='kvmth-esc', type='qemu', memory=64, state='shutdown',
                                      disks=[dict(pool='kvmth-names', volume='../kvmth-escape.qcow2', size='1M')]))
    assert result['parameter'] == 'disks[0].volume'
    assert sorted(os.listdir(outside)) == before and os.listdir(workdir) == []


@pytest.fixture
def https_server():
    """An https server on 127.0.0.1 with a self-signed certificate nobody trusts; serves one file."""
    directory = tempfile.mkdtemp(prefix='kvmth-https-')
    key, cert = os.path.join(directory, 'key.pem'), os.path.join(directory, 'cert.pem')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
                    '-days', '1', '-subj', '/CN=127.0.0.1'], check=True, capture_output=True)
    with open(os.path.join(directory, 'image.raw'), 'wb') as stream:
        stream.write(b'\0' * 1024 * 1024)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=directory, **kwargs)

        def log_message(self, *args):
            pass
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Quiet)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield 'https://127.0.0.1:%d/image.raw' % server.server_address[1]
    server.shutdown()
    shutil.rmtree(directory, ignore_errors=True)


def test_downloads_verify_tls(conn, workdir, https_server):
    import hashlib
    ok('kvm_pool', dict(name='kvmth-tls', path=workdir))
    checksum = 'sha256:' + hashlib.sha256(b'\0' * 1024 * 1024).hexdigest()
    source = dict(url=https_server, checksum=checksum)
    result = fails('kvm_volume', dict(pool='kvmth-tls', name='kvmth-dl.img', source=source))
    assert 'CERTIFICATE_VERIFY_FAILED' in result['msg'] or 'certificate' in result['msg'].lower(), result['msg']
    assert 'nothing was created' in result['msg']
    assert os.listdir(workdir) == []
    assert conn.storagePoolLookupByName('kvmth-tls').listAllVolumes(0) == []
    assert ROOT  # the harness' collection is the one under test
