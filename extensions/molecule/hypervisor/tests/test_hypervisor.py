"""hypervisor as the host sees it: QEMU and libvirt installed from the mirror, libvirtd running and enabled with the
settings written, /dev/kvm's udev rule and group, the pool."""

import json

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


def test_nftables_accepts_the_migration_ports_in_the_hosts_own_chain_now_and_at_boot(host):
    # prepare made nftables the firewall (policy drop, ssh allowed); the role's rule is in that chain, read as JSON
    chain = json.loads(host.check_output('nft -j list chain inet filter input'))['nftables']
    assert [i['chain']['policy'] for i in chain if 'chain' in i] == ['drop']
    ours = [i['rule'] for i in chain if i.get('rule', {}).get('comment') == 'kvmops.kvm hypervisor']
    assert len(ours) == 1, ours
    assert ours[0]['expr'] == [{'match': {'op': '==', 'left': {'payload': {'protocol': 'tcp', 'field': 'dport'}},
                                          'right': {'range': [49152, 49215]}}}, {'accept': None}]
    assert host.service('nftables').is_running and host.service('nftables').is_enabled
    assert 'include "/etc/nftables.d/kvmops-hypervisor.nft"' in host.file('/etc/nftables.conf').content_string
    assert 'tcp dport { 49152-49215 } accept' in host.file('/etc/nftables.d/kvmops-hypervisor.nft').content_string
