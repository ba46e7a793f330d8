#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: kvm_snapshot
short_description: Take, revert to and delete guest snapshots, declaratively
version_added: 0.1.0
description:
  - Makes sure a snapshot of a libvirt guest exists (O(state=present), taken when missing), is gone
    (O(state=absent)), or is where the guest stands (O(state=current), reverted when the guest moved on).
  - Internal snapshots (the default) live inside the guest's qcow2 images; external ones put a qcow2
    overlay file beside each disk (named like libvirt does, V(<disk without extension>.<snapshot>)) and keep
    the RAM, when asked, in V(<domain>.<snapshot>.mem) beside the first disk. Deleting an external snapshot
    block-commits its overlays (libvirt does) and removes its RAM file, so no file is left behind.
  - O(keep) prunes the oldest snapshots of the guest beyond a count (the snapshot named O(name) is never
    pruned unless O(state=absent)).
  - All input is checked before anything changes, among it an unknown guest, a snapshot that exists with
    other settings, O(memory=true) on a shut-off guest, internal snapshots of disks that are not qcow2,
    a revert to another guest's snapshot, and O(quiesce) without a guest agent that answers.
  - "How O(state=current) decides that nothing changed since the snapshot: the snapshot must be libvirt's
    current snapshot of the guest, the guest must be in the power state a revert would leave (running or
    paused for a snapshot with RAM, as O(running_after_revert) says, shut off otherwise), and the guest must
    not have moved on since this module took or reverted to the snapshot. For the last point the module
    writes a mark into the domain's metadata (namespace V(https://kvmops.github.io/xmlns/kvm_snapshot/1))
    after each create and revert: for a running guest into the live definition, with the domain ID and each
    disk's write counters (requests and bytes, virDomainBlockStats); for a shut-off guest into the persistent
    definition, with each disk file's modification time (libvirt's storage volume timestamps, or the file's
    own on a local host). Any disk write, a restart (a new domain ID, or counters that went back), a change of
    the current snapshot or of the power state, or a missing mark (a revert done with virsh) means the guest
    moved on, and the module reverts again."
  - "Limits of that decision: a running guest's CPU and RAM change all the time; they count as changed only
    through disk writes or a restart, so a running guest that only computed and wrote nothing to its disks is
    still at the snapshot. Writes that bypass the guest's disks (a file changed on the host while the guest
    runs) are not seen. A shut-off guest whose disks are not in a storage pool, on a remote URI, cannot be
    checked and is reverted each time."
  - "External snapshots on libvirt before 9.7, which cannot revert them: the module reverts itself when no
    other snapshot builds on the snapshot's overlays (its last snapshot in a line): it stops the guest,
    replaces each overlay by an empty one on the same frozen backing file (qemu-img), then restores the RAM
    file when the snapshot kept one (or starts the guest when O(running_after_revert=true)), and makes the
    snapshot current again. The guest's definition is kept as it is (libvirt's own revert also restores the
    definition the snapshot recorded). A revert to an external snapshot that others build on fails before
    anything changes. Internal and external snapshots do not mix in one guest."
author:
  - kvmops.kvm maintainers (@kvmops)
extends_documentation_fragment:
  - kvmops.kvm.connection
  - kvmops.kvm.connection.attributes
