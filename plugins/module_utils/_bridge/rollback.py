# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apply, verify connectivity, and restore the previous state when it is lost (private to kvmops.kvm).

The apply-and-verify step runs in a detached process (its own session, no terminal, SIGHUP ignored), so a
connection that dies with the change cannot kill it. It reports its verdict to the module through a pipe and
waits for the module to acknowledge it: a module that is gone by then (the connection dropped mid-change)
means nobody learnt the outcome, and the change is restored as if it had failed. Where NetworkManager manages
the host, a checkpoint is taken first; NetworkManager itself rolls back to it if neither process survives.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import select
import signal
import time
import traceback

from ansible.module_utils.six import text_type

from ansible_collections.kvmops.kvm.plugins.module_utils._bridge import nm
from ansible_collections.kvmops.kvm.plugins.module_utils._bridge import nmdbus
from ansible_collections.kvmops.kvm.plugins.module_utils._bridge import restore
from ansible_collections.kvmops.kvm.plugins.module_utils._bridge import stacks
from ansible_collections.kvmops.kvm.plugins.module_utils._bridge.spec import uplink_devices
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import validate as check
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError, ParameterError

ACK_SECONDS = 10


def options(value):
    """The rollback options checked: {'timeout', 'gateway', 'hosts', 'connection'}, or None without rollback."""
    if value is None:
        return None
    timeout = value.get('timeout') or 30
    check.integer_range('rollback.timeout', timeout, 1, 3600)
    given = value.get('check') or {}
    hosts = []
    for host in given.get('hosts') or []:
        try:
            hosts.append(text_type(check.ip_address('rollback.check.hosts', host)))
        except ParameterError:
            hosts.append(check.hostname('rollback.check.hosts', host))
    return {'timeout': timeout, 'gateway': given.get('gateway', True) is not False, 'hosts': hosts,
            'connection': given.get('connection', True) is not False}


# ---- what must answer

def targets(resource, settings):
    """[(what, address)] to ping after the change."""
    found = []
    if settings['gateway']:
        for version in (4, 6):
            gateway = resource.default_gateway(version)
            if gateway:
                found.append(('gateway', gateway))
    found.extend(('host', host) for host in settings['hosts'])
    if settings['connection']:
        ssh = os.environ.get('SSH_CONNECTION', '').split()
        if len(ssh) == 4:
            found.append(('ansible connection', ssh[0]))
    return found


def _answers(module, address):
    found, rc, _out, _err = stacks.run(module, ['ping', '-c', '1', '-W', '1', '-n', '-q', address])
    if not found:
        raise KvmError('verify connectivity of', 'bridge', '-', 'ping is not installed on the host (iputils-ping)')
    return rc == 0


def verify(module, wanted, deadline):
    """The targets that did not answer before the deadline (empty: all did)."""
    waiting = list(wanted)
    while waiting:
        waiting = [t for t in waiting if not _answers(module, t[1])]
        if not waiting or time.time() >= deadline:
            break
        time.sleep(0.5)   # a ping is the event here: the port may still be learning (STP forward delay)
    return waiting


# ---- NetworkManager checkpoints

def nm_checkpoint(timeout):
    """Take a checkpoint of every device that NetworkManager rolls back to by itself after `timeout` s."""
    client = nmdbus.NetworkManager()
    try:
        return client.checkpoint_create(timeout)
    finally:
        client.close()


def _nm_checkpoint_end(checkpoint, rollback_to=False):
    """Destroy the checkpoint (the change stays), or roll back to it: {device: result} of the rollback."""
    client = nmdbus.NetworkManager()
    try:
        if rollback_to:
            return client.checkpoint_rollback(checkpoint)
        client.checkpoint_destroy(checkpoint)
        return None
    finally:
        client.close()


# ---- the detached step

