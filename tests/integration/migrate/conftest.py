"""Migration tests on the lab: two namespaced libvirtd hosts (kvl-h1, kvl-h2) and the ganesha NFS export, tiny
busybox guests. The modules run on this machine and reach both hosts over qemu+ssh. Every guest, network, pool
and file the tests make is named <lab prefix>mig-* and removed afterwards, also when a test failed."""

import glob
import os
import subprocess
import time

import pytest

from harness import run_module

libvirt = pytest.importorskip('libvirt')


def prefix():
    from kvmlab import config
    return config.PREFIX + 'mig-'


def runs_on(host, name):
    """True when the guest is running on the lab host."""
    conn = host.connect()
    try:
        try:
            return conn.lookupByName(name).isActive() == 1
        except libvirt.libvirtError:
            return False
    finally:
        conn.close()


def defined_on(host, name):
    conn = host.connect()
    try:
        try:
            conn.lookupByName(name)
            return True
        except libvirt.libvirtError:
            return False
    finally:
        conn.close()


def images_dir(host):
    """The host's own /var/lib/libvirt/images, as this machine sees it (each lab host has its own)."""
    path = os.path.join(host.state_dir, 'varlib', 'images')
    os.makedirs(path, exist_ok=True)
    return path


class Mig(object):
    """The lab, its two hosts, and helpers to make and move guests."""

    def __init__(self, lab):
        self.lab = lab
        self.h1, self.h2 = lab.hosts[:2]
        self.prefix = prefix()

    def args(self, name, source, dest, **extra):
        return dict(dict(name=name, source_uri=source.ssh_uri, dest_uri=dest.ssh_uri), **extra)

    def migrate(self, name, source, dest, check=False, **extra):
        began = time.monotonic()
        result = run_module('kvm_migrate', self.args(name, source, dest, **extra), check=check)
        result['_wall'] = time.monotonic() - began
        return result

    def nfs_disk(self, name):
        from kvmlab import domains
        subprocess.run(['qemu-img', 'create', '-f', 'qcow2', os.path.join(self.lab.storage.export_dir, name + '.qcow2'),
                        '32M'], check=True, capture_output=True)
        return domains.nfs_disk_xml(self.lab.storage.ip, '%s/%s.qcow2' % (self.lab.storage.export_path, name))

    def local_disk(self, host, name):
        from kvmlab import domains
        path = os.path.join(images_dir(host), name + '.qcow2')
        subprocess.run(['qemu-img', 'create', '-f', 'qcow2', path, '32M'], check=True, capture_output=True)
        return domains.file_disk_xml('/var/lib/libvirt/images/%s.qcow2' % name)

    def define(self, host, xml, start=True):
        self.lab.serial_log(host, _name_of(xml)).unlink(missing_ok=True)
        conn = host.connect()
        try:
            dom = conn.defineXML(xml)
            if start:
                dom.create()
        finally:
            conn.close()

    def guest_xml(self, name, disks=(), network=None):
        xml = self.lab.tiny_guest_xml(name, ip=None if network else 'dhcp', disks=list(disks))
        if network:
            xml = xml.replace('</devices>', "<interface type='network'><source network='%s'/><model type='virtio'/>"
                              "</interface></devices>" % network)
        return xml

    def purge(self):
        for host in (self.h1, self.h2):
            try:
                conn = host.connect()
            except libvirt.libvirtError:
                continue   # the lab's own `down` test ran first: the host and all it held are gone
            try:
                for dom in conn.listAllDomains():
                    if dom.name().startswith(self.prefix):
                        if dom.isActive():
                            dom.destroy()
                        if dom.isPersistent():
                            dom.undefine()
                for net in conn.listAllNetworks():
                    if net.name().startswith(self.prefix):
                        persistent = net.isPersistent()
                        if net.isActive():
                            net.destroy()
                        if persistent:
                            net.undefine()
                for pool in conn.listAllStoragePools():
                    if pool.name().startswith(('kvmops-probe-', 'migrated-', self.prefix)):
                        persistent = pool.isPersistent()
                        if pool.isActive():
                            pool.destroy()
                        if persistent:
                            pool.undefine()
            finally:
                conn.close()
            for path in glob.glob(os.path.join(images_dir(host), self.prefix + '*')):
                os.unlink(path)
        for path in glob.glob(os.path.join(self.lab.storage.export_dir, self.prefix + '*')):
            os.unlink(path)


def _name_of(xml):
    return xml.split('<name>', 1)[1].split('</name>', 1)[0]


@pytest.fixture(scope='module')
def mig(lab):
    """Each test file starts and ends with nothing of its own on the lab hosts: its guests, their disks and networks,
    the pools a copy made ('migrated-images' on the default pool's directory, which the demo's hypervisor role needs
    to itself)."""
    helper = Mig(lab)
    helper.purge()
    yield helper
    helper.purge()
