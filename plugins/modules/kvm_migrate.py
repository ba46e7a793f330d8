#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: kvm_migrate
short_description: Migrate a guest to another KVM host, live, as a desired state, with pre-checks
version_added: 0.2.0
description:
  - Moves a libvirt guest from the source hypervisor (O(source_uri)) to the destination (O(dest_uri)), live by
    default, and reports the job's real figures (duration, downtime, bytes, memory iterations).
  - Idempotent as a desired state - a guest that already runs on the destination and not on the source is
    C(ok), not changed. A guest on neither host is an error naming both.
  - Before anything moves, every pre-check runs and reports its verdict in RV(precheck) - the destination answers
    and is another host (host UUIDs); the guest exists (and runs, for a live migration); no other guest on the
    destination has its name or UUID; its CPU is one the destination can provide (libvirt's hypervisor CPU
    comparison); the destination has the memory; every disk is on storage the destination sees at the same path
    (network disks, a pool that has it, or a marker file written on the source and seen on the destination),
    or is copied (O(storage)) into a pool that exists or is created there; disks left on shared storage bypass the
    host cache (or O(unsafe=true)); every network, portgroup, bridge and direct device of the NICs exists and is
    active on the destination. Check mode runs them all and reports what a real run would do.
  - On any failure or timeout the job is aborted, and the module verifies and reports that the guest still runs
    on the source (resuming it there if libvirt left it paused). A definition the failed run left on the
    destination is removed, so the guest can never be defined to start on both hosts; volumes a failed copy left
    there are deleted.
  - Both libvirt connections must be authenticated and encrypted (C(qemu+ssh), C(qemu+tls), or a local socket);
    C(qemu+tcp) is refused unless O(insecure_transport=true). The memory stream itself is encrypted with O(tls)
    (QEMU native TLS) or O(tunnelled); otherwise it travels in the clear on the migration network, as with
    C(virsh migrate) and nova's default; RV(transport) says which.
  - Many guests in one task - O(guests) lists them (each with its own O(guests[].dest_uri) when they go to different
    hosts), all with the task's other options. One module process and one connection to each host do every
    pre-check; then the guests move O(parallel) at a time, a sliding window (the next starts as soon as any
    migration ends), each lane of the window over connections of its own. Check mode runs the same pre-checks
    and predicts each guest's move. Results are keyed by guest name in RV(guests), each with the keys a single
    guest's run returns; a guest that fails (a pre-check or its migration) stays running on its source and does
    not stop the others, and the task fails at the end naming it in RV(failed_guests).
author:
  - kvmops.kvm maintainers (@kvmops)
extends_documentation_fragment:
  - kvmops.kvm.connection
  - kvmops.kvm.connection.attributes
