#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: kvm_volumes
short_description: Converge many volumes of libvirt storage pools in one task, over one connection
version_added: 0.2.0
description:
  - Converges a list of volumes in one module run, with one process and one libvirt connection for all of
    them, instead of one of each per volume as a loop of M(kvmops.kvm.kvm_volume) costs (a drift check of 20
    volumes that changes nothing takes about as long as one task, see C(docs/kvm_domains.md)).
  - Each item of O(volumes) takes every option of M(kvmops.kvm.kvm_volume) and is converged exactly as that
    module would (created, grown, never shrunk, with the same check mode and diff).
  - A volume is named by its pool and its name, so results are keyed by C(<pool>/<name>) (the same name may
    appear in two pools, and once per pool).
  - The volumes are converged one after another in list order, which is the order of creation. An overlay
    (O(volumes[].backing)) or a clone (O(volumes[].source.volume)) may name a volume that an earlier item of the
    same task creates, such as a base image and the guests' overlays on it; the later item is checked against
    what the earlier one will make, check mode predicts it (the action says C(overlay on <path> (which this
    run creates first))), and it is made on the real volume once the earlier item has created it.
    An item that needs a volume an earlier item deletes is refused.
  - Every item is checked, its options and then against the host, before any volume is touched; bad input
    fails the task naming the item (C(volumes[1].capacity)) and changes nothing.
  - A volume that fails while it is converged does not stop the others (a volume made on it fails too, saying
    so). The task then fails at the end, naming every failed volume in RV(failed_volumes).
  - With O(hypervisors), one run converges the volumes of many hypervisors, each over a libvirt connection of
    its own, the hypervisors side by side (as M(kvmops.kvm.kvm_domains) does for guests).
author:
  - kvmops.kvm maintainers (@kvmops)
extends_documentation_fragment:
  - kvmops.kvm.connection
  - kvmops.kvm.connection.fleet
  - kvmops.kvm.connection.attributes
options:
  volumes:
    description:
      - The volumes, each with the options of M(kvmops.kvm.kvm_volume). A volume (pool and name) may appear
        once (once per hypervisor with O(hypervisors)).
      - O(uri) is shared by all of them.
      - Required unless O(hypervisors) is given (then an empty list converges nothing).
    type: list
    elements: dict
    suboptions:
      pool:
        description: Name of the storage pool; it must be active.
        type: str
        required: true
      name:
        description: Name of the volume, its file name in the pool (for example V(web1.qcow2)).
        type: str
        required: true
      hypervisor:
        description:
          - With O(hypervisors), the name of the hypervisor the volume belongs to; without it, the volume belongs
            to every hypervisor of O(hypervisors). Only with O(hypervisors).
        type: str
      state:
        description:
          - V(present) - the volume exists (created if missing, grown if smaller than O(volumes[].capacity)).
          - V(absent) - the volume is deleted; refused while a running guest uses it.
        type: str
        choices: [present, absent]
        default: present
      capacity:
        description:
          - The virtual size of the volume (what the guest sees; for qcow2, not the space it takes on disk).
          - A size with a unit such as V(10G), V(10GiB), V(512MiB), V(1000B) (V(G) means GiB; V(GB) means 10^9
            bytes), or a bare number of bytes, the unit the C(capacity) of RV(volumes) is returned in, so a returned value can
            be given back as it is. A bare number under 1 MiB is refused as surely meant in another unit.
          - A new volume, or the growth of an existing one, must fit in the pool's free space; otherwise the task
            fails before anything changes, naming the pool and both sizes.
          - Required for a new volume without O(volumes[].backing) or O(volumes[].source); otherwise it defaults to the size of the
            backing image or source, and must not be smaller.
          - Sizes are compared in bytes, rounded up to whole 512-byte sectors (4 MiB extents in V(logical) pools).
          - A volume of a V(logical) (LVM) pool is grown with C(lvextend), which needs the module to run on the
            pool's host (libvirt cannot resize LVM volumes); on a remote O(uri) growing one is refused.
        type: raw
      format:
        description:
          - Format of a new volume. Defaults to the source's format, else V(qcow2) (V(raw) in V(logical) pools).
          - A clone in another format is converted by libvirt; a file or download is not converted and must
            already be in this format.
        type: str
        choices: [qcow2, raw]
      backing:
        description:
          - Create the volume as a qcow2 overlay on this base image, given as a volume name in O(volumes[].pool) or an
            absolute path. The base's format is read from libvirt (or from the file's header).
        type: str
      source:
        description: The content of a new volume; give exactly one of O(volumes[].source.volume), O(volumes[].source.file), O(volumes[].source.url).
        type: dict
        suboptions:
          volume:
            description: Clone this volume (libvirt copies it, converting the format if needed).
            type: str
          pool:
            description: The pool of O(volumes[].source.volume); defaults to O(volumes[].pool).
            type: str
          file:
            description:
              - Import this file from the machine the module runs on (it is streamed to the hypervisor).
              - qcow2 and raw images are recognised by their header; anything else is taken as raw.
            type: path
          url:
            description: Download the image from this http(s) URL. Requires O(volumes[].source.checksum).
            type: str
          checksum:
            description:
              - The expected checksum as V(sha256:<hex>), V(sha512:<hex>) or V(sha1:<hex>).
              - Required with O(volumes[].source.url); optional with O(volumes[].source.file), which is then verified before the import.
            type: str
      owner:
        description:
          - Owner of the volume's file, a user name or numeric ID (names resolve on the host the module runs on).
          - Note that libvirt hands a disk to QEMU's user while a guest runs it (dynamic ownership).
        type: raw
      group:
        description: Group of the volume's file, a group name or numeric ID.
        type: raw
      mode:
        description:
          - Mode of the volume's file, as a quoted octal string such as V('0600'); permission bits only (up to V('0777')).
          - An unquoted YAML number is refused (C(mode=644) reaches the module as the number 644, C(mode=0644) as 420).
        type: raw
