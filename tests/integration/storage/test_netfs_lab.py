"""netfs pools for real, inside the lab: the lab's NFS server guest (kernel nfsd) exports, and a Debian guest
with libvirt installed (lab_libvirt.py) is the KVM host that runs the modules over ssh.

They take ~10 minutes on this 2-core machine (lab up, libvirt into the guest, TCG guests over ssh), so they
run only with KVMOPS_NETFS_LAB=1. Run alone, they use a lab instance of their own (KVMLAB_INSTANCE, default 5)
and take it down afterwards (unless KVMLAB_KEEP=1). In a session that already uses the lab, they take a second
Debian guest, so the guest other tests inspect never gets libvirt. Skipped when the lab cannot come up here or
libvirt cannot be installed into its guest."""

import os
import sys
from pathlib import Path

import pytest

from harness import contract, fails, ok

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'lab'))
SHARED_LAB = 'kvmlab' in sys.modules
if not SHARED_LAB:
    os.environ.setdefault('KVMLAB_INSTANCE', '5')

pytestmark = pytest.mark.lab

POOL = 'kvmtest-shared'
MOUNT = '/var/lib/libvirt/kvmtest-shared'
SQUASH_EXPORT = '/srv/kvmtest-squash'
UNUSED_HOST = 249   # on the lab's subnet, given to no lab machine


def _lab_is_empty(lab):
    return not (lab.hosts or lab.storage or lab.guests)


@pytest.fixture(scope='module')
def netfs_lab():
    if os.environ.get('KVMOPS_NETFS_LAB') != '1':
        pytest.skip('netfs pools inside lab guests are slow (~10 min): set KVMOPS_NETFS_LAB=1 to run them')
    try:
        from kvmlab import Lab, config
        import lab_libvirt
    except ImportError as exc:
        pytest.skip('the lab (tests/lab/kvmlab) is not importable: %s' % exc)
    lab = Lab()
    brought_up = _lab_is_empty(lab)
    kvm = nfs = None
    try:
        try:
            lab.up(hosts=0, storage=False, debian_guests=2 if SHARED_LAB else 1, nfs_guest=True)
        except Exception as exc:  # LabError and whatever a half-built lab raises: the lab is unavailable
            pytest.skip('the lab could not bring up a Debian guest and the NFS server guest: %s' % exc)
        by_name = dict((g.name, g) for g in lab.guests)
        kvm = by_name['%sdeb%d' % (config.PREFIX, 2 if SHARED_LAB else 1)]
        nfs = by_name[config.PREFIX + 'nfsd']
        try:
            lab_libvirt.ensure_libvirt(lab, kvm.ip)
        except lab_libvirt.Unavailable as exc:
            pytest.skip('libvirt cannot be installed into the lab guest: %s' % exc)
        subnet = '%s.0/%s' % (config.SUBNET_PREFIX, config.NETMASK_BITS)
        lab.ssh(nfs.ip, "mkdir -p {d} && chmod 1777 {d} && (grep -q '^{d} ' /etc/exports || echo '{d} {s}(rw,sync,"
                        "root_squash,no_subtree_check)' >> /etc/exports) && exportfs -ra".format(d=SQUASH_EXPORT, s=subnet))
        yield lab, kvm, nfs, '%s.%d' % (config.SUBNET_PREFIX, UNUSED_HOST)
    finally:
        _cleanup(lab, kvm, nfs)
        if brought_up and not os.environ.get('KVMLAB_KEEP'):
            lab.down()


def _cleanup(lab, kvm, nfs):
    if kvm:
        lab.ssh(kvm.ip, 'for p in $(virsh -q pool-list --all --name 2>/dev/null | grep ^kvmtest-); do '
                        'virsh -q pool-destroy $p; virsh -q pool-undefine $p; done; '
                        'umount %s 2>/dev/null; rmdir %s 2>/dev/null; true' % (MOUNT, MOUNT), check=False)
    if nfs:
        lab.ssh(nfs.ip, "rm -f /srv/nfs/kvmtest-*; sed -i '\\#^%s #d' /etc/exports; exportfs -ra; rm -rf %s"
                        % (SQUASH_EXPORT, SQUASH_EXPORT), check=False)


