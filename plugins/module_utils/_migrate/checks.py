# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pre-checks of a migration, each with its verdict: run before anything moves, all of them also in
check mode (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import libvirt_reason
from ansible_collections.kvmops.kvm.plugins.module_utils._migrate import guest as _guest
from ansible_collections.kvmops.kvm.plugins.module_utils._migrate import storage as _storage

MIB = 1024 ** 2
_RANK = ('skip', 'pass', 'fail')
ORDER = ('transport', 'destination', 'guest', 'clash', 'cpu', 'memory', 'storage', 'cache', 'networks')


class Verdicts(object):
    """Each check's verdict (pass, fail, skip) and what it found, in the order they ran."""

    def __init__(self):
        self._items = {}

    def record(self, check, ok, detail):
        """ok: True pass, False fail, None skip; a check met for several objects keeps the worst verdict."""
        verdict = 'skip' if ok is None else ('pass' if ok else 'fail')
        if check in self._items:
            old = self._items[check]
            old['verdict'] = max(old['verdict'], verdict, key=_RANK.index)
            old['detail'] = '%s; %s' % (old['detail'], detail)
        else:
            self._items[check] = dict(verdict=verdict, detail=detail)

    def failed(self):
        return [(name, item['detail']) for name, item in self._ordered() if item['verdict'] == 'fail']

    def _ordered(self):
        known = [(name, self._items[name]) for name in ORDER if name in self._items]
        return known + sorted((name, item) for name, item in self._items.items() if name not in ORDER)

    def result(self):
        return dict((name, dict(item)) for name, item in self._ordered())

    def message(self):
        return '; '.join('%s: %s' % (name, detail) for name, detail in self.failed())


def host_uuid(capabilities):
    return capabilities.findtext('host/uuid')


def check_hosts(verdicts, source_caps, dest_caps, source_name, dest_name):
    source_uuid, dest_uuid = host_uuid(source_caps), host_uuid(dest_caps)
    if source_uuid == dest_uuid:
        verdicts.record('destination', False, "'%s' and '%s' are the same host (host UUID %s): dest_uri must "
                        "name another host"
                        % (source_name, dest_name, dest_uuid))
    else:
        verdicts.record('destination', True, "'%s' answers (host UUID %s; the source's is %s)"
                        % (dest_name, dest_uuid, source_uuid))


def check_clash(verdicts, dest, name, uuid, dest_name):
    """No other guest on the destination has the guest's name or UUID. An inactive definition of this very
    guest (same name and UUID) is replaced by the migration."""
    by_name = _lookup(dest.lookupByName, name)
    by_uuid = _lookup(dest.lookupByUUIDString, uuid)
    problems = []
    if by_name is not None and by_name.UUIDString() != uuid:
        problems.append("a guest named '%s' (UUID %s) already exists on '%s'" % (name, by_name.UUIDString(), dest_name))
    if by_uuid is not None and by_uuid.name() != name:
        problems.append("the guest '%s' on '%s' has the same UUID %s" % (by_uuid.name(), dest_name, uuid))
    if problems:
        verdicts.record('clash', False, '; '.join(problems))
    elif by_name is not None:
        verdicts.record('clash', True, "an inactive definition of this guest on '%s' is replaced" % dest_name)
    else:
        verdicts.record('clash', True, "no guest named '%s' or with UUID %s on '%s'" % (name, uuid, dest_name))


def check_cpu(verdicts, dest, root, source_caps, dest_name):
    """The guest's CPU, as it runs now, is one the destination's hypervisor can provide."""
    mode, cpu_xml = _guest.cpu(root)
    arch, machine = _guest.machine(root)
    virttype = root.get('type')
    if mode in ('host-passthrough', 'maximum'):
        host_cpu = _xml.to_string(source_caps.find('host/cpu'))

        def compare():
            return dest.compareCPU(host_cpu, libvirt.VIR_CONNECT_COMPARE_CPU_FAIL_INCOMPATIBLE)
        what = "the source host's CPU (the guest uses %s)" % mode
    elif cpu_xml is None:
        verdicts.record('cpu', True, "the guest has no CPU model: the hypervisor's default on '%s'" % dest_name)
        return
    else:
        def compare():
            try:
                return dest.compareHypervisorCPU(None, arch, machine, virttype, cpu_xml,
                                                 libvirt.VIR_CONNECT_COMPARE_CPU_FAIL_INCOMPATIBLE)
            except libvirt.libvirtError as exc:
                if exc.get_error_code() != libvirt.VIR_ERR_NO_SUPPORT:
                    raise
                return dest.compareCPU(cpu_xml, libvirt.VIR_CONNECT_COMPARE_CPU_FAIL_INCOMPATIBLE)
        model = root.findtext('cpu/model') or mode
        what = 'the CPU model %s' % model
    try:
        outcome = compare()
    except libvirt.libvirtError as exc:
        verdicts.record('cpu', False, "'%s' cannot provide %s: %s" % (dest_name, what, libvirt_reason(exc)))
        return
    if outcome == libvirt.VIR_CPU_COMPARE_INCOMPATIBLE:
        verdicts.record('cpu', False, "'%s' cannot provide %s" % (dest_name, what))
    else:
        verdicts.record('cpu', True, "'%s' provides %s" % (dest_name, what))


def available_memory(conn):
    """Bytes a new guest can have on a host: free memory plus page cache and buffers, which the kernel gives
    back (libvirt's free memory alone counts the cache as used)."""
    try:
        stats = conn.getMemoryStats(libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS, 0)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_SUPPORT:
            raise
        return conn.getFreeMemory()    # a driver without node memory statistics: free memory alone
    return (stats.get('free', 0) + stats.get('buffers', 0) + stats.get('cached', 0)) * 1024


def check_memory(verdicts, needed, available, reserved_mib, dest_name):
    spare = available - reserved_mib * MIB
    detail = ("the guest needs %d MiB; '%s' has %d MiB available%s" % (
        needed // MIB, dest_name, available // MIB,
        ' minus %d MiB reserved' % reserved_mib if reserved_mib else ''))
    verdicts.record('memory', needed <= spare, detail)


def check_networks(verdicts, dest, nics, dest_name):
    """Every network, portgroup, bridge and direct device the NICs use exists and is active there."""
    if not nics:
        verdicts.record('networks', True, 'the guest has no NICs')
        return
    for nic in nics:
        what = 'NIC %s' % nic['mac']
        if nic['kind'] == 'network':
            network = _lookup(dest.networkLookupByName, nic['network'])
            if network is None:
                verdicts.record('networks', False, "%s: network '%s' does not exist on '%s'" % (what, nic['network'], dest_name))
            elif not network.isActive():
                verdicts.record('networks', False, "%s: network '%s' is not active on '%s'" % (what, nic['network'], dest_name))
            elif nic['portgroup'] and _xml.parse(network.XMLDesc(0)).find(
                    "portgroup[@name='%s']" % nic['portgroup']) is None:
                verdicts.record('networks', False, "%s: network '%s' on '%s' has no portgroup '%s'"
                                % (what, nic['network'], dest_name, nic['portgroup']))
            else:
                verdicts.record('networks', True, "%s: network '%s'%s is active on '%s'" % (
                    what, nic['network'], " (portgroup '%s')" % nic['portgroup'] if nic['portgroup'] else '', dest_name))
        elif nic['kind'] in ('bridge', 'direct'):
            device = nic['bridge'] if nic['kind'] == 'bridge' else nic['dev']
            noun = 'bridge' if nic['kind'] == 'bridge' else 'device'
            state = _interface_state(dest, device)
            if state is None:
                verdicts.record('networks', None, "%s: %s '%s' not verifiable on '%s' (no interface API there)"
                                % (what, noun, device, dest_name))
            elif state == 'missing':
                verdicts.record('networks', False, "%s: %s '%s' does not exist on '%s'" % (what, noun, device, dest_name))
            elif state == 'down':
                verdicts.record('networks', False, "%s: %s '%s' is down on '%s'" % (what, noun, device, dest_name))
            else:
                verdicts.record('networks', True, "%s: %s '%s' is up on '%s'" % (what, noun, device, dest_name))
        else:
            verdicts.record('networks', None, '%s: type %s needs nothing on the destination' % (what, nic['kind']))


def _interface_state(conn, name):
    """'up', 'down', 'missing', or None when the host's interface API cannot tell."""
    try:
        iface = conn.interfaceLookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_INTERFACE:
            return 'missing'
        return None
    return 'up' if iface.isActive() else 'down'


def classify_disks(verdicts, view, disks, mode, source, dest_name):
    """Which disks stay on shared storage and which must be copied. Returns (copied disks, shared disks,
    pools the destination needs: {directory: ('start', its inactive pool) or ('create', the source's pool or
    None)})."""
    copied, shared, pools = [], [], {}
    copying = mode in ('copy_all', 'copy_incremental')
    for disk in disks:
        name = _guest.label(disk)
        if _guest.is_empty(disk):
            verdicts.record('storage', None, '%s: empty, nothing to move' % name)
            continue
        seen, how = _shared(view, disk)
        if seen:
            shared.append(disk)
            verdicts.record('storage', True, '%s: shared, %s' % (name, how))
        elif disk['readonly'] and copying:
            verdicts.record('storage', False, "%s: read-only and not on '%s' (%s); libvirt copies only writable disks: "
                            "put the image there first" % (name, dest_name, how))
        elif not copying:
            verdicts.record('storage', False, "%s: not on storage '%s' sees (%s); use storage: copy_all (or "
                            "copy_incremental) to copy it" % (name, dest_name, how))
        elif disk['kind'] != 'file':
            verdicts.record('storage', False, '%s: a %s disk cannot be copied by this module; only file disks'
                            % (name, disk['kind']))
        else:
            copied.append(disk)
            _check_copy_target(verdicts, view, disk, mode, source, pools, dest_name)
    return copied, shared, pools


def _shared(view, disk):
    if disk['kind'] == 'network':
        return True, "network storage %s reached by QEMU itself on both hosts" % disk['url']
    if disk['kind'] == 'volume':
        return False, "pool volume %s/%s" % (disk['pool'], disk['volume'])
    if disk['kind'] == 'block':
        pool = view.destination_knows(disk['path'])
        if pool:
            return True, "the destination's pool '%s' has %s" % (pool, disk['path'])
        return False, 'no pool on the destination has the block device %s' % disk['path']
    return view.directory_shared(_guest.directory(disk))


def _check_copy_target(verdicts, view, disk, mode, source, pools, dest_name):
    name = _guest.label(disk)
    directory = _guest.directory(disk)
    if view.destination_has_file(disk['path']):
        verdicts.record('storage', False, "%s: '%s' already has a file at %s; copying would overwrite it"
                        % (name, dest_name, disk['path']))
        return
    if mode == 'copy_incremental':
        missing = [path for path in disk['backing'] if path and not view.destination_has_file(path)]
        if missing:
            verdicts.record('storage', False, "%s: copy_incremental copies only the top image; its backing files "
                            "are not on '%s': %s" % (name, dest_name, ', '.join(missing)))
            return
    existing = _storage.pool_at(view.destination, directory, active_only=False)
    if existing is not None and existing.isActive():
        verdicts.record('storage', True, "%s: copied into pool '%s' on '%s'" % (name, existing.name(), dest_name))
        return
    pools[directory] = ('start', existing) if existing is not None else (
        'create', _storage.source_pool_of(source, disk['path']))
    verdicts.record('storage', True, "%s: copied; the destination's pool for %s is %s first" % (
        name, directory, 'started' if existing is not None else 'created'))


def check_cache(verdicts, shared, unsafe):
    """Disks left on shared storage must not be cached in the source's page cache (libvirt's own rule)."""
    risky = [disk for disk in shared if not _guest.cache_is_safe(disk)]
    if not risky:
        verdicts.record('cache', True, 'every shared disk bypasses the host cache (none or directsync)'
                        if shared else 'no disk stays on shared storage')
        return
    names = ', '.join('%s (cache=%s)' % (_guest.label(d), d['cache'] or 'default') for d in risky)
    if unsafe:
        verdicts.record('cache', True, 'unsafe: true accepts %s' % names)
    else:
        verdicts.record('cache', False, '%s: data the source still caches would be lost at the switch-over; '
                        "use cache='none' or 'directsync', or set unsafe: true" % names)


def _lookup(finder, key):
    try:
        return finder(key)
    except libvirt.libvirtError:
        return None
