"""The run's connection (_engine/connection.py): opened once, a failure says where and what to check."""

import pytest

libvirt = pytest.importorskip('libvirt')

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.connection import (  # noqa: E402
    CONNECTION_ARGUMENT_SPEC, DEFAULT_URI, is_local_uri, open_connection)
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError  # noqa: E402


def test_the_uri_option_defaults_to_the_system_daemon():
    assert CONNECTION_ARGUMENT_SPEC == {'uri': {'type': 'str', 'default': 'qemu:///system'}}
    assert DEFAULT_URI == 'qemu:///system'


def test_open_connection_opens_the_uri():
    conn = open_connection('test:///default')
    try:
        assert conn.getURI() == 'test:///default'
    finally:
        conn.close()


def test_an_unreachable_hypervisor_is_named_with_libvirts_reason_and_a_hint(capfd):
    with pytest.raises(KvmError) as failed:
        open_connection('test:///nonexistent/kvmtu-missing.xml')
    message = str(failed.value)
    assert message.startswith("connect to hypervisor 'test:///nonexistent/kvmtu-missing.xml' failed: ")
    assert 'kvmtu-missing.xml' in failed.value.reason
    assert 'is the libvirt daemon running' in message and 'virsh -c test:///nonexistent/kvmtu-missing.xml version' in message
    assert 'libvirt:' not in capfd.readouterr().err   # libvirt's own printing to stderr is silenced


@pytest.mark.parametrize('uri, local', [
    ('qemu:///system', True),
    ('qemu:///session', True),
    ('test:///default', True),
    ('qemu+ssh://localhost/system', True),
    ('qemu+tcp://127.0.0.1/system', True),
    ('qemu+tls://[::1]/system', True),
    ('qemu+ssh://root@kvm2.example/system', False),
    ('qemu+ssh://10.0.0.2/system?keyfile=/k', False),
])
def test_local_uris(uri, local):
    assert is_local_uri(uri) is local