def on(lab, guest):
    return dict(inventory=str(lab.inventory_path), host=guest.name)


def pools_on(lab, guest):
    return lab.ssh(guest.ip, 'virsh -q pool-list --all --name').stdout.split()


def test_netfs_pool_on_a_kvm_guest(netfs_lab):
    lab, kvm, nfs, _unused = netfs_lab
    args = dict(name=POOL, type='netfs', path=MOUNT, build=True, source=dict(host=nfs.ip, path='/srv/nfs'),
                mount_options=['vers=4.2'])
    predicted, applied, _last = contract('kvm_pool', args, **on(lab, kvm))
    assert applied['actions'] == ["define pool '%s'" % POOL, "build pool '%s': create %s" % (POOL, MOUNT),
                                  "start pool '%s'" % POOL, "enable autostart on pool '%s'" % POOL]
    assert applied['nfs'] == predicted['nfs'] == {
        'export': '%s:/srv/nfs' % nfs.ip, 'reachable': True, 'mounted': True, 'root_squash': False,
        'selinux_virt_use_nfs': None}
    mount = lab.ssh(kvm.ip, 'findmnt -n -o FSTYPE,SOURCE %s' % MOUNT).stdout.split()
    assert mount == ['nfs4', '%s:/srv/nfs' % nfs.ip]

    # files written on the server are volumes on the KVM host; volumes made there land on the server
    lab.ssh(nfs.ip, 'truncate -s 8M /srv/nfs/kvmtest-seen.img')
    seen = ok('kvm_volume', dict(pool=POOL, name='kvmtest-seen.img', capacity=8), **on(lab, kvm))
    assert seen['changed'] is False and seen['volume']['path'] == MOUNT + '/kvmtest-seen.img'
    volume = dict(pool=POOL, name='kvmtest-disk.img', format='raw', capacity=16, owner='libvirt-qemu', mode='0600')
    contract('kvm_volume', volume, **on(lab, kvm))
    owner = lab.ssh(nfs.ip, 'stat -c %U:%a:%s /srv/nfs/kvmtest-disk.img').stdout.strip()
    assert owner.split(':')[1:] == ['600', str(16 * 1024 ** 2)]

    # a rerun of the whole thing changes nothing; removing the pool keeps the volumes on the export
    assert ok('kvm_pool', args, **on(lab, kvm))['changed'] is False
    contract('kvm_pool', dict(name=POOL, state='absent'), **on(lab, kvm))
    assert lab.ssh(nfs.ip, 'test -f /srv/nfs/kvmtest-disk.img', check=False).returncode == 0


def test_root_squash_is_refused_with_the_fix(netfs_lab):
    lab, kvm, nfs, _unused = netfs_lab
    result = fails('kvm_pool', dict(name='kvmtest-squash', type='netfs', path=MOUNT + '-squash', build=True,
                                    source=dict(host=nfs.ip, path=SQUASH_EXPORT)), **on(lab, kvm))
    assert "define pool 'kvmtest-squash' failed" in result['msg']
    assert 'root_squash' in result['msg'] and 'no_root_squash, or with anonuid=' in result['msg']
    assert 'kvmtest-squash' not in pools_on(lab, kvm)
    assert lab.ssh(kvm.ip, 'grep -c kvmops-nfs /proc/mounts', check=False).stdout.strip() == '0'


def test_missing_export_and_unreachable_server_change_nothing(netfs_lab):
    lab, kvm, nfs, unused_ip = netfs_lab
    missing = fails('kvm_pool', dict(name='kvmtest-missing', type='netfs', path=MOUNT + '-missing', build=True,
                                     source=dict(host=nfs.ip, path='/srv/kvmtest-nothing')), **on(lab, kvm))
    assert 'a trial mount of %s:/srv/kvmtest-nothing failed' % nfs.ip in missing['msg']
    unreachable = fails('kvm_pool', dict(name='kvmtest-missing', type='netfs', path=MOUNT + '-missing', build=True,
                                         source=dict(host=unused_ip, path='/srv/nfs')), **on(lab, kvm))
    assert 'does not answer on TCP 2049' in unreachable['msg']
    assert 'kvmtest-missing' not in pools_on(lab, kvm)