options:
  name:
    description:
      - Name of the guest.
      - Required unless O(guests) is given; the two exclude each other.
    type: str
  guests:
    description:
      - Many guests to migrate in one task (instead of O(name)), each moved with the task's options.
      - A guest's name may appear once.
      - Each guest's memory is checked against what its destination has free when the task starts; guests that go
        to the same host are not added up (C(playbooks/evacuate.yml) places them so that they fit).
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the guest.
        type: str
        required: true
      dest_uri:
        description: Where this guest goes; O(dest_uri) of the task when not given.
        type: str
      migrate_uri:
        description: Where this guest's destination listens for the memory stream; O(migrate_uri) when not given.
        type: str
  parallel:
    description:
      - With O(guests) - how many guests migrate at a time. The pre-checks of all of them run before any moves.
      - Each migration at a time costs the source a share of its CPU and of the migration network's bandwidth.
    type: int
    default: 1
  source_uri:
    description:
      - libvirt URI of the source hypervisor. Defaults to O(uri) (V(qemu:///system) on the host the task runs on).
    type: str
  dest_uri:
    description:
      - libvirt URI of the destination hypervisor, for example V(qemu+ssh://root@kvm2/system) or
        V(qemu+tls://kvm2/system). With O(p2p) the source's libvirt daemon opens it, otherwise this module does.
      - Required, except with O(guests) when every item has its own O(guests[].dest_uri).
    type: str
  migrate_uri:
    description:
      - Where the destination listens for the memory stream, for example V(tcp://10.0.0.2) on a dedicated
        migration network. Defaults to the destination's C(migration_host) or host name.
    type: str
  state:
    description: V(migrated) - the guest runs (or, shut off, is defined) on the destination and not on the source.
    type: str
    choices: [migrated]
    default: migrated
  live:
    description:
      - V(true) - the guest keeps running while its memory is copied; it must run.
      - V(false) - a running guest is paused while it moves; a shut-off guest's definition moves (offline).
    type: bool
    default: true
  persistent:
    description: Define the guest on the destination (V(false) leaves it transient there).
    type: bool
    default: true
  undefine_source:
    description:
      - Remove the guest's definition from the source once it runs on the destination.
      - With V(false) the definition stays, with autostart turned off so the guest never starts on both at boot.
      - Autostart is carried over to the destination either way.
    type: bool
    default: true
  storage:
    description:
      - V(shared) - every disk must be on storage both hosts see at the same path (verified).
      - V(copy_all) - disks the destination does not see are copied whole while the guest runs (NBD); disks on
        shared storage are left where they are. The destination needs a pool whose path is each copied disk's
        directory; a directory pool is created there (named after the source's pool) when there is none.
      - V(copy_incremental) - as V(copy_all), but only the top image is copied; its backing files must already be
        on the destination at the same paths.
    type: str
    choices: [shared, copy_all, copy_incremental]
    default: shared
  bandwidth:
    description: Maximum bandwidth of the migration in MiB/s (nova C(live_migration_bandwidth)). Unlimited when unset.
    type: int
  max_downtime:
    description: Longest pause of the guest at the switch-over, in milliseconds (nova C(live_migration_downtime)).
    type: int
  auto_converge:
    description: Slow the guest's vCPUs down when its memory changes faster than it can be copied.
    type: bool
    default: false
  post_copy:
    description:
      - Allow switching to post-copy (the guest runs on the destination and pulls the memory it still lacks).
      - Needed by O(timeout_action=postcopy), which turns it on when it is unset.
      - After the switch a failure of either host or of the network loses the guest's state.
    type: bool
  compressed:
    description: Compress the memory stream (O(compression_methods); QEMU's default is XBZRLE).
    type: bool
    default: false
  compression_methods:
    description: Compression methods with O(compressed).
    type: list
    elements: str
    choices: [xbzrle, mt]
  parallel_connections:
    description: Send the memory over this many connections at once (QEMU multifd).
    type: int
  p2p:
    description:
      - Peer-to-peer - the source's libvirt daemon connects to O(dest_uri) itself (it needs credentials for it);
        otherwise this module drives both daemons.
      - Turned on by O(tunnelled).
    type: bool
  tunnelled:
    description: Send the memory through the libvirt connection (encrypted when that is ssh or tls); implies O(p2p).
    type: bool
    default: false
  tls:
    description: Encrypt the memory stream with QEMU native TLS (both hosts need libvirt's migration certificates).
    type: bool
    default: false
  unsafe:
    description: Migrate although libvirt (or the cache mode pre-check) considers the disks unsafe to share.
    type: bool
    default: false
  insecure_transport:
    description:
      - Accept a C(qemu+tcp) O(source_uri) or O(dest_uri). Such a connection is unencrypted and, with libvirtd's
        usual C(auth_tcp = none), unauthenticated - anyone who reaches the port can drive the hypervisor.
    type: bool
    default: false
  reserved_memory:
    description: Memory (MiB) the destination keeps for itself beyond the guest's (nova C(reserved_host_memory_mb)).
    type: int
    default: 0
  timeout:
    description: Seconds the migration may run before O(timeout_action) is taken.
    type: int
  timeout_action:
    description:
      - V(abort) - cancel the migration; the guest keeps running on the source and the task fails.
      - V(postcopy) - switch to post-copy, which then completes (see O(post_copy)).
      - V(pause) - pause the guest so that the migration completes; it is resumed on the destination.
    type: str
    choices: [abort, postcopy, pause]
    default: abort
notes:
  - Shared storage is proven with a marker file that libvirt writes through a transient directory pool on the
    source and looks for the same way on the destination; the pools and the file are removed at once, also in
    check mode.
  - Progress (job statistics) goes to the managed host's log every few seconds; RV(job_stats) carries the final
    statistics.
seealso:
  - module: kvmops.kvm.kvm_domain
'''

EXAMPLES = r'''
- name: Move web1 from kvm1 to kvm2 (disks on the NFS export both mount), live
  kvmops.kvm.kvm_migrate:
    name: web1
    uri: qemu+ssh://root@kvm1/system
    dest_uri: qemu+ssh://root@kvm2/system
    migrate_uri: tcp://10.0.99.2
    bandwidth: 500
    max_downtime: 300
    timeout: 600
    timeout_action: postcopy

- name: A guest on local disks, copied while it runs, memory stream encrypted
  kvmops.kvm.kvm_migrate:
    name: db1
    dest_uri: qemu+tls://kvm2.example.com/system
    storage: copy_all
    tls: true

- name: Drain kvm1, two guests at a time, pre-checked together first
  kvmops.kvm.kvm_migrate:
    uri: qemu+ssh://root@kvm1/system
    guests:
      - name: web1
        dest_uri: qemu+ssh://root@kvm2/system
      - name: web2
        dest_uri: qemu+ssh://root@kvm3/system
      - name: db1
        dest_uri: qemu+ssh://root@kvm2/system
    parallel: 2
  register: drained

- name: What would happen (every pre-check, nothing moves)
  kvmops.kvm.kvm_migrate:
    name: web1
    dest_uri: qemu+ssh://root@kvm2/system
  check_mode: true
  register: plan
'''

RETURN = r'''
guests:
  description:
    - With O(guests) - each guest's result, keyed by its name, with the keys a run for that one guest returns
      (RV(source) ... RV(diff)), and C(failed) and C(msg) for a guest that failed; the keys below are then not
      returned at the top level, except RV(changed), RV(actions) and RV(diff) for the task as a whole.
  returned: with O(guests)
  type: dict
  sample: {"web1": {"changed": true, "location": "kvm2", "duration_s": 2.3, "downtime_ms": 41}}
failed_guests:
  description: With O(guests) - the guests that failed (each stays on its source; its result says why).
  returned: when a guest of O(guests) failed
  type: list
  elements: str
source:
  description: Host name of the source hypervisor.
  returned: with O(name) (and in each result of RV(guests))
  type: str
destination:
  description: Host name of the destination hypervisor.
  returned: with O(name) (and in each result of RV(guests))
  type: str
location:
  description: Host name where the guest is now (predicted in check mode).
  returned: with O(name) (and in each result of RV(guests))
  type: str
precheck:
  description: Each pre-check with its verdict (V(pass), V(fail), V(skip)) and what it found; also returned on failure.
  returned: with O(name) (and in each result of RV(guests))
  type: dict
  sample: {"cpu": {"verdict": "pass", "detail": "'kvm2' provides the CPU model qemu64"}}
duration_s:
  description: Wall-clock seconds of the migration job; null when nothing moved.
  returned: with O(name) (and in each result of RV(guests))
  type: float
downtime_ms:
  description: How long the guest was paused at the switch-over (libvirt's job statistics).
  returned: with O(name) (and in each result of RV(guests))
  type: int
data_transferred:
  description: Bytes sent (memory and copied disks).
  returned: with O(name) (and in each result of RV(guests))
  type: int
memory_iterations:
  description: Passes over the guest's memory.
  returned: with O(name) (and in each result of RV(guests))
  type: int
job_stats:
  description: The final job statistics as libvirt reports them.
  returned: with O(name) (and in each result of RV(guests))
  type: dict
flags:
  description: The libvirt migration flags used (or that would be used).
  returned: with O(name) (and in each result of RV(guests))
  type: list
  elements: str
copied_disks:
  description: Targets of the disks copied to the destination.
  returned: with O(name) (and in each result of RV(guests))
  type: list
  elements: str
memory:
  description:
    - C(needed) - the guest's memory in bytes; C(available) - the destination's free memory plus page cache, in
      bytes (before O(reserved_memory)). Empty when the guest did not need to move.
  returned: with O(name) (and in each result of RV(guests))
  type: dict
transport:
  description: How the source and destination connections and the memory stream are protected.
  returned: with O(name) (and in each result of RV(guests))
  type: dict
timed_out:
  description: Whether O(timeout) was reached.
  returned: with O(name) (and in each result of RV(guests))
  type: bool
timeout_action_taken:
  description: What was done at the timeout.
  returned: when the migration ran
  type: str
postcopy_started:
  description: Whether the source was seen switched to post-copy (O(timeout_action=postcopy)).
  returned: when the migration ran
  type: bool
connection_lost:
  description: On failure, V(destination) when that connection closed during the migration (its libvirtd stopped or
    the host became unreachable; the job was aborted then).
  returned: on failure after the migration started
  type: str
guest_running_on_source:
  description: On failure, whether the guest was verified running on the source afterwards.
  returned: on failure after the migration started
  type: bool
changed:
  description: Whether the guest moved (or would).
  returned: always
  type: bool
actions:
  description: What was done (or would be).
  sample: ["migrate domain 'web1': from 'kvm1' to 'kvm2' (live, shared storage)"]
  returned: always
  type: list
  elements: str
diff:
  description: The guest's location before and after.
  returned: always
  type: dict
'''

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.module import KvmModule
from ansible_collections.kvmops.kvm.plugins.module_utils._migrate.migrate import Migration
from ansible_collections.kvmops.kvm.plugins.module_utils._migrate.spec import (
    COMPRESSION_METHODS, STORAGE_MODES, TIMEOUT_ACTIONS)


def argument_spec():
    return dict(
        name=dict(type='str'),
        guests=dict(type='list', elements='dict', options=dict(
            name=dict(type='str', required=True),
            dest_uri=dict(type='str'),
            migrate_uri=dict(type='str'),
        )),
        parallel=dict(type='int', default=1),
        source_uri=dict(type='str'),
        dest_uri=dict(type='str'),
        migrate_uri=dict(type='str'),
        state=dict(type='str', default='migrated', choices=['migrated']),
        live=dict(type='bool', default=True),
        persistent=dict(type='bool', default=True),
        undefine_source=dict(type='bool', default=True),
        storage=dict(type='str', default='shared', choices=list(STORAGE_MODES)),
        bandwidth=dict(type='int'),
        max_downtime=dict(type='int'),
        auto_converge=dict(type='bool', default=False),
        post_copy=dict(type='bool'),
        compressed=dict(type='bool', default=False),
        compression_methods=dict(type='list', elements='str', choices=list(COMPRESSION_METHODS)),
        parallel_connections=dict(type='int'),
        p2p=dict(type='bool'),
        tunnelled=dict(type='bool', default=False),
        tls=dict(type='bool', default=False),
        unsafe=dict(type='bool', default=False),
        insecure_transport=dict(type='bool', default=False),
        reserved_memory=dict(type='int', default=0),
        timeout=dict(type='int'),
        timeout_action=dict(type='str', default='abort', choices=list(TIMEOUT_ACTIONS)),
    )


def batch_items(params):
    """Each item of `guests` with the task's options (an item's own dest_uri and migrate_uri win)."""
    shared = dict((key, value) for key, value in params.items() if key not in ('guests', 'parallel', 'name'))
    return [dict(shared, **dict((key, value) for key, value in item.items() if value is not None))
            for item in params['guests']]


def main():
    module = KvmModule(argument_spec(), mutually_exclusive=[('name', 'guests')], required_one_of=[('name', 'guests')])
    if module.params['guests'] is None:
        module.run(Migration)
        return
    module.run_many(Migration, batch_items(module.params), results_key='guests', keep_going=True,
                    parallel=module.params['parallel'])


if __name__ == '__main__':
    main()
