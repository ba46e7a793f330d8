"""host_network as the hosts see it: the bond in /proc/net/bonding, bridge membership in sysfs, the VLAN, the tap,
the files for the next boot and the libvirt networks."""

import json

testinfra_hosts = ['ansible://kvmtr_kvm', 'ansible://kvmtr_nfs']


def _is_kvm(host):
    return host.backend.get_hostname() in host.backend.ansible_runner.get_hosts('kvmtr_kvm')


def _ports(host, bridge):
    return sorted(host.file('/sys/class/net/%s/brif' % bridge).listdir())


def test_pyroute2_is_installed(host):
    assert host.package('python3-pyroute2').is_installed


def test_bond0_is_active_backup_over_both_nics(host):
    if not _is_kvm(host):
        return
    slaves = json.loads(host.file('/etc/ansible/facts.d/kvmtr.fact').content_string)['slaves']
    bonding = host.file('/proc/net/bonding/bond0').content_string
    assert 'Bonding Mode: fault-tolerance (active-backup)' in bonding
    assert 'MII Polling Interval (ms): 100' in bonding
    assert ['Slave Interface: %s' % nic for nic in slaves] == [line for line in bonding.splitlines()
                                                               if line.startswith('Slave Interface:')]
    assert 'MII Status: up' in bonding


def test_bridges_hold_the_bond_the_vlan_and_the_tap(host):
    if _is_kvm(host):
        assert _ports(host, 'kvmtrbr0') == ['bond0', 'kvmtrtap0']
        assert _ports(host, 'kvmtrbr100') == ['bond0.100']
        assert 'VID: 100' in host.file('/proc/net/vlan/bond0.100').content_string
    else:
        assert _ports(host, 'kvmtrbr0') == ['kvmtrtap0']
    tap = host.file('/sys/class/net/kvmtrtap0/tun_flags')
    assert tap.exists


def test_the_bridges_come_back_at_boot(host):
    persisted = host.file('/etc/network/interfaces.d/kvmops-kvmtrbr0')
    assert persisted.exists and 'kvmtrtap0' in persisted.content_string
    if _is_kvm(host):
        assert 'bond-mode active-backup' in persisted.content_string or 'bond-mode 1' in persisted.content_string


def test_the_libvirt_networks_run_and_start_with_libvirt(host):
    for name, bridge in (('kvmtr-lan', 'kvmtrbr0'), ('kvmtr-iso', None)):
        info = host.run('virsh -c qemu:///system net-info %s' % name)
        assert info.rc == 0, info.stderr
        fields = dict((k.strip(), v.strip()) for k, v in (line.split(':', 1) for line in info.stdout.splitlines()
                                                          if ':' in line))
        assert fields['Active'] == 'yes' and fields['Autostart'] == 'yes'
        if bridge:
            assert fields['Bridge'] == bridge
