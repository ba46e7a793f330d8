#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: kvm_pool
short_description: Manage libvirt storage pools (directory, NFS, LVM), idempotently
version_added: 0.1.0
description:
  - Defines, builds, starts, stops, changes and removes libvirt storage pools of type V(dir), V(netfs)
    (NFS) and V(logical) (an LVM volume group).
  - The desired pool is compared with its persistent definition only for what you specify; what libvirt
    generated (the UUID) is kept.
  - Changing the target path, the NFS source or the mount options of a running pool stops it, redefines it
    and starts it again. When the path changes, the volumes at the old path are named in a warning and in
    RV(volumes_left_behind); libvirt does not move them.
  - Before a V(netfs) pool is defined (or its source changes), the export is checked. The NFS server must
    answer on TCP 2049 (and rpcbind on 111 with NFSv3 mount options). When the module runs as root on the
    pool's host (a local O(uri)), the export is test-mounted on a temporary directory, and root must be
    able to create a file there and give it to the user QEMU runs as (C(libvirt-qemu) or C(qemu)); an
    export that squashes root fails with the fix (V(no_root_squash), or V(anonuid)/V(anongid) of that
    user). With SELinux on, a V(virt_use_nfs) boolean that is off is reported with its fix. These checks
    also run in check mode (the trial mount is unmounted at once).
  - Removing a pool never deletes its volumes unless O(purge=true).
  - All input is validated before anything on the host changes.
author:
  - kvmops.kvm maintainers (@kvmops)
extends_documentation_fragment:
  - kvmops.kvm.connection
  - kvmops.kvm.connection.attributes
options:
  name:
    description: Name of the pool.
    type: str
    required: true
  state:
    description:
      - V(active) - defined and running (a V(netfs) pool is then mounted).
      - V(inactive) - defined and stopped.
      - V(present) - defined; whether it runs is left as it is.
      - V(absent) - stopped and undefined; its volumes stay unless O(purge=true).
    type: str
    choices: [active, inactive, present, absent]
    default: active
  autostart:
    description:
      - Start the pool when the libvirt daemon starts.
      - When a pool is created with O(state=active), defaults to V(true); an existing pool's autostart is
        changed only when this is given.
    type: bool
  type:
    description:
      - V(dir) - a directory of the host.
      - V(netfs) - an NFS export, mounted on O(path) while the pool runs.
      - V(logical) - an LVM volume group; O(path) defaults to V(/dev/<volume group>).
      - V(dir) when the pool is created and O(type) is not given. The type of an existing pool cannot change.
    type: str
    choices: [dir, netfs, logical]
  path:
    description:
      - The target path of the pool, where its volumes are (for V(netfs), the mount point).
      - Required when a V(dir) or V(netfs) pool is created.
      - Changing it on an existing pool stops the pool, redefines it and starts it again (see the description).
      - Refused when another pool already uses this path.
    type: path
  source:
    description: Where the pool's storage comes from (V(netfs) and V(logical) pools).
    type: dict
    suboptions:
      host:
        description: The NFS server (V(netfs); required for it).
        type: str
      path:
        description: The exported directory on the NFS server (V(netfs); required for it).
        type: str
      format:
        description:
          - V(nfs) mounts with C(-t nfs); V(auto) lets C(mount) decide.
          - V(nfs) when the pool is created and O(source.format) is not given.
        type: str
        choices: [nfs, auto]
      name:
        description: The LVM volume group (V(logical)); defaults to the pool's name.
        type: str
      devices:
        description: The physical volumes of the volume group (V(logical)); O(build=true) creates the group on them.
        type: list
        elements: str
  mount_options:
    description:
      - Options for mounting a V(netfs) pool, one an item (for example V(vers=4.2), V(soft), V(noatime)).
      - Compared as a list, in order; V([]) removes them.
    type: list
    elements: str
  owner:
    description:
      - Owner of the target directory, a user name or numeric ID.
      - Names are resolved on the host the module runs on, so give numbers for a remote O(uri).
    type: raw
  group:
    description: Group of the target directory, a group name or numeric ID (as for O(owner)).
    type: raw
  mode:
    description:
      - Mode of the target directory, as a quoted octal string such as V('0755'); permission bits only (up to V('0777')).
      - An unquoted YAML number is refused (C(mode=755) reaches the module as the number 755, C(mode=0755) as 493).
    type: raw
  build:
    description:
      - Have libvirt build the pool when it is created, when its path changes, or when its target directory is
        missing and it is to start.
      - For V(dir) and V(netfs) this creates the target directory with O(owner), O(group) and O(mode); for
        V(logical) it creates the volume group on O(source.devices), only when they carry no data signature yet
        (on a local O(uri) each device is checked with C(blkid -p) before anything changes).
      - Without it, a pool that is to start needs its target directory to exist already (checked on a local
        O(uri) before anything changes).
    type: bool
    default: false
  purge:
    description:
      - With O(state=absent), delete every volume of the pool and the target directory (or volume group)
        before undefining it. Irreversible.
    type: bool
    default: false
