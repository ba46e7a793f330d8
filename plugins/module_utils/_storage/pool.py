# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt storage pools: read -> plan -> apply (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat

from ansible_collections.kvmops.kvm.plugins.module_utils._storage import nfs as _nfs
from ansible_collections.kvmops.kvm.plugins.module_utils._storage import permissions
from ansible_collections.kvmops.kvm.plugins.module_utils._storage import pool_model as model
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import validate as check
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.compare import differences, merged
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError, ParameterError
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.resource import Resource
from ansible_collections.kvmops.kvm.plugins.module_utils._storage.lookup import lookup_pool

KIND = 'pool'


def pool_facts(pool, name):
    """The pool as the module returns it."""
    root = _xml.parse(pool.XMLDesc(0))
    state, capacity, allocation, available = pool.info()
    active = bool(pool.isActive())
    return dict(name=name, uuid=pool.UUIDString(), type=root.get('type'), path=root.findtext('target/path'),
                active=active, autostart=bool(pool.autostart()), persistent=bool(pool.isPersistent()),
                capacity=capacity if active else None, allocation=allocation if active else None,
                available=available if active else None)


def _signature(module, device):
    """What blkid finds on a device ('TYPE=LVM2_member', 'PTTYPE=dos'), or None when it is blank."""
    rc, out, _err = module.run_command(['blkid', '-p', '-o', 'export', device])
    if rc != 0:   # 2: nothing found; anything else: blkid cannot tell, and libvirt's own check still runs
        return None
    fields = dict(line.split('=', 1) for line in out.splitlines() if '=' in line)
    for key in ('TYPE', 'PTTYPE'):
        if fields.get(key):
            return '%s=%s' % (key, fields[key])
    return None


