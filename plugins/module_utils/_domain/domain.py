# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt guests: read -> plan -> apply (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import os

from ansible_collections.kvmops.kvm.plugins.module_utils._domain import model
from ansible_collections.kvmops.kvm.plugins.module_utils._domain import spec
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import validate as check
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._domain.cloud_init import read_seed, seed_files, write_seed
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.compare import differences
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt
from ansible_collections.kvmops.kvm.plugins.module_utils._domain.checks import HostChecks, macs_of_other_guests
from ansible_collections.kvmops.kvm.plugins.module_utils._domain.extra import ExtraElements
from ansible_collections.kvmops.kvm.plugins.module_utils._domain.live import LivePlanner
from ansible_collections.kvmops.kvm.plugins.module_utils._domain.match import complete
from ansible_collections.kvmops.kvm.plugins.module_utils._domain.power import Power
from ansible_collections.kvmops.kvm.plugins.module_utils._domain.storage import DiskStore
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.objects import parse_definition
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.resource import Resource

KIND = 'domain'
SEED_DIRECTORY = '/var/lib/libvirt/images'
TCG_CACHE_MIB = 64
_UNDEFINE_FLAGS = ('VIR_DOMAIN_UNDEFINE_MANAGED_SAVE', 'VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA',
                   'VIR_DOMAIN_UNDEFINE_NVRAM', 'VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA')


