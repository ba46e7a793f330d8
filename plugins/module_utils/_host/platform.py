# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvm_host: what the kernel offers guests besides KVM (private to kvmops.kvm).

Huge pages, IOMMU, cgroups, the security modules and the devices QEMU opens; all read from
/proc and /sys, so they work without root and without libvirt.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import files as _files

# the controllers libvirt's QEMU driver uses, as virt-host-validate checks them
CGROUP_V1_CONTROLLERS = ('cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'blkio')
CGROUP_V2_CONTROLLERS = ('cpu', 'cpuset', 'memory', 'io', 'pids')


def _meminfo(text):
    values = {}
    for line in (text or '').splitlines():
        key, _sep, value = line.partition(':')
        number = value.split()
        if number and number[0].isdigit():
            values[key.strip()] = int(number[0])
    return values


def _mounts(fstype):
    points = []
    for line in (_files.read_text('/proc/mounts') or '').splitlines():
        fields = line.split()
        if len(fields) > 2 and fields[2] == fstype:
            points.append(fields[1])
    return points


def hugepages():
    meminfo = _meminfo(_files.read_text('/proc/meminfo'))
    pools = []
    for entry in _files.list_dir('/sys/kernel/mm/hugepages'):
        match = re.match(r'^hugepages-(\d+)kB$', entry)
        if not match:
            continue
        base = '/sys/kernel/mm/hugepages/%s/' % entry
        total, free = (_files.read_text(base + 'nr_hugepages'), _files.read_text(base + 'free_hugepages'))
        pools.append(dict(size_kib=int(match.group(1)), total=int(total) if total else 0,
                          free=int(free) if free else 0))
    filesystems = _files.read_text('/proc/filesystems') or ''
    return dict(
        supported=bool(re.search(r'\bhugetlbfs\b', filesystems)),
        default_size_kib=meminfo.get('Hugepagesize'),
        total=meminfo.get('HugePages_Total', 0),
        free=meminfo.get('HugePages_Free', 0),
        pools=sorted(pools, key=lambda pool: pool['size_kib']),
        mounts=_mounts('hugetlbfs'),
    )


def iommu():
    cmdline = (_files.read_text('/proc/cmdline') or '').split()
    return dict(
        enabled=bool(_files.list_dir('/sys/class/iommu')) or bool(_files.list_dir('/sys/kernel/iommu_groups')),
        groups=len(_files.list_dir('/sys/kernel/iommu_groups')),
        kernel_cmdline=[word for word in cmdline if re.match(r'^(intel_iommu|amd_iommu|iommu)(\.\w+)?=', word)],
    )


def cgroups():
    v2 = _files.read_text('/sys/fs/cgroup/cgroup.controllers')
    if v2 is not None:
        return dict(version=2, controllers=sorted(v2.split()))
    enabled = set()
    for line in (_files.read_text('/proc/cgroups') or '').splitlines():
        fields = line.split()
        if len(fields) == 4 and not line.startswith('#') and fields[3] == '1':
            enabled.add(fields[0])
    mounted = set()
    for point in _mounts('cgroup'):
        mounted.update(point.rsplit('/', 1)[-1].split(','))
    version = 'hybrid' if _files.exists('/sys/fs/cgroup/unified/cgroup.controllers') else 1
    return dict(version=version, controllers=sorted(enabled & mounted) if mounted else sorted(enabled))


def missing_controllers(facts):
    wanted = CGROUP_V2_CONTROLLERS if facts['version'] == 2 else CGROUP_V1_CONTROLLERS
    return [name for name in wanted if name not in facts['controllers']]


def security():
    lsm = _files.read_text('/sys/kernel/security/lsm')
    enforce = _files.read_text('/sys/fs/selinux/enforce')
    selinux = None
    if enforce is not None:
        selinux = 'enforcing' if enforce.strip() == '1' else 'permissive'
    elif _files.exists('/sys/fs/selinux'):
        selinux = 'disabled'
    apparmor = (_files.read_text('/sys/module/apparmor/parameters/enabled') or '').strip().upper() == 'Y'
    return dict(lsm=lsm.strip().split(',') if lsm and lsm.strip() else [], selinux=selinux, apparmor=apparmor,
                libvirt_driver=None)


def devices():
    return dict(tun=_files.exists('/dev/net/tun'), vhost_net=_files.exists('/dev/vhost-net'),
                vhost_vsock=_files.exists('/dev/vhost-vsock'))
