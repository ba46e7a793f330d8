#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: kvm_host
short_description: Is this machine a working KVM host? Facts, checks, kernel modules and nested virtualization
version_added: 0.1.0
description:
  - Gathers what an operator asks by hand before a KVM job (C(lsmod | grep kvm), C(grep -E 'vmx|svm' /proc/cpuinfo),
    C(virt-host-validate), C(virsh nodeinfo), C(virsh domcapabilities)) and returns it as RV(kvm_host), with a list
    of checks and the domain type guests should use.
  - Facts work without the libvirt daemon (the daemon is then reported as not reachable and its facts are null)
    and, except for loading modules and writing files, without root.
  - Whether C(/dev/kvm) is usable is tested, not assumed from its presence. The device is opened and asked for its
    API version (C(KVM_GET_API_VERSION), 12) and for a new VM (C(KVM_CREATE_VM)). On x86 it must also be served by
    C(kvm_intel) or C(kvm_amd). A software backend such as C(kvm_pvm) answers both calls, but ordinary guests do not
    run on it.
  - Loads C(kvm), the vendor module (C(kvm_intel) or C(kvm_amd), from the CPU) and O(extra_modules), and persists
    them in C(/etc/modules-load.d/kvmops-kvm.conf). A module built into the kernel counts as loaded; it is reported
    as V(builtin) and not persisted.
  - Persists the vendor module's C(nested) option in C(/etc/modprobe.d/kvmops-kvm-nested.conf). When the module is
    loaded and no virtual machine uses it, it is reloaded so that the option applies now. Otherwise
    RV(reload_required) is returned.
  - "The checks, each with a C(result) of V(PASS), V(WARN) or V(FAIL), a C(detail) and a C(hint):
    V(hardware_virtualization) (the CPU has vmx or svm),
    V(kvm_module) (kvm and the vendor module are loaded or built in),
    V(kvm_device) (C(/dev/kvm) runs virtual machines),
    V(qemu_kvm_access) (the user QEMU runs as, from C(/etc/libvirt/qemu.conf), can open C(/dev/kvm) read-write;
    when it cannot, libvirt throws its QEMU capability cache away and probes QEMU again on every call, seconds
    each; the hint gives the fix distributions use, the kvm group and a udev rule; not waived by
    O(allow_emulation), since emulated hosts pay the same price),
    V(nested_virtualization) (the vendor module's nested option is on; WARN otherwise),
    V(libvirt_daemon) (the daemon at O(uri) answers),
    V(libvirt_kvm) (libvirt offers domain type kvm),
    V(qemu_emulator) (a QEMU emulator and its version were found),
    V(tun_device) (C(/dev/net/tun) exists),
    V(vhost_net) (C(/dev/vhost-net) exists; WARN otherwise),
    V(cgroups) (the controllers libvirt uses are available; WARN otherwise),
    V(iommu) (IOMMU groups exist, for PCI passthrough; WARN otherwise),
    V(hugepages) (huge pages are reserved; WARN when none are, FAIL without hugetlbfs),
    V(firmware_uefi) (UEFI firmware is offered; WARN otherwise),
    V(security_driver) (libvirt confines guests with SELinux or AppArmor; WARN otherwise)."
  - The checks read the host as found, before this task changes anything, so O(require) is a pre-flight gate.
author:
  - kvmops.kvm maintainers (@kvmops)
extends_documentation_fragment:
  - kvmops.kvm.connection
  - kvmops.kvm.connection.attributes
options:
  gather:
    description:
      - Also return the facts as C(ansible_facts.kvm_host), so later tasks of the play can use them.
    type: bool
    default: false
  modules:
    description:
      - V(present) - load C(kvm), the vendor module and O(extra_modules) now and at every boot.
      - Not given - leave kernel modules alone.
      - The file C(/etc/modules-load.d/kvmops-kvm.conf) belongs to this module. It lists exactly the loadable
        modules of the run, compared by meaning (the set of names). It is removed when all of them are built in.
    type: str
    choices: [present]
  extra_modules:
    description:
      - More modules to load and persist with O(modules=present), for example V(vhost_net), V(tun), V(bridge),
        V(br_netfilter), V(bonding), V(8021q), V(macvtap), V(vfio_pci).
      - A module that is neither built in nor available fails the task with its name; nothing is changed then.
    type: list
    elements: str
  nested:
    description:
      - Enable (V(true)) or disable (V(false)) nested virtualization in the vendor module (C(nested=1) or C(nested=0)).
      - A vendor module built into the kernel cannot take modprobe options; the task then fails and says which
        kernel command line option to set, unless the module already runs with the wanted value.
    type: bool
  require:
    description:
      - Names of checks that must pass (see the description for the list). The task fails with one message that
        names each failed check with its detail and hint, and returns C(failed_checks).
      - Unknown names are rejected before anything is read.
    type: list
    elements: str
  allow_emulation:
    description:
      - Accept a host without usable hardware virtualization. Guests then run emulated (domain type V(qemu)).
      - A V(FAIL) of V(hardware_virtualization), V(kvm_module), V(kvm_device) or V(libvirt_kvm) becomes V(WARN) and
        satisfies O(require). With O(modules=present), a kvm or vendor module that is not available is skipped with
        a warning.
    type: bool
    default: false
notes:
  - Unlike the other modules of the collection, this one needs neither libvirt-python nor lxml, so it can check
    a machine before libvirt is installed. Without libvirt-python the libvirt facts are null and
    V(libvirt_daemon) fails with that reason.
  - The kernel facts are those of the machine the module runs on; use a local O(uri) (the default) so that the
    libvirt facts describe the same machine.
  - In check mode the returned facts describe the host as found.
seealso:
  - name: virt-host-validate
    description: libvirt's own host validation tool, which the checks follow.
    link: https://libvirt.org/manpages/virt-host-validate.html
  - name: libvirt domain capabilities
    description: Where the maximum vCPUs, machine types and firmware come from.
    link: https://libvirt.org/formatdomaincaps.html
'''

EXAMPLES = r'''
- name: Gather the KVM host facts
  kvmops.kvm.kvm_host:
    gather: true

- name: Show the domain type to use
  ansible.builtin.debug:
    msg: "{{ ansible_facts.kvm_host.recommended_domain_type }}"

- name: Pre-flight gate of a job template
  kvmops.kvm.kvm_host:
    require: [hardware_virtualization, kvm_device, libvirt_daemon, qemu_emulator]

- name: Gate that accepts emulated guests (CI, nested clouds)
  kvmops.kvm.kvm_host:
    require: [hardware_virtualization, libvirt_daemon]
    allow_emulation: true

- name: Load the KVM modules and the network modules, now and at boot
  kvmops.kvm.kvm_host:
    modules: present
    extra_modules: [vhost_net, tun, bridge, br_netfilter, bonding, 8021q]

- name: Enable nested virtualization
  kvmops.kvm.kvm_host:
    nested: true
  register: nested

- name: Tell when guests must stop before nested virtualization applies
  ansible.builtin.debug:
    msg: Stop all guests and run the task again, or reboot
  when: nested.reload_required
'''

RETURN = r'''
kvm_host:
  description:
    - The facts and checks; also C(ansible_facts.kvm_host) with O(gather=true).
    - After a run that changed something they are read again; in check mode they describe the host as found.
  returned: always
  type: dict
  contains:
    cpu:
      description:
        - C(arch), C(vendor), C(model), C(count) (logical CPUs), C(virtualization) (V(vmx), V(svm) or null),
          C(flags) (the virtualization flags present), C(hypervisor) (this machine is itself a guest).
      type: dict
      sample: {arch: x86_64, vendor: GenuineIntel, model: "Intel(R) Xeon(R) Gold 6230", count: 80,
               virtualization: vmx, flags: [ept, vmx, vpid], hypervisor: false}
    kernel:
      description: C(release), and C(loadable_modules) (false for a kernel built without module support).
      type: dict
      sample: {release: 6.1.0-26-amd64, loadable_modules: true}
    kvm_device:
      description:
        - C(path), C(present), C(accessible) (opens for this user), C(api_version), C(create_vm)
          (C(KVM_CREATE_VM) succeeded), C(backend) (the x86 module behind it), C(usable) and C(reason) (why not).
        - C(qemu_access) - C(user) and C(group) QEMU runs as, the device's C(device_owner), C(device_group) and
          C(device_mode), C(read_write) (that user can open it read-write; null when unknown), and C(reprobing)
          with the C(capability_cache) files that record KVM while that user cannot open the device (libvirt
          then re-probes QEMU on every call).
      type: dict
      sample: {path: /dev/kvm, present: true, accessible: true, api_version: 12, create_vm: true,
               backend: kvm_intel, usable: true, reason: null,
               qemu_access: {user: libvirt-qemu, group: libvirt-qemu, device_owner: root, device_group: kvm,
                             device_mode: '0660', read_write: true, reprobing: false, capability_cache: []}}
    vendor_module:
      description: The hardware module kvm needs on this CPU; null off x86.
      type: str
      sample: kvm_intel
    modules:
      description:
        - For kvm, the vendor module, the module behind C(/dev/kvm), tun, vhost_net and O(extra_modules), the
          C(state) (V(loaded), V(builtin), V(available) to load, V(absent)) and its C(source) (how it is known).
      type: dict
      sample: {kvm: {state: loaded, source: /sys/module/kvm/initstate},
               tun: {state: builtin, source: CONFIG_TUN=y}}
    nested:
      description:
        - C(module), its C(nested) parameter as the kernel shows it (C(value)) and as a boolean (C(enabled); null
          when the module is not loaded), C(persisted) (the value in C(file); null when not set there), C(file).
      type: dict
      sample: {module: kvm_intel, value: Y, enabled: true, persisted: true,
               file: /etc/modprobe.d/kvmops-kvm-nested.conf}
    modules_load:
      description: C(path) of the modules-load.d file this module owns and the C(modules) it lists (null if missing).
      type: dict
      sample: {path: /etc/modules-load.d/kvmops-kvm.conf, modules: [kvm, kvm_intel, vhost_net]}
    libvirt:
      description:
        - C(uri), C(reachable), C(error) (why not), C(version), C(qemu_version), C(emulator), C(domain_types),
          C(security_models), and C(daemon) with C(layout) (V(monolithic) for libvirtd, V(modular) for virtqemud
          and friends, or null), C(driver_daemon), C(running), C(processes) (libvirt daemons running),
          C(installed).
      type: dict
    nodeinfo:
      description: As C(virsh nodeinfo) (C(model), C(cpus), C(mhz), C(numa_nodes), C(sockets), C(cores),
        C(threads), C(memory_kib), C(free_memory_kib)); null without libvirt.
      type: dict
      sample: {model: x86_64, cpus: 16, mhz: 2600, numa_nodes: 1, sockets: 1, cores: 8, threads: 2,
               memory_kib: 65536000, free_memory_kib: 52000000}
    domain_types:
      description: The domain types libvirt offers for the host architecture.
      type: list
      elements: str
      sample: [kvm, qemu]
    machine_types:
      description: The machine types QEMU offers for the host architecture, aliases included.
      type: list
      elements: str
      sample: [pc, pc-i440fx-7.2, pc-q35-7.2, q35]
    max_vcpus:
      description: The maximum vCPUs of a guest of the recommended domain type (domain capabilities).
      type: int
      sample: 255
    domain_capabilities:
      description: Per domain type, C(emulator), C(default_machine), C(max_vcpus), C(uefi), C(loaders), C(secure_boot).
      type: dict
    firmware:
      description: C(uefi), C(loaders) (or firmware descriptors without libvirt), C(secure_boot).
      type: dict
      sample: {uefi: true, loaders: [/usr/share/OVMF/OVMF_CODE_4M.fd], secure_boot: false}
    hugepages:
      description: C(supported), C(default_size_kib), C(total), C(free), C(pools) (per size), C(mounts).
      type: dict
    iommu:
      description: C(enabled), C(groups) (count), C(kernel_cmdline) (its iommu options).
      type: dict
    cgroups:
      description: C(version) (1, 2 or hybrid) and the available C(controllers).
      type: dict
    security:
      description: C(lsm) (active security modules), C(selinux) (mode or null), C(apparmor), C(libvirt_driver)
        (the security driver libvirt uses for guests, V(none) when only DAC).
      type: dict
    devices:
      description: Whether C(tun) (/dev/net/tun), C(vhost_net) (/dev/vhost-net) and C(vhost_vsock) exist.
      type: dict
    checks:
      description: The checks (see the description), in a fixed order.
      type: list
      elements: dict
      sample: [{name: hardware_virtualization, result: FAIL, detail: "the CPU (AMD EPYC) exposes neither vmx nor svm",
                hint: "this machine is itself a virtual machine ..."}]
    recommended_domain_type:
      description: V(kvm) when hardware_virtualization, kvm_module and kvm_device pass and libvirt offers kvm;
        V(qemu) otherwise.
      type: str
      sample: kvm
reload_required:
  description: The vendor module runs with another nested value than persisted, and virtual machines use it.
  returned: always
  type: bool
actions:
  description: What was done (or would be done in check mode), in order. Empty when nothing changes.
  returned: always
  type: list
  elements: str
  sample: ["load kernel module 'vhost_net'",
           "write file '/etc/modules-load.d/kvmops-kvm.conf': kvm, kvm_intel, vhost_net"]
diff:
  description: The module sets and options of the files, and the modules loaded, before and after.
  returned: always
  type: dict
  sample: {before: {modules_load: [kvm, kvm_intel]}, after: {modules_load: [kvm, kvm_intel, vhost_net]}}
failed_checks:
  description: The required checks that did not pass.
  returned: when O(require) fails
  type: list
  elements: dict
'''

from ansible_collections.kvmops.kvm.plugins.module_utils._host.host import Host
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.module import KvmModule


def argument_spec():
    return dict(
        gather=dict(type='bool', default=False),
        modules=dict(type='str', choices=['present']),
        extra_modules=dict(type='list', elements='str'),
        nested=dict(type='bool'),
        require=dict(type='list', elements='str'),
        allow_emulation=dict(type='bool', default=False),
    )


def main():
    KvmModule(argument_spec(), libraries_required=False, required_by=dict(extra_modules='modules')).run(Host)


if __name__ == '__main__':
    main()
