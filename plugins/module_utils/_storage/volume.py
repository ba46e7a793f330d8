# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt storage volumes: read -> plan -> apply (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.kvmops.kvm.plugins.module_utils._storage import download as _download
from ansible_collections.kvmops.kvm.plugins.module_utils._storage import permissions
from ansible_collections.kvmops.kvm.plugins.module_utils._storage import volume_batch as batch
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import validate as check
from ansible_collections.kvmops.kvm.plugins.module_utils._storage import volume_model as model
from ansible_collections.kvmops.kvm.plugins.module_utils._storage import volume_source as sources
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError, ParameterError
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.resource import Resource
from ansible_collections.kvmops.kvm.plugins.module_utils._storage.lookup import lookup_pool, lookup_volume, volume_by_path

KIND = 'volume'
PARTIAL_SUFFIX = model.PARTIAL_SUFFIX


def partial_marker(name):
    """The name of the empty volume that stands beside a volume while its content is uploaded: a volume found
    with its marker was cut off mid-upload (module killed, daemon restarted) and holds part of its image."""
    return name + PARTIAL_SUFFIX


def guests_using(conn, path, pool_name, name, running_only):
    """(domain, disk target) pairs of the guests whose disks are this volume."""
    flags = libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE if running_only else 0
    found = []
    for domain in conn.listAllDomains(flags):
        for disk in _xml.parse(domain.XMLDesc(0)).findall('devices/disk'):
            source, target = disk.find('source'), disk.find('target')
            if source is None:
                continue
            if path in (source.get('file'), source.get('dev')) or (
                    source.get('pool') == pool_name and source.get('volume') == name):
                found.append((domain, target.get('dev') if target is not None else None))
    return found


