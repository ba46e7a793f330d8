"""hypervisor as the host sees it: QEMU and libvirt installed from the mirror, libvirtd running and enabled with the
settings written, /dev/kvm's udev rule and group, the pool."""

testinfra_hosts = ['ansible://kvmtr_kvm']


def test_the_kvm_stack_is_installed(host):
    for name in ('qemu-system-x86', 'qemu-utils', 'libvirt-daemon-system', 'libvirt-clients', 'dnsmasq-base', 'ovmf',
                 'python3-libvirt', 'python3-lxml'):
        assert host.package(name).is_installed, name


def test_libvirtd_runs_and_starts_at_boot(host):
    # socket-activated: the sockets listen and start at boot; libvirtd itself exits after 120 s idle (--timeout 120)
    for socket in ('libvirtd.socket', 'libvirtd-ro.socket', 'libvirtd-admin.socket'):
        assert host.service(socket).is_running and host.service(socket).is_enabled, socket
    assert host.service('libvirtd').is_enabled


def test_settings_and_no_unauthenticated_tcp(host):
    libvirtd_conf = host.file('/etc/libvirt/libvirtd.conf').content_string.splitlines()
    assert 'listen_tcp = 0' in libvirtd_conf and 'max_clients = 64' in libvirtd_conf
    assert 'vnc_listen = "127.0.0.1"' in host.file('/etc/libvirt/qemu.conf').content_string.splitlines()


def test_qemu_user_gets_dev_kvm_as_udev_would(host):
    assert 'GROUP="kvm", MODE="0660"' in host.file('/etc/udev/rules.d/65-kvm.rules').content_string
    assert 'kvm' in host.user('libvirt-qemu').groups


def test_libvirt_knows_the_emulator_and_the_pool(host):
    caps = host.run('virsh -c qemu:///system capabilities')
    assert caps.rc == 0 and '/usr/bin/qemu-system-x86_64' in caps.stdout
    pool = host.run('virsh -c qemu:///system pool-info kvmtr-default')
    assert pool.rc == 0, pool.stderr
    assert 'State:          running' in pool.stdout and 'Autostart:      yes' in pool.stdout
    assert host.file('/var/lib/libvirt/kvmtr-images').is_directory