notes:
  - Permissions of an existing pool's target directory are set directly when the module runs on the pool's
    host (a local O(uri)); on a remote host they take effect the next time the pool is built.
seealso:
  - module: kvmops.kvm.kvm_volume
'''

EXAMPLES = r'''
- name: The default pool, moved to /iso (stopped, redefined and started again if it ran elsewhere)
  kvmops.kvm.kvm_pool:
    name: default
    path: /iso

- name: A directory pool, created by libvirt with the right owner
  kvmops.kvm.kvm_pool:
    name: images
    path: /srv/images
    owner: libvirt-qemu
    group: kvm
    mode: '0750'
    build: true

- name: Guest disks on an NFS export mounted at the same path on every KVM host (live migration)
  kvmops.kvm.kvm_pool:
    name: shared
    type: netfs
    path: /var/lib/libvirt/shared
    source:
      host: nfs1.example.com
      path: /export/vmdisks
    mount_options: [vers=4.2, hard]
    build: true

- name: An LVM volume group as a pool, created on an empty disk
  kvmops.kvm.kvm_pool:
    name: vg_guests
    type: logical
    source:
      devices: [/dev/sdb]
    build: true

- name: Remove a pool, keeping its volumes on disk
  kvmops.kvm.kvm_pool:
    name: images
    state: absent
'''

RETURN = r'''
pool:
  description:
    - The pool after the run (in check mode, as the run would leave it; values libvirt has not produced yet
      are null). Null when it does not exist.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the pool.
      type: str
      sample: images
    uuid:
      description: UUID of the pool.
      type: str
      sample: 4c1f0a7e-8d2b-4f51-9a43-0f6b2d7c9e11
    type:
      description: Type of the pool.
      type: str
      sample: dir
    path:
      description: Target path.
      type: str
      sample: /srv/images
    active:
      description: Whether the pool runs.
      type: bool
    autostart:
      description: Whether it starts with the daemon.
      type: bool
    persistent:
      description: Whether it has a persistent definition.
      type: bool
    capacity:
      description: Size of the pool's storage in bytes (null while it is stopped).
      type: int
      sample: 270553174016
    allocation:
      description: Bytes in use (null while it is stopped).
      type: int
    available:
      description: Bytes free (null while it is stopped).
      type: int
nfs:
  description: What the NFS checks found, when they ran (a V(netfs) pool defined or its source changed).
  returned: when the NFS checks ran
  type: dict
  contains:
    export:
      description: The export checked.
      type: str
      sample: nfs1.example.com:/export/vmdisks
    reachable:
      description: Whether the server answered on TCP 2049 (and 111 for NFSv3).
      type: bool
    mounted:
      description: Whether the export was test-mounted (null when that could not be tried).
      type: bool
    root_squash:
      description: False when root could create a file and hand it to QEMU's user (null when not tried).
      type: bool
    selinux_virt_use_nfs:
      description: The SELinux boolean virt_use_nfs; null when SELinux is off or not checked.
      type: bool
volumes_left_behind:
  description: Volumes that stayed at the old path when the pool's path changed (also given as a warning).
  returned: always
  type: list
  elements: str
  sample: [/var/lib/libvirt/images/web1.qcow2]
actions:
  description: What was done (or would be done in check mode), in order. Empty when nothing changes.
  returned: always
  type: list
  elements: str
  sample: ["stop pool 'default': to apply path", "define pool 'default': path", "start pool 'default': with path applied"]
diff:
  description: The compared fields that differ, before and after.
  returned: always
  type: dict
  sample: {before: {path: /var/lib/libvirt/images}, after: {path: /iso}}
'''

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.module import KvmModule
from ansible_collections.kvmops.kvm.plugins.module_utils._storage.pool import Pool
from ansible_collections.kvmops.kvm.plugins.module_utils._storage.pool_model import NETFS_FORMATS, TYPES


def argument_spec():
    return dict(
        name=dict(type='str', required=True),
        state=dict(type='str', default='active', choices=['active', 'inactive', 'present', 'absent']),
        autostart=dict(type='bool'),
        type=dict(type='str', choices=list(TYPES)),
        path=dict(type='path'),
        source=dict(type='dict', options=dict(
            host=dict(type='str'),
            path=dict(type='str'),
            format=dict(type='str', choices=list(NETFS_FORMATS)),
            name=dict(type='str'),
            devices=dict(type='list', elements='str'))),
        mount_options=dict(type='list', elements='str'),
        owner=dict(type='raw'),
        group=dict(type='raw'),
        mode=dict(type='raw'),
        build=dict(type='bool', default=False),
        purge=dict(type='bool', default=False),
    )


def main():
    KvmModule(argument_spec()).run(Pool)


if __name__ == '__main__':
    main()