options:
  domain:
    description: The guest.
    type: str
    required: true
  name:
    description: The snapshot's name.
    type: str
    required: true
  state:
    description:
      - V(present) - the snapshot exists; it is taken now when missing (an existing one is never retaken).
      - V(absent) - the snapshot is deleted (with O(children)).
      - V(current) - the guest is at this snapshot; reverted to it unless nothing changed since (see above).
    type: str
    choices: [present, absent, current]
    default: present
  children:
    description:
      - With O(state=absent), what happens to the snapshots taken after this one on its branch.
      - V(keep) - they stay, their parent becomes this snapshot's parent (libvirt merges the data they need).
      - V(delete) - they are deleted too.
    type: str
    choices: [keep, delete]
    default: keep
  description:
    description: A description stored with the snapshot (compared for an existing one).
    type: str
  memory:
    description:
      - Keep the guest's RAM and device state, so that a revert resumes the guest where it was.
      - Default when taken - V(true) for a running guest unless O(disk_only=true), V(false) for a shut-off one.
      - An internal snapshot of a running guest always keeps the RAM (QEMU's savevm).
    type: bool
  disk_only:
    description:
      - Only the disks, no RAM. For a running guest this needs O(type=external); a revert leaves the guest
        as after a power cut at that moment (shut off, unless O(running_after_revert=true)).
    type: bool
  quiesce:
    description:
      - Freeze the guest's file systems through the QEMU guest agent while the snapshot is taken, so that the
        disks are consistent. The agent must answer, else the module fails before anything changes.
    type: bool
    default: false
  running_after_revert:
    description:
      - With O(state=current), the guest's state after a revert.
      - V(true) - running. V(false) - paused when the snapshot kept the RAM, shut off otherwise.
      - Not given - as the snapshot was (running or paused with RAM, shut off without).
    type: bool
  type:
    description:
      - V(internal) - inside the qcow2 images (every disk must be qcow2).
      - V(external) - overlay files on top of the disks (any format, file disks).
      - V(internal) when not given and the snapshot is taken; an existing snapshot is compared only when given.
    type: str
    choices: [internal, external]
  keep:
    description:
      - Prune the guest's oldest snapshots (by creation time) so that at most this many remain.
      - Pruned snapshots' children are kept.
    type: int
seealso:
  - name: libvirt snapshot XML format
    description: What a domain snapshot is in libvirt.
    link: https://libvirt.org/formatsnapshot.html
'''

EXAMPLES = r'''
- name: Snapshot before the upgrade, keep the last five
  kvmops.kvm.kvm_snapshot:
    domain: web1
    name: before-upgrade-{{ ansible_date_time.date }}
    description: before the package upgrade
    keep: 5

- name: Go back to it when the upgrade failed (the guest resumes where it was)
  kvmops.kvm.kvm_snapshot:
    domain: web1
    name: before-upgrade-{{ ansible_date_time.date }}
    state: current

- name: A disk-only, file-system consistent snapshot of a running guest on raw disks
  kvmops.kvm.kvm_snapshot:
    domain: db1
    name: nightly
    type: external
    disk_only: true
    quiesce: true

- name: Remove a snapshot and everything taken after it on its branch
  kvmops.kvm.kvm_snapshot:
    domain: web1
    name: before-upgrade
    state: absent
    children: delete
'''

RETURN = r'''
snapshot:
  description:
    - The snapshot after the run (in check mode, as the run would leave it; a creation time not known yet is
      null). Null when it does not exist.
  returned: always
  type: dict
  contains:
    name:
      description: The snapshot's name.
      type: str
      sample: before-upgrade
    domain:
      description: The guest.
      type: str
    description:
      description: Its description, or null.
      type: str
    created:
      description: When it was taken (UTC, ISO 8601).
      type: str
      sample: "2024-05-01T12:00:00Z"
    creation_time:
      description: When it was taken (seconds since the epoch).
      type: int
    state:
      description: The guest's state it recorded (V(running), V(paused), V(shutoff), V(disk-snapshot)).
      type: str
    parent:
      description: The snapshot it was taken after, or null for a root.
      type: str
    children:
      description: The snapshots taken directly after it.
      type: list
      elements: str
    current:
      description: Whether it is the guest's current snapshot.
      type: bool
    memory:
      description: Whether it kept the RAM.
      type: bool
    memory_file:
      description: Where an external snapshot keeps the RAM, or null.
      type: str
    disk_only:
      description: Whether it has no RAM.
      type: bool
    type:
      description: V(internal) or V(external).
      type: str
    disks:
      description: Per disk, how it is kept (V(internal), V(external) with the overlay V(file), V(no)).
      type: list
      elements: dict
      sample: [{name: vda, snapshot: external, file: /var/lib/libvirt/images/web1.before-upgrade}]
snapshots:
  description: The guest's whole snapshot tree, oldest first, each as RV(snapshot) with its parent and children.
  returned: always
  type: list
  elements: dict
actions:
  description: What was done (or would be done in check mode), in order. Empty when nothing changes.
  returned: always
  type: list
  elements: str
  sample: ["create snapshot 'before-upgrade': internal, with RAM", "delete snapshot 'old': oldest beyond keep: 5"]
diff:
  description: The snapshots of the guest before and after, the current snapshot and the guest's power state.
  returned: always
  type: dict
'''

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.module import KvmModule
from ansible_collections.kvmops.kvm.plugins.module_utils._snapshot.model import CHILDREN, TYPES
from ansible_collections.kvmops.kvm.plugins.module_utils._snapshot.snapshot import Snapshot


def argument_spec():
    return dict(
        domain=dict(type='str', required=True),
        name=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent', 'current']),
        children=dict(type='str', default='keep', choices=list(CHILDREN)),
        description=dict(type='str'),
        memory=dict(type='bool'),
        disk_only=dict(type='bool'),
        quiesce=dict(type='bool', default=False),
        running_after_revert=dict(type='bool'),
        type=dict(type='str', choices=list(TYPES)),
        keep=dict(type='int'),
    )


def main():
    KvmModule(argument_spec()).run(Snapshot)


if __name__ == '__main__':
    main()