def apply_and_verify(resource, plan):
    settings = resource.rollback
    names = [resource.name] + uplink_devices(resource.desired['uplink'])
    names += [t['name'] for t in resource.desired['taps'] or []]
    names += resource.before.ports_of(resource.name)
    snapshot = restore.Snapshot(resource.before, names, resource.touched_files)
    checkpoint = None
    if resource.backend is not None and resource.backend.NAME == 'networkmanager':
        # covers the activation of the profiles too (which then takes no checkpoint of its own); NetworkManager
        # rolls back to it by itself if neither this run nor its detached step lives to destroy it
        checkpoint = nm_checkpoint(settings['timeout'] * 2 + 30 + nm.CHECKPOINT_SECONDS)
        resource.backend.checkpoint = checkpoint
        resource.backend.deadline = time.time() + settings['timeout']
    verdict_read, verdict_write = os.pipe()
    ack_read, ack_write = os.pipe()
    child = os.fork()
    if child == 0:   # pragma: no cover - runs in the forked processes
        os.close(verdict_read)
        os.close(ack_write)
        os.setsid()
        if os.fork() != 0:
            os._exit(0)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        try:
            _detached(resource, plan, snapshot, checkpoint, verdict_write, ack_read)
        except Exception:   # anything unforeseen: restore, and say why
            restored = rollback(resource, snapshot, checkpoint)
            _send(verdict_write, {'ok': False, 'rolled_back': True, 'restored': restored,
                                  'reason': 'the apply-and-verify step failed: %s; rolled back: %s' % (
                                      traceback.format_exc().strip().splitlines()[-1], '; '.join(restored))})
        finally:
            os._exit(0)
    os.close(verdict_write)
    os.close(ack_read)
    os.waitpid(child, 0)
    verdict = _read_verdict(verdict_read, settings['timeout'] + 600)
    os.close(verdict_read)
    try:
        os.write(ack_write, b'ack\n')
    except OSError:
        pass
    os.close(ack_write)
    if verdict is None:
        raise KvmError('apply', 'bridge', resource.name, 'the detached apply-and-verify step ended without a verdict')
    if verdict.get('ok'):
        return
    resource.rolled_back = verdict.get('rolled_back', False)
    raise KvmError('apply', 'bridge', resource.name, verdict['reason'], rolled_back=resource.rolled_back,
                   lost=verdict.get('lost', []), restored=verdict.get('restored', []), done=verdict.get('done'))


def _read_verdict(fd, seconds):
    data = b''
    deadline = time.time() + seconds
    while time.time() < deadline:
        ready, _w, _x = select.select([fd], [], [], max(0.1, deadline - time.time()))
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
        if b'\n' in data:   # one verdict, one line: the step then waits for our acknowledgement
            break
    try:
        return json.loads(data.split(b'\n')[0].decode('utf-8'))
    except ValueError:
        return None


def _send(fd, verdict):
    try:
        os.write(fd, json.dumps(verdict).encode('utf-8') + b'\n')
        return True
    except OSError:
        return False


def _acknowledged(fd):
    ready, _w, _x = select.select([fd], [], [], ACK_SECONDS)
    try:
        return bool(ready) and os.read(fd, 16).startswith(b'ack')
    except OSError:
        return False


def _detached(resource, plan, snapshot, checkpoint, verdict_fd, ack_fd):
    settings = resource.rollback
    module = resource.module
    deadline = time.time() + settings['timeout']
    done = []
    lost = []
    reason = None
    try:
        for action in plan.actions:
            resource.apply_action(action)
            done.append(action.describe())
        wanted = targets(resource, settings)
        lost = ['%s %s' % t for t in verify(module, wanted, deadline)]
        if lost:
            reason = 'connectivity lost after the change: %s did not answer within %ss' % (
                ', '.join(lost), settings['timeout'])
    except KvmError as exc:
        reason = str(exc)
    if reason is None:
        sent = _send(verdict_fd, {'ok': True, 'done': done})
        if sent and _acknowledged(ack_fd):
            if checkpoint:
                _nm_checkpoint_end(checkpoint)
            return
        reason = 'the Ansible connection dropped before the module got the verdict'
        lost = lost or ['ansible connection']
    restored = rollback(resource, snapshot, checkpoint)
    _send(verdict_fd, {'ok': False, 'rolled_back': True, 'reason': '%s; rolled back: %s' % (
        reason, '; '.join(restored) or 'nothing needed restoring'), 'lost': lost, 'restored': restored, 'done': done})


def rollback(resource, snapshot, checkpoint):
    """Restore NetworkManager's checkpoint (where taken), then the runtime links and the files ourselves."""
    module = resource.module
    restored = []
    by_checkpoint = False
    if checkpoint:
        try:
            results = _nm_checkpoint_end(checkpoint, rollback_to=True)
            failed = sorted(device for device, result in results.items() if result != 0)
            restored.append('NetworkManager checkpoint %s%s' % (
                checkpoint, ' (not restored: %s)' % ', '.join(failed) if failed else ''))
            by_checkpoint = not failed
        except KvmError as exc:
            restored.append('NetworkManager checkpoint rollback failed: %s' % exc)
        resource.backend.checkpoint = None
    restored += restore.persistent(module, snapshot)
    # NetworkManager's rollback re-activated the profiles as they were: the files are only written back
    if resource.backend is not None and snapshot.files and not by_checkpoint:
        activation = resource.backend.activation(sorted(snapshot.files), dict(
            (p, t) for p, t in snapshot.files.items()))
        if activation is not None:
            try:
                activation[1]()
            except KvmError as exc:
                restored.append('%s failed: %s' % (activation[0], exc))
    restored += restore.runtime(resource.nl(), snapshot, links_only=by_checkpoint)
    return restored
