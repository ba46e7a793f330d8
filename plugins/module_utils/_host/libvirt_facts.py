# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvm_host: the libvirt daemon and what its QEMU driver offers (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
# the standard library's parser: kvm_host runs where lxml is not installed, and only reads libvirt's own XML
from xml.etree import ElementTree

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import files as _files
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError, libvirt_reason

DAEMONS = ('libvirtd', 'virtqemud', 'virtnetworkd', 'virtstoraged', 'virtnodedevd', 'virtsecretd',
           'virtnwfilterd', 'virtinterfaced', 'virtproxyd', 'virtlogd', 'virtlockd')
_BIN_DIRS = ('/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin', '/sbin')
_SOCKETS = (('virtqemud', '/run/libvirt/virtqemud-sock'), ('libvirtd', '/run/libvirt/libvirt-sock'))
_LAYOUT = {'libvirtd': 'monolithic', 'virtqemud': 'modular'}


def version_string(number):
    """libvirt's encoded version (major * 1000000 + minor * 1000 + micro) as text."""
    if not number:
        return None
    return '%d.%d.%d' % (number // 1000000, number // 1000 % 1000, number % 1000)


def running_processes():
    names = set()
    for pid in _files.list_dir('/proc'):
        if pid.isdigit():
            comm = _files.read_text('/proc/%s/comm' % pid)
            if comm:
                names.add(comm.strip())
    return names


def daemon_layout(processes=None):
    """Monolithic (libvirtd) or modular (virtqemud and friends), and what of it runs.

    The running daemon decides; then a listening socket (socket activation); then what is installed.
    """
    processes = running_processes() if processes is None else processes
    installed = sorted(name for name in DAEMONS
                       if any(_files.exists('%s/%s' % (directory, name)) for directory in _BIN_DIRS))
    running = sorted(name for name in DAEMONS if name in processes)
    driver = next((name for name in ('virtqemud', 'libvirtd') if name in running), None)
    if driver is None:
        driver = next((name for name, socket in _SOCKETS if _files.exists(socket)), None)
    if driver is None:
        candidates = [name for name in ('virtqemud', 'libvirtd') if name in installed]
        driver = candidates[0] if len(candidates) == 1 else None
    return dict(layout=_LAYOUT.get(driver), driver_daemon=driver, running=driver in running if driver else False,
                processes=running, installed=installed)


def emulator_version(run_command, emulator):
    """`qemu-system-* --version` when libvirt cannot tell."""
    if not emulator:
        return None
    rc, out, _err = run_command([emulator, '--version'])
    match = re.search(r'version (\d+\.\d+\.\d+)', out or '') if rc == 0 else None
    return match.group(1) if match else None


def find_emulator(arch):
    for path in ('/usr/bin/qemu-system-%s' % arch, '/usr/libexec/qemu-kvm', '/usr/bin/qemu-kvm',
                 '/usr/local/bin/qemu-system-%s' % arch):
        if _files.exists(path):
            return path
    return None


def read_capabilities(text):
    """Host arch, domain types and machine types for it, and the security models, from capabilities XML."""
    root = ElementTree.fromstring(text)
    arch = root.findtext('host/cpu/arch')
    types, machines, emulator = set(), set(), None
    for guest in root.findall('guest'):
        node = guest.find('arch')
        if guest.findtext('os_type') != 'hvm' or node is None or node.get('name') != arch:
            continue
        emulator = emulator or node.findtext('emulator')
        for machine in node.findall('machine'):
            machines.add(machine.text)
        for domain in node.findall('domain'):
            types.add(domain.get('type'))
            for machine in domain.findall('machine'):
                machines.add(machine.text)
    models = [model.findtext('model') for model in root.findall('host/secmodel')]
    return dict(arch=arch, domain_types=sorted(types), machine_types=sorted(m for m in machines if m),
                emulator=emulator, security_models=[m for m in models if m])


def read_domain_capabilities(text):
    root = ElementTree.fromstring(text)
    vcpu = root.find('vcpu')
    firmware = [value.text for value in root.findall("os/enum[@name='firmware']/value")]
    loaders = [value.text for value in root.findall('os/loader/value')]
    secure = [value.text for value in root.findall("os/loader/enum[@name='secure']/value")]
    return dict(
        emulator=root.findtext('path'),
        default_machine=root.findtext('machine'),
        max_vcpus=int(vcpu.get('max')) if vcpu is not None and vcpu.get('max') else None,
        uefi='efi' in firmware or bool(loaders),
        loaders=loaders,
        secure_boot='yes' in secure,
    )


def _nodeinfo(conn):
    model, memory_mib, cpus, mhz, nodes, sockets, cores, threads = conn.getInfo()[:8]
    try:
        free = conn.getFreeMemory() // 1024
    except libvirt.libvirtError:
        free = None
    return dict(model=model, cpus=cpus, mhz=mhz, numa_nodes=nodes, sockets=sockets, cores=cores,
                threads=threads, memory_kib=memory_mib * 1024, free_memory_kib=free)


def _domain_capabilities(conn, arch, types):
    found = {}
    for virttype in types:
        try:
            found[virttype] = read_domain_capabilities(conn.getDomainCapabilities(None, arch, None, virttype, 0))
        except libvirt.libvirtError:
            continue
    return found


def gather(module, cpu):
    """The libvirt facts; when the daemon cannot be reached, its reason and null facts."""
    facts = dict(uri=module.params['uri'], reachable=False, error=None, version=None, qemu_version=None,
                 emulator=None, daemon=daemon_layout(), nodeinfo=None, domain_types=[], machine_types=[],
                 max_vcpus=None, domain_capabilities={}, firmware=None, security_models=[])
    try:
        if not libvirt:
            raise KvmError('connect to', 'hypervisor', facts['uri'], 'libvirt-python is not installed on this host')
        conn = module.conn
    except KvmError as exc:
        facts['error'] = exc.reason
        facts['emulator'] = find_emulator(cpu['arch'])
        facts['qemu_version'] = emulator_version(module.run_command, facts['emulator'])
        return facts
    facts['reachable'] = True
    try:
        facts['version'] = version_string(conn.getLibVersion())
        facts['qemu_version'] = version_string(conn.getVersion())
        facts['nodeinfo'] = _nodeinfo(conn)
        capabilities = read_capabilities(conn.getCapabilities())
    except libvirt.libvirtError as exc:
        facts['error'] = libvirt_reason(exc)
        return facts
    facts.update(domain_types=capabilities['domain_types'], machine_types=capabilities['machine_types'],
                 emulator=capabilities['emulator'], security_models=capabilities['security_models'])
    facts['domain_capabilities'] = _domain_capabilities(conn, capabilities['arch'], capabilities['domain_types'])
    preferred = facts['domain_capabilities'].get('kvm') or facts['domain_capabilities'].get('qemu')
    if preferred:
        facts['max_vcpus'] = preferred['max_vcpus']
        facts['emulator'] = preferred['emulator'] or facts['emulator']
        facts['firmware'] = dict(uefi=preferred['uefi'], loaders=preferred['loaders'],
                                 secure_boot=preferred['secure_boot'])
    return facts


def firmware_descriptors():
    """QEMU firmware descriptors (what libvirt offers as UEFI) when libvirt cannot be asked."""
    return _files.matching('/usr/share/qemu/firmware/*.json')