notes:
  - Permissions of an existing volume are changed only when the module runs on the hypervisor (a local O(uri)).
  - While an imported or downloaded image is uploaded, an empty volume named C(<name>.kvmops-partial) stands
    beside the new one. A run cut off mid-upload (the module killed, the libvirt daemon restarted) leaves both; the
    next run given the same source deletes the incomplete volume and its marker and makes it again, a run without
    the source keeps it and warns, and O(volumes[].state=absent) removes both. A O(volumes[].name) ending in C(.kvmops-partial) is
    refused, so no volume can pass for a marker.
seealso:
  - module: kvmops.kvm.kvm_volume
  - module: kvmops.kvm.kvm_pool
  - module: kvmops.kvm.kvm_domains
'''

EXAMPLES = r'''
# The checksum below is a placeholder: use the image's real one (Debian publishes SHA512SUMS beside it)
- name: A base image and the guests' overlays on it, in one task (the base is made first, also on a first run)
  kvmops.kvm.kvm_volumes:
    volumes:
      - pool: default
        name: debian-12-base.qcow2
        source:
          url: https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-generic-amd64.qcow2
          checksum: sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
      - pool: default
        name: web1.qcow2
        backing: debian-12-base.qcow2
        capacity: 20G
      - pool: default
        name: web2.qcow2
        backing: debian-12-base.qcow2
        capacity: 20G
  register: made

- name: Where web1's disk is ('<pool>/<name>' keys)
  ansible.builtin.debug:
    msg: "{{ made.volumes['default/web1.qcow2'].volume.path }}"

- name: The same data disk on every hypervisor of the play, in one task on the controller
  kvmops.kvm.kvm_volumes:
    hypervisors: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'kvm_uri'))) }}"
    volumes:
      - pool: default
        name: scratch.qcow2
        capacity: 10G
  run_once: true
  delegate_to: localhost
'''

RETURN = r'''
changed:
  description: Whether any volume changed (or would change in check mode).
  returned: always
  type: bool
volumes:
  description:
    - One result per volume, keyed by C(<pool>/<name>) (a volume's name is unique only within its pool), with
      the keys M(kvmops.kvm.kvm_volume) returns for it (C(changed), C(actions), C(diff), C(volume), whose
      C(pool) and C(name) give the key's parts).
    - A volume that failed has C(failed=true), C(msg), C(changed) and C(actions) (what was done before the
      failure).
  returned: when O(hypervisors) is not given (then see RV(hypervisors))
  type: dict
  sample:
    default/web1.qcow2:
      changed: false
      actions: []
      diff: {before: {}, after: {}}
      volume: {name: web1.qcow2, pool: default, path: /var/lib/libvirt/images/web1.qcow2, format: qcow2,
               capacity: 21474836480, capacity_human: 20 GiB, allocation: 200704,
               key: /var/lib/libvirt/images/web1.qcow2, backing: /var/lib/libvirt/images/debian-12-base.qcow2}
actions:
  description: Every volume's actions, in list order.
  returned: always
  type: list
  elements: str
  sample: ["create volume 'default/web1.qcow2': qcow2, overlay on /var/lib/libvirt/images/debian-12-base.qcow2, 20 GiB"]
diff:
  description: The compared fields that differ, before and after, keyed by C(<pool>/<name>) of each volume that differs.
  returned: always
  type: dict
hypervisors:
  description:
    - With O(hypervisors), one result per hypervisor, keyed by its name, with C(uri), C(changed), C(actions) and
      C(diff) of its volumes, and C(volumes), its volumes' results keyed by C(<pool>/<name>) (as RV(volumes)
      without O(hypervisors)).
    - A hypervisor that failed has C(failed=true) and C(msg); when some of its volumes failed, also
      C(failed_volumes).
  returned: when O(hypervisors) is given
  type: dict
failed_hypervisors:
  description: With O(hypervisors), the hypervisors that failed (unreachable, or a volume failed), in order.
  returned: when a hypervisor failed
  type: list
  elements: str
  sample: [kvm3]
failed_volumes:
  description: The volumes that failed, as C(<pool>/<name>), in list order.
  returned: when a volume failed while it was converged
  type: list
  elements: str
  sample: [default/web2.qcow2]
'''

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import fleet
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.module import KvmModule
from ansible_collections.kvmops.kvm.plugins.module_utils._storage.volume import Volume
from ansible_collections.kvmops.kvm.plugins.module_utils._storage import volume_options as options


def argument_spec():
    return fleet.batch_argument_spec('volumes', options.argument_spec(), options.MUTUALLY_EXCLUSIVE)


def main():
    module = KvmModule(argument_spec(), required_one_of=[('volumes', 'hypervisors')])
    module.run_many_or_fleet(Volume, 'volumes')


if __name__ == '__main__':
    main()
