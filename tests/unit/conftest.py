"""Unit tests import the collection from the local collections path made by `make setup`, and run
modules in-process (against libvirt's test driver) through `module_runner`."""

import json
import os
import re
import sys
import uuid

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, '.collections'))

TEST_DRIVER = 'test:///default'


@pytest.fixture
def module_runner(capsys):
    """module_runner(kvm_x) -> run(check=False, **args): the module's result, as Ansible would get it."""
    from ansible.module_utils.testing import patch_module_args

    from ansible.module_utils.common import warnings

    def make(module, uri=TEST_DRIVER):
        def run(check=False, **args):
            # each run starts with no warnings, as in its own process under Ansible (they are module globals)
            warnings._global_warnings.clear()   # pylint: disable=protected-access
            args = dict(args, uri=uri, _ansible_check_mode=check, _ansible_diff=True)
            with patch_module_args(args):
                with pytest.raises(SystemExit) as exited:
                    module.main()
            result = json.loads(capsys.readouterr().out)
            result['rc'] = exited.value.code
            return result
        return run
    return make


@pytest.fixture
def test_driver():
    """An open connection to the test driver: its state lives as long as one connection does."""
    libvirt = pytest.importorskip('libvirt')
    libvirt.registerErrorHandler(lambda *_: None, None)
    connection = libvirt.open(TEST_DRIVER)
    yield connection
    connection.close()


FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures')
CAPABILITY_QUERIES = ('getCapabilities', 'getDomainCapabilities')


class LibvirtCalls(object):
    """Every libvirt method a module run calls, on its connection and on the objects that connection hands out.

    The test driver has no domain capabilities and its host capabilities offer no x86_64 machine types: both
    queries are answered (and counted) with those of a real Debian 12 host (QEMU 7.2, libvirt 9.0), so
    kvm_domain's checks run as on a real daemon. Each URI is its own host: a connection to another URI than the
    default test driver answers with a host UUID of its own (kvm_migrate refuses to move a guest onto itself)."""

    def __init__(self):
        self.calls = []

    def count(self, name):
        return sum(1 for call in self.calls if call == name or call.endswith('.' + name))

    def capability_queries(self):
        return [call for call in self.calls if call.split('.')[-1] in CAPABILITY_QUERIES]

    def reset(self):
        del self.calls[:]


_ANSWERED = dict(getCapabilities='capabilities.xml', getDomainCapabilities='domcapabilities-qemu.xml')


class _Recorded(object):
    """A libvirt object whose method calls are recorded; arguments are unwrapped before libvirt sees them."""

    def __init__(self, target, kind, calls, uri=TEST_DRIVER):
        self.__dict__.update(_target=target, _kind=kind, _calls=calls, _uri=uri)

    def __getattr__(self, name):
        attribute = getattr(self._target, name)
        if not callable(attribute):
            return attribute
        if name in _ANSWERED:
            def answer(*_args, **_kwargs):
                self._calls.calls.append('%s.%s' % (self._kind, name))
                with open(os.path.join(FIXTURES, _ANSWERED[name])) as stream:
                    return _as_host(stream.read(), self._uri)
            return answer

        def call(*args, **kwargs):
            self._calls.calls.append('%s.%s' % (self._kind, name))
            result = attribute(*[_unwrapped(a) for a in args], **dict((k, _unwrapped(v)) for k, v in kwargs.items()))
            return _recorded(result, self._calls)
        return call


def _as_host(capabilities, uri):
    """The fixture's capabilities as the host behind `uri` would answer them (with its own host UUID)."""
    if uri == TEST_DRIVER:
        return capabilities
    host_uuid = uuid.uuid5(uuid.NAMESPACE_URL, uri)
    return re.sub('<uuid>[^<]*</uuid>', '<uuid>%s</uuid>' % host_uuid, capabilities, count=1)


def _unwrapped(value):
    return value._target if isinstance(value, _Recorded) else value


def _recorded(value, calls):
    import libvirt
    kinds = ((libvirt.virDomain, 'domain'), (libvirt.virNetwork, 'network'), (libvirt.virStoragePool, 'pool'),
             (libvirt.virStorageVol, 'volume'))
    if isinstance(value, list):
        return [_recorded(item, calls) for item in value]
    for cls, kind in kinds:
        if isinstance(value, cls):
            return _Recorded(value, kind, calls)
    return value


@pytest.fixture
def libvirt_calls(monkeypatch):
    """Records the libvirt calls of every module run in this test (see LibvirtCalls)."""
    from ansible_collections.kvmops.kvm.plugins.module_utils._engine import module as _module
    calls = LibvirtCalls()
    opened = _module.open_connection

    def open_recorded(uri):
        return _Recorded(opened(uri), 'conn', calls, uri)
    monkeypatch.setattr(_module, 'open_connection', open_recorded)
    return calls


@pytest.fixture
def opened(monkeypatch, libvirt_calls):
    """The URIs the module opened a connection to, one entry per connection."""
    from ansible_collections.kvmops.kvm.plugins.module_utils._engine import module as engine_module
    uris = []
    recorded = engine_module.open_connection

    def counting(uri):
        uris.append(uri)
        return recorded(uri)
    monkeypatch.setattr(engine_module, 'open_connection', counting)
    return uris
