# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  uri:
    description:
      - The libvirt connection URI of the hypervisor to manage.
      - Set it once for all modules of this collection with C(module_defaults) and the action group
        C(group/kvmops.kvm.kvm).
      - Examples are V(qemu:///system), V(qemu+ssh://root@kvm2/system), V(qemu+tls://kvm2/system).
    type: str
    default: qemu:///system
requirements:
  - python >= 3.6
  - libvirt-python
  - lxml
notes:
  - One connection is opened per task and closed at its end.
'''

    ATTRIBUTES = r'''
attributes:
  check_mode:
    support: full
    description: Check mode builds the same plan as a real run and only skips applying it.
  diff_mode:
    support: full
    description: The diff shows the compared fields before and after.
  platform:
    support: full
    platforms: posix
    description: Runs on the host that reaches the libvirt daemon.
'''

    # the info modules: they read only
    INFO_ATTRIBUTES = r'''
attributes:
  check_mode:
    support: full
    description: Reads only; the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
  platform:
    support: full
    platforms: posix
    description: Runs on the host that reaches the libvirt daemon.
'''
