"""nfs_storage as the hosts see it: the server's exports (explicit options, squashed to the QEMU user, no
world-writable directory) and running service; the KVM host's pool mounted over NFS, where QEMU's user writes."""

import pytest

testinfra_hosts = ['ansible://kvmtr_kvm', 'ansible://kvmtr_nfs']
EXPORT = '/srv/kvmtr-vms'
MOUNT = '/var/lib/libvirt/shared/kvmtr-shared'


def _role(host):
    return 'kvm' if host.backend.get_hostname() in host.backend.ansible_runner.get_hosts('kvmtr_kvm') else 'nfs'


def test_server_exports_with_explicit_options(host):
    if _role(host) != 'nfs':
        pytest.skip('server side')
    qemu = host.user('libvirt-qemu')
    line = host.file('/etc/exports.d/kvmops.exports').content_string.splitlines()[-1]
    options = line.split('(', 1)[1].rstrip(')').split(',')
    assert line.startswith(EXPORT + ' ')
    assert set(['rw', 'sync', 'no_subtree_check', 'secure', 'all_squash']) <= set(options)
    assert 'anonuid=%d' % qemu.uid in options and 'anongid=%d' % qemu.gid in options
    exported = host.run('exportfs -v')
    assert exported.rc == 0 and EXPORT in exported.stdout and 'all_squash' in exported.stdout
    directory = host.file(EXPORT)
    assert directory.uid == qemu.uid and directory.gid == qemu.gid and directory.mode == 0o770
    service = host.service('nfs-kernel-server')
    assert service.is_running and service.is_enabled


def test_kvm_host_has_the_pool_mounted_and_qemu_writes_there(host):
    if _role(host) != 'kvm':
        pytest.skip('client side')
    pool = host.run('virsh -c qemu:///system pool-info kvmtr-shared')
    assert pool.rc == 0, pool.stderr
    assert 'State:          running' in pool.stdout and 'Autostart:      yes' in pool.stdout
    mount = host.mount_point(MOUNT)
    assert mount.exists and mount.filesystem.startswith('nfs') and mount.device.endswith(':' + EXPORT)
    probe = MOUNT + '/kvmtr-qemu-probe'
    written = host.run('runuser -u libvirt-qemu -- sh -c "echo ok > %s && cat %s && rm %s"' % (probe, probe, probe))
    assert written.rc == 0 and written.stdout.strip() == 'ok', written.stderr
