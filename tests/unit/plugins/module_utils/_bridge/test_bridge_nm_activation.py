"""kvm_bridge's NetworkManager profiles handed to NetworkManager through its D-Bus API (recording stand-ins for the
client and netlink here; the lab's NetworkManager guest runs the real ones): the runtime bridge and bond deleted (their
released slaves brought up again), profiles re-read, the bridge's profile activated (NetworkManager brings its ports),
every profile waited on, under a checkpoint destroyed on success and rolled back on a failure."""

import pytest

from ansible_collections.kvmops.kvm.plugins.module_utils._bridge import netlink, nm
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

    def active_profiles(self):
        return dict(self.active)

    def device_profile(self, device):
        return self.profiles.get(device)

    def wait_managed(self, device, seconds):
        self.calls.append(('managed', device))
        return True

    def wait_profiles(self, uuids, seconds, still_activating_ok=False):
        self.calls.append(('wait', sorted(uuids.values()), still_activating_ok))
        if self.fail:
            raise KvmError('activate', 'NetworkManager profiles', self.fail, 'not activated after 120s')


class Link(object):
    """netlink as the module found it after its runtime changes: br0 over bond0 over eth0 and eth1."""
    calls = []
    links = {}

    def __init__(self):
        pass

    def close(self):
        pass

    def read(self):
        links = dict((n, {'kind': k, 'master': m}) for n, (k, m) in self.links.items())
        return netlink.State(links, {}, [])

    def delete(self, name):
        self.calls.append(('delete', name))
        del self.links[name]

    def set(self, name, **keywords):
        self.calls.append(('set', name, keywords))


@pytest.fixture
def client(monkeypatch):
    Client.calls = []
    Client.fail = None
    Client.active = {}
    Client.profiles = {}
    Link.calls = []
    Link.links = {'br0': ('bridge', None), 'bond0': ('bond', 'br0'), 'eth0': (None, 'bond0'),
                  'eth1': (None, 'bond0')}
    monkeypatch.setattr(nm.nmdbus, 'NetworkManager', Client)
    monkeypatch.setattr(nm, 'Netlink', Link)
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
    # the runtime bond and bridge are NetworkManager's to make; the bond's released slaves are up again
    assert sorted(c[1] for c in Link.calls if c[0] == 'delete') == ['bond0', 'br0']
    assert sorted(c[1] for c in Link.calls if c[0] == 'set') == ['eth0', 'eth1']
    activated = [c[1] for c in client.calls if c[0] == 'activate']
    assert activated == ['/settings/' + nm.profile_uuid('br0', 'br0')]
    names = [c[0] for c in client.calls]
    assert names == ['open', 'checkpoint_create', 'reload', 'managed', 'managed', 'activate', 'wait',
                     'checkpoint_destroy', 'close']
    assert client.calls[-3] == ('wait', ['kvmops-br0', 'kvmops-br0--bond0', 'kvmops-br0--eth0', 'kvmops-br0--eth1'],
                                False)


def test_a_bridge_networkmanager_already_runs_with_our_profile_is_kept_and_activated_again(client):
    client.profiles = {'br0': nm.profile_uuid('br0', 'br0'), 'bond0': nm.profile_uuid('br0', 'bond0')}
    client.active = {nm.profile_uuid('br0', 'br0'): 2}
    _verb, run, _detail = _activated(nm.Backend(None))
    run()
    assert [c for c in Link.calls if c[0] == 'delete'] == []
    assert [c[1] for c in client.calls if c[0] == 'activate'] == ['/settings/' + nm.profile_uuid('br0', 'br0')]


def test_a_bridge_networkmanager_started_by_itself_on_the_reload_is_not_activated_again(client):
    class Autoconnecting(Client):
        def reload(self):
            Client.reload(self)
            self.active[nm.profile_uuid('br0', 'br0')] = 1
    Autoconnecting.calls = Client.calls
    nm.nmdbus.NetworkManager = Autoconnecting
    _verb, run, _detail = _activated(nm.Backend(None))
    run()
    assert [c for c in client.calls if c[0] == 'activate'] == []


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
    assert names == ['open', 'checkpoint_create', 'reload', 'checkpoint_destroy', 'close']


def test_ports_that_are_not_nics_get_profiles_of_their_own_type():
    config = dict(CONFIG, uplink={'kind': 'ports', 'ports': ['eth0', 'kvmtb-dead'],
                                  'kinds': {'eth0': None, 'kvmtb-dead': 'dummy'}})
    rendered = nm.render(config)
    assert 'type=dummy' in rendered[nm.path('br0', 'kvmtb-dead')]
    assert 'type=ethernet' in rendered[nm.path('br0', 'eth0')]
