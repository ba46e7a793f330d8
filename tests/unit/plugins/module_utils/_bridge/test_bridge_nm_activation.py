"""kvm_bridge's NetworkManager profiles handed to NetworkManager through its D-Bus API (a recording stand-in for the
client here; the lab's NetworkManager guest runs the real one): loaded, activated controller first, waited on, under
a checkpoint destroyed on success and rolled back on a failure."""

import pytest

from ansible_collections.kvmops.kvm.plugins.module_utils._bridge import nm
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError

CONFIG = dict(name='br0', uplink={'kind': 'bond', 'name': 'bond0', 'slaves': ['eth0', 'eth1'],
                                  'options': {'mode': 'active-backup', 'miimon': 100}},
              ipv4={'method': 'dhcp', 'addresses': [], 'gateway': None, 'dns': []},
              ipv6={'method': 'none', 'addresses': [], 'gateway': None, 'dns': []},
              stp=False, forward_delay=0, mtu=None, mac='52:54:00:00:00:01', taps=[])


class Client(object):
    calls = []
    fail = None

    def __init__(self):
        self.calls.append(('open',))

    def close(self):
        self.calls.append(('close',))

    def checkpoint_create(self, seconds):
        self.calls.append(('checkpoint_create', seconds))
        return '/org/freedesktop/NetworkManager/Checkpoint/1'

    def checkpoint_destroy(self, path):
        self.calls.append(('checkpoint_destroy', path))

    def checkpoint_rollback(self, path):
        self.calls.append(('checkpoint_rollback', path))
        return {}

    def reload(self):
        self.calls.append(('reload',))

    def load(self, paths):
        self.calls.append(('load', sorted(p.rsplit('/', 1)[-1] for p in paths)))

    def connection(self, uuid):
        return '/settings/' + uuid

    def activate(self, connection):
        self.calls.append(('activate', connection))
        return '/active/%d' % len(self.calls)

    def wait_activated(self, active, seconds, still_activating_ok=False):
        self.calls.append(('wait', sorted(active.values()), still_activating_ok))
        if self.fail:
            raise KvmError('activate', 'NetworkManager profiles', self.fail, 'NetworkManager could not activate them')


@pytest.fixture
def client(monkeypatch):
    Client.calls = []
    Client.fail = None
    monkeypatch.setattr(nm.nmdbus, 'NetworkManager', Client)
    return Client


def _activated(backend, changed=None):
    wanted = nm.render(CONFIG)
    verb, run, detail = backend.activation(sorted(changed or wanted), wanted)
    return verb, run, detail


def test_profiles_are_loaded_and_activated_controller_first_under_a_checkpoint(client):
    verb, run, detail = _activated(nm.Backend(None))
    assert verb == 'load and activate profiles in'
    assert detail == 'kvmops-br0--bond0, kvmops-br0--eth0, kvmops-br0--eth1, kvmops-br0'
    run()
    activated = [c[1] for c in client.calls if c[0] == 'activate']
    uuids = [nm.profile_uuid('br0', d) for d in ('br0', 'bond0', 'eth0', 'eth1')]
    assert activated == ['/settings/' + u for u in uuids]
    names = [c[0] for c in client.calls]
    assert names == ['open', 'checkpoint_create', 'reload', 'activate', 'activate', 'activate', 'activate', 'wait',
                     'checkpoint_destroy', 'close']


def test_a_profile_that_fails_to_activate_rolls_the_checkpoint_back_and_fails_naming_it(client):
    client.fail = 'kvmops-br0--eth1'
    _verb, run, _detail = _activated(nm.Backend(None))
    with pytest.raises(KvmError) as raised:
        run()
    assert 'kvmops-br0--eth1' in str(raised.value)
    names = [c[0] for c in client.calls]
    assert 'checkpoint_rollback' in names and 'checkpoint_destroy' not in names


def test_under_rollback_the_runs_own_checkpoint_covers_the_activation(client):
    backend = nm.Backend(None)
    backend.checkpoint = '/org/freedesktop/NetworkManager/Checkpoint/7'
    backend.deadline = 10 ** 10
    _verb, run, _detail = _activated(backend)
    run()
    names = [c[0] for c in client.calls]
    assert 'checkpoint_create' not in names and 'checkpoint_destroy' not in names
    assert [c for c in client.calls if c[0] == 'wait'][0][2] is True


def test_removed_profiles_are_reloaded_away_and_nothing_is_activated(client):
    gone = sorted(nm.render(CONFIG))
    verb, run, detail = nm.Backend(None).activation(gone, dict((p, None) for p in gone))
    assert verb == 'remove profiles from'
    run()
    names = [c[0] for c in client.calls]
    assert names == ['open', 'checkpoint_create', 'reload', 'wait', 'checkpoint_destroy', 'close']


def test_ports_that_are_not_nics_get_profiles_of_their_own_type():
    config = dict(CONFIG, uplink={'kind': 'ports', 'ports': ['eth0', 'kvmtb-dead'],
                                  'kinds': {'eth0': None, 'kvmtb-dead': 'dummy'}})
    rendered = nm.render(config)
    assert 'type=dummy' in rendered[nm.path('br0', 'kvmtb-dead')]
    assert 'type=ethernet' in rendered[nm.path('br0', 'eth0')]
