"""netfs pools for real, inside the lab: the lab's NFS server guest (kernel nfsd) exports, and a Debian guest
(libvirt is in the lab image) is the KVM host that runs the modules over ssh (fixture storage_lab)."""

import pytest

from harness import contract, fails, ok

pytestmark = pytest.mark.lab

POOL = 'kvmtest-shared'
MOUNT = '/var/lib/libvirt/kvmtest-shared'
SQUASH_EXPORT = '/srv/kvmtest-squash'
UNUSED_HOST = 249   # on the lab's subnet, given to no lab machine


@pytest.fixture(scope='module')
def netfs_lab(storage_lab):
    from kvmlab import config
    lab, kvm, nfs = storage_lab
    subnet = '%s.0/%s' % (config.SUBNET_PREFIX, config.NETMASK_BITS)
    try:
        lab.ssh(nfs.ip, "mkdir -p {d} && chmod 1777 {d} && (grep -q '^{d} ' /etc/exports || echo '{d} {s}(rw,sync,"
                        "root_squash,no_subtree_check)' >> /etc/exports) && exportfs -ra".format(d=SQUASH_EXPORT, s=subnet))
        yield lab, kvm, nfs, '%s.%d' % (config.SUBNET_PREFIX, UNUSED_HOST)
    finally:
        _cleanup(lab, kvm, nfs)


def _cleanup(lab, kvm, nfs):
    lab.ssh(kvm.ip, 'for p in $(virsh -q pool-list --all --name | grep ^kvmtest-); do virsh -q pool-destroy $p; '
                    'virsh -q pool-undefine $p; done; umount %s 2>/dev/null; rmdir %s 2>/dev/null; true'
                    % (MOUNT, MOUNT), check=False)
    lab.ssh(nfs.ip, "rm -f /srv/nfs/kvmtest-*; sed -i '\\#^%s #d' /etc/exports; exportfs -ra; rm -rf %s"
                    % (SQUASH_EXPORT, SQUASH_EXPORT), check=False)


def on(lab, guest):
    """Run a module on a lab guest; pipelined: a TCG guest's ssh round trips are what a run costs."""
    return dict(inventory=str(lab.inventory_path), host=guest.name, extra=('-e', 'ansible_pipelining=true'))


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
    assert applied['pool']['active'] is True and applied['pool']['autostart'] is True
    mount = lab.ssh(kvm.ip, 'findmnt -n -o FSTYPE,SOURCE %s' % MOUNT).stdout.split()
    assert mount == ['nfs4', '%s:/srv/nfs' % nfs.ip]
    info = dict(line.split(':', 1) for line in lab.ssh(kvm.ip, 'virsh pool-info %s' % POOL).stdout.splitlines() if ':' in line)
    assert (info['State'].strip(), info['Autostart'].strip()) == ('running', 'yes')
    assert lab.ssh(kvm.ip, 'grep -c kvmops-nfs /proc/mounts', check=False).stdout.strip() == '0'  # trial mount gone

    # files written on the server are volumes on the KVM host; volumes made there land on the server
    lab.ssh(nfs.ip, 'truncate -s 8M /srv/nfs/kvmtest-seen.img')
    seen = ok('kvm_volume', dict(pool=POOL, name='kvmtest-seen.img', capacity='8M'), **on(lab, kvm))
    assert seen['changed'] is False and seen['volume']['path'] == MOUNT + '/kvmtest-seen.img'
    volume = dict(pool=POOL, name='kvmtest-disk.img', format='raw', capacity='16M', owner='libvirt-qemu', mode='0600')
    contract('kvm_volume', volume, **on(lab, kvm))
    qemu_uid = lab.ssh(kvm.ip, 'id -u libvirt-qemu').stdout.strip()
    owner = lab.ssh(nfs.ip, 'stat -c %u:%a:%s /srv/nfs/kvmtest-disk.img').stdout.strip()
    assert owner == '%s:600:%d' % (qemu_uid, 16 * 1024 ** 2)

    # removing the pool unmounts it and keeps the volumes
    contract('kvm_pool', dict(name=POOL, state='absent'), **on(lab, kvm))
    assert POOL not in pools_on(lab, kvm)
    assert lab.ssh(kvm.ip, 'findmnt %s' % MOUNT, check=False).returncode != 0
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
    assert lab.ssh(kvm.ip, 'test -e %s-missing' % MOUNT, check=False).returncode != 0