class Pool(Resource):
    """One storage pool."""

    KIND = KIND
    ABSENT_OPTIONS = ('purge',)
    ABSENT_ONLY_OPTIONS = ('purge',)

    def __init__(self, module, params=None):
        super(Pool, self).__init__(module, params)
        self.pool = None
        self.pool_type = None
        self.desired = None
        self.live = None
        self.nfs = None
        self.left_behind = []
        self._predicted = None

    # ------------------------------------------------------------ validation (reads only)

    def validate(self):
        check.object_name('name', self.name)
        self.pool = lookup_pool(self.conn, self.name)
        if self.state == 'absent':
            return
        if self.pool is not None:
            self.live = model.read(self._definition())
        live_type = self.live['type'] if self.live else None
        if self.params.get('type') and live_type and self.params['type'] != live_type:
            raise ParameterError('type', "pool '%s' is a %s pool; a pool's type cannot change in place: remove it "
                                         "(state: absent) and create it again" % (self.name, live_type))
        self.pool_type = self.params.get('type') or live_type or 'dir'
        self.desired = model.from_options(self.params, self.pool_type, self.module.is_local)
        if self.pool is None:
            self.desired = model.completed(self.name, self.desired, self.pool_type)
        self._check_path_conflicts()
        self._check_target_exists()
        self._check_devices_blank()

    def _check_path_conflicts(self):
        path = self.desired.get('path')
        if not path or self.live and model.is_same_path(path, self.live['path']):
            return
        for other in self.conn.listAllStoragePools():
            if other.name() == self.name:
                continue
            theirs = model.read(_xml.parse(other.XMLDesc(0)))
            if model.is_same_path(theirs['path'], path):
                raise ParameterError('path', "'%s' is already the target of pool '%s': two pools on one directory "
                                             "would each claim the other's volumes" % (path, other.name()))

    def _will_start(self):
        if self.state == 'active':
            return True
        return self.state == 'present' and self.pool is not None and bool(self.pool.isActive())

    def _check_target_exists(self):
        """A start on a missing directory fails after the definition changed: refuse before that."""
        given = self.desired.get('path')
        if given and self.module.is_local and self.pool_type != 'logical' and os.path.lexists(given) \
                and not os.path.isdir(given):
            raise ParameterError('path', "'%s' exists and is not a directory: a %s pool's target path is a directory"
                                 % (given, self.pool_type))
        if self.params['build'] or not self.module.is_local or self.pool_type == 'logical':
            return
        if not self._will_start():
            return
        path = self.desired.get('path') or self.live['path']
        if not os.path.isdir(path):
            raise ParameterError('path', "'%s' does not exist on the pool's host: create it, or set build: true to "
                                         "have libvirt create it" % path)

    def _check_devices_blank(self):
        """A logical pool's build refuses a device with data on it (NO_OVERWRITE), but only after the pool was
        defined: look first, on the pool's own host, so that a refused build changes nothing."""
        if self.pool is not None or self.pool_type != 'logical' or not self.params['build'] or not self.module.is_local:
            return
        for device in self.desired['source'].get('devices') or []:
            if not os.path.exists(device):
                raise ParameterError('source.devices', "'%s' does not exist on the pool's host" % device)
            if not stat.S_ISBLK(os.stat(device).st_mode):
                raise ParameterError('source.devices', "'%s' is not a block device: an LVM physical volume is a disk "
                                                       "or a partition" % device)
            found = _signature(self.module, device)
            if found:
                raise ParameterError('source.devices', "'%s' is not blank (blkid finds %s): build never overwrites a "
                                                       "device; use a blank one, or wipe it first (wipefs -a %s) if its "
                                                       "data can go"
                                     % (device, found, device))

    def _definition(self):
        return self.persistent_definition(self.pool, libvirt.VIR_STORAGE_XML_INACTIVE)

    # ------------------------------------------------------------ planning

    def plan(self, plan):
        if self.state == 'absent':
            return self._plan_absent(plan)
        if self.pool is None:
            return self._plan_create(plan)
        return self._plan_update(plan)

    def _plan_absent(self, plan):
        if self.pool is None:
            return
        active, persistent = bool(self.pool.isActive()), bool(self.pool.isPersistent())
        plan.difference('state', 'active' if active else 'inactive', 'absent')
        if self.params['purge'] and not persistent:
            raise ParameterError('purge', "pool '%s' is transient: it vanishes when stopped, before libvirt could delete "
                                          "its target; delete its volumes with kvm_volume instead" % self.name)
        if self.params['purge']:
            if not active:
                plan.add('start', KIND, self.name, self._start, 'to list its volumes')
            volumes = self._volume_paths() if active else []
            plan.add('delete volumes of', KIND, self.name, self._delete_volumes,
                     ', '.join(os.path.basename(v) for v in volumes) if volumes else None)
            plan.add('stop', KIND, self.name, self._stop)
            plan.add('delete target of', KIND, self.name, lambda: self.pool.delete(0), self._path())
        elif active:
            plan.add('stop', KIND, self.name, self._stop)
        if persistent:
            plan.add('undefine', KIND, self.name, self._undefine)

    def _plan_create(self, plan):
        if self.pool_type == 'netfs':
            self._check_nfs(self.desired)
        root = model.new_definition(self.name, self.desired)
        definition = _xml.to_string(root)
        plan.difference('state', 'absent', self.state)
        for key, value in sorted(self.desired.items()):
            plan.difference(key, None, value)

        def define():
            self.pool = self.conn.storagePoolDefineXML(definition, 0)
        plan.add('define', KIND, self.name, define)
        if self.params['build']:
            plan.add('build', KIND, self.name, self._build, self._build_detail(self.desired))
        if self.state == 'active':
            plan.add('start', KIND, self.name, self._start)
        autostart = self.plan_autostart(plan, lambda: self.pool, False, self.wanted_autostart())
        self._predicted = dict(name=self.name, uuid=None, type=self.pool_type, path=self.desired['path'],
                               active=self.state == 'active', autostart=autostart, persistent=True,
                               capacity=None, allocation=None, available=None)

    def _plan_update(self, plan):
        active = bool(self.pool.isActive())
        running = self._plan_state(plan, active, self._plan_definition(plan, active))
        # an existing pool keeps its autostart unless `autostart` is given (state defaults to active)
        autostart_now = self.plan_autostart(plan, lambda: self.pool, self.pool.autostart(),
                                            self.wanted_autostart(default_when_active=False))
        now = merged(self.live, self.desired)
        self._predicted = dict(pool_facts(self.pool, self.name), path=now['path'], active=running,
                               autostart=autostart_now, persistent=True)
        if not running:
            self._predicted.update(capacity=None, allocation=None, available=None)

    def _plan_definition(self, plan, active):
        """Define the pool again where it differs, build or set permissions where that needs it; a running
        pool stops for what only a restart applies, and starts again unless it is to stop. Returns whether it
        runs after these steps."""
        diffs = differences(self.desired, self.live)
        for diff in diffs:
            plan.difference(diff.path, diff.before, diff.after)
        restart = [d.path for d in diffs if d.path.split('.')[0] in model.RESTART_KEYS]
        changed_permissions = [d.path for d in diffs if d.path in model.PERMISSION_KEYS]
        if self.pool_type == 'netfs' and any(p.split('.')[0] in ('source', 'mount_options') for p in restart):
            self._check_nfs(merged(self.live, self.desired))
        if 'path' in restart:
            self._note_left_behind(active)
        running = active
        if active and restart:
            plan.add('stop', KIND, self.name, self._stop, 'to apply %s' % ', '.join(restart))
            running = False
        if diffs or not self.pool.isPersistent():
            definition = _xml.to_string(model.write(self._definition(), self.desired))
            detail = ', '.join(d.path for d in diffs) if diffs else 'make persistent'

            def define():
                self.pool = self.conn.storagePoolDefineXML(definition, 0)
            plan.add('define', KIND, self.name, define, detail)
        built = self._plan_build(plan, 'path' in restart, running)
        if changed_permissions and not built:
            self._plan_permissions(plan, changed_permissions)
        if active and restart and self.state != 'inactive':
            plan.add('start', KIND, self.name, self._start, 'with %s applied' % ', '.join(restart))
            running = True
        return running

    def _plan_state(self, plan, active, running):
        """Start or stop as `state` asks; returns whether the pool runs afterwards."""
        if self.state == 'active' and not running and not active:
            plan.difference('state', 'inactive', 'active')
            plan.add('start', KIND, self.name, self._start)
            return True
        if self.state == 'inactive' and active:
            plan.difference('state', 'active', 'inactive')
            if running:
                plan.add('stop', KIND, self.name, self._stop)
            return False
        return running

    def _plan_build(self, plan, path_changed, running):
        """Build when asked and there is something to build: a new target path, or a missing one."""
        if not self.params['build'] or running or self.pool_type == 'logical':
            return False
        path = self.desired.get('path') or self.live['path']
        if path_changed or self.module.is_local and not os.path.isdir(path) and self._will_start():
            plan.add('build', KIND, self.name, self._build, self._build_detail(merged(self.live, self.desired)))
            return True
        return False

    def _plan_permissions(self, plan, changed):
        now = merged(self.live, self.desired)
        path = now['path']
        if not self.module.is_local:
            self.module.warn("pool '%s': the new %s of %s take effect when the pool is next built (build: true "
                             "while it is stopped); the module cannot reach a remote host's files"
                             % (self.name, ', '.join(changed), path))
            return
        permissions.plan_set(plan, KIND, self.name, path, now['owner'], now['group'], now['mode'],
                             '%s %s' % (path, ', '.join('%s=%s' % (k, now[k]) for k in changed)))

    # ------------------------------------------------------------ NFS and volumes left behind

    def _check_nfs(self, pool_model):
        source = pool_model['source']
        try:
            self.nfs = _nfs.check_export(self.module, source['host'], source['path'], source.get('format') or 'nfs',
                                         pool_model.get('mount_options'))
        except _nfs.NfsProblem as exc:
            raise KvmError('define', KIND, self.name, str(exc))

    def _volume_paths(self):
        try:
            self.pool.refresh(0)
        except libvirt.libvirtError:
            pass   # a refresh races with running volume jobs; the list libvirt has is good enough then
        return sorted(volume.path() for volume in self.pool.listAllVolumes(0))

    def _note_left_behind(self, active):
        old = self.live['path']
        if active:
            self.left_behind = self._volume_paths()
        elif self.module.is_local and os.path.isdir(old):
            self.left_behind = sorted(os.path.join(old, f) for f in os.listdir(old)
                                      if os.path.isfile(os.path.join(old, f)))
        if self.left_behind:
            self.module.warn("pool '%s' moves from %s to %s: %d volume(s) stay at the old path and leave the pool: "
                             "%s (move them to the new path and refresh the pool; guests keep using the old paths "
                             "until their disks are changed)" % (self.name, old, self.desired['path'],
                                                                 len(self.left_behind), ', '.join(self.left_behind)))

    # ------------------------------------------------------------ actions (self.pool resolved when they run)

    def _path(self):
        return (self.live or {}).get('path') or _xml.parse(self.pool.XMLDesc(0)).findtext('target/path')

    def _build_detail(self, pool_model):
        if pool_model['type'] == 'logical':
            return 'create volume group %s on %s' % (pool_model['source']['name'],
                                                     ', '.join(pool_model['source'].get('devices') or []))
        return 'create %s' % pool_model['path']

    def _build(self):
        flags = libvirt.VIR_STORAGE_POOL_BUILD_NO_OVERWRITE if self.pool_type == 'logical' else 0
        self.pool.build(flags)

    def _start(self):
        self.pool.create(0)

    def _stop(self):
        self.pool.destroy()

    def _undefine(self):
        self.pool.undefine()

    def _delete_volumes(self):
        self.pool.refresh(0)
        for volume in self.pool.listAllVolumes(0):
            volume.delete(0)

    # ------------------------------------------------------------ result

    def result(self):
        pool = None if self.state == 'absent' else self.reported(self.pool, lambda: self._predicted,
                                                                 lambda: pool_facts(self.pool, self.name))
        result = dict(pool=pool, volumes_left_behind=self.left_behind)
        if self.nfs is not None:
            result['nfs'] = self.nfs
        return result