class Domain(Resource):
    """One guest."""

    KIND = KIND
    uses_events = True
    KIND = KIND
    ABSENT_OPTIONS = ('remove_storage',)        # what state: absent uses besides the name
    ABSENT_ONLY_OPTIONS = ('remove_storage',)   # what only state: absent uses

    def __init__(self, module, params=None):
        super(Domain, self).__init__(module, params)
        self.desired = None
        self.extra = None   # unmodelled elements of a full `xml`
        self.dom = None
        self.store = DiskStore(module)
        self.power = Power(self)
        self.restart_required = False
        self.seed_path = None
        self.seed_files = None
        self.domain_type = None
        self._used_macs = None
        self._definition = None
        self._definition_model = None
        self._live_root = None   # the live XML planning read, reused by the result when nothing was applied
        self._unchanged = False
        self.after = {}
        self.autostart_after = False

    # ------------------------------------------------------------ validation (reads only)

    def validate(self):
        check.object_name('name', self.name)
        if self.state == 'absent':
            return
        if self.params.get('xml'):
            self.desired = self._from_xml(self.params['xml'])
        else:
            self.desired = spec.from_options(self.params)
        if self.params.get('cloud_init') is not None:
            # user_data is no_log: Ansible would hide each of its values everywhere in the output, the guest's
            # name (public in every result) and tiny tokens included; those are no secrets
            no_log = self.module.ansible.no_log_values
            for value in list(no_log):
                if value == self.name or len(value) <= 3:
                    no_log.discard(value)
            directory = self.params['cloud_init'].get('directory') or SEED_DIRECTORY
            self.seed_path = os.path.join(directory, '%s-cidata.iso' % self.name)
            self.seed_files = seed_files(self.name, self.params['cloud_init'])
            self.desired['seed'] = self.seed_path
        self.dom = self._lookup()
        HostChecks(self).run()

    def _from_xml(self, text):
        root = parse_definition(text, KIND, self.name)
        self.xml_root = root
        self.extra = ExtraElements(root)
        full = model.read(root)
        wanted = ('memory', 'max_memory', 'vcpus', 'max_vcpus', 'machine', 'firmware', 'boot', 'kernel', 'initrd',
                  'cmdline', 'disks', 'interfaces', 'graphics', 'type')
        desired = dict((key, full[key]) for key in wanted if full.get(key) not in (None, []))
        if root.find('cpu') is not None:
            desired['cpu'] = full['cpu']
        for disk in desired.get('disks', []):
            disk['name'] = disk.get('volume') or disk['path']
        cdroms = full['cdroms']
        if cdroms:
            desired['cdrom'] = cdroms[0]['path'] or ''
        return desired

    def _lookup(self):
        return self.lookup(self.conn.lookupByName, libvirt.VIR_ERR_NO_DOMAIN)

    @property
    def used_macs(self):
        """{MAC: guest} of the other guests, read when a MAC must be checked or generated."""
        if self._used_macs is None:
            self._used_macs = macs_of_other_guests(self.conn, self.name)
        return self._used_macs

    def definition(self):
        """The guest's persistent definition (its live XML when it is transient), read once per run."""
        if self._definition is None:
            self._definition = self.persistent_definition(self.dom, libvirt.VIR_DOMAIN_XML_INACTIVE,
                                                          libvirt.VIR_DOMAIN_XML_SECURE)
        return self._definition

    def definition_model(self):
        """The definition read into the model once per run (host checks and planning share it; neither changes it)."""
        if self._definition_model is None:
            self._definition_model = model.read(self.definition())
        return self._definition_model

    def dump(self, inactive):
        flags = libvirt.VIR_DOMAIN_XML_SECURE | (libvirt.VIR_DOMAIN_XML_INACTIVE if inactive else 0)
        return _xml.parse(self.dom.XMLDesc(flags))

    # ------------------------------------------------------------ planning

    def plan(self, plan):
        if self.state == 'absent':
            return self._plan_absent(plan)
        self._plan_seed(plan)
        if self.dom is None:
            self._plan_create(plan)
        else:
            self._plan_update(plan)
        self.power.plan(plan)
        self._plan_autostart(plan)
        self._unchanged = not plan.actions

    def _plan_seed(self, plan):
        if self.seed_path is None:
            return
        current = read_seed(self.seed_path)
        if current == self.seed_files:
            return
        plan.difference('cloud_init', sorted(current) if current else None, sorted(self.seed_files))
        plan.add('build', 'seed ISO', self.seed_path, lambda: write_seed(self.seed_path, self.seed_files),
                 'for domain %s' % self.name)

    def _plan_volumes(self, plan, disks):
        for disk in disks:
            exists = (self.store.volume(disk['pool'], disk['volume'], 'disks') is not None if disk.get('pool')
                      else self.store.path_exists(disk['path']))
            if exists is not False or disk.get('size') is None:
                continue   # there, or a remote path libvirt cannot see: leave it to the define to tell
            label = disk.get('volume') or disk['path']
            detail = ('overlay on %s' % disk['backing'] if disk.get('backing')
                      else '%s, %d GiB' % (disk.get('format') or 'qcow2', (disk.get('size') or 0) // 1024 ** 3))
            plan.add('create', 'volume', label, self.store.creator(disk), detail)

    def _plan_create(self, plan):
        desired = spec.creation_defaults(self.desired)
        desired['type'] = self.domain_type
        completed = complete(desired, None, self)
        self._plan_volumes(plan, completed.get('disks', []))
        if self.params.get('xml'):
            root = model.write(self.xml_root, {'type': completed['type']})
        else:
            root = model.new_definition(self.name, completed,
                                        tcg_cache_mib=TCG_CACHE_MIB if self.domain_type == 'qemu' else None)
        definition = _xml.to_string(root)
        plan.difference('state', 'absent', self.state)
        for key in sorted(completed):
            if key in self.desired or key in ('type', 'memory', 'vcpus'):
                plan.difference(key, None, _shown(key, completed[key]))

        def define():
            self.dom = self.conn.defineXML(definition)
        plan.add('define', KIND, self.name, define)
        self.after = completed
        self.current_state = 'absent'

    def _plan_update(self, plan):
        persistent = bool(self.dom.isPersistent())
        config_root = self.definition()
        config = self.definition_model()
        desired = self._effective(config)
        completed = complete(desired, config, self)
        self._plan_volumes(plan, completed.get('disks', []))
        config_diffs = differences(model.comparable(completed), model.comparable(config))
        if self.extra is not None:
            config_diffs += self.extra.differences(config_root)
        for diff in config_diffs:
            plan.difference(diff.path, _shown(diff.path, diff.before), _shown(diff.path, diff.after))
        if config_diffs or not persistent:
            new_root = model.write(copy.deepcopy(config_root), completed)   # config_root may be the live XML
            if self.extra is not None:
                self.extra.write(new_root)
            definition = _xml.to_string(new_root)

            def define():
                self.dom = self.conn.defineXML(definition)
            plan.add('define', KIND, self.name, define,
                     ', '.join(d.path for d in config_diffs) if config_diffs else 'make persistent')
        self.after = dict(config, **completed)
        self.current_state = self.power.current()
        if self.current_state in ('running', 'paused') and self.state not in ('destroyed', 'shutdown'):
            self._plan_running(plan, desired, config_root if not persistent else None, config_diffs)

    def _plan_running(self, plan, desired, live_root, config_diffs):
        """What reaches the running guest live, and what waits for a restart (done now when restart: true).
        live_root: the live XML when planning already read it (a transient guest has no other)."""
        live_root = self._live_root = self.dump(inactive=False) if live_root is None else live_root
        live = model.read(live_root)
        pending = LivePlanner(self, live_root, live, complete(desired, live, self),
                              set(d.path for d in config_diffs)).plan(plan)
        if self.extra is not None:
            pending += [d.path for d in self.extra.differences(live_root)]
        if not pending:
            return
        if self.params['restart'] and self.state in ('running', 'present'):
            self.power.restart_for(pending)
        else:
            self.restart_required = True
            self.module.warn("domain '%s' runs with an older definition (%s differ); the new one takes effect "
                             "when it restarts (restart: true)" % (self.name, ', '.join(pending)))

    def _effective(self, config):
        """A memory or vcpu count above today's ceiling raises the ceiling too."""
        desired = dict(self.desired)
        if self.params.get('type') in ('kvm', 'qemu'):
            desired['type'] = self.params['type']
        if 'memory' in desired and 'max_memory' not in desired and desired['memory'] > config['max_memory']:
            desired['max_memory'] = desired['memory']
        if 'vcpus' in desired and 'max_vcpus' not in desired and desired['vcpus'] > config['max_vcpus']:
            desired['max_vcpus'] = desired['vcpus']
        return desired

    def _plan_absent(self, plan):
        self.dom = self._lookup()
        if self.dom is None:
            return
        current = self.power.current()
        plan.difference('state', current, 'absent')
        if self.dom.isActive():
            plan.add('stop', KIND, self.name, self.dom.destroy, 'forced off')
        disks = model.read(self.definition())['disks']
        if self.dom.isPersistent():
            flags = 0
            for name in _UNDEFINE_FLAGS:
                flags |= getattr(libvirt, name, 0)
            plan.add('undefine', KIND, self.name, lambda: self._undefine(flags))
        if self.params.get('remove_storage'):
            for disk in disks:
                plan.add('delete', 'volume', disk.get('volume') or disk['path'], self.store.remover(disk))
            seed = os.path.join(SEED_DIRECTORY, '%s-cidata.iso' % self.name)
            if os.path.exists(seed) and self.module.is_local:
                plan.add('delete', 'seed ISO', seed, lambda: os.unlink(seed))

    def _undefine(self, flags):
        # older daemons (and the test driver) refuse flags they do not know: fall back to fewer; NVRAM is the one
        # that matters for UEFI guests, and a guest that has one still refuses the plain undefine, saying why
        fallbacks = (flags, libvirt.VIR_DOMAIN_UNDEFINE_NVRAM | libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE, 0)
        for attempt in fallbacks:
            try:
                return self.dom.undefineFlags(attempt)
            except libvirt.libvirtError as exc:
                if exc.get_error_code() != libvirt.VIR_ERR_INVALID_ARG or attempt == 0:
                    raise

    def _plan_autostart(self, plan):
        now = bool(self.dom.autostart()) if self.dom is not None else False
        # a guest does not start at boot unless asked, whatever its state
        self.autostart_after = self.plan_autostart(plan, lambda: self.dom, now,
                                                   self.wanted_autostart(default_when_active=False))

    # ------------------------------------------------------------ result

    def result(self):
        if self.state == 'absent':
            return dict(domain=None, restart_required=False)
        domain = self.reported(self.dom, self._predicted_result,
                               lambda: self.power.observed(self._observed_result()))
        return dict(domain=domain, restart_required=self.restart_required)

    def _predicted_result(self):
        after = self.after
        return dict(_devices(after), name=self.name, uuid=self.dom.UUIDString() if self.dom is not None else None,
                    state=self.power.final_state, type=after.get('type'), autostart=self.autostart_after,
                    memory=after.get('memory'), vcpus=after.get('vcpus'))

    def _observed_result(self):
        live_root = self._live_root if self._unchanged and self._live_root is not None else self.dump(inactive=False)
        live = model.read(live_root)
        result = dict(_devices(live), name=self.name, uuid=self.dom.UUIDString(), state=self.power.current(),
                      type=live['type'], autostart=bool(self.dom.autostart()), memory=live['memory'],
                      vcpus=live['vcpus'])
        if result['graphics'] and result['graphics'].get('type') != 'none':
            port = live_root.find('devices/graphics').get('port')
            result['graphics']['port'] = int(port) if port and port != '-1' else None   # the port autoport chose
        return result


def _devices(domain_model):
    """The devices part of the returned domain: no passwords, addresses filled in later."""
    return dict(
        interfaces=[dict(mac=i.get('mac'), type=i['type'], source=i['source'], model=i.get('model'), ipv4=[])
                    for i in domain_model.get('interfaces', [])],
        disks=[dict(target=d['target'], path=d.get('path'), pool=d.get('pool'), volume=d.get('volume'),
                    format=d.get('format'), bus=d.get('bus')) for d in domain_model.get('disks', [])],
        graphics=_public_graphics(domain_model.get('graphics')))


def _public_graphics(graphics):
    if not graphics:
        return None
    return dict((k, v) for k, v in graphics.items() if k != 'password')


def _shown(path, value):
    """Passwords never reach the diff."""
    if path.startswith('graphics') and isinstance(value, dict) and value.get('password'):
        return dict(value, password='********')
    if path == 'graphics.password' and value:
        return '********'
    return value
