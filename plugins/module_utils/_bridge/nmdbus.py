# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""NetworkManager's D-Bus API through jeepney: checkpoints, loading and activating profiles (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.kvmops.kvm.plugins.module_utils._bridge.deps import dbus, require_jeepney
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError

BUS_NAME = 'org.freedesktop.NetworkManager'
ROOT = '/org/freedesktop/NetworkManager'
SETTINGS = ROOT + '/Settings'
ACTIVE = BUS_NAME + '.Connection.Active'
# NM_CHECKPOINT_CREATE_FLAG_DELETE_NEW_CONNECTIONS | NM_CHECKPOINT_CREATE_FLAG_DISCONNECT_NEW_DEVICES: a rollback
# also removes the profiles the run added and takes down the links it made
CHECKPOINT_FLAGS = 0x02 | 0x04
# NMActiveConnectionState
ACTIVATING, ACTIVATED, DEACTIVATING, DEACTIVATED = 1, 2, 3, 4
STATES = {ACTIVATING: 'activating', DEACTIVATING: 'deactivating', DEACTIVATED: 'deactivated'}
# NMDeviceState
UNMANAGED = 10
NO_OBJECT = '/'


def running():
    """Whether NetworkManager owns its name on the system bus (False also when there is no bus to ask)."""
    if dbus.open is None:
        return None
    try:
        client = NetworkManager()
    except (OSError, ValueError, KvmError):
        return False
    try:
        return client.running()
    finally:
        client.close()


