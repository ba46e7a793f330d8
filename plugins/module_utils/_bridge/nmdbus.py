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

    def load(self, filenames):
        """Load (or re-read) keyfiles; raises naming the files NetworkManager refused."""
        _status, failures = self._call(SETTINGS, BUS_NAME + '.Settings', 'LoadConnections', 'as', (list(filenames),))
        if failures:
            raise KvmError('load', 'NetworkManager profiles', ', '.join(failures), 'NetworkManager refused them')

    def reload(self):
        """Re-read every profile from disk: profiles whose files are gone are removed (and deactivated)."""
        self._call(SETTINGS, BUS_NAME + '.Settings', 'ReloadConnections')

    def connection(self, uuid):
        return self._call(SETTINGS, BUS_NAME + '.Settings', 'GetConnectionByUuid', 's', (uuid,))[0]

    def activate(self, connection):
        """Start activating a profile on the device it names; returns the active connection's path."""
        return self._call(ROOT, BUS_NAME, 'ActivateConnection', 'ooo', (connection, NO_OBJECT, NO_OBJECT))[0]

    def wait_activated(self, active, seconds, still_activating_ok=False):
        """Wait for every active connection in `active` ({path: profile}) to reach ACTIVATED, on NetworkManager's
        StateChanged signals; raises naming the profiles that failed or (unless still_activating_ok) are still
        activating when `seconds` are up."""
        rule = dbus.MatchRule(type='signal', interface=ACTIVE, member='StateChanged')
        dbus.unwrap_msg(self.conn.send_and_get_reply(dbus.message_bus.AddMatch(rule), timeout=10))
        deadline = time.time() + seconds
        with self.conn.filter(rule, bufsize=256) as queue:
            states = {}
            for path in active:
                try:   # the signal may have come before the match: read the state once
                    states[path] = self._property(path, ACTIVE, 'State')
                except KvmError:   # gone already: it failed and NetworkManager dropped it
                    states[path] = DEACTIVATED
            while True:
                failed = sorted(active[p] for p, s in states.items() if s in (DEACTIVATING, DEACTIVATED))
                if failed:
                    raise KvmError('activate', 'NetworkManager profiles', ', '.join(failed),
                                   'NetworkManager could not activate them (see journalctl -u NetworkManager)')
                waiting = sorted(active[p] for p, s in states.items() if s != ACTIVATED)
                if not waiting:
                    return
                left = deadline - time.time()
                if left <= 0:
                    if still_activating_ok:
                        return
                    raise KvmError('activate', 'NetworkManager profiles', ', '.join(waiting),
                                   'still activating after %ss' % seconds)
                try:
                    message = self.conn.recv_until_filtered(queue, timeout=left)
                except TimeoutError:
                    continue
                path = message.header.fields.get(dbus.HeaderFields.path)
                if path in states:
                    states[path] = message.body[0]
