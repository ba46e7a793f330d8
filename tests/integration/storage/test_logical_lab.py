"""logical (LVM) pools for real: this machine's kernel has no device-mapper, so they run inside the lab's
Debian guest (fixture storage_lab), on a disk hot-plugged into it. The modules run over ssh on that guest;
LVM's own view (vgs, pvs, lvs) is the proof."""

import os
import time

import libvirt
import pytest

from harness import contract, fails

pytestmark = pytest.mark.lab

VG = 'kvmtest-vg'
SERIAL = 'kvmtest-pv'
DISK_MIB = 64
MIB = 1024 ** 2


def on(lab, guest):
    """Run a module on a lab guest; pipelined: a TCG guest's ssh round trips are what a run costs."""
    return dict(inventory=str(lab.inventory_path), host=guest.name, extra=('-e', 'ansible_pipelining=true'))


def _disk_xml(path):
    return ("<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='%s'/>"
            "<target dev='vdy' bus='virtio'/><serial>%s</serial></disk>" % (path, SERIAL))


def _has_disk(dom):
    return ('<serial>%s</serial>' % SERIAL) in dom.XMLDesc(0)


def _wipe(lab, guest, device):
    """Whatever an earlier (failed) run left in the guest: the pool, the volume group, the PV signature."""
    lab.ssh(guest.ip, 'for p in $(virsh -q pool-list --all --name | grep ^kvmtest-); do virsh -q pool-destroy $p; '
                      'virsh -q pool-undefine $p; done; vgremove -ff -y {vg} >/dev/null 2>&1; '
                      'pvremove -ff -y {dev} >/dev/null 2>&1; wipefs -q -a {dev}; true'.format(vg=VG, dev=device),
            check=False)


@pytest.fixture(scope='module')
def pv_disk(storage_lab):
    """A 64 MiB virtio disk hot-plugged into the KVM-host guest for this module; its device path there."""
    from kvmlab import config
    lab, kvm, _nfs = storage_lab
    path = str(config.RUN_DIR / 'guests' / ('%s-%s.raw' % (kvm.name, SERIAL)))
    conn = libvirt.open(kvm.uri)
    dom = conn.lookupByName(kvm.name)
    device = None
    try:
        if not _has_disk(dom):
            with open(path, 'wb') as image:
                image.truncate(DISK_MIB * MIB)
            dom.attachDeviceFlags(_disk_xml(path), libvirt.VIR_DOMAIN_AFFECT_LIVE)
        device = lab.ssh(kvm.ip, 'for i in $(seq 60); do test -b /dev/disk/by-id/virtio-{s} && break; sleep 1; done; '
                                 'readlink -e /dev/disk/by-id/virtio-{s}'.format(s=SERIAL), timeout=90).stdout.strip()
        yield device
    finally:
        if device:
            _wipe(lab, kvm, device)
        if _has_disk(dom):
            try:
                dom.detachDeviceFlags(_disk_xml(path), libvirt.VIR_DOMAIN_AFFECT_LIVE)
            except libvirt.libvirtError:
                pass
            deadline = time.monotonic() + 30   # the guest acknowledges the unplug (ACPI) in its own time
            while _has_disk(dom) and time.monotonic() < deadline:
                time.sleep(1)
        if os.path.exists(path):
            os.unlink(path)
        conn.close()


@pytest.fixture
def blank_disk(storage_lab, pv_disk):
    """The hot-plugged disk, blank: whatever a test (or an earlier failed run) left on it is wiped."""
    lab, kvm, _nfs = storage_lab
    _wipe(lab, kvm, pv_disk)
    yield pv_disk
    _wipe(lab, kvm, pv_disk)


def lvm(lab, guest, command):
    """Rows of an LVM report (vgs, pvs, lvs with --noheadings), split on '|'."""
    out = lab.ssh(guest.ip, '%s --noheadings --nosuffix --units b --separator "|" 2>/dev/null; true' % command).stdout
    return [[field.strip() for field in line.split('|')] for line in out.splitlines() if line.strip()]


