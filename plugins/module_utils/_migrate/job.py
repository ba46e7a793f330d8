# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A running migration: started in a worker thread, watched through the source's job statistics and
migration-iteration events, and the timeout policy (abort, switch to post-copy, pause) (private to kvmops.kvm).

The blocking migrate call and the control calls (job statistics, abortJob, migrateStartPostCopy, suspend) go
over two different connections to the source. Over one connection (qemu+ssh, libvirt 9.0) a control call sent
while the migrate call waited was sometimes delivered to the source daemon only after the migration had ended:
an abort at the timeout then blocked for the whole migration and the job completed (seen 6 times in 12 tries
at 1 MiB/s; the source daemon's debug log showed abortJob arrive 20 ms after Perform3 returned)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import threading
import time

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import libvirt_reason

POLL_SECONDS = 0.5
ABORT_AGAIN_SECONDS = 1.0
PROGRESS_EVERY = 5.0
MIB = 1024 ** 2
PAUSED_POSTCOPY = getattr(libvirt, 'VIR_DOMAIN_PAUSED_POSTCOPY', 12)


class Outcome(object):
    """What happened: completed or not, the error, what the timeout policy did, the last job statistics."""

    def __init__(self):
        self.completed = False
        self.error = None
        self.timed_out = False
        self.timeout_action = None      # what was done at the timeout: 'abort', 'postcopy', 'pause'
        self.paused_by_us = False
        self.postcopy_started = False   # the source switched to post-copy (its state said so)
        self.seconds = 0.0
        self.last_stats = {}
        self.destination_domain = None
        self.iterations_seen = 0        # from the migration-iteration events
        self.lost = None                # 'destination' when that connection closed (daemon gone, host unreachable)


class MigrationJob(object):

    def __init__(self, control, start, log, warn, timeout=None, timeout_action='abort', max_downtime=None,
                 watched=()):
        """control: the guest's domain on a connection of its own to the source (statistics, abort, post-copy,
        pause); start() runs the blocking migrate call (over the other connection) and returns the
        destination's domain (or None); watched: (name, connection) pairs whose loss aborts the job."""
        self.dom = control
        self.start = start
        self.log = log
        self.warn = warn
        self.timeout = timeout
        self.timeout_action = timeout_action
        self.max_downtime = max_downtime
        self.wake = threading.Event()
        self.done = threading.Event()
        self.policy = None            # None, then 'pending' (timeout reached, not applied yet), then 'applied'
        self.acted_at = None
        self.message = ''
        self.watched = watched

    def run(self):
        outcome = Outcome()

        def worker():
            try:
                outcome.destination_domain = self.start()
                outcome.completed = True
            except libvirt.libvirtError as exc:
                outcome.error = libvirt_reason(exc)
            finally:
                self.done.set()
                self.wake.set()

        callback = self._watch_iterations(outcome)
        closers = self._watch_connections(outcome)
        thread = threading.Thread(target=worker, name='kvmops-migrate')
        began = time.monotonic()
        thread.start()
        downtime_set = self.max_downtime is None
        last_log = began
        try:
            while not self.done.is_set():
                wait = POLL_SECONDS
                if self.timeout is not None and self.policy is None:
                    wait = max(0.0, min(wait, began + self.timeout - time.monotonic()))
                self.wake.wait(wait)   # the worker's end, an iteration event, or the next statistics
                self.wake.clear()
                if self.done.is_set():
                    break
                stats = self._stats()
                if stats.get('type', libvirt.VIR_DOMAIN_JOB_NONE) != libvirt.VIR_DOMAIN_JOB_NONE:
                    outcome.last_stats = stats
                    if not downtime_set:
                        downtime_set = self._set_downtime()
                now = time.monotonic()
                if now - last_log >= PROGRESS_EVERY:
                    last_log = now
                    self.log(progress_line(stats, now - began))
                if self.timeout is not None and self.policy is None and now - began >= self.timeout:
                    outcome.timed_out = True
                    outcome.timeout_action = self.timeout_action
                    self.policy = 'pending'
                    self.message = 'migration still running after %ss (%s)' % (
                        self.timeout, progress_line(stats, now - began))
                if outcome.lost and self.policy is None:
                    # the destination's daemon is gone or unreachable: the job cannot finish there; without an
                    # abort the source's QEMU would send into a dead TCP stream until the kernel gives up (minutes)
                    self.policy, self.timeout_action = 'pending', 'abort'
                    self.message = "the connection to the %s was lost (%s)" % (outcome.lost, progress_line(
                        stats, now - began))
                if self.policy is not None:
                    self._apply_policy(outcome, stats, now)
        finally:
            thread.join()
            self._unwatch(callback)
            for conn in closers:
                try:
                    conn.unregisterCloseCallback()
                except libvirt.libvirtError:
                    pass
        outcome.seconds = time.monotonic() - began
        return outcome

    # ---- events: a new memory iteration wakes the loop (post-copy waits for the transfer to run)

    def _watch_iterations(self, outcome):
        def on_iteration(_conn, _dom, iteration, _opaque):
            outcome.iterations_seen = max(outcome.iterations_seen, iteration)
            self.wake.set()   # only signal: a libvirt call from the event thread would wait on this very thread
        try:
            return self.dom.connect().domainEventRegisterAny(
                self.dom, libvirt.VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION, on_iteration, None)
        except libvirt.libvirtError:
            return None   # no event loop or an old daemon: the statistics say the same, a poll later

    def _watch_connections(self, outcome):
        """Keepalive (a peer that stops answering counts as lost after ~20 s) and a close callback on each
        watched connection."""
        watching = []
        for name, conn in self.watched:
            def on_close(_conn, _reason, _opaque, name=name):
                outcome.lost = outcome.lost or name
                self.wake.set()
            try:
                conn.setKeepAlive(5, 3)
                conn.registerCloseCallback(on_close, None)
                watching.append(conn)
            except libvirt.libvirtError:
                pass   # a local driver has no keepalive and does not close under us
        return watching

    def _unwatch(self, callback):
        if callback is not None:
            try:
                self.dom.connect().domainEventDeregisterAny(callback)
            except libvirt.libvirtError:
                pass

    # ---- the timeout policy

    def _apply_policy(self, outcome, stats, now):
        action = self.timeout_action
        if action == 'abort':
            if self.policy == 'pending' or now - self.acted_at >= ABORT_AGAIN_SECONDS:
                # libvirt's abortJob returns once QEMU reports the migration cancelled; asked again while the
                # worker still runs in case a cancel landed between two of QEMU's own steps
                first = self.policy == 'pending'
                self.policy, self.acted_at = 'applied', now
                self._act(outcome, 'abort', self.dom.abortJob, 'aborted' if first else None)
        elif action == 'pause':
            if self.policy == 'pending':
                self.policy, self.acted_at = 'applied', now
                if self._act(outcome, 'pause', self.dom.suspend, 'guest paused so that the migration completes'):
                    outcome.paused_by_us = True
        elif self.policy == 'pending':
            # post-copy can start only once QEMU transfers memory (the first iteration has begun); before that
            # (the destination is still being prepared) the switch is refused or lost, so it waits for it
            if outcome.iterations_seen >= 1 or stats.get('memory_iteration', 0) >= 1 or stats.get('memory_processed'):
                self.policy, self.acted_at = 'applied', now
                self._act(outcome, 'postcopy', lambda: self.dom.migrateStartPostCopy(0), 'switched to post-copy')
        if action == 'postcopy' and self.policy == 'applied' and not outcome.postcopy_started:
            outcome.postcopy_started = self._in_postcopy()

    def _act(self, outcome, name, call, done_words):
        try:
            call()
        except libvirt.libvirtError as exc:
            if self.done.is_set() or (name == 'abort' and _no_job(exc)):
                return False   # the job ended meanwhile: the worker reports how
            self.warn('%s: %s failed: %s' % (self.message, name, libvirt_reason(exc)))
            if name != 'abort':
                self.timeout_action = outcome.timeout_action = 'abort'   # never let it run unbounded
                self.policy = 'pending'
            return False
        if done_words:
            self.warn('%s: %s' % (self.message, done_words))
        return True

    def _in_postcopy(self):
        try:
            state, reason = self.dom.state()
        except libvirt.libvirtError:
            return False
        return state == libvirt.VIR_DOMAIN_PAUSED and reason == PAUSED_POSTCOPY

    # ---- statistics

    def _stats(self):
        try:
            return self.dom.jobStats(0)
        except libvirt.libvirtError:
            return {}   # the job ended between the wait and this call

    def _set_downtime(self):
        try:
            self.dom.migrateSetMaxDowntime(int(self.max_downtime), 0)
        except libvirt.libvirtError as exc:
            self.warn('max_downtime was not applied: %s' % libvirt_reason(exc))
        return True


def _no_job(exc):
    return exc.get_error_code() in (libvirt.VIR_ERR_OPERATION_INVALID, libvirt.VIR_ERR_NO_DOMAIN)


def progress_line(stats, elapsed):
    if not stats:
        return 'starting (%.0f s)' % elapsed
    return ('%.0f s: %d MiB sent, %d MiB memory left, iteration %s, %.1f MiB/s' % (
        elapsed, stats.get('data_processed', 0) // MIB, stats.get('memory_remaining', 0) // MIB,
        stats.get('memory_iteration', 0), stats.get('memory_bps', 0) / float(MIB)))


def figures(stats):
    """The result's figures from a completed job's statistics."""
    if not stats:
        return dict(downtime_ms=None, data_transferred=None, memory_iterations=None)
    # disks copied through the NBD mirror are counted apart from the memory stream in some libvirt versions
    sent = max(stats.get('data_processed', 0), stats.get('memory_processed', 0) + stats.get('disk_processed', 0))
    return dict(downtime_ms=stats.get('downtime'), data_transferred=sent,
                memory_iterations=stats.get('memory_iteration'))
