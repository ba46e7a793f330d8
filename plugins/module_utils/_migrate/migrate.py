# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The migration as a desired state: where the guest is, the pre-checks, the move, and the recovery that
leaves it running on the source when anything fails (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.aftermath import state_left
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.connection import open_connection
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError, ParameterError, libvirt_reason
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.resource import Resource
from ansible_collections.kvmops.kvm.plugins.module_utils._migrate import checks as _checks
from ansible_collections.kvmops.kvm.plugins.module_utils._migrate import guest as _guest
from ansible_collections.kvmops.kvm.plugins.module_utils._migrate import job as _job
from ansible_collections.kvmops.kvm.plugins.module_utils._migrate import spec as _spec
from ansible_collections.kvmops.kvm.plugins.module_utils._migrate import storage as _storage


class Migration(Resource):
    """A guest that should run on the destination host (state: migrated)."""

    KIND = 'domain'
    uses_events = True   # the migration-iteration events wake the job's watch (job.py)

    def __init__(self, module, params=None):
        super(Migration, self).__init__(module, params)
        self.source_uri = self.params.get('source_uri') or self.params['uri']
        self.dest_uri = self.params['dest_uri']
        self.verdicts = _checks.Verdicts()
        self.source = self.dest = None
        self.source_host = self.source_uri
        self.dest_host = self.dest_uri
        self.location = None
        self.p2p = self.post_copy = False
        self.transport = {}
        self.copied = []
        self.pools = {}
        self.flag_value = 0
        self.outcome = None
        self.stats = {}
        self.memory = {}

    # ---- validation (reads only)

    def validate(self):
        if not self.dest_uri:
            raise ParameterError('dest_uri', 'the destination is required: set dest_uri (for a batch, dest_uri '
                                 'of the task or of each item of guests)')
        self.p2p, self.post_copy = _spec.validate(dict(self.params, source_uri=self.source_uri))
        insecure = self.params.get('insecure_transport')
        self.transport = dict(
            source=_spec.check_transport('source_uri', self.source_uri, insecure),
            destination=_spec.check_transport('dest_uri', self.dest_uri, insecure),
            memory=_spec.memory_stream_protection(self.params))
        self.verdicts.record('transport', True, 'source over %s, destination over %s, memory stream %s' % (
            self.transport['source'], self.transport['destination'], _MEMORY_WORDS[self.transport['memory']]))

    # ---- planning: where the guest is, and the pre-checks

    def plan(self, plan):
        self.source = self.module.connection(self.source_uri)
        self.source_host = self._asked(self.source_uri, 'hostname', self.source.getHostname)
        try:
            self.dest = self.module.connection(self.dest_uri)
        except KvmError as exc:
            self.verdicts.record('destination', False, exc.reason)
            raise self._refused('the destination (dest_uri) does not answer: %s' % exc.reason)
        self.dest_host = self._asked(self.dest_uri, 'hostname', self.dest.getHostname)
        source_caps = self._asked(self.source_uri, 'capabilities', lambda: _xml.parse(self.source.getCapabilities()))
        dest_caps = self._asked(self.dest_uri, 'capabilities', lambda: _xml.parse(self.dest.getCapabilities()))
        _checks.check_hosts(self.verdicts, source_caps, dest_caps, self.source_host, self.dest_host)
        if self.verdicts.failed():
            raise self._refused(self.verdicts.message())

        src_dom = self._find(self.source)
        dst_dom = self._find(self.dest)
        src_active = bool(src_dom is not None and src_dom.isActive())
        dst_active = bool(dst_dom is not None and dst_dom.isActive())
        if src_active and dst_active:
            raise self._refused("the guest runs on both '%s' and '%s'" % (self.source_host, self.dest_host))
        if src_dom is None and dst_dom is None:
            raise self._refused("the guest is on neither '%s' (source_uri %s) nor '%s' (dest_uri %s)" % (
                self.source_host, self.source_uri, self.dest_host, self.dest_uri))
        if dst_active or src_dom is None:
            self.verdicts.record('guest', True, "already %s on '%s'%s" % (
                'runs' if dst_active else 'defined', self.dest_host,
                '' if src_dom is None else "; an inactive definition remains on '%s'" % self.source_host))
            if src_dom is not None:
                self.module.warn("guest '%s' runs on '%s', and an inactive definition of it remains on '%s'%s"
                                 % (self.name, self.dest_host, self.source_host,
                                    ' with autostart ON' if src_dom.autostart() else ''))
            self.location = self.dest_host
            return
        if self.params['live'] and not src_active:
            self.verdicts.record('guest', False, "defined on '%s' but not running; a live migration needs a running "
                                 "guest (live: false moves the definition)" % self.source_host)
            raise self._refused(self.verdicts.message())
        self.verdicts.record('guest', True, "%s on '%s'" % ('runs' if src_active else 'defined, shut off',
                                                            self.source_host))
        self.location = self.source_host
        self._precheck(src_dom, src_active, source_caps)
        if self.verdicts.failed():
            raise self._refused(self.verdicts.message())
        self._plan_move(plan, src_dom, src_active)

    def _asked(self, uri, what, ask):
        """What a host says of itself, asked once per run (a batch's guests share their hosts)."""
        return self.module.remembered((uri, what), ask)

    def _find(self, conn):
        return self.lookup(conn.lookupByName, libvirt.VIR_ERR_NO_DOMAIN)

    def _precheck(self, src_dom, running, source_caps):
        root = _xml.parse(src_dom.XMLDesc(0) if running else src_dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        _checks.check_clash(self.verdicts, self.dest, self.name, src_dom.UUIDString(), self.dest_host)
        _checks.check_cpu(self.verdicts, self.dest, root, source_caps, self.dest_host)
        self.memory = dict(needed=_guest.memory_bytes(root), available=_checks.available_memory(self.dest))
        if running:
            _checks.check_memory(self.verdicts, self.memory['needed'], self.memory['available'],
                                 self.params.get('reserved_memory') or 0, self.dest_host)
        else:
            self.verdicts.record('memory', None, 'the guest is shut off: only its definition moves')
        # one view per pair of hosts: a batch proves each directory shared once, not once per guest
        view = self.module.remembered((self.source_uri, self.dest_uri, 'storage'),
                                      lambda: _storage.StorageView(self.source, self.dest))
        self.copied, shared, self.pools = _checks.classify_disks(
            self.verdicts, view, _guest.disks(root), self.params['storage'], self.source, self.dest_host)
        if self.copied and not running:
            self.verdicts.record('storage', False, 'libvirt copies disks only while the guest runs: start it and '
                                 'migrate live, or move %s first' % ', '.join(_guest.label(d) for d in self.copied))
        _checks.check_cache(self.verdicts, shared, self.params.get('unsafe'))
        _checks.check_networks(self.verdicts, self.dest, _guest.nics(root), self.dest_host)

    def _plan_move(self, plan, src_dom, running):
        for directory in sorted(self.pools):
            self._plan_pool(plan, directory, *self.pools[directory])
        if self.params['storage'] == 'copy_incremental':
            for disk in self.copied:
                if disk['kind'] == 'file':
                    self._plan_top_image(plan, src_dom, disk)
        self.flag_value = _spec.flags(self.params, running, [d['target'] for d in self.copied], self.p2p,
                                      self.post_copy)
        plan.difference('location', self.source_host, self.dest_host)
        how = [('live' if self.params['live'] else 'paused while it moves') if running else 'offline',
               'copying %s' % ', '.join(d['target'] for d in self.copied) if self.copied else 'shared storage']
        plan.add('migrate', self.KIND, self.name, lambda: self._migrate(src_dom, running),
                 "from '%s' to '%s' (%s)" % (self.source_host, self.dest_host, ', '.join(how)))

    def _plan_pool(self, plan, directory, step, pool):
        if step == 'start':
            plan.add('start', 'pool', pool.name(), lambda: pool.create(0), "on '%s' for the copied disks" % self.dest_host)
            return
        taken = [p.name() for p in self.dest.listAllStoragePools(0)]
        name, xml = _storage.copy_pool_definition(pool, directory, taken)

        def create():
            made = self.dest.storagePoolDefineXML(xml, 0)
            try:
                made.build(0)
                made.create(0)
                made.setAutostart(1)
            except libvirt.libvirtError:
                _undo_pool(made)   # a pool this run half-made is not left behind for the next run to trip on
                raise
        plan.add('create', 'pool', name, create, "dir pool at %s on '%s' for the copied disks" % (directory, self.dest_host))

    def _plan_top_image(self, plan, src_dom, disk):
        """copy_incremental mirrors only the top image into a file that must exist on the destination, on the same
        backing chain (libvirt pre-creates volumes only for copy_all): create it empty in the directory's pool."""
        directory, name = disk['path'].rsplit('/', 1)

        def create():
            capacity = src_dom.blockInfo(disk['target'], 0)[0]
            pool = self.dest.storagePoolLookupByTargetPath(directory)
            pool.refresh(0)
            pool.createXML(_storage.top_image_volume(name, capacity, disk.get('format') or 'qcow2',
                                                     disk['backing'][0] if disk['backing'] else None,
                                                     disk.get('backing_format') or 'raw'), 0)
        plan.add('create', 'volume', disk['path'], create, "on '%s', backed by %s, for the incremental copy" % (
            self.dest_host, disk['backing'][0] if disk['backing'] else 'nothing'))

    # ---- the move

    def apply(self, plan):
        """A lane of a batch applied side by side migrates over connections of its own to both hosts (a call
        sent over a connection that carries a running migrate call may wait for its end, see job.py)."""
        if self.lane is not None:
            self.source = self.module.connection(self.source_uri, self.lane)
            self.dest = self.module.connection(self.dest_uri, self.lane)
        plan.apply()

    def _migrate(self, src_dom, running):
        if self.lane is not None:
            src_dom = self.source.lookupByUUIDString(src_dom.UUIDString())
        autostart = bool(src_dom.isPersistent() and src_dom.autostart())
        params = _spec.parameters(self.params, [d['target'] for d in self.copied])

        def start():
            if self.p2p:
                src_dom.migrateToURI3(self.dest_uri, params, self.flag_value)
                return None
            return src_dom.migrate3(self.dest, params, self.flag_value)

        # the job is watched and steered over a connection of its own (why: job.py); a lane keeps its own
        control_conn = open_connection(self.source_uri) if self.lane is None else self.module.connection(
            self.source_uri, 'control-%s' % self.lane)
        try:
            control = control_conn.lookupByUUIDString(src_dom.UUIDString())
            job = _job.MigrationJob(control, start, self._log, self.module.warn, self.params.get('timeout'),
                                    self.params['timeout_action'], self.params.get('max_downtime'),
                                    watched=[('destination', self.dest)])
            self.outcome = outcome = job.run()
        finally:
            if self.lane is None:
                control_conn.close()
        if not outcome.completed:
            self._recover(src_dom, running, outcome)
        if outcome.timed_out and outcome.timeout_action == 'abort':
            # a safety net: an abort that lands as QEMU completes loses the race (before the job was steered over
            # its own connection (job.py) this was how an abort held back until the end showed)
            outcome.timeout_action = 'abort (not honoured: the migration completed)'
            self.module.warn("the migration of '%s' was aborted at its timeout, but libvirt reported it complete "
                             "afterwards; it runs on '%s'" % (self.name, self.dest_host))
        dst_dom = outcome.destination_domain or self._find(self.dest)
        if dst_dom is None:
            raise KvmError('migrate', self.KIND, self.name, "libvirt reported success but the guest is not on '%s'"
                           % self.dest_host, **self._details())
        self.location = self.dest_host
        try:
            self._after_move(src_dom, dst_dom, outcome, autostart)
        except libvirt.libvirtError as exc:
            # the guest moved: the task changed the hosts even though a finishing touch failed
            raise KvmError('migrate', self.KIND, self.name, "the guest runs on '%s', but finishing the move failed: %s"
                           % (self.dest_host, libvirt_reason(exc)), step_changed=True, **self._details())

    def _after_move(self, src_dom, dst_dom, outcome, autostart):
        """Resume, statistics, autostart moved with the guest: what follows a completed migration."""
        if outcome.paused_by_us and dst_dom.isActive() and dst_dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED:
            dst_dom.resume()
        self.stats = dict(self._completed_stats(dst_dom) or outcome.last_stats)
        if self.copied and not self.stats.get('disk_total') and outcome.last_stats.get('disk_total'):
            # the destination's statistics leave out the disk mirror, which the source ran to the end
            total = outcome.last_stats['disk_total']
            self.stats.update(disk_total=total, disk_processed=total, disk_remaining=0)
        if autostart and dst_dom.isPersistent():
            dst_dom.setAutostart(1)
        if not self.params['undefine_source']:
            left = self._find(self.source)
            if left is not None and left.isPersistent() and left.autostart():
                left.setAutostart(0)   # a definition on both hosts must not start on both at boot

    def _completed_stats(self, dom):
        try:
            return dom.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
        except libvirt.libvirtError:
            return {}

    def _recover(self, src_dom, running, outcome):
        """Leave the guest running on the source only, and say so; then fail."""
        reason = outcome.error or 'unknown error'
        if outcome.timed_out:
            reason = 'timeout after %ss (%s): %s' % (self.params['timeout'], outcome.timeout_action, reason)
        notes = []
        if outcome.lost:
            reason = "the connection to the %s '%s' was lost during the migration (its libvirtd stopped or the " \
                     "host became unreachable), so the job was aborted: %s" % (outcome.lost, self.dest_host, reason)
            notes.append("'%s' could not be checked; its libvirtd discards the half-received guest when it sees the "
                         "migration's connection gone (it was never defined there)" % self.dest_host)
        here = self._lookup_uuid(self.source, src_dom.UUIDString())
        there = self._lookup_uuid(self.dest, src_dom.UUIDString())
        if outcome.postcopy_started:
            notes.append('post-copy had started: the guest was not resumed on the source (its memory is split '
                         'between the hosts)')
        elif here is not None and running and here.isActive() and here.state()[0] == libvirt.VIR_DOMAIN_PAUSED:
            try:
                here.resume()
                notes.append("resumed on '%s'" % self.source_host)
            except libvirt.libvirtError as exc:
                notes.append("could not resume it on '%s': %s" % (self.source_host, libvirt_reason(exc)))
        if here is not None and there is not None and not there.isActive() and there.isPersistent():
            there.undefine()   # the clash check saw none there before: this definition is the failed run's
            notes.append("removed the definition the failed run left on '%s'" % self.dest_host)
        if here is not None and (not running or here.isActive()):
            self._remove_copies()
        runs_here = bool(here is not None and here.isActive() and here.state()[0] == libvirt.VIR_DOMAIN_RUNNING)
        runs_there = bool(there is not None and there.isActive())
        self.location = self.source_host if (here is not None and (runs_here or not running)) else (
            self.dest_host if runs_there else None)
        if runs_here or (not running and here is not None):
            state = "the guest %s on '%s'" % ('still runs' if running else 'is still defined', self.source_host)
        elif runs_there:
            state = "the guest runs on '%s' (%s)" % (self.dest_host, _state_name(there))
        else:
            state = "the guest runs on neither host (source: %s, destination: %s)" % (
                _state_name(here), _state_name(there))
        details = self._details()
        details.update(guest_running_on_source=runs_here, recovery=notes)
        if self.location != self.source_host:
            details['step_changed'] = True   # the guest is no longer where it was: the failed step changed the hosts
        raise KvmError('migrate', self.KIND, self.name, '%s; %s%s' % (
            reason, state, (' (%s)' % '; '.join(notes)) if notes else ''), **details)

    def _remove_copies(self):
        """Volumes a failed copy left on the destination: the pre-check saw none at those paths."""
        for disk in self.copied:
            try:
                self.dest.storageVolLookupByPath(disk['path']).delete(0)
            except libvirt.libvirtError:
                pass

    def _lookup_uuid(self, conn, uuid):
        try:
            return conn.lookupByUUIDString(uuid)
        except libvirt.libvirtError:
            return None

    def _log(self, line):
        self.module.log("kvm_migrate %s %s -> %s: %s" % (self.name, self.source_host, self.dest_host, line))

    def _refused(self, reason):
        return KvmError('migrate', self.KIND, self.name, reason, **self._details())

    def _details(self):
        details = dict(precheck=self.verdicts.result(), source=self.source_host, destination=self.dest_host,
                       location=self.location, memory=self.memory)
        if self.outcome is not None:
            details.update(duration_s=round(self.outcome.seconds, 3), job_stats=self.outcome.last_stats,
                           timed_out=self.outcome.timed_out, connection_lost=self.outcome.lost)
        return details

    # ---- a failure part-way

    def describe_left(self, failed):
        """The guest on both hosts (one connection each), and a pool the failed step made on the destination."""
        left = {}
        for host, conn in ((self.source_host, self.source), (self.dest_host, self.dest)):
            if conn is not None:
                left["domain %s on '%s'" % (self.name, host)] = state_left(conn, 'domain', self.name)
        if failed.kind == 'pool' and self.dest is not None:
            left["pool %s on '%s'" % (failed.name, self.dest_host)] = state_left(self.dest, 'pool', failed.name)
        return left

    # ---- result

    def result(self):
        result = dict(source=self.source_host, destination=self.dest_host, precheck=self.verdicts.result(),
                      location=self.location, transport=self.transport, duration_s=None, timed_out=False,
                      flags=_spec.flag_names(self.flag_value) if self.flag_value else [],
                      copied_disks=[d['target'] for d in self.copied], job_stats={}, memory=self.memory)
        result.update(_job.figures({}))
        if self.predicting:
            if self.flag_value:
                result['location'] = self.dest_host
            return result
        if self.outcome is not None:
            result.update(_job.figures(self.stats), duration_s=round(self.outcome.seconds, 3),
                          job_stats=self.stats, timed_out=self.outcome.timed_out,
                          timeout_action_taken=self.outcome.timeout_action,
                          postcopy_started=self.outcome.postcopy_started)
        return result


_MEMORY_WORDS = dict(tls='encrypted by QEMU native TLS', tunnelled='tunnelled through the libvirt connection',
                     clear='in the clear on the migration network (set tls or tunnelled to encrypt it)')

_STATES = {0: 'no state', 1: 'running', 2: 'blocked', 3: 'paused', 4: 'shutting down', 5: 'shut off', 6: 'crashed',
           7: 'suspended by the guest'}


def _undo_pool(pool):
    try:
        if pool.isActive():
            pool.destroy()
        pool.undefine()
    except libvirt.libvirtError:
        pass   # the failure that brought us here is the one to report; the state left says what remains


def _state_name(dom):
    if dom is None:
        return 'absent'
    try:
        return _STATES.get(dom.state()[0], 'unknown')
    except libvirt.libvirtError:
        return 'unknown'
