"""The kvmops.kvm.libvirt inventory plugin against the machine's real libvirtd: two defined guests and a running
tiny guest on a NAT network whose address comes from the network's DHCP lease, listed by ansible-inventory."""

import json
import os
import subprocess

import pytest
import yaml

from harness import ROOT, ansible_env
from kvmlab.artifacts import ensure_tiny_artifacts
from kvmlab.console import SerialConsole

URI = 'qemu:///system'
PREFIX = 'kvmtinv-'
NETWORK = PREFIX + 'net'
SUBNET = '10.214.77.'
NETWORK_XML = """<network><name>%s</name><forward mode='nat'/><bridge name='kvmtinv-br0'/>
<ip address='%s1' prefix='24'><dhcp><range start='%s10' end='%s99'/></dhcp></ip></network>""" % (
    NETWORK, SUBNET, SUBNET, SUBNET)
GUEST_XML = """<domain type='qemu'><name>%(name)s</name><title>%(title)s</title>
<memory unit='MiB'>%(memory)d</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type>%(boot)s</os>
<devices><interface type='network'><mac address='%(mac)s'/><source network='%(network)s'/><model type='virtio'/></interface>
<serial type='pty'/><console type='pty'/></devices></domain>"""
READY = 'KVMLAB-READY'


def purge(conn):
    for dom in conn.listAllDomains():
        if dom.name().startswith(PREFIX):
            if dom.isActive():
                dom.destroy()
            if dom.isPersistent():
                dom.undefine()
    for net in conn.listAllNetworks():
        if net.name().startswith(PREFIX):
            if net.isActive():
                net.destroy()
            if net.isPersistent():
                net.undefine()


def define(conn, name, mac, memory=128, title='idle', boot=''):
    return conn.defineXML(GUEST_XML % dict(name=PREFIX + name, title=title, memory=memory, mac=mac, network=NETWORK,
                                           boot=boot))


@pytest.fixture(scope='module')
def guests(libvirtd):
    """kvmtinv-a and kvmtinv-b defined (shut off), kvmtinv-run running with a DHCP lease on kvmtinv-net."""
    conn = libvirtd
    purge(conn)
    tiny = ensure_tiny_artifacts()
    try:
        net = conn.networkDefineXML(NETWORK_XML)
        net.create()
        define(conn, 'a', '52:54:00:7e:00:0a', memory=96, title='db')
        define(conn, 'b', '52:54:00:7e:00:0b', title='web')
        boot = ('<kernel>%s</kernel><initrd>%s</initrd><cmdline>console=ttyS0 quiet panic=-1 ip=dhcp '
                'kvmlab.hostname=kvmtinv</cmdline>' % (tiny.kernel, tiny.initrd))
        run = define(conn, 'run', '52:54:00:7e:00:01', title='web', boot=boot)
        run.create()
        with SerialConsole(URI, PREFIX + 'run') as console:
            console.expect(READY, timeout=180)   # printed once udhcpc has its lease
        yield net
    finally:
        purge(conn)


def listed(tmp_path, config, *extra):
    source = tmp_path / 'system.libvirt.yml'
    source.write_text(yaml.safe_dump(dict(dict(plugin='kvmops.kvm.libvirt', uris=[URI]), **config)))
    env = ansible_env(os.devnull)
    env['ANSIBLE_INVENTORY_UNPARSED_FAILED'] = '1'
    proc = subprocess.run([os.path.join(ROOT, '.venv', 'bin', 'ansible-inventory'), '-i', str(source), '--list']
                          + list(extra), capture_output=True, text=True, env=env, check=False,
                          stdin=subprocess.DEVNULL, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return unsafe_removed(json.loads(proc.stdout))


def unsafe_removed(value):
    if isinstance(value, dict):
        if set(value) == set(['__ansible_unsafe']):
            return value['__ansible_unsafe']
        return dict((key, unsafe_removed(item)) for key, item in value.items())
    if isinstance(value, list):
        return [unsafe_removed(item) for item in value]
    return value


def members(inventory, group):
    return sorted(name for name in inventory.get(group, {}).get('hosts', []) if name.startswith(PREFIX))


def test_guests_addresses_groups_and_constructed_vars(tmp_path, guests, libvirtd):
    leases = dict((lease['mac'], lease['ipaddr']) for lease in guests.DHCPLeases())
    inventory = listed(tmp_path, dict(
        compose=dict(kvm_memory_gib='kvm_memory / 1024'),
        groups=dict(kvmtinv_small='kvm_name.startswith("kvmtinv-") and kvm_memory < 128'),
        keyed_groups=[dict(key='kvm_title', prefix='kvmtinv_role')]))
    hostvars = inventory['_meta']['hostvars']
    run = hostvars[PREFIX + 'run']
    assert run['kvm_state'] == 'running' and run['kvm_hypervisor_uri'] == URI
    assert run['kvm_hypervisor'] == libvirtd.getHostname()
    assert run['kvm_uuid'] == libvirtd.lookupByName(PREFIX + 'run').UUIDString()
    assert run['kvm_macs'] == ['52:54:00:7e:00:01'] and run['kvm_networks'] == [NETWORK]
    assert run['kvm_memory'] == 128 and run['kvm_vcpus'] == 1
    # the address is the lease libvirt's dnsmasq gave, and ssh would go there
    assert run['ansible_host'] == leases['52:54:00:7e:00:01'] and run['ansible_host'].startswith(SUBNET)
    assert run['kvm_interfaces'][0]['addresses'][0]['source'] == 'lease'
    assert 'ansible_connection' not in run
    for name in ('a', 'b'):
        guest = hostvars[PREFIX + name]
        assert guest['kvm_state'] == 'shutoff' and 'ansible_host' not in guest and guest['kvm_persistent'] is True
    assert hostvars[PREFIX + 'a']['kvm_memory_gib'] == 96 / 1024
    host_group = 'kvm_hypervisor_' + ''.join(c if c.isalnum() else '_' for c in libvirtd.getHostname())
    assert members(inventory, host_group) == [PREFIX + 'a', PREFIX + 'b', PREFIX + 'run']
    assert members(inventory, 'kvm_state_running') == [PREFIX + 'run']
    assert members(inventory, 'kvm_state_shutoff') == [PREFIX + 'a', PREFIX + 'b']
    assert members(inventory, 'kvm_network_kvmtinv_net') == [PREFIX + 'a', PREFIX + 'b', PREFIX + 'run']
    assert members(inventory, 'kvmtinv_small') == [PREFIX + 'a']
    assert members(inventory, 'kvmtinv_role_web') == [PREFIX + 'b', PREFIX + 'run']
    assert members(inventory, 'kvmtinv_role_db') == [PREFIX + 'a']


def test_read_only_connection_and_the_cache(tmp_path, guests, libvirtd):
    cache = dict(cache=True, cache_plugin='ansible.builtin.jsonfile', cache_connection=str(tmp_path / 'cache'),
                 cache_prefix='kvmtinv_', read_only=True)
    first = listed(tmp_path, cache)
    assert first['_meta']['hostvars'][PREFIX + 'run']['ansible_host'].startswith(SUBNET)
    define(libvirtd, 'late', '52:54:00:7e:00:0c')
    try:
        cached = listed(tmp_path, cache)
        assert PREFIX + 'late' not in cached['_meta']['hostvars']   # answered from the cache
        refreshed = listed(tmp_path, cache, '--flush-cache')
        assert PREFIX + 'late' in refreshed['_meta']['hostvars']
    finally:
        libvirtd.lookupByName(PREFIX + 'late').undefine()
