# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A running migration: started in a worker thread, watched through the source's job statistics, and the
timeout policy (abort, switch to post-copy, pause) (private to kvmops.kvm).

libvirt's migrate calls block until the migration ends and emit no progress event a client can wait on
between iterations, so the job statistics are read at a short interval while the worker runs; the wait
ends the moment the worker does (a thread join, not a sleep)."""

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


class Outcome(object):
    """What happened: completed or not, the error, what the timeout policy did, the last job statistics."""

    def __init__(self):
        self.completed = False
        self.error = None
        self.timed_out = False
        self.timeout_action = None      # what was done at the timeout: 'abort', 'postcopy', 'pause'
        self.paused_by_us = False
        self.seconds = 0.0
        self.last_stats = {}
        self.destination_domain = None


class MigrationJob(object):

    def __init__(self, dom, start, log, warn, timeout=None, timeout_action='abort', max_downtime=None):
        """start() runs the blocking migrate call and returns the destination's domain (or None)."""
        self.dom = dom
        self.start = start
        self.log = log
        self.warn = warn
        self.timeout = timeout
        self.timeout_action = timeout_action
        self.max_downtime = max_downtime

    def run(self):
        outcome = Outcome()

        def worker():
            try:
                outcome.destination_domain = self.start()
                outcome.completed = True
            except libvirt.libvirtError as exc:
                outcome.error = libvirt_reason(exc)

        thread = threading.Thread(target=worker, name='kvmops-migrate')
        began = time.monotonic()
        thread.start()
        downtime_set = self.max_downtime is None
        last_log = began
        aborted_at = None
        while thread.is_alive():
            now = time.monotonic()
            wait = POLL_SECONDS
            if self.timeout is not None and not outcome.timed_out:
                wait = max(0.0, min(wait, began + self.timeout - now))
            thread.join(wait)
            if not thread.is_alive():
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
            if self.timeout is not None and not outcome.timed_out and now - began >= self.timeout:
                outcome.timed_out = True
                outcome.timeout_action = self.timeout_action
                self._on_timeout(outcome, stats)
                aborted_at = now
            elif outcome.timeout_action == 'abort' and now - aborted_at >= ABORT_AGAIN_SECONDS:
                # QEMU can miss a cancel that lands between two of its own steps (seen on QEMU 7.2: the
                # job went on to complete): ask again until the worker returns
                aborted_at = now
                self._abort_again()
        outcome.seconds = time.monotonic() - began
        return outcome

    def _stats(self):
        try:
            return self.dom.jobStats(0)
        except libvirt.libvirtError:
            return {}   # the job ended between the join and this call

    def _set_downtime(self):
        try:
            self.dom.migrateSetMaxDowntime(int(self.max_downtime), 0)
        except libvirt.libvirtError as exc:
            self.warn('max_downtime was not applied: %s' % libvirt_reason(exc))
        return True

    def _abort_again(self):
        try:
            self.dom.abortJob()
        except libvirt.libvirtError:
            pass   # no job left to abort: the worker is about to return

    def _on_timeout(self, outcome, stats):
        message = 'migration still running after %ss (%s)' % (self.timeout, progress_line(stats, self.timeout))
        try:
            if self.timeout_action == 'postcopy':
                self.dom.migrateStartPostCopy(0)
                self.warn('%s: switched to post-copy' % message)
            elif self.timeout_action == 'pause':
                self.dom.suspend()
                outcome.paused_by_us = True
                self.warn('%s: guest paused so that the migration completes' % message)
            else:
                self.dom.abortJob()
                self.warn('%s: aborted' % message)
        except libvirt.libvirtError as exc:
            self.warn('%s: %s failed: %s' % (message, self.timeout_action, libvirt_reason(exc)))
            if self.timeout_action != 'abort':
                try:
                    self.dom.abortJob()   # the policy could not be applied: never let it run unbounded
                    outcome.timeout_action = 'abort'
                except libvirt.libvirtError:
                    pass


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
