# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvm_domain's options, shared by kvm_domain and the items of kvm_domains (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kvmops.kvm.plugins.module_utils._domain.spec import TYPED_OPTIONS

# a full `xml` replaces the typed options
MUTUALLY_EXCLUSIVE = [('xml', option) for option in TYPED_OPTIONS]


def argument_spec():
    """The options of one guest (without uri)."""
    return dict(
        name=dict(type='str', required=True),
        state=dict(type='str', default='running',
                   choices=['running', 'shutdown', 'destroyed', 'paused', 'present', 'absent']),
        autostart=dict(type='bool'),
        type=dict(type='str', default='auto', choices=['auto', 'kvm', 'qemu']),
        memory=dict(type='raw'),
        max_memory=dict(type='raw'),
        vcpus=dict(type='int'),
        max_vcpus=dict(type='int'),
        cpu=dict(type='dict', options=dict(
            mode=dict(type='str', choices=['host-passthrough', 'host-model', 'custom', 'maximum']),
            model=dict(type='str'))),
        machine=dict(type='str'),
        firmware=dict(type='str', choices=['bios', 'uefi']),
        boot=dict(type='list', elements='str', choices=['hd', 'cdrom', 'network']),
        kernel=dict(type='path'),
        initrd=dict(type='path'),
        cmdline=dict(type='str'),
        disks=dict(type='list', elements='dict', options=dict(
            name=dict(type='str'),
            path=dict(type='str'),
            pool=dict(type='str'),
            volume=dict(type='str'),
            size=dict(type='raw'),
            backing=dict(type='str'),
            format=dict(type='str', choices=['qcow2', 'raw']),
            bus=dict(type='str', choices=['virtio', 'sata', 'scsi', 'ide']),
            target=dict(type='str'),
            cache=dict(type='str', choices=['none', 'writethrough', 'writeback', 'directsync', 'unsafe', 'default']),
            readonly=dict(type='bool'))),
        cdrom=dict(type='str'),
        interfaces=dict(type='list', elements='dict', options=dict(
            network=dict(type='str'),
            bridge=dict(type='str'),
            direct=dict(type='str'),
            model=dict(type='str'),
            mac=dict(type='str'),
            portgroup=dict(type='str'),
            link_state=dict(type='str', choices=['up', 'down']))),
        graphics=dict(type='dict', options=dict(
            type=dict(type='str', default='vnc', choices=['vnc', 'spice', 'none']),
            listen=dict(type='str', default='127.0.0.1'),
            port=dict(type='int'),
            password=dict(type='str', no_log=True))),
        cloud_init=dict(type='dict', options=dict(
            user_data=dict(type='raw', no_log=True),
            meta_data=dict(type='raw'),
            network_config=dict(type='raw'),
            directory=dict(type='path', default='/var/lib/libvirt/images'))),
        xml=dict(type='str'),
        restart=dict(type='bool', default=False),
        shutdown_timeout=dict(type='int', default=120),
        force=dict(type='bool', default=False),
        remove_storage=dict(type='bool', default=False),
        wait_for=dict(type='str', choices=['ip']),
        wait_timeout=dict(type='int', default=300),
    )
