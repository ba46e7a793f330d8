# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Guest snapshots: read -> plan create, revert, delete, prune -> apply (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError, ParameterError, libvirt_reason
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.objects import lookup
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.resource import Resource
from ansible_collections.kvmops.kvm.plugins.module_utils._snapshot import checks as check
from ansible_collections.kvmops.kvm.plugins.module_utils._snapshot import external
from ansible_collections.kvmops.kvm.plugins.module_utils._snapshot import model
from ansible_collections.kvmops.kvm.plugins.module_utils._snapshot import since

KIND = 'snapshot'


def power_state(dom):
    """running, paused or shutoff: the three a revert can leave."""
    state = dom.state()[0]
    if state in (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_BLOCKED):
        return 'running'
    if state in (libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PMSUSPENDED):
        return 'paused'
    return 'shutoff'


class Snapshot(Resource):
    """One kvm_snapshot run: the snapshot `name` of guest `domain`."""

    KIND = KIND

    def __init__(self, module, params=None):
        super(Snapshot, self).__init__(module, params)
        self.domain_name = self.params['domain']
        self.dom = None
        self.snapshots = {}      # name -> model.read() of each snapshot of the guest, as found
        self.current = None      # the guest's current snapshot, as found
        self.active = False
        self.domain_root = None
        self.wanted = {}         # the settings the user gave for the snapshot
        self._after = None       # (snapshots, current) as the run leaves them, for check mode's result
        self._roots = {}         # name -> snapshot XML root, as found
        self._changed = False

    # ---- validation (reads only)

    def validate(self):
        if not self.name:
            raise ParameterError('name', 'give the name of the snapshot')
        if self.params.get('keep') is not None and self.params['keep'] < 1:
            raise ParameterError('keep', 'must be 1 or more (the newest snapshots to keep), got %d' % self.params['keep'])
        self.dom = lookup(self.conn.lookupByName, 'domain', self.domain_name, libvirt.VIR_ERR_NO_DOMAIN)
        if self.dom is None:
            raise ParameterError('domain', "there is no domain '%s' on %s" % (self.domain_name, self.module.params['uri']))
        self._read_tree()
        self.active = bool(self.dom.isActive())
        self.domain_root = _xml.parse(self.dom.XMLDesc(0))
        self.wanted = dict((key, self.params.get(key)) for key in model.SETTINGS)
        existing = self.snapshots.get(self.name)
        if self.state == 'current' and existing is None:
            self._fail_missing()
        if existing is not None and self.state != 'absent':
            self._check_same_settings(existing)
        if self.state == 'present' and existing is None:
            self._check_creation()

    def _read_tree(self):
        for snap in self.dom.listAllSnapshots(0):
            root = _xml.parse(snap.getXMLDesc(0))
            item = model.read(root)
            self.snapshots[item['name']] = item
            self._roots[item['name']] = root
        try:
            self.current = self.dom.snapshotCurrent(0).getName() if self.dom.hasCurrentSnapshot(0) else None
        except libvirt.libvirtError:
            self.current = None

    def _fail_missing(self):
        for other in self.conn.listAllDomains(0):
            if other.name() == self.domain_name:
                continue
            try:
                other.snapshotLookupByName(self.name, 0)
            except libvirt.libvirtError:
                continue
            raise ParameterError('name', "snapshot '%s' belongs to domain '%s', not to '%s': a guest can only be "
                                         "reverted to its own snapshots" % (self.name, other.name(), self.domain_name))
        raise ParameterError('name', "domain '%s' has no snapshot '%s' (it has: %s)"
                             % (self.domain_name, self.name, ', '.join(sorted(self.snapshots)) or 'none'))

    def _check_same_settings(self, existing):
        differing = model.differing_settings(self.wanted, existing)
        if differing:
            text = '; '.join('%s is %r, not %r' % (key, have, want) for key, have, want in differing)
            raise ParameterError(differing[0][0], "snapshot '%s' of domain '%s' exists with other settings (%s): a "
                                                  "snapshot cannot change once taken; delete it (state: absent) or "
                                                  "choose another name" % (self.name, self.domain_name, text))

    def _creation(self):
        """The snapshot to take: type, whether RAM is kept, disk-only."""
        kind = self.params.get('type') or 'internal'
        disk_only = bool(self.params.get('disk_only'))
        memory = self.params.get('memory')
        if memory is None:
            memory = self.active and not disk_only
        return kind, bool(memory), disk_only

    def _check_creation(self):
        kind, memory, disk_only = self._creation()
        if self.params.get('memory') and disk_only:
            raise ParameterError('memory', 'memory: true and disk_only: true exclude each other')
        if memory and not self.active:
            raise ParameterError('memory', "domain '%s' is shut off: it has no RAM state to keep; start it first, or "
                                           "leave memory out" % self.domain_name)
        others = set(s['type'] for s in self.snapshots.values())
        if others and others != set([kind]):
            raise ParameterError('type', "domain '%s' already has %s snapshots (%s): internal and external ones do not "
                                         "mix in one guest (a commit of an overlay would drop the internal snapshots in "
                                         "it); use type: %s"
                                 % (self.domain_name, '/'.join(sorted(others)), ', '.join(sorted(self.snapshots)),
                                    '/'.join(sorted(others))))
        disks = model.snapshotted_disks(self.domain_root)
        if not disks:
            raise ParameterError('domain', "domain '%s' has no writable disk to snapshot" % self.domain_name)
        if kind == 'internal':
            if self.active and not memory:
                raise ParameterError('disk_only' if disk_only else 'memory',
                                     "an internal snapshot of a running guest always keeps its RAM (QEMU's savevm); "
                                     "for a disk-only snapshot of a running guest use type: external")
            check.check_internal_formats(self.domain_root.get('type'), disks)
        else:
            check.check_external_files(disks)
            self._check_free_files(disks, memory)
        if self.params.get('quiesce'):
            check.check_agent(self.dom, self.domain_name)

    def _check_free_files(self, disks, memory):
        if not self.module.is_local:
            return
        paths = [model.overlay_path(d['file'], self.name) for d in disks]
        if memory:
            paths.append(model.memory_path(self.domain_name, disks[0]['file'], self.name))
        for path in paths:
            if os.path.exists(path):
                raise ParameterError('name', "'%s' already exists: an external snapshot named '%s' would write its "
                                             "files there; move it away or choose another name" % (path, self.name))

    # ---- planning

    def plan(self, plan):
        snapshots = dict(self.snapshots)
        current = self.current
        if self.state == 'present' and self.name not in snapshots:
            current = self._plan_create(plan, snapshots, current)
        elif self.state == 'absent' and self.name in snapshots:
            current = self._plan_delete(plan, snapshots, current)
        elif self.state == 'current':
            current = self._plan_revert(plan, current)
        if self.params.get('keep'):
            current = self._plan_prune(plan, snapshots, current)
        if set(snapshots) != set(self.snapshots):
            plan.difference('snapshots', self._names(self.snapshots), self._names(snapshots))
        self._after = (snapshots, current)
        self._changed = plan.changed

    @staticmethod
    def _names(snapshots):
        return [s['name'] for s in model.tree(snapshots, None)]

    def _snapshot(self, name):
        return self.dom.snapshotLookupByName(name, 0)

    def _mark(self):
        """Note where the guest stands now that it is at snapshot `name` (see since.py)."""
        dom = self.conn.lookupByName(self.domain_name)
        disks = model.snapshotted_disks(_xml.parse(dom.XMLDesc(0)))
        since.mark(self.conn, dom, self.name, [(d['target'], d['file']) for d in disks], self.module.is_local)

    def _plan_create(self, plan, snapshots, current):
        kind, memory, disk_only = self._creation()
        disks = model.snapshotted_disks(self.domain_root)
        root = model.new_definition(self.name, self.params.get('description'), memory, kind == 'external', disks,
                                    self.domain_name)
        definition = _xml.to_string(root)
        flags = 0
        quiesce = bool(self.params.get('quiesce'))
        if kind == 'external' and not memory:
            flags |= libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY
            if quiesce:
                flags |= libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE
        freeze = quiesce and not flags & libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE

        def create():
            if freeze:
                self.dom.fsFreeze()
            try:
                self.dom.snapshotCreateXML(definition, flags)
            finally:
                if freeze:
                    self.dom.fsThaw()
            self._mark()
        detail = [kind, 'with RAM' if memory else ('disk-only' if self.active else 'of the shut-off guest')]
        if quiesce:
            detail.append('file systems quiesced')
        if kind == 'external':
            detail.append('overlays %s' % ', '.join(model.overlay_path(d['file'], self.name) for d in disks))
        plan.add('create', KIND, self.name, create, ', '.join(detail))
        predicted = model.read(root)
        disk_snapshot = kind == 'external' and not memory and self.active
        predicted.update(parent=current, state='disk-snapshot' if disk_snapshot else power_state(self.dom))
        snapshots[self.name] = predicted
        return self.name

    def _descendants(self, snapshots, name):
        found = []
        for item in model.tree(snapshots, None):
            if item['parent'] == name:
                found.extend(self._descendants(snapshots, item['name']) + [item['name']])
        return found

    def _plan_delete(self, plan, snapshots, current, name=None, reason=None):
        """Delete `name` (default: the module's snapshot), with its descendants when children: delete."""
        name = name or self.name
        item = snapshots[name]
        doomed = [name]
        if reason is None and self.params.get('children') == 'delete':
            doomed = self._descendants(snapshots, name) + [name]
        for victim in doomed:
            self._plan_delete_one(plan, snapshots, victim, reason or ('child of %s' % name if victim != name else None))
        if current in doomed:
            current = item['parent']
        return current

    def _plan_delete_one(self, plan, snapshots, name, detail):
        item = snapshots.pop(name)
        kids = [s['name'] for s in snapshots.values() if s['parent'] == name]
        if kids and detail is None:
            detail = 'children %s kept' % ', '.join(sorted(kids))

        def delete():
            self._snapshot(name).delete(0)
        plan.add('delete', KIND, name, delete, detail)
        if item['type'] == 'external' and item['memory_file']:
            plan.add('remove RAM file of', KIND, name, external.remove_memory_file(self.module, name, item['memory_file']),
                     item['memory_file'])
        for other in snapshots.values():
            if other['parent'] == name:
                other['parent'] = item['parent']

    def _plan_prune(self, plan, snapshots, current):
        spared = set() if self.state == 'absent' else set([self.name])
        for name in model.oldest_beyond(snapshots, self.params['keep'], spared):
            current = self._plan_delete(plan, snapshots, current, name, 'oldest beyond keep: %d' % self.params['keep'])
        return current

    # ---- reverting

    def _state_after_revert(self, item):
        wanted = self.params.get('running_after_revert')
        kept_ram = item['state'] in ('running', 'paused')
        if wanted is None:
            return item['state'] if kept_ram else 'shutoff'
        if wanted:
            return 'running'
        return 'paused' if kept_ram else 'shutoff'

    def _plan_revert(self, plan, current):
        item = self.snapshots[self.name]
        after = self._state_after_revert(item)
        now = power_state(self.dom)
        reasons = []
        if current != self.name:
            reasons.append('the current snapshot is %s' % (current or 'none'))
            plan.difference('current', current, self.name)
        if now != after:
            reasons.append('the guest is %s' % now)
            plan.difference('domain_state', now, after)
        if not reasons:
            disks = model.snapshotted_disks(self.domain_root)
            reasons = since.changes_since(self.conn, self.dom, self.name, [(d['target'], d['file']) for d in disks],
                                          self.module.is_local)
            if reasons:
                plan.difference('changed_since', reasons, [])
        if not reasons:
            return current
        run = self._reverter(item, after)
        plan.add('revert to', KIND, self.name, run, 'guest %s (%s)' % (after, '; '.join(reasons)))
        return self.name

    def _reverter(self, item, after):
        if item['type'] == 'external' and not external.native_revert(self.conn):
            return self._external_reverter(item, after)
        flags = 0
        if after == 'running':
            flags = libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING
        elif after == 'paused':
            flags = libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED

        def revert():
            snap = self._snapshot(self.name)
            try:
                self.dom.revertToSnapshot(snap, flags)
            except libvirt.libvirtError as exc:
                # risky means: the running QEMU cannot take the snapshot's state and must be replaced; the revert
                # discards that state anyway
                if exc.get_error_code() != libvirt.VIR_ERR_SNAPSHOT_REVERT_RISKY:
                    raise
                self.dom.revertToSnapshot(snap, flags | libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_FORCE)
            self._mark()
        return revert

    def _external_reverter(self, item, after):
        root = self._roots[self.name]
        layers = external.layers(root, _xml.parse(self.dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
                                                  if self.dom.isPersistent() else self.dom.XMLDesc(0)))
        children = sorted(s['name'] for s in self.snapshots.values() if s['parent'] == self.name)
        problems = external.revert_blockers(self.name, layers, children)
        if problems:
            reason = ('libvirt %s cannot revert external snapshots, and this module can only when nothing builds on '
                      'the snapshot: %s' % (self._libvirt_version(), '; '.join(problems)))
            raise KvmError('revert to', KIND, self.name, reason)
        if not self.module.is_local:
            reason = 'reverting an external snapshot before libvirt 9.7 replaces its overlay files, which needs a local URI'
            raise KvmError('revert to', KIND, self.name, reason)
        revert = external.reverter(self.module, lambda: self.dom, self.name, layers,
                                   item['memory_file'] if item['memory'] else None, after)

        def run():
            revert()
            self._mark()
        return run

    def _libvirt_version(self):
        version = self.conn.getLibVersion()
        return '%d.%d.%d' % (version // 1000000, version // 1000 % 1000, version % 1000)

    # ---- a failure part-way

    def describe_left(self, failed):
        """The state a failed step leaves: the guest's power state and current snapshot, and whether the
        module's snapshot and the one the failed step touched exist (their names alone cannot be looked up)."""
        dom = self.conn.lookupByName(self.domain_name)
        names = set(snap.getName() for snap in dom.listAllSnapshots(0))
        current = dom.snapshotCurrent(0).getName() if dom.hasCurrentSnapshot(0) else 'none'
        left = {'domain %s' % self.domain_name: '%s, current snapshot %s' % (power_state(dom), current)}
        for name in set([self.name, failed.name]):
            left["snapshot %s of domain %s" % (name, self.domain_name)] = 'present' if name in names else 'absent'
        return left

    # ---- result

    def result(self):
        if self.predicting or not self._changed:
            snapshots, current = self._after
        else:
            self.snapshots, self._roots = {}, {}
            try:
                self._read_tree()
            except libvirt.libvirtError as exc:
                raise KvmError('read', 'snapshots of domain', self.domain_name, libvirt_reason(exc))
            snapshots, current = self.snapshots, self.current
        listed = [self._public(item) for item in model.tree(snapshots, current)]
        mine = [item for item in listed if item['name'] == self.name]
        return dict(snapshot=mine[0] if mine else None, snapshots=listed)

    def _public(self, item):
        item = dict(item, domain=self.domain_name)
        return item
