#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: kvm_volume
short_description: Manage volumes (disk images) in libvirt storage pools, idempotently
version_added: 0.1.0
description:
  - Creates, grows and deletes volumes of a libvirt storage pool through libvirt's storage API, so a remote
    hypervisor (O(uri)) is handled the same as the local one.
  - A new volume is empty, an overlay on a backing image (O(backing)), a clone of another volume, a local
    file, or a download from an http(s) URL (O(source)).
  - A download happens only when the volume does not exist yet. It is written to a temporary file and
    verified against O(source.checksum) before the volume is created; a mismatch creates nothing. In check
    mode nothing is downloaded, so the image's size and format are not known then.
  - O(capacity) only ever grows a volume. A smaller capacity than the volume has is refused, and nothing
    changes. A volume that a running guest uses is grown through that guest (QEMU holds the image).
  - The format of an existing volume and its backing image are not changed; a different value is refused.
  - O(source) is only used to create the volume; an existing volume is not compared with it.
  - All input is validated before anything on the host changes.
author:
  - kvmops.kvm maintainers (@kvmops)
extends_documentation_fragment:
  - kvmops.kvm.connection
  - kvmops.kvm.connection.attributes
options:
  pool:
    description: Name of the storage pool; it must be active.
    type: str
    required: true
  name:
    description: Name of the volume, its file name in the pool (for example V(web1.qcow2)).
    type: str
    required: true
  state:
    description:
      - V(present) - the volume exists (created if missing, grown if smaller than O(capacity)).
      - V(absent) - the volume is deleted; refused while a running guest uses it.
    type: str
    choices: [present, absent]
    default: present
  capacity:
    description:
      - The virtual size of the volume (what the guest sees; for qcow2, not the space it takes on disk).
      - A size with a unit such as V(10G), V(10GiB), V(512MiB), V(1000B) (V(G) means GiB; V(GB) means 10^9
        bytes), or a bare number of bytes, the unit RV(volume.capacity) is returned in, so a returned value can
        be given back as it is. A bare number under 1 MiB is refused as surely meant in another unit.
      - A new volume, or the growth of an existing one, must fit in the pool's free space; otherwise the task
        fails before anything changes, naming the pool and both sizes.
      - Required for a new volume without O(backing) or O(source); otherwise it defaults to the size of the
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
      - Create the volume as a qcow2 overlay on this base image, given as a volume name in O(pool) or an
        absolute path. The base's format is read from libvirt (or from the file's header).
    type: str
  source:
    description: The content of a new volume; give exactly one of O(source.volume), O(source.file), O(source.url).
    type: dict
    suboptions:
      volume:
        description: Clone this volume (libvirt copies it, converting the format if needed).
        type: str
      pool:
        description: The pool of O(source.volume); defaults to O(pool).
        type: str
      file:
        description:
          - Import this file from the machine the module runs on (it is streamed to the hypervisor).
          - qcow2 and raw images are recognised by their header; anything else is taken as raw.
        type: path
      url:
        description: Download the image from this http(s) URL. Requires O(source.checksum).
        type: str
      checksum:
        description:
          - The expected checksum as V(sha256:<hex>), V(sha512:<hex>) or V(sha1:<hex>).
          - Required with O(source.url); optional with O(source.file), which is then verified before the import.
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
    the source keeps it and warns, and O(state=absent) removes both. A O(name) ending in C(.kvmops-partial) is
    refused, so no volume can pass for a marker.
seealso:
  - module: kvmops.kvm.kvm_pool
'''

EXAMPLES = r'''
- name: A 10 GiB qcow2 disk (what "qemu-img create -f qcow2 web1.qcow2 10G" did)
  kvmops.kvm.kvm_volume:
    pool: default
    name: web1.qcow2
    capacity: 10G

- name: Grow it to 20 GiB (never shrinks)
  kvmops.kvm.kvm_volume:
    pool: default
    name: web1.qcow2
    capacity: 20G

# The checksum below is a placeholder: use the image's real one (Debian publishes SHA512SUMS beside it);
# a wrong checksum creates nothing
- name: A cloud image, downloaded once and verified before use
  kvmops.kvm.kvm_volume:
    pool: default
    name: debian-12-base.qcow2
    source:
      url: https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-generic-amd64.qcow2
      checksum: sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

- name: A guest disk as an overlay on it
  kvmops.kvm.kvm_volume:
    pool: default
    name: web2.qcow2
    backing: debian-12-base.qcow2
    capacity: 20G

- name: A full copy of a volume, as raw
  kvmops.kvm.kvm_volume:
    pool: default
    name: web1-copy.img
    format: raw
    source:
      volume: web1.qcow2

- name: Import an image from the controller's disk
  kvmops.kvm.kvm_volume:
    pool: default
    name: appliance.qcow2
    source:
      file: /srv/images/appliance.qcow2

- name: Delete a volume
  kvmops.kvm.kvm_volume:
    pool: default
    name: web1-copy.img
    state: absent
'''

RETURN = r'''
volume:
  description:
    - The volume after the run (in check mode, as the run would leave it; values not known before the run,
      such as a download's size, are null). Null when it does not exist.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the volume.
      type: str
      sample: web1.qcow2
    pool:
      description: Its pool.
      type: str
      sample: default
    path:
      description: Its path on the hypervisor.
      type: str
      sample: /var/lib/libvirt/images/web1.qcow2
    key:
      description: libvirt's key of the volume (the path for files).
      type: str
      sample: /var/lib/libvirt/images/web1.qcow2
    format:
      description: Format of the volume.
      type: str
      sample: qcow2
    capacity:
      description: Virtual size in bytes.
      type: int
      sample: 10737418240
    capacity_human:
      description: The virtual size in binary units, for people (RV(volume.capacity) is what to feed back).
      type: str
      sample: 10 GiB
    allocation:
      description: Bytes it takes on disk.
      type: int
      sample: 200704
    backing:
      description: Path of its backing image, if it is an overlay.
      type: str
      sample: /var/lib/libvirt/images/debian-12-base.qcow2
actions:
  description: What was done (or would be done in check mode), in order. Empty when nothing changes.
  returned: always
  type: list
  elements: str
  sample: ["create volume 'default/web1.qcow2': qcow2, 10 GiB"]
diff:
  description: The compared fields that differ, before and after.
  returned: always
  type: dict
  sample: {before: {capacity: 10737418240}, after: {capacity: 21474836480}}
'''

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.module import KvmModule
from ansible_collections.kvmops.kvm.plugins.module_utils._storage.volume import Volume
from ansible_collections.kvmops.kvm.plugins.module_utils._storage import volume_options as options


def argument_spec():
    return options.argument_spec()


def main():
    KvmModule(argument_spec(), mutually_exclusive=options.MUTUALLY_EXCLUSIVE).run(Volume)


if __name__ == '__main__':
    main()