def test_logical_pool_and_volume_on_a_new_disk(storage_lab, blank_disk):
    lab, kvm, _nfs = storage_lab
    pool = dict(name=VG, type='logical', build=True, source=dict(devices=[blank_disk]))
    predicted, applied, _last = contract('kvm_pool', pool, **on(lab, kvm))
    assert applied['actions'] == [
        "define pool '%s'" % VG, "build pool '%s': create volume group %s on %s" % (VG, VG, blank_disk),
        "start pool '%s'" % VG, "enable autostart on pool '%s'" % VG]
    assert predicted['pool']['path'] == applied['pool']['path'] == '/dev/' + VG
    assert applied['pool']['active'] is True
    assert lvm(lab, kvm, 'pvs -o pv_name,vg_name') == [[blank_disk, VG]]
    (vg,) = lvm(lab, kvm, 'vgs -o vg_name,pv_count,lv_count,vg_extent_size %s' % VG)
    assert vg == [VG, '1', '0', str(4 * MIB)]

    # 10 MiB is 3 extents (12 MiB): created as such, and 10M again is no change (not a shrink)
    volume = dict(pool=VG, name='kvmtest-lv', capacity='10M')
    _p, created, _l = contract('kvm_volume', volume, **on(lab, kvm))
    assert created['volume']['path'] == '/dev/%s/kvmtest-lv' % VG
    assert lvm(lab, kvm, 'lvs -o lv_name,lv_size %s' % VG) == [['kvmtest-lv', str(12 * MIB)]]
    assert lab.ssh(kvm.ip, 'test -b /dev/%s/kvmtest-lv' % VG, check=False).returncode == 0

    grown = dict(volume, capacity='20M')
    _p, applied, _l = contract('kvm_volume', grown, **on(lab, kvm))
    assert lvm(lab, kvm, 'lvs -o lv_name,lv_size %s' % VG) == [['kvmtest-lv', str(20 * MIB)]]
    shrink = fails('kvm_volume', dict(volume, capacity='8M'), **on(lab, kvm))
    assert 'shrink' in shrink['msg']
    qcow2 = fails('kvm_volume', dict(pool=VG, name='kvmtest-lv2', capacity='8M', format='qcow2'), **on(lab, kvm))
    assert 'raw block devices' in qcow2['msg']
    assert lvm(lab, kvm, 'lvs -o lv_name,lv_size %s' % VG) == [['kvmtest-lv', str(20 * MIB)]]

    # purge: the volumes, the volume group and the PV label go with the pool
    _p, removed, _l = contract('kvm_pool', dict(name=VG, state='absent', purge=True), **on(lab, kvm))
    assert removed['actions'] == [
        "delete volumes of pool '%s': kvmtest-lv" % VG, "stop pool '%s'" % VG,
        "delete target of pool '%s': /dev/%s" % (VG, VG), "undefine pool '%s'" % VG]
    assert VG not in lab.ssh(kvm.ip, 'virsh -q pool-list --all --name').stdout.split()
    assert lvm(lab, kvm, 'vgs -o vg_name') == []
    assert lvm(lab, kvm, 'pvs -o pv_name') == []


def test_build_never_overwrites_a_disk_in_use(storage_lab, blank_disk):
    lab, kvm, _nfs = storage_lab
    lab.ssh(kvm.ip, 'vgcreate -q kvmtest-other %s >/dev/null' % blank_disk)
    try:
        failed = fails('kvm_pool', dict(name=VG, type='logical', build=True, source=dict(devices=[blank_disk])),
                       **on(lab, kvm))
        assert "Invalid parameter 'source.devices': '%s' is not blank (blkid finds TYPE=LVM2_member)" % blank_disk in failed['msg']
        assert lvm(lab, kvm, 'pvs -o pv_name,vg_name') == [[blank_disk, 'kvmtest-other']]
    finally:
        lab.ssh(kvm.ip, 'vgremove -ff -y kvmtest-other >/dev/null 2>&1; true', check=False)
