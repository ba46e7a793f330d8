# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What is checked before a snapshot is taken (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import ParameterError, libvirt_reason

# only qcow2 images hold snapshots inside themselves
INTERNAL_FORMATS = ('qcow2',)


def check_internal_formats(domain_type, disks):
    """Internal snapshots live inside qcow2 images; QEMU reads a disk without a declared format as raw."""
    for disk in disks:
        fmt = disk['format'] or ('raw' if domain_type in ('kvm', 'qemu') else None)
        if fmt is not None and fmt not in INTERNAL_FORMATS:
            raise ParameterError('type', "disk %s (%s) is %s, which cannot hold internal snapshots: use type: external "
                                         "(an overlay file on top of it), or convert the disk to qcow2"
                                 % (disk['target'], disk['file'] or disk['source_type'], fmt))


def check_external_files(disks):
    """Overlays are files beside the disk; block devices and network disks have no directory to put them in."""
    for disk in disks:
        if disk['source_type'] != 'file' or not disk['file']:
            raise ParameterError('type', "disk %s is a %s disk: external snapshots here put overlay files beside file "
                                         "disks only" % (disk['target'], disk['source_type']))


def check_agent(dom, domain_name):
    """quiesce freezes the guest's file systems through its agent: it must answer now, not fail mid-snapshot."""
    if not dom.isActive():
        raise ParameterError('quiesce', "domain '%s' is shut off: there is nothing to quiesce; leave quiesce out"
                             % domain_name)
    try:
        dom.guestInfo(libvirt.VIR_DOMAIN_GUEST_INFO_HOSTNAME, 0)
    except libvirt.libvirtError as exc:
        raise ParameterError('quiesce', "the guest agent of domain '%s' does not answer (%s): quiesce needs "
                                        "qemu-guest-agent running in the guest and an org.qemu.guest_agent.0 channel"
                             % (domain_name, libvirt_reason(exc)))
