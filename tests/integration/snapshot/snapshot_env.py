"""Names, tiny guests and clean-up shared by the kvm_snapshot tests."""

import os
import shutil
import subprocess
import time

import libvirt
from lxml import etree

from kvmlab.console import SerialConsole
from kvmlab.shell import LabError

PREFIX = 'kvmtsn-'
DISK_DIR = '/var/lib/libvirt/images/kvmtsn'
URI = 'qemu:///system'
READY = 'KVMLAB-READY'

GUEST_XML = """<domain type='qemu'><name>{name}</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type><kernel>{kernel}</kernel><initrd>{initrd}</initrd>
<cmdline>console=ttyS0 quiet panic=-1 ip=off kvmlab.hostname={name}</cmdline></os>
<devices><disk type='file' device='disk'><driver name='qemu' type='{fmt}'/><source file='{disk}'/>
<target dev='vda' bus='virtio'/></disk><serial type='pty'/><console type='pty'/></devices></domain>"""


def define_guest(conn, tiny, short, fmt='qcow2'):
    """A tiny busybox guest (initrd root, serial shell) with one 16 MiB virtio disk of format `fmt`, shut off."""
    os.makedirs(DISK_DIR, exist_ok=True)
    disk = '%s/%s.%s' % (DISK_DIR, short, fmt)
    subprocess.run(['qemu-img', 'create', '-q', '-f', fmt, disk, '16M'], check=True)
    name = PREFIX + short
    return conn.defineXML(GUEST_XML.format(name=name, kernel=tiny.kernel, initrd=tiny.initrd, fmt=fmt, disk=disk))


def shell(name, timeout=180):
    """The guest's serial shell: after its ready marker, or (a console opened later) once a command answers."""
    console = SerialConsole(URI, name)
    deadline = time.monotonic() + timeout
    while True:
        try:
            console.expect(READY, timeout=2)
            return console
        except LabError:
            pass
        try:
            console.run('true', timeout=3)
            return console
        except LabError:
            if time.monotonic() > deadline:
                console.close()
                raise


def write_marker(console, text):
    """`text` at the start of the guest's disk (no file system: straight to /dev/vda) and in its RAM (/tmp)."""
    rc, out = console.run('echo %s | dd of=/dev/vda bs=512 count=1 conv=sync 2>/dev/null && sync && echo %s > /tmp/ram'
                          % (text, text))
    assert rc == 0, out


def disk_marker(console):
    rc, out = console.run("dd if=/dev/vda bs=512 count=1 2>/dev/null | tr -d '\\000' | head -n 1")
    assert rc == 0, out
    return out.strip()


def ram_marker(console):
    rc, out = console.run('cat /tmp/ram 2>/dev/null || echo none')
    return out.strip()


def snapshot_tree(conn, name):
    """The guest's snapshots as libvirt itself reports them: (name -> parent, current)."""
    dom = conn.lookupByName(name)
    parents = {}
    for snap in dom.listAllSnapshots():
        try:
            parents[snap.getName()] = snap.getParent().getName()
        except libvirt.libvirtError:
            parents[snap.getName()] = None
    current = dom.snapshotCurrent().getName() if dom.hasCurrentSnapshot() else None
    return parents, current


def virsh_view(name):
    """What an operator sees: `virsh snapshot-list --tree` and the domain XML (live and persistent)."""
    views = []
    for args in (['snapshot-list', '--tree', name], ['dumpxml', name], ['dumpxml', '--inactive', name]):
        views.append(subprocess.run(['virsh', '-c', URI] + args, capture_output=True, text=True, check=True).stdout)
    return views


def files():
    return sorted(os.listdir(DISK_DIR)) if os.path.isdir(DISK_DIR) else []


def purge(conn):
    """The suite's guests with their snapshot metadata, and its disk directory."""
    for dom in conn.listAllDomains():
        if dom.name().startswith(PREFIX):
            if dom.isActive():
                dom.destroy()
            dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
    shutil.rmtree(DISK_DIR, ignore_errors=True)


def state(conn, name):
    return conn.lookupByName(name).state()[0]


def xml_disk_source(conn, name):
    root = etree.fromstring(conn.lookupByName(name).XMLDesc(0))
    return root.find('devices/disk/source').get('file')