class Volume(Resource):
    """One storage volume."""

    KIND = KIND
    ABSENT_OPTIONS = ('pool',)

    def __init__(self, module, params=None):
        super(Volume, self).__init__(module, params)
        self.pool_name = self.params['pool']
        self.label = '%s/%s' % (self.pool_name, self.name)
        self.pool = None
        self.pool_type = None
        self.vol = None
        self.live = None
        self.desired = {}
        self.source = None
        self.backing = None
        self.made_by = None    # the earlier item of the batch that makes the backing image or clone source
        self.sized_by_user = False
        self._directory = None
        self._predicted = None
        self.partial = None    # the marker of an upload that did not finish
        self.replaced = None   # the volume that upload left incomplete, replaced by this run

    @property
    def key(self):
        """A volume is named within its pool: '<pool>/<name>' keys it in a batch."""
        return self.label

    # ------------------------------------------------------------ validation (reads only)

    def validate(self):
        check.object_name('pool', self.pool_name)
        model.volume_name('name', self.name)
        model.not_a_marker('name', self.name)
        if self.state == 'present':
            self._desired_from_options()
        self._read_pool()
        self.vol = self._lookup()
        self.partial = lookup_volume(self.pool, self.pool_name, partial_marker(self.name))
        if self.state == 'absent':
            return
        if self.vol is not None and self.partial is not None:
            self._incomplete()
        if self.vol is None:
            self._validate_new()
        else:
            self.live = model.read(_xml.parse(self.vol.XMLDesc(0)))
            self._validate_existing()

    def _incomplete(self):
        """The volume holds part of an image (its upload was cut off): with its source given it is made again,
        otherwise it is kept, with a warning."""
        given = self.params.get('source') or {}
        if given.get('file') or given.get('url'):
            self.replaced, self.vol = self.vol, None
            return
        self.module.warn("volume '%s' holds part of an image: its upload was cut off (module killed or daemon "
                         "restarted; marker volume '%s'). Give its source (source.file or source.url) to make it again, "
                         "or remove it with state: absent" % (self.label, partial_marker(self.name)))

    def _desired_from_options(self):
        if self.params.get('capacity') is not None:
            self.sized_by_user = True
            self.desired['capacity'] = model.capacity('capacity', self.params['capacity'])
        if self.params.get('format'):
            self.desired['format'] = self.params['format']
        self.desired.update(model.permissions(self.params, self.module.is_local))
        given = dict((k, v) for k, v in (self.params.get('source') or {}).items() if v)
        kinds = [k for k in ('volume', 'file', 'url') if k in given]
        if self.params.get('source') is not None and len(kinds) != 1:
            raise ParameterError('source', 'give exactly one of source.volume (clone), source.file (import) or '
                                           'source.url (download)%s' % (', not %s' % ' and '.join(kinds) if kinds else ''))

    def _read_pool(self):
        # once per pool and run: a batch's items read the same pool (and nothing changes before all are read)
        self.pool, self.pool_type = self.module.remembered(('pool', self.pool_name), self._pool_of_run)

    def _pool_of_run(self):
        self.pool = lookup_pool(self.conn, self.pool_name)
        if self.pool is None:
            raise ParameterError('pool', "there is no pool '%s' (kvmops.kvm.kvm_pool creates one)" % self.pool_name)
        if not self.pool.isActive():
            raise KvmError('use', 'pool', self.pool_name, 'it is not active: start it (kvm_pool with state: active) '
                                                          'to manage its volumes')
        self.pool_type = _xml.parse(self.pool.XMLDesc(0)).get('type')
        try:
            self.pool.refresh(0)   # volumes made outside libvirt (qemu-img, cp) count too
        except libvirt.libvirtError:
            pass
        return self.pool, self.pool_type

    def _lookup(self):
        return lookup_volume(self.pool, self.pool_name, self.name)

    def _validate_new(self):
        logical = self.pool_type == 'logical'
        if logical and self.desired.get('format', 'raw') != 'raw':
            raise ParameterError('format', "volumes of the logical (LVM) pool '%s' are raw block devices" % self.pool_name)
        if self.params.get('backing'):
            self._resolve_backing(logical)
        elif self.params.get('source'):
            self.source = self._clone_of_earlier() or sources.resolve(self.conn, self.params['source'], self.pool,
                                                                      self.pool_name)
            self._check_source()
        elif 'capacity' not in self.desired:
            raise ParameterError('capacity', 'a new volume needs its capacity (e.g. 10G), a backing image or a source')
        downloading = self.source is not None and self.source.kind == 'url'
        size = self.desired.get('capacity') or (self.source.size if self.source else None)
        if size:
            self._check_free_space(size, 'a new volume of %s' % model.human(size))
        fmt = self.source.format if self.source else 'qcow2'
        if not logical and not downloading and fmt:   # a download's format is its image's, known once downloaded
            self.desired.setdefault('format', fmt)

    def _clone_of_earlier(self):
        """A clone of a volume an earlier item of the batch creates: its Source, resolved when this one is made."""
        given = self.params['source']
        if not given.get('volume'):
            return None
        pool_name = given.get('pool') or self.pool_name
        self.made_by = batch.made_earlier(self, pool_name, given['volume'], 'source.volume')
        if self.made_by is None:
            return None
        if given.get('checksum'):
            raise ParameterError('source.checksum', 'a checksum verifies a file or a download, not a clone')
        promised = batch.promise(self.made_by)
        return sources.Source('volume', self.made_by.label, promised['format'], promised['capacity'])

    def _resolve_backing(self, logical):
        if logical:
            raise ParameterError('backing', 'LVM volumes cannot overlay a backing image; use a dir or netfs pool')
        if self.desired.get('format', 'qcow2') != 'qcow2':
            raise ParameterError('format', 'an overlay on a backing image is a qcow2 volume, not %s' % self.desired['format'])
        value = self.params['backing']
        self.made_by = batch.made_earlier(self, self.pool_name, value, 'backing')
        if self.made_by is not None:
            backing = batch.promise(self.made_by)
            if backing['path'] is None:
                raise ParameterError('backing', "volume '%s' is made by an earlier item of this batch in a pool without "
                                                "a target path: an overlay needs its base's path" % self.made_by.label)
        elif value.startswith('/'):
            backing = self._backing_by_path(value)
        else:
            try:
                volume = self.pool.storageVolLookupByName(value)
            except libvirt.libvirtError:
                raise ParameterError('backing', "no volume '%s' in pool '%s' (give a volume name of this pool or an "
                                                "absolute path)" % (value, self.pool_name))
            backing = model.read(_xml.parse(volume.XMLDesc(0)))
        self.backing = dict(path=backing['path'], format=backing['format'] or 'raw', size=backing['capacity'])
        self.desired['backing'] = self.backing['path']
        if self.backing['size'] is None:   # a base this run downloads first: its size is known once it is made
            return
        size = self.desired.setdefault('capacity', self.backing['size'])
        if size < self.backing['size']:
            raise ParameterError('capacity', '%s is smaller than the backing image %s (%s): an overlay is at least as '
                                             'large as its base' % (model.human(size), self.backing['path'],
                                                                    model.human(self.backing['size'])))

    def _backing_by_path(self, path):
        volume = volume_by_path(self.conn, path)
        if volume is not None:
            return model.read(_xml.parse(volume.XMLDesc(0)))
        if self.module.is_local and os.path.isfile(path):
            fmt, size = model.image_info(path)
            return dict(path=path, format=fmt, capacity=size)
        raise ParameterError('backing', "'%s' is neither a volume of a pool nor a file on the pool's host" % path)

    def _check_source(self):
        source = self.source
        if source.kind == 'file' and self.desired.get('format') not in (None, source.format):
            raise ParameterError('format', "'%s' is a %s image; importing it as %s would need a conversion, which is "
                                           "not done: leave format out or set it to %s"
                                 % (source.path, source.format, self.desired['format'], source.format))
        if source.kind == 'file' and source.format == 'qcow2' and self.pool_type == 'logical':
            raise ParameterError('source.file', "'%s' is a qcow2 image; LVM volumes hold raw images only" % source.path)
        if source.size is not None and self.desired.get('capacity', source.size) < source.size:
            raise ParameterError('capacity', '%s is smaller than the %s (%s): a volume is never shrunk'
                                 % (model.human(self.desired['capacity']), source.describe(), model.human(source.size)))

    def _validate_existing(self):
        live = self.live
        if self.desired.get('format') and live['format'] and self.desired['format'] != live['format']:
            raise ParameterError('format', "volume '%s' is %s; converting it to %s is not done in place: create a new "
                                           "volume with source.volume: %s and format: %s"
                                 % (self.label, live['format'], self.desired['format'], self.name, self.desired['format']))
        backing = self.params.get('backing')
        if backing:
            wanted = backing if backing.startswith('/') else os.path.join(os.path.dirname(live['path']), backing)
            if os.path.normpath(wanted) != os.path.normpath(live['backing'] or ''):
                raise ParameterError('backing', "volume '%s' overlays %s, not %s: rebasing is not done; remove the "
                                                "volume (state: absent) to recreate it" % (self.label, live['backing'], wanted))
        if 'capacity' in self.desired:
            wanted = model.aligned(self.desired['capacity'], self._alignment())
            if wanted < live['capacity']:
                raise ParameterError('capacity', "volume '%s' is %s (%d bytes); %s would shrink it, which loses data and "
                                                 "is refused: give at least %s" % (
                                                     self.label, model.human(live['capacity']), live['capacity'],
                                                     model.human(self.desired['capacity']), model.human(live['capacity'])))
            if self.desired['capacity'] > live['capacity']:
                growth = model.aligned(self.desired['capacity'], self._alignment()) - live['capacity']
                self._check_free_space(growth, 'growing %s from %s to %s (%s more)' % (
                    self.label, model.human(live['capacity']), model.human(self.desired['capacity']), model.human(growth)))

    def _check_free_space(self, needed, what):
        """libvirt refuses a volume larger than its pool's free space only once asked: say so first, with both
        sizes and the pool's name."""
        available = self.pool.info()[3]
        if self.replaced is not None:   # its space comes back before the new one is made
            available += self.replaced.info()[2]
        if needed > available:
            raise ParameterError('capacity', "pool '%s' has %s free (%d bytes); %s (%d bytes) does not fit: free space "
                                             "in the pool or use a larger one" % (
                                                 self.pool_name, model.human(available), available, what, needed))

    def _alignment(self):
        return model.LVM_ALIGNMENT if self.pool_type == 'logical' else model.FILE_ALIGNMENT

    # ------------------------------------------------------------ planning

    def plan(self, plan):
        if self.state == 'absent':
            return self._plan_absent(plan)
        if self.vol is None:
            return self._plan_create(plan)
        return self._plan_update(plan)

    def _plan_absent(self, plan):
        if self.partial is not None:
            plan.add('delete', KIND, '%s/%s' % (self.pool_name, self.partial.name()), lambda: self.partial.delete(0),
                     'marker of an upload that was cut off')
        if self.vol is None:
            return
        path = self.vol.path()
        running = guests_using(self.conn, path, self.pool_name, self.name, running_only=True)
        if running:
            raise KvmError('delete', KIND, self.label, 'running guest(s) use it as their disk: %s; stop them or detach '
                                                       'the disk first' % ', '.join(pair[0].name() for pair in running))
        stopped = guests_using(self.conn, path, self.pool_name, self.name, running_only=False)
        if stopped:
            self.module.warn("volume '%s' is the disk of defined guest(s) %s, which will not start until the disk is "
                             "removed from them" % (self.label, ', '.join(pair[0].name() for pair in stopped)))
        plan.difference('state', 'present', 'absent')
        plan.add('delete', KIND, self.label, lambda: self.vol.delete(0), path)

    def _plan_create(self, plan):
        plan.difference('state', 'incomplete' if self.replaced is not None else 'absent', 'present')
        for key, value in sorted(self.desired.items()):
            plan.difference(key, None, value)
        if self.replaced is not None:
            plan.add('delete', KIND, self.label, lambda: self.replaced.delete(0),
                     'holds part of its image: its upload was cut off')
        plan.add('create', KIND, self.label, self._create, self._create_detail())
        size = self.desired.get('capacity') or (self.source.size if self.source else None)
        path = self._pool_path()
        path = os.path.join(path, self.name) if path else None
        self._predicted = dict(name=self.name, pool=self.pool_name, path=path,
                               key=path if self.pool_type != 'logical' else None,
                               format=self.desired.get('format', 'raw' if self.pool_type == 'logical' else None),
                               capacity=size, allocation=None,
                               backing=self.backing['path'] if self.backing else None)

    def _create_detail(self):
        parts = []
        first = ' (which this run creates first)' if self.made_by is not None else ''
        if self.source:
            parts.append(self.source.describe() + first)
        if self.desired.get('format'):
            parts.append(self.desired['format'])
        if self.backing:
            parts.append('overlay on %s%s' % (self.backing['path'], first))
        if 'capacity' in self.desired:
            parts.append(model.human(self.desired['capacity']))
        return ', '.join(parts)

    def _plan_update(self, plan):
        live = self.live
        now = dict(live)
        if 'capacity' in self.desired:
            wanted = model.aligned(self.desired['capacity'], self._alignment())
            # compared unaligned: a raw file keeps the very size it was made with (1000 bytes stays 1000)
            if self.desired['capacity'] > live['capacity']:
                plan.difference('capacity', live['capacity'], wanted)
                self._plan_grow(plan, wanted)
                now['capacity'] = wanted
        changed = [key for key in ('owner', 'group', 'mode') if key in self.desired and self.desired[key] != live[key]]
        for key in changed:
            plan.difference(key, live[key], self.desired[key])
            now[key] = self.desired[key]
        if changed:
            self._plan_permissions(plan, changed, now)
        self._predicted = dict(self._facts(live), capacity=now['capacity'])

    def _plan_grow(self, plan, size):
        running = guests_using(self.conn, self.live['path'], self.pool_name, self.name, running_only=True)
        detail = '%s to %s' % (model.human(self.live['capacity']), model.human(size))
        lvm = self._lvextend_here()
        if self.pool_type == 'logical' and not lvm:
            raise ParameterError('capacity', "volume '%s' is an LVM volume on a remote host: libvirt cannot grow LVM "
                                             "volumes, the module does it with lvextend when it runs on the pool's "
                                             "host (uri qemu:///system there)" % self.label)
        if running:
            domain, target = running[0]

            def grow_live():
                if lvm:   # QEMU cannot grow a block device: the LV grows first, QEMU then takes the new size
                    self._resize(size)
                domain.blockResize(target, size, libvirt.VIR_DOMAIN_BLOCK_RESIZE_BYTES)
            # qemu-img cannot resize an image a running QEMU holds locked; QEMU itself grows it and tells the guest
            plan.add('grow', KIND, self.label, grow_live,
                     '%s (live, through running guest %s disk %s)' % (detail, domain.name(), target))
            return
        plan.add('grow', KIND, self.label, lambda: self._resize(size), detail + (' (lvextend)' if lvm else ''))

    def _lvextend_here(self):
        """LVM volumes grow with lvextend on the pool's own host: libvirt's logical backend cannot resize
        (virStorageVolResize: 'storage pool does not support changing of volume capacity', libvirt 9.0)."""
        return self.pool_type == 'logical' and self.module.is_local

    def _resize(self, size):
        if not self._lvextend_here():
            self.vol.resize(size, 0)
            return
        rc, out, err = self.module.run_command(['lvextend', '--size', '%db' % size, self.vol.path()])
        if rc != 0:
            raise KvmError('grow', KIND, self.label, 'lvextend: %s' % (err.strip() or out.strip()))
        self.pool.refresh(0)
        self.vol = self._lookup()

    def _plan_permissions(self, plan, changed, now):
        path = self.live['path']
        if not self.module.is_local:
            raise ParameterError(changed[0], "volume '%s' exists on a remote host: libvirt cannot change the %s of an "
                                             "existing volume there" % (self.label, ', '.join(changed)))
        ids = 'owner' in changed or 'group' in changed
        permissions.plan_set(plan, KIND, self.label, path, now['owner'] if ids else None,
                             now['group'] if ids else None, now['mode'] if 'mode' in changed else None,
                             ', '.join('%s=%s' % (key, now[key]) for key in changed),
                             then=lambda: self.pool.refresh(0))

    # ------------------------------------------------------------ the create action

    def _create(self):
        if self.made_by is not None:
            self._resolve_made_by()
        source = self.source
        if source is None:
            self.vol = self.pool.createXML(self._definition(self.desired.get('capacity'), backing=self.backing), 0)
        elif source.kind == 'volume':
            self.vol = self.pool.createXMLFrom(self._definition(source.size), source.volume, 0)
            self._grow_after(source.size)
        elif source.kind == 'file':
            self._verify_file(source)
            self._create_from_file(source.path, source.format, source.size)
        else:
            self._download_and_create(source)
        self._drop_marker()

    def _resolve_made_by(self):
        """The base image or clone source an earlier item of the batch made: read now that it is there."""
        other = self.made_by
        made = lookup_volume(other.pool, other.pool_name, other.name)
        if made is None:
            raise KvmError('create', KIND, self.label, "its %s '%s' was to be made by an earlier item of this batch, "
                           "which did not make it" % ('backing image' if self.backing else 'source', other.label))
        live = model.read(_xml.parse(made.XMLDesc(0)))
        if self.backing is not None:
            self.backing = dict(path=live['path'], format=live['format'] or 'raw', size=live['capacity'])
        else:
            self.source.volume, self.source.format, self.source.size = made, live['format'], live['capacity']
        if live['format'] and self.pool_type != 'logical' and not self.backing:
            self.desired.setdefault('format', live['format'])
        if not self.sized_by_user:
            if self.backing is not None:   # an overlay is as large as the base the earlier item really made
                self.desired['capacity'] = live['capacity']
            return
        size = self.desired['capacity']
        if size < live['capacity']:
            raise KvmError('create', KIND, self.label, '%s is smaller than %s (%s), made by an earlier item: a volume is '
                           'never shrunk; nothing was created' % (model.human(size), other.label,
                                                                  model.human(live['capacity'])))

    def _mark_partial(self):
        if self.partial is None:
            logical = self.pool_type == 'logical'
            self.partial = self.pool.createXML(model.new_definition(
                partial_marker(self.name), model.LVM_ALIGNMENT if logical else 0, None if logical else 'raw', {}), 0)

    def _drop_marker(self):
        if self.partial is not None:
            self.partial.delete(0)
            self.partial = None

    def _definition(self, size, backing=None):
        fmt = None if self.pool_type == 'logical' else self.desired.get('format')
        perms = dict((k, self.desired[k]) for k in ('owner', 'group', 'mode') if k in self.desired)
        return model.new_definition(self.name, size, fmt, perms, backing)

    def _verify_file(self, source):
        if source.checksum:
            try:
                _download.verify(source.path, source.checksum, source.path)
            except _download.DownloadError as exc:
                raise KvmError('create', KIND, self.label, str(exc))

    def _download_and_create(self, source):
        try:
            path = _download.download(source.label, source.checksum, self.module.ansible.tmpdir)
        except _download.DownloadError as exc:
            raise KvmError('create', KIND, self.label, '%s; nothing was created' % exc)
        try:
            fmt, size = model.image_info(path)
            if self.desired.get('format') and self.desired['format'] != fmt:
                raise KvmError('create', KIND, self.label, '%s is a %s image, not %s; nothing was created'
                               % (source.label, fmt, self.desired['format']))
            if self.pool_type == 'logical' and fmt != 'raw':
                raise KvmError('create', KIND, self.label, '%s is a %s image; LVM volumes hold raw images only'
                               % (source.label, fmt))
            if self.desired.get('capacity', size) < size:
                raise KvmError('create', KIND, self.label, 'the image at %s is %s; capacity %s would shrink it: give at '
                               'least %s; nothing was created' % (source.label, model.human(size),
                                                                  model.human(self.desired['capacity']), model.human(size)))
            self._create_from_file(path, fmt, size)
        finally:
            os.unlink(path)

    def _create_from_file(self, path, fmt, size):
        fmt_for_pool = None if self.pool_type == 'logical' else fmt
        perms = dict((k, self.desired[k]) for k in ('owner', 'group', 'mode') if k in self.desired)
        # the marker stays until the content is whole: a run cut off here (killed, daemon restarted) leaves it,
        # and the next run makes the volume again instead of taking part of an image for the real one
        self._mark_partial()
        self.vol = self.pool.createXML(model.new_definition(self.name, size, fmt_for_pool, perms), 0)
        try:
            sources.upload(self.conn, self.vol, path)
        except Exception:
            self.vol.delete(0)
            self.vol = None
            self._drop_marker()
            raise
        self._grow_after(size)

    def _grow_after(self, size):
        wanted = self.desired.get('capacity')
        if wanted is not None and model.aligned(wanted, self._alignment()) > size:
            self._resize(model.aligned(wanted, self._alignment()))

    # ------------------------------------------------------------ result

    def _pool_path(self):
        return self.pool_directory()

    def pool_directory(self):
        """The pool's target path (None when it has none), read once."""
        if self._directory is None:
            self._directory = _xml.parse(self.pool.XMLDesc(0)).findtext('target/path') or ''
        return self._directory or None

    def _facts(self, live=None):
        """What the volume is; `live`: its model as validate() just read it (not read again)."""
        live = live or model.read(_xml.parse(self.vol.XMLDesc(0)))
        return dict(name=self.name, pool=self.pool_name, path=live['path'], key=self.vol.key(), format=live['format'],
                    capacity=live['capacity'], allocation=live['allocation'], backing=live['backing'])

    def result(self):
        volume = None if self.state == 'absent' else self.reported(self.vol, lambda: self._predicted, self._observed)
        if volume and volume.get('capacity') is not None:
            volume = dict(volume, capacity_human=model.human(volume['capacity']))
        return dict(volume=volume)

    def _observed(self):
        self.vol = self.pool.storageVolLookupByName(self.name)   # libvirt refreshes it after uploads
        return self._facts()