class NetworkManager(object):
    """One system-bus connection to NetworkManager for one module run."""

    def __init__(self):
        require_jeepney()
        self.conn = dbus.open(bus='SYSTEM')
        self.subscribed = False   # to NetworkManager's signals, once per connection

    def close(self):
        self.conn.close()

    def _call(self, path, interface, method, signature=None, body=(), timeout=60):
        address = dbus.DBusAddress(path, bus_name=BUS_NAME, interface=interface)
        message = dbus.new_method_call(address, method, signature, body)
        try:
            return dbus.unwrap_msg(self.conn.send_and_get_reply(message, timeout=timeout))
        except dbus.DBusErrorResponse as exc:
            raise KvmError(method, 'NetworkManager', path, '%s: %s' % (
                exc.name, ' '.join('%s' % part for part in exc.data)))
        except (OSError, TimeoutError) as exc:
            raise KvmError(method, 'NetworkManager', path, 'no answer on the system bus: %s' % exc)

    def _property(self, path, interface, name):
        found = self._call(path, 'org.freedesktop.DBus.Properties', 'Get', 'ss', (interface, name))[0]
        return found[1]

    def running(self):
        bus = dbus.DBusAddress('/org/freedesktop/DBus', bus_name='org.freedesktop.DBus',
                               interface='org.freedesktop.DBus')
        reply = self.conn.send_and_get_reply(dbus.new_method_call(bus, 'NameHasOwner', 's', (BUS_NAME,)), timeout=10)
        return bool(dbus.unwrap_msg(reply)[0])

    # ---- checkpoints

    def checkpoint_create(self, rollback_timeout, devices=()):
        """A checkpoint of `devices` (paths; none: every device) that NetworkManager itself rolls back to after
        `rollback_timeout` s unless it is destroyed first."""
        return self._call(ROOT, BUS_NAME, 'CheckpointCreate', 'aouu',
                          (list(devices), int(rollback_timeout), CHECKPOINT_FLAGS))[0]

    def checkpoint_destroy(self, checkpoint):
        self._call(ROOT, BUS_NAME, 'CheckpointDestroy', 'o', (checkpoint,))

    def checkpoint_rollback(self, checkpoint):
        """{device path: NMRollbackResult} (0: restored)."""
        return dict(self._call(ROOT, BUS_NAME, 'CheckpointRollback', 'o', (checkpoint,), timeout=120)[0])

    # ---- profiles

    def reload(self):
        """Re-read every profile from disk: profiles whose files are gone are removed (and deactivated)."""
        self._call(SETTINGS, BUS_NAME + '.Settings', 'ReloadConnections')

    def connection(self, uuid):
        return self._call(SETTINGS, BUS_NAME + '.Settings', 'GetConnectionByUuid', 's', (uuid,))[0]

    def wait_managed(self, device, seconds):
        """Wait until NetworkManager takes a link made a moment ago (state unmanaged until it has looked at it: an
        activation on it is refused as "strictly unmanaged" before then); False when the time is up."""
        def managed():
            try:
                path = self._call(ROOT, BUS_NAME, 'GetDeviceByIpIface', 's', (device,))[0]
                return self._property(path, BUS_NAME + '.Device', 'State') > UNMANAGED
            except KvmError:   # not a device of NetworkManager's yet
                return False
        return self._wait(managed, seconds)

    def activate(self, connection):
        """Start activating a profile on the device it names; returns the active connection's path."""
        return self._call(ROOT, BUS_NAME, 'ActivateConnection', 'ooo', (connection, NO_OBJECT, NO_OBJECT))[0]

    def device_profile(self, device):
        """The uuid of the profile active on `device`, None when none is (or NetworkManager has no such device)."""
        try:
            path = self._call(ROOT, BUS_NAME, 'GetDeviceByIpIface', 's', (device,))[0]
            active = self._property(path, BUS_NAME + '.Device', 'ActiveConnection')
            return None if active == NO_OBJECT else self._property(active, ACTIVE, 'Uuid')
        except KvmError:
            return None

    def active_profiles(self):
        """{profile uuid: state} of NetworkManager's active connections."""
        found = {}
        for active in self._property(ROOT, BUS_NAME, 'ActiveConnections'):
            try:
                found[self._property(active, ACTIVE, 'Uuid')] = self._property(active, ACTIVE, 'State')
            except KvmError:   # gone between the two reads
                pass
        return found

    def wait_profiles(self, uuids, seconds, still_activating_ok=False):
        """Wait until every profile of `uuids` ({uuid: profile}) is activated, whichever activation brought it up
        (NetworkManager activates a controller's ports itself, autoconnect-slaves, and may activate one again when
        its controller is). Raises naming the profiles not activated when `seconds` are up (unless
        still_activating_ok)."""
        states = {}

        def activated():
            states.update(self.active_profiles())
            return all(states.get(u) == ACTIVATED for u in uuids)
        if self._wait(activated, seconds) or still_activating_ok:
            return
        raise KvmError('activate', 'NetworkManager profiles', ', '.join(sorted(
            p for u, p in uuids.items() if states.get(u) != ACTIVATED)),
            'not activated after %ss (%s); see journalctl -u NetworkManager' % (seconds, ', '.join(
                '%s %s' % (uuids[u], STATES.get(states.get(u), 'inactive'))
                for u in sorted(uuids) if states.get(u) != ACTIVATED)))

    # ---- waiting on NetworkManager's signals

    def _wait(self, ready, seconds):
        """True once `ready()` holds, checked now and again whenever NetworkManager signals anything under its
        object tree (a device added or changing state, an activation changing state, properties changed); False
        when `seconds` are up first. The filter is in place before the subscription and the first check, so no
        change falls between them."""
        deadline = time.time() + seconds
        rule = dbus.MatchRule(type='signal', path_namespace=ROOT)
        with self.conn.filter(rule) as signals:
            if not self.subscribed:
                self.conn.send_and_get_reply(dbus.message_bus.AddMatch(rule), timeout=10)
                self.subscribed = True
            while not ready():
                left = deadline - time.time()
                if left <= 0:
                    return False
                try:
                    self.conn.recv_until_filtered(signals, timeout=left)
                except TimeoutError:
                    return ready()
                signals.clear()   # one look at the state answers every signal that came meanwhile
            return True
