"""The volume model, image headers, sizes, checksums and downloads."""

import functools
import hashlib
import http.server
import os
import struct
import threading

import pytest

from ansible_collections.kvmops.kvm.plugins.module_utils._storage import download as _download
from ansible_collections.kvmops.kvm.plugins.module_utils._storage import volume_model as model
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import ParameterError

MiB = 1024 ** 2


@pytest.mark.parametrize('value, expected', [
    (512 * MiB, 512 * MiB), (str(MiB), MiB), ('1000B', 1000), ('10G', 10 * 1024 * MiB), ('10GiB', 10 * 1024 * MiB), ('512MiB', 512 * MiB),
    ('1.5G', 1536 * MiB), ('2GB', 2 * 10 ** 9)])
def test_capacity(value, expected):
    assert model.capacity('capacity', value) == expected


@pytest.mark.parametrize('value', ['ten', '10X', 0, '-1G', 512, '64', True, [1]])
def test_bad_capacity(value):
    with pytest.raises(ParameterError):
        model.capacity('capacity', value)


def test_human_and_aligned():
    assert model.human(64 * MiB) == '64 MiB' and model.human(1536 * MiB) == '1.5 GiB'
    assert model.aligned(1000, 512) == 1024 and model.aligned(1024, 512) == 1024


def test_image_info(tmp_path):
    qcow2 = tmp_path / 'a.qcow2'
    qcow2.write_bytes(b'QFI\xfb' + b'\0' * 20 + struct.pack('>Q', 10 * 1024 * MiB) + b'\0' * 100)
    assert model.image_info(str(qcow2)) == ('qcow2', 10 * 1024 * MiB)
    raw = tmp_path / 'a.img'
    raw.write_bytes(b'\0' * 4096)
    assert model.image_info(str(raw)) == ('raw', 4096)


def test_read_volume():
    root = _xml.parse("""<volume type='file'><name>a</name><key>/p/a</key>
      <capacity unit='bytes'>16777216</capacity><allocation unit='KiB'>196</allocation>
      <target><path>/p/a</path><format type='qcow2'/>
        <permissions><mode>0600</mode><owner>0</owner><group>0</group></permissions></target>
      <backingStore><path>/p/base</path><format type='raw'/></backingStore></volume>""")
    assert model.read(root) == {'path': '/p/a', 'format': 'qcow2', 'capacity': 16 * MiB, 'allocation': 196 * 1024,
                                'backing': '/p/base', 'owner': 0, 'group': 0, 'mode': '0600'}


def test_new_definition():
    text = model.new_definition('o', 5, 'qcow2', {'mode': '0640'}, {'path': '/p/base', 'format': 'raw'})
    root = _xml.parse(text)
    assert root.findtext('capacity') == '5' and root.find('target/format').get('type') == 'qcow2'
    assert root.findtext('target/permissions/mode') == '0640'
    assert root.findtext('backingStore/path') == '/p/base'
    assert _xml.parse(model.new_definition('lv', 5, None, {})).find('target/format') is None


@pytest.mark.parametrize('name', ['', '.', '..', 'a/b', 'x' * 256])
def test_bad_volume_names(name):
    with pytest.raises(ParameterError):
        model.volume_name('name', name)


def test_parse_checksum():
    assert _download.parse_checksum('c', 'SHA256:' + 'AB' * 32) == ('sha256', 'ab' * 32)
    assert _download.parse_checksum('c', 'sha512:' + '0' * 128)[0] == 'sha512'
    for bad in ('sha256:abc', 'md5:' + '0' * 32, '0' * 64, 'sha1:' + 'g' * 40):
        with pytest.raises(ParameterError, match='sha256'):
            _download.parse_checksum('c', bad)


@pytest.fixture
def served(tmp_path):
    (tmp_path / 'image').write_bytes(b'kvmops' * 1000)
    server = http.server.ThreadingHTTPServer(
        ('127.0.0.1', 0), functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path)))
    server.RequestHandlerClass.log_message = lambda *_: None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield 'http://127.0.0.1:%d' % server.server_address[1], tmp_path
    server.shutdown()
    server.server_close()


def test_download_verified(served):
    base, tmp_path = served
    good = ('sha256', hashlib.sha256(b'kvmops' * 1000).hexdigest())
    path = _download.download(base + '/image', good, str(tmp_path))
    with open(path, 'rb') as stream:
        assert stream.read() == b'kvmops' * 1000
    os.unlink(path)


def test_download_bad_checksum_keeps_nothing(served):
    base, tmp_path = served
    with pytest.raises(_download.DownloadError, match='not the expected'):
        _download.download(base + '/image', ('sha1', '0' * 40), str(tmp_path))
    assert sorted(os.listdir(str(tmp_path))) == ['image']
    with pytest.raises(_download.DownloadError, match='404'):
        _download.download(base + '/missing', ('sha1', '0' * 40), str(tmp_path))
