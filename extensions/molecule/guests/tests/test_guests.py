"""guests as the lab host's libvirt sees it: the guest running with its volume from the pool and its NIC on the
network, the volume's file there, and a DHCP lease for the guest's MAC."""

import re

testinfra_hosts = ['ansible://kvmtr_hv']

GUEST = 'kvmtr-web1'
VIRSH = 'virsh -c qemu:///system '


def test_the_guest_runs(host):
    state = host.run(VIRSH + 'domstate ' + GUEST)
    assert state.rc == 0 and state.stdout.strip() == 'running', state.stderr


def test_its_disk_is_the_pool_volume(host):
    blocks = host.check_output(VIRSH + 'domblklist --details ' + GUEST)
    assert '/var/lib/libvirt/kvmtr-guests/kvmtr-web1.qcow2' in blocks
    assert host.file('/var/lib/libvirt/kvmtr-guests/kvmtr-web1.qcow2').is_file
    assert 'kvmtr-web1.qcow2' in host.check_output(VIRSH + 'vol-list kvmtr-guests')


def test_its_nic_has_a_lease_on_the_network(host):
    nics = host.check_output(VIRSH + 'domiflist ' + GUEST)
    match = re.search(r'network\s+kvmtr-gnet\s+\S+\s+(\S+)', nics)
    assert match, nics
    leases = host.check_output(VIRSH + 'net-dhcp-leases kvmtr-gnet')
    assert match.group(1) in leases and '192.168.213.' in leases
