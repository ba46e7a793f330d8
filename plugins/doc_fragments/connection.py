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

    # the batch modules' fleet form (kvm_domains, kvm_networks): their objects on many hypervisors in one run
    FLEET = r'''
options:
  hypervisors:
    description:
      - Converge the list on these hypervisors, a mapping of each hypervisor's name to its libvirt URI (for
        example the play's hosts, each to C(qemu+ssh://root@<host>/system)), instead of on O(uri) alone. O(uri)
        is then not used.
      - An item's C(hypervisor) names the hypervisor it belongs to; an item without it belongs to every one.
      - The names key the results (RV(hypervisors)); the inventory hostnames are the natural choice.
      - Each hypervisor gets a connection of its own from the host this task runs on (run it once on the
        controller, with C(run_once) and C(delegate_to=localhost)); that host needs libvirt-python and lxml,
        and ssh (or TLS) access to every hypervisor, as C(virsh -c <uri>) would.
      - Every item of every hypervisor is checked before any host is touched. A hypervisor that cannot be
        reached fails alone; the others are converged, and the task fails at the end naming it in
        RV(failed_hypervisors).
    type: dict
  parallel_hypervisors:
    description:
      - With O(hypervisors), how many hypervisors are checked and converged at a time. Each holds one
        connection (over ssh, one ssh process).
    type: int
    default: 20
'''
