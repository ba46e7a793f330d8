"""The bad-input corpus: every case must fail with a message that names the parameter and says what is valid,
with no traceback, and leave the host as it was (hoststate.snapshot, before and after each case).

The cases run in this one process against the real daemon (qemu:///system), through each module's main() as
Ansible would run it (real runs, not check mode: a wrongly accepted input would change the host and show).
The tally (per module: clear / unclear / traceback / wrongly accepted / host changed) is written to
tests/output/bad_inputs_tally.json and printed with `-s`; docs/reliability.md quotes it.
"""

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import time

import pytest
from pyroute2 import netns

from harness import ROOT
from hoststate import differences, snapshot
from private_libvirtd import PrivateLibvirtd

sys.path.insert(0, os.path.join(ROOT, '.collections'))

from ansible.module_utils.testing import patch_module_args  # noqa: E402

from ansible_collections.kvmops.kvm.plugins.modules import (  # noqa: E402
    kvm_bridge, kvm_domain, kvm_domain_info, kvm_host, kvm_migrate, kvm_network, kvm_network_info, kvm_pool,
    kvm_pool_info, kvm_snapshot, kvm_volume, kvm_volume_info)

URI = 'qemu:///system'
NET, POOL, VOL, GUEST = 'kvmth-bn', 'kvmth-bp', 'kvmth-bv.qcow2', 'kvmth-bg'
SHA = 'sha256:' + '0' * 64
SNAP = 'kvmth-s1'
RGUEST = 'kvmth-brun'   # runs (no OS: QEMU idles in its firmware); file disks vda (qcow2) and vdb (raw); no snapshot
NETNS = 'kvmth-brns'   # kvm_bridge's cases run inside this network namespace (never the machine's own)
TCP = 'qemu+tcp://127.0.0.1/system'
MODULES = dict(kvm_domain=kvm_domain, kvm_host=kvm_host, kvm_network=kvm_network, kvm_pool=kvm_pool,
               kvm_volume=kvm_volume, kvm_domain_info=kvm_domain_info, kvm_network_info=kvm_network_info,
               kvm_pool_info=kvm_pool_info, kvm_volume_info=kvm_volume_info, kvm_bridge=kvm_bridge,
               kvm_migrate=kvm_migrate, kvm_snapshot=kvm_snapshot)
TALLY = os.path.join(ROOT, 'tests', 'output', 'bad_inputs_tally.json')


def ip4(**kwargs):
    return dict(dict(address='172.30.90.1', prefix=24), **kwargs)


OVERLAPPING = [dict(start='172.30.90.10', end='172.30.90.50'), dict(start='172.30.90.40', end='172.30.90.60')]


def host(mac_byte, ip_byte):
    return dict(mac='52:54:00:00:00:%02x' % mac_byte, ip='172.30.90.%d' % ip_byte)


# (module, arguments, words the message must hold: the parameter, then what is valid)
CASES = [
    # ---- kvm_network
    ('kvm_network', dict(name='kvmth bad'), ['name', 'letters, digits']),
    ('kvm_network', dict(name=''), ['name', 'letters, digits']),
    ('kvm_network', dict(name='kvmth-n', state='running'), ['state', 'active, inactive, present, absent']),
    ('kvm_network', dict(name='kvmth-n', mode='nat2'), ['mode', 'nat, isolated, route, bridge, open']),
    ('kvm_network', dict(name='kvmth-n', mode='route'), ['ipv4', 'address and prefix']),
    ('kvm_network', dict(name='kvmth-n', ipv4='10.9.0.1/24'), ['ipv4', '{address: 10.9.0.1, prefix: 24}']),
    ('kvm_network', dict(name='kvmth-n', ipv4=dict(address='10.9.0.300', prefix=24)), ['ipv4.address', 'not an IP']),
    ('kvm_network', dict(name='kvmth-n', ipv4=dict(address='10.9.0.1')), ['ipv4', 'prefix (e.g. 24) or netmask']),
    ('kvm_network', dict(name='kvmth-n', ipv4=dict(address='10.9.0.1', prefix=33)), ['ipv4.prefix', '1 to 30']),
    ('kvm_network', dict(name='kvmth-n', ipv4=dict(address='10.9.0.1', prefix=24, netmask='255.255.255.0')),
     ['ipv4', 'prefix or netmask, not both']),
    ('kvm_network', dict(name='kvmth-n', ipv4=dict(address='10.9.0.1', netmask='255.0.255.0')),
     ['ipv4.netmask', 'e.g. 255.255.255.0']),
    ('kvm_network', dict(name='kvmth-n', ipv4=dict(address='10.9.0.0', prefix=24)), ['ipv4.address', 'network or broadcast']),
    ('kvm_network', dict(name='kvmth-n', ipv4=dict(address='127.0.0.1', prefix=8)), ['ipv4.address', 'loopback']),
    ('kvm_network', dict(name='kvmth-n', ipv4=dict(address='fd00::1', prefix=24)), ['ipv4.address', 'IPv4']),
    ('kvm_network', dict(name='kvmth-n', ipv4=ip4(dhcp=dict(ranges=[dict(start='172.30.91.10', end='172.30.91.20')]))),
     ['ipv4.dhcp.ranges[0]', 'outside 172.30.90.0/24']),
    ('kvm_network', dict(name='kvmth-n', ipv4=ip4(dhcp=dict(ranges=[dict(start='172.30.90.50', end='172.30.90.10')]))),
     ['ipv4.dhcp.ranges[0]', 'after end']),
    ('kvm_network', dict(name='kvmth-n', ipv4=ip4(dhcp=dict(ranges=[dict(start='172.30.90.1', end='172.30.90.10')]))),
     ['ipv4.dhcp.ranges[0]', "network's own address"]),
    ('kvm_network', dict(name='kvmth-n', ipv4=ip4(dhcp=dict(ranges=OVERLAPPING))),
     ['ipv4.dhcp.ranges[1]', 'must not share']),
    ('kvm_network', dict(name='kvmth-n', ipv4=ip4(dhcp=dict(ranges=[dict(start='172.30.90.10')]))),
     ['end', 'ranges']),
    ('kvm_network', dict(name='kvmth-n', ipv4=ip4(dhcp=dict(hosts=[dict(mac='52:54:00:00:00:zz', ip='172.30.90.5')]))),
     ['ipv4.dhcp.hosts[0].mac', 'six hex pairs']),
    ('kvm_network', dict(name='kvmth-n', ipv4=ip4(dhcp=dict(hosts=[dict(mac='01:54:00:00:00:01', ip='172.30.90.5')]))),
     ['ipv4.dhcp.hosts[0].mac', 'unicast']),
    ('kvm_network', dict(name='kvmth-n', ipv4=ip4(dhcp=dict(hosts=[host(1, 5), host(1, 6)]))),
     ['ipv4.dhcp.hosts[1].mac', 'already used']),
    ('kvm_network', dict(name='kvmth-n', ipv4=ip4(dhcp=dict(hosts=[host(1, 5), host(2, 5)]))),
     ['ipv4.dhcp.hosts[1].ip', 'already given']),
    ('kvm_network', dict(name='kvmth-n', ipv4=ip4(dhcp=dict(hosts=[dict(mac='52:54:00:00:00:01', ip='172.30.90.1')]))),
     ['ipv4.dhcp.hosts[0].ip', "network's own address"]),
    ('kvm_network', dict(name='kvmth-n', ipv4=ip4(dhcp=dict(hosts=[dict(host(1, 5), name='bad_name!')]))),
     ['ipv4.dhcp.hosts[0].name', 'host or domain name']),
    ('kvm_network', dict(name='kvmth-n', ipv4=ip4(dhcp='yes')), ['dhcp', 'mapping']),
    ('kvm_network', dict(name='kvmth-n', ipv6=dict(address='fd00:90::1', prefix=64, dhcp=dict(
        hosts=[dict(ip='fd00:90::5')]))), ['ipv6.dhcp.hosts[0]', 'name or an id']),
    ('kvm_network', dict(name='kvmth-n', ipv6=dict(address='fd00:90::1')), ['prefix', 'ipv6']),
    ('kvm_network', dict(name='kvmth-n', bridge='kvmth-bridge-name-too-long'), ['bridge', 'at most 15']),
    ('kvm_network', dict(name='kvmth-n', mode='bridge'), ['bridge', 'e.g. bridge: br0']),
    ('kvm_network', dict(name='kvmth-n', mode='bridge', bridge='br0', ipv4=ip4()), ['ipv4', 'drop ipv4']),
    ('kvm_network', dict(name='kvmth-n', mode='isolated', forward_dev='eth0', ipv4=ip4()), ['forward_dev', 'nat and route']),
    ('kvm_network', dict(name='kvmth-n', mtu=20, ipv4=ip4()), ['mtu', '68 to 65535']),
    ('kvm_network', dict(name='kvmth-n', mtu='big', ipv4=ip4()), ['mtu', 'int']),
    ('kvm_network', dict(name='kvmth-n', domain='-bad-', ipv4=ip4()), ['domain', 'host or domain name']),
    ('kvm_network', dict(name='kvmth-n', ipv4=ip4(), dns_hosts=[dict(ip='172.30.90.9', hostnames=[])]),
     ['dns_hosts[0].hostnames', 'at least one']),
    ('kvm_network', dict(name='kvmth-n', ipv4=ip4(), dns_hosts=[dict(ip='nope', hostnames=['a'])]), ['dns_hosts[0].ip', 'IP']),
    ('kvm_network', dict(name='kvmth-n', ipv4=dict(address='172.30.90.77', prefix=24)), ['ipv4', "network 'kvmth-bn'"]),
    ('kvm_network', dict(name=NET, ipv4=dict(address='172.30.95.1', prefix=24), restart=True),
     ['ipv4', 'ipv4.dhcp.ranges']),
    ('kvm_network', dict(name='kvmth-n', xml='<network><name>kvmth-n</name>'), ['xml', 'well-formed']),
    ('kvm_network', dict(name='kvmth-n', xml='<network><forward mode="nat"/></network>'), ['xml', '<name>']),
    ('kvm_network', dict(name='kvmth-n', xml='<pool><name>kvmth-n</name></pool>'), ['xml', '<network>']),
    ('kvm_network', dict(name='kvmth-n', xml='<network><name>other</name></network>'), ['xml', "name is 'kvmth-n'"]),
    ('kvm_network', dict(name=NET, xml="<network><name>%s</name><uuid>11111111-2222-3333-4444-555555555555</uuid>"
                                       "<ip address='172.30.90.1' prefix='24'/></network>" % NET), ['xml', 'UUID']),
    ('kvm_network', dict(name='kvmth-n', xml='<network><name>kvmth-n</name></network>', mtu=1400),
     ['xml', 'mtu']),
    ('kvm_network', dict(name='kvmth-n', restart='sometimes'), ['restart', 'bool']),
    ('kvm_network', dict(name='kvmth-n', colour='blue'), ['colour', 'Supported parameters']),
    # ---- kvm_pool
    ('kvm_pool', dict(name='kvmth/p', path='/var/tmp'), ['name', 'letters, digits']),
    ('kvm_pool', dict(name='kvmth-p', type='zfs', path='/var/tmp'), ['type', 'dir, netfs, logical']),
    ('kvm_pool', dict(name='kvmth-p', path='relative/dir'), ['path', 'absolute']),
    ('kvm_pool', dict(name='kvmth-p'), ['path', 'target path']),
    ('kvm_pool', dict(name='kvmth-p', path='/etc/hostname'), ['path', 'not a directory']),
    ('kvm_pool', dict(name='kvmth-p', path='/var/tmp/kvmth-none/nowhere'), ['path', 'build: true']),
    ('kvm_pool', dict(name='kvmth-p', path='{pool_path}'), ['path', "pool 'kvmth-bp'"]),
    ('kvm_pool', dict(name='kvmth-p', path='/var/tmp', owner=True), ['owner', 'user name or a numeric ID']),
    ('kvm_pool', dict(name='kvmth-p', path='/var/tmp', owner=-5), ['owner', '0 to 4294967294']),
    ('kvm_pool', dict(name='kvmth-p', path='/var/tmp', owner='kvmth-nobody'), ['owner', 'no user']),
    ('kvm_pool', dict(name='kvmth-p', path='/var/tmp', group=[1]), ['group', 'group name or a numeric ID']),
    ('kvm_pool', dict(name='kvmth-p', path='/var/tmp', group='kvmth-nogroup'), ['group', 'no group']),
    ('kvm_pool', dict(name='kvmth-p', path='/var/tmp', mode=755), ['mode', "quote it, e.g. '0755'"]),
    ('kvm_pool', dict(name='kvmth-p', path='/var/tmp', mode='01777'), ['mode', "'0000' to '0777'"]),
    ('kvm_pool', dict(name='kvmth-p', path='/var/tmp', mode='rwxr-xr-x'), ['mode', "e.g. '0644'"]),
    ('kvm_pool', dict(name='kvmth-p', path='/var/tmp', mode='0999'), ['mode', 'octal']),
    ('kvm_pool', dict(name='kvmth-p', type='netfs', path='/var/tmp'), ['source', 'source.host']),
    ('kvm_pool', dict(name='kvmth-p', type='netfs', path='/var/tmp', source=dict(host='nfs1')), ['source.path', 'export']),
    ('kvm_pool', dict(name='kvmth-p', type='netfs', path='/var/tmp', source=dict(host='nfs1', path='/x', format='cifs')),
     ['format', 'nfs, auto']),
    ('kvm_pool', dict(name='kvmth-p', path='/var/tmp', source=dict(host='nfs1')), ['source.host', 'does not take']),
    ('kvm_pool', dict(name='kvmth-p', path='/var/tmp', mount_options=['ro']), ['mount_options', 'netfs']),
    ('kvm_pool', dict(name='kvmth-p', type='netfs', path='/var/tmp', source=dict(host='nfs1', path='/x'),
                      mount_options=['vers=4.2,soft']), ['mount_options', 'one option an item']),
    ('kvm_pool', dict(name='kvmth-p', type='logical', build=True, source=dict(devices=['/dev/kvmth-none'])),
     ['source.devices', 'does not exist']),
    ('kvm_pool', dict(name=POOL, type='netfs'), ['type', 'cannot change in place']),
    ('kvm_pool', dict(name='kvmth-p', path='/var/tmp', build='maybe'), ['build', 'bool']),
    # ---- kvm_volume
    ('kvm_volume', dict(pool=POOL, name='a/b'), ['name', "without '/'"]),
    ('kvm_volume', dict(pool=POOL, name='..'), ['name', "without '/'"]),
    ('kvm_volume', dict(pool=POOL, name='../../etc/kvmth'), ['name', "without '/'"]),
    ('kvm_volume', dict(pool='kvmth-nopool', name='x.qcow2', capacity='1M'), ['pool', 'kvm_pool creates one']),
    ('kvm_volume', dict(pool='kvmth bad', name='x.qcow2', capacity='1M'), ['pool', 'letters, digits']),
    ('kvm_volume', dict(pool=POOL, name='kvmth-x.qcow2'), ['capacity', 'e.g. 10G']),
    ('kvm_volume', dict(pool=POOL, name='kvmth-x.qcow2', capacity='ten'), ['capacity', 'unit such as']),
    ('kvm_volume', dict(pool=POOL, name='kvmth-x.qcow2', capacity='10X'), ['capacity', 'unit such as']),
    ('kvm_volume', dict(pool=POOL, name='kvmth-x.qcow2', capacity=0), ['capacity', 'above zero']),
    ('kvm_volume', dict(pool=POOL, name='kvmth-x.qcow2', capacity='-1G'), ['capacity', 'unit such as']),
    ('kvm_volume', dict(pool=POOL, name='kvmth-x.qcow2', capacity=64), ['capacity', 'e.g. 64M']),
    ('kvm_volume', dict(pool=POOL, name='kvmth-x.qcow2', capacity=True), ['capacity', 'unit such as']),
    ('kvm_volume', dict(pool=POOL, name='kvmth-x.qcow2', capacity='900T'), ['capacity', "pool 'kvmth-bp' has"]),
    ('kvm_volume', dict(pool=POOL, name=VOL, capacity='4M'), ['capacity', 'shrink']),
    ('kvm_volume', dict(pool=POOL, name=VOL, capacity='900T'), ['capacity', "pool 'kvmth-bp' has"]),
    ('kvm_volume', dict(pool=POOL, name=VOL, format='raw'), ['format', 'not done in place']),
    ('kvm_volume', dict(pool=POOL, name='kvmth-x.qcow2', format='vmdk', capacity='1M'), ['format', 'qcow2, raw']),
    ('kvm_volume', dict(pool=POOL, name='kvmth-x.qcow2', capacity='1M', mode=644), ['mode', "quote it, e.g. '0644'"]),
    ('kvm_volume', dict(pool=POOL, name='kvmth-x.qcow2', capacity='1M', mode='01777'), ['mode', "'0000' to '0777'"]),
    ('kvm_volume', dict(pool=POOL, name='kvmth-x.qcow2', capacity='1M', group=[1]), ['group', 'numeric ID']),
    ('kvm_volume', dict(pool=POOL, name='kvmth-x.qcow2', capacity='1M', owner=-1), ['owner', '0 to 4294967294']),
    ('kvm_volume', dict(pool=POOL, name='kvmth-x.qcow2', backing='kvmth-none.qcow2'), ['backing', 'no volume']),
    ('kvm_volume', dict(pool=POOL, name='kvmth-x.qcow2', backing='/var/tmp/kvmth-none.img'), ['backing', 'neither']),
    ('kvm_volume', dict(pool=POOL, name='kvmth-x.qcow2', backing=VOL, capacity='1M'), ['capacity', 'smaller than']),
    ('kvm_volume', dict(pool=POOL, name='kvmth-x.qcow2', backing=VOL, format='raw'), ['format', 'qcow2 volume']),
    ('kvm_volume', dict(pool=POOL, name='kvmth-x.qcow2', source=dict()), ['source', 'exactly one']),
    ('kvm_volume', dict(pool=POOL, name='kvmth-x.qcow2', source=dict(volume=VOL, file='/etc/hostname')),
     ['source', 'exactly one']),
    ('kvm_volume', dict(pool=POOL, name='kvmth-x.qcow2', source=dict(url='https://example.invalid/x.qcow2')),
     ['checksum', 'sha256']),
    ('kvm_volume', dict(pool=POOL, name='kvmth-x.qcow2', source=dict(url='https://example.invalid/x.qcow2',
                                                                     checksum='md5:abc')), ['checksum', 'sha256']),
    ('kvm_volume', dict(pool=POOL, name='kvmth-x.qcow2', source=dict(url='ftp://example.invalid/x.qcow2',
                                                                     checksum=SHA)), ['source.url', 'http']),
    ('kvm_volume', dict(pool=POOL, name='kvmth-x.qcow2', source=dict(file='/var/tmp/kvmth-none.img')),
     ['source.file', 'not a file']),
    ('kvm_volume', dict(pool=POOL, name='kvmth-x.qcow2', source=dict(volume='kvmth-none.qcow2')),
     ['source.volume', 'no volume']),
    ('kvm_volume', dict(pool=POOL, name='kvmth-x.qcow2', capacity='1M', backing=VOL, source=dict(volume=VOL)),
     ['backing', 'source']),
    # the suffix of the marker that stands beside a volume while its upload runs: such a name would pass for one
    ('kvm_volume', dict(pool=POOL, name='kvmth-x.qcow2.kvmops-partial', capacity='1M'),
     ['name', "ends in '.kvmops-partial'", 'choose a name without it']),
    ('kvm_volume', dict(pool=POOL, name='kvmth-x.qcow2.kvmops-partial', state='absent'),
     ['name', "ends in '.kvmops-partial'", "state: absent on 'kvmth-x.qcow2'"]),
    # ---- kvm_domain
    ('kvm_domain', dict(name='kvmth g'), ['name', 'letters, digits']),
    ('kvm_domain', dict(name='kvmth-g', state='on'), ['state', 'running, shutdown, destroyed']),
    ('kvm_domain', dict(name='kvmth-g', memory='lots'), ['memory', 'unit such as']),
    ('kvm_domain', dict(name='kvmth-g', memory=8), ['memory', 'below 16 MiB']),
    ('kvm_domain', dict(name='kvmth-g', memory=256, max_memory=128), ['max_memory', 'at least']),
    ('kvm_domain', dict(name='kvmth-g', memory='64TiB'), ['memory', 'more than the host has']),
    ('kvm_domain', dict(name='kvmth-g', vcpus=0), ['vcpus', '1 to 4096']),
    ('kvm_domain', dict(name='kvmth-g', vcpus=2, max_vcpus=1), ['max_vcpus', 'below vcpus']),
    ('kvm_domain', dict(name='kvmth-g', vcpus='two'), ['vcpus', 'int']),
    ('kvm_domain', dict(name='kvmth-g', cpu=dict(mode='custom')), ['cpu.model', 'e.g. Westmere']),
    ('kvm_domain', dict(name='kvmth-g', cpu=dict(mode='host-model', model='Westmere')), ['cpu.model', "mode 'custom'"]),
    ('kvm_domain', dict(name='kvmth-g', machine='pc-kvmth-9'), ['machine', 'for example']),
    ('kvm_domain', dict(name='kvmth-g', firmware='coreboot'), ['firmware', 'bios, uefi']),
    ('kvm_domain', dict(name='kvmth-g', boot=['hd', 'hd']), ['boot', 'each device once']),
    ('kvm_domain', dict(name='kvmth-g', boot=['floppy']), ['boot', 'hd, cdrom, network']),
    ('kvm_domain', dict(name='kvmth-g', kernel='vmlinuz'), ['kernel', 'absolute']),
    ('kvm_domain', dict(name='kvmth-g', kernel='/var/tmp/kvmth-none/vmlinuz'), ['kernel', 'does not exist']),
    ('kvm_domain', dict(name='kvmth-g', cdrom='debian.iso'), ['cdrom', 'absolute']),
    ('kvm_domain', dict(name='kvmth-g', cdrom='/var/tmp/kvmth-none.iso'), ['cdrom', 'does not exist']),
    ('kvm_domain', dict(name='kvmth-g', disks='vda'), ['disks', 'list of mappings']),
    ('kvm_domain', dict(name='kvmth-g', disks=[dict(bus='virtio')]), ['disks[0]', 'path, or pool and volume']),
    ('kvm_domain', dict(name='kvmth-g', disks=[dict(path='/x.qcow2', pool=POOL, volume=VOL)]), ['disks[0]', 'not both']),
    ('kvm_domain', dict(name='kvmth-g', disks=[dict(volume=VOL)]), ['disks[0].pool', 'pool it lives in']),
    ('kvm_domain', dict(name='kvmth-g', disks=[dict(path='disk.qcow2')]), ['disks[0].path', 'absolute']),
    ('kvm_domain', dict(name='kvmth-g', disks=[dict(path='/var/tmp/kvmth-none.qcow2')]), ['disks[0]', 'give size']),
    ('kvm_domain', dict(name='kvmth-g', disks=[dict(path='/var/tmp/kvmth-x.qcow2', size='big')]), ['disks[0].size', 'unit']),
    ('kvm_domain', dict(name='kvmth-g', disks=[dict(pool='kvmth-nopool', volume='x')]), ['disks[0].pool', 'kvmth-nopool']),
    ('kvm_domain', dict(name='kvmth-g', disks=[dict(pool=POOL, volume=VOL, target='vda'),
                                               dict(pool=POOL, volume='kvmth-other', size='1G', target='vda')]),
     ['disks[1].target', 'already used']),
    ('kvm_domain', dict(name='kvmth-g', disks=[dict(pool=POOL, volume=VOL, format='vmdk')]), ['format', 'qcow2, raw']),
    ('kvm_domain', dict(name='kvmth-g', interfaces=[dict(network=NET, bridge='br0')]), ['interfaces[0]', 'exactly one']),
    ('kvm_domain', dict(name='kvmth-g', interfaces=[dict(network='kvmth-nonet')]), ['interfaces[0].network', 'does not exist']),
    ('kvm_domain', dict(name='kvmth-g', interfaces=[dict(bridge='kvmthnobr')]), ['interfaces[0].bridge', 'does not exist']),
    ('kvm_domain', dict(name='kvmth-g', interfaces=[dict(network=NET, mac='zz:54:00:00:00:01')]),
     ['interfaces[0].mac', 'six hex pairs']),
    ('kvm_domain', dict(name='kvmth-g', interfaces=[dict(network=NET, mac='52:54:00:00:00:01'),
                                                    dict(network=NET, mac='52:54:00:00:00:01')]),
     ['interfaces[1].mac', 'already given']),
    ('kvm_domain', dict(name='kvmth-g', interfaces=[dict(network=NET, portgroup='kvmth-nopg')]),
     ['interfaces[0].portgroup', 'has no portgroup']),
    ('kvm_domain', dict(name='kvmth-g', interfaces=[dict(bridge='br0', portgroup='x')]), ['portgroup', 'libvirt network']),
    ('kvm_domain', dict(name='kvmth-g', graphics=dict(listen='localhost:5900')), ['graphics.listen', 'IP']),
    ('kvm_domain', dict(name='kvmth-g', graphics=dict(port=80)), ['graphics.port', '5900 to 65535']),
    ('kvm_domain', dict(name='kvmth-g', graphics=dict(type='rdp')), ['type', 'vnc, spice, none']),
    ('kvm_domain', dict(name='kvmth-g', graphics=dict(type='vnc', password='longer-than-8')),
     ['graphics.password', 'at most 8 characters']),
    ('kvm_domain', dict(name='kvmth-g', disks=[dict(pool=POOL, volume='../kvmth-escape.qcow2', size='1G')]),
     ['disks[0].volume', "without '/'"]),
    ('kvm_domain', dict(name='kvmth-g', disks=[dict(pool='bad pool', volume='x.qcow2')]), ['disks[0].pool', 'letters']),
    ('kvm_domain', dict(name='kvmth-g', disks=[dict(pool=POOL, volume='kvmth-g.qcow2.kvmops-partial', size='1G')]),
     ['disks[0].volume', "ends in '.kvmops-partial'"]),
    ('kvm_domain', dict(name='kvmth-g', cloud_init=dict(user_data='x', directory='/var/tmp/kvmth-none')),
     ['cloud_init.directory', 'not a directory']),
    ('kvm_domain', dict(name='kvmth-g', xml='<domain type="qemu"><memory>1</memory></domain>'), ['xml', '<name>']),
    ('kvm_domain', dict(name='kvmth-g', xml='<domain>'), ['xml', 'well-formed']),
    ('kvm_domain', dict(name='kvmth-g', xml='<domain><name>kvmth-g</name></domain>', memory=128), ['xml', 'memory']),
    ('kvm_domain', dict(name='kvmth-g', type='xen'), ['type', 'auto, kvm, qemu']),
    ('kvm_domain', dict(name='kvmth-g', wait_for='ssh'), ['wait_for', 'ip']),
    ('kvm_domain', dict(name='kvmth-g', shutdown_timeout='soon'), ['shutdown_timeout', 'int']),
    # ---- kvm_host
    ('kvm_host', dict(modules='present', extra_modules=['bad name!']), ['extra_modules', 'kernel module name']),
    ('kvm_host', dict(extra_modules=['vhost_net']), ['extra_modules', 'modules']),
    ('kvm_host', dict(require=['kvmth-nonsense']), ['require', 'the checks are']),
    ('kvm_host', dict(modules='absent'), ['modules', 'present']),
    ('kvm_host', dict(nested='perhaps'), ['nested', 'bool']),
    # ---- kvm_bridge (in the namespace NETNS: nic0 free, nic1 a port of bridge kbr1, nothing else)
    ('kvm_bridge', dict(name='kvmth-bridge-too-long'), ['name', 'at most 15']),
    ('kvm_bridge', dict(name='br 0'), ['name', 'valid interface name']),
    ('kvm_bridge', dict(name='nic0'), ['name', 'not a bridge']),
    ('kvm_bridge', dict(name='br9', ports=['nic0'], bond=dict(name='bond0', slaves=['nic0'])),
     ['bond', 'one of ports, bond or vlan']),
    ('kvm_bridge', dict(name='br9', ports=['nic0'], vlan=dict(id=10, parent='nic0')), ['vlan', 'one of ports, bond or vlan']),
    ('kvm_bridge', dict(name='br9', bond=dict(name='bond0', mode='fastest', slaves=['nic0'])),
     ['bond.mode', "'fastest'", 'balance-rr, active-backup', '0-6']),
    ('kvm_bridge', dict(name='br9', bond=dict(name='bond0', mode='9', slaves=['nic0'])), ['bond.mode', '0-6']),
    ('kvm_bridge', dict(name='br9', bond=dict(name='bond0', slaves=['nic1'])), ['bond.slaves', "enslaved to 'kbr1'"]),
    ('kvm_bridge', dict(name='br9', bond=dict(name='bond0', slaves=['br9'])), ['bond.slaves', 'the bridge itself']),
    ('kvm_bridge', dict(name='br9', bond=dict(name='bond0', slaves=['nic9'])), ['bond.slaves', 'existing interface']),
    ('kvm_bridge', dict(name='br9', bond=dict(name='bond0', slaves=['nic0', 'nic0'])), ['bond.slaves', 'twice']),
    ('kvm_bridge', dict(name='br9', bond=dict(name='bond0')), ['bond.slaves', 'give its slaves']),
    ('kvm_bridge', dict(name='br9', bond=dict(name='bond0', slaves=['nic0'], primary='nic2')),
     ['bond.primary', 'one of the slaves']),
    ('kvm_bridge', dict(name='br9', bond=dict(name='bond0', slaves=['nic0'], options='mode=1 colour=blue')),
     ['bond.options', 'unknown bond option', 'miimon']),
    ('kvm_bridge', dict(name='br9', bond=dict(name='bond0', slaves=['nic0'], mode='active-backup', options='mode=0')),
     ['bond.options', 'give it once']),
    ('kvm_bridge', dict(name='br9', bond=dict(name='bond-name-too-long', slaves=['nic0'])), ['bond.name', 'at most 15']),
    ('kvm_bridge', dict(name='br9', ports=['nic1']), ['ports', "enslaved to 'kbr1'"]),
    ('kvm_bridge', dict(name='br9', ports=['br9']), ['ports', 'the bridge itself']),
    ('kvm_bridge', dict(name='br9', ports=['nic9']), ['ports', 'existing interface']),
    ('kvm_bridge', dict(name='br9', ports=['lo']), ['ports', 'loopback']),
    ('kvm_bridge', dict(name='br9', ports=['nic-name-too-long']), ['ports', 'at most 15']),
    ('kvm_bridge', dict(name='br9', vlan=dict(id=0, parent='nic0')), ['vlan.id', '1 to 4094']),
    ('kvm_bridge', dict(name='br9', vlan=dict(id=4095, parent='nic0')), ['vlan.id', '1 to 4094']),
    ('kvm_bridge', dict(name='br9', vlan=dict(id=10, parent='nic9')), ['vlan.parent', 'existing interface']),
    ('kvm_bridge', dict(name='br9', vlan=dict(id=10, parent='nic0', name='nic0.vlan-too-long')), ['vlan.name', 'at most 15']),
    ('kvm_bridge', dict(name='br9', ipv4=dict(addresses=['10.77.250.10'])), ['ipv4.addresses', 'CIDR, e.g.']),
    ('kvm_bridge', dict(name='br9', ipv4=dict(addresses=['10.77.250.300/24'])), ['ipv4.addresses', 'not an IPv4']),
    ('kvm_bridge', dict(name='br9', ipv6=dict(addresses=['fd00:250::10'])), ['ipv6.addresses', 'CIDR, e.g.']),
    ('kvm_bridge', dict(name='br9', ipv4=dict(addresses=['10.77.250.10/24'], gateway='10.77.251.1')),
     ['ipv4.gateway', "outside every address's subnet"]),
    ('kvm_bridge', dict(name='br9', ipv6=dict(addresses=['fd00:250::10/64'], gateway='fd00:251::1')),
     ['ipv6.gateway', "outside every address's subnet"]),
    ('kvm_bridge', dict(name='br9', ipv4=dict(method='static')), ['ipv4.addresses', 'needs addresses']),
    ('kvm_bridge', dict(name='br9', ipv4=dict(method='dhcp', addresses=['10.77.250.10/24'])),
     ['ipv4.addresses', "method 'dhcp'"]),
    ('kvm_bridge', dict(name='br9', ipv4=dict(method='auto')), ['ipv4', 'method', 'static, dhcp, none']),
    ('kvm_bridge', dict(name='br9', stp=True, forward_delay=1), ['forward_delay', '2']),
    ('kvm_bridge', dict(name='br9', mtu=20), ['mtu', '68']),
    ('kvm_bridge', dict(name='br9', mac='52:54:00:zz:00:01'), ['mac', 'six hex pairs']),
    ('kvm_bridge', dict(name='br9', taps=['br9']), ['taps', 'the bridge itself']),
    ('kvm_bridge', dict(name='br9', taps=[dict(name='tap0', colour='blue')]), ['taps', 'name, owner, group, multi_queue']),
    ('kvm_bridge', dict(name='br9', taps=['nic0']), ['taps', 'not a tap']),
    ('kvm_bridge', dict(name='br9', taps=[dict(name='tap0', owner='kvmth-nobody')]), ['taps', 'known name or a number']),
    ('kvm_bridge', dict(name='br9', persist='yaml'), ['persist', 'networkmanager, ifupdown']),
    # ---- kvm_migrate (the guest is GUEST, defined and shut off here; {dest_uri} is a second, private libvirtd)
    ('kvm_migrate', dict(name=GUEST, dest_uri=TCP), ['dest_uri', 'insecure_transport: true']),
    ('kvm_migrate', dict(name=GUEST, source_uri=TCP, dest_uri='{dest_uri}'), ['source_uri', 'qemu+ssh://']),
    ('kvm_migrate', dict(name=GUEST, dest_uri='qemu+http://kvm2/system'), ['dest_uri', 'ssh, libssh, libssh2, tls']),
    ('kvm_migrate', dict(name=GUEST, dest_uri=URI), ['dest_uri', 'same URI']),
    ('kvm_migrate', dict(name=GUEST, dest_uri='qemu:///system?socket=/run/libvirt/libvirt-sock'),
     ['dest_uri', 'another host']),
    ('kvm_migrate', dict(name=GUEST, dest_uri='qemu:///system?socket=/var/tmp/kvmth-none/sock'),
     ['dest_uri', 'is the libvirt daemon running']),
    ('kvm_migrate', dict(name='kvmth-none', dest_uri='{dest_uri}'), ['source_uri', 'dest_uri', 'on neither']),
    ('kvm_migrate', dict(name=GUEST, dest_uri='{dest_uri}'), ['live', 'live: false']),
    ('kvm_migrate', dict(name=GUEST, dest_uri='{dest_uri}', timeout_action='later'),
     ['timeout_action', 'abort, postcopy, pause']),
    ('kvm_migrate', dict(name=GUEST, dest_uri='{dest_uri}', bandwidth=-1), ['bandwidth', 'positive']),
    ('kvm_migrate', dict(name=GUEST, dest_uri='{dest_uri}', max_downtime=0), ['max_downtime', 'positive']),
    ('kvm_migrate', dict(name=GUEST, dest_uri='{dest_uri}', timeout=-5), ['timeout', 'positive']),
    ('kvm_migrate', dict(name=GUEST, dest_uri='{dest_uri}', parallel_connections=0), ['parallel_connections', 'positive']),
    ('kvm_migrate', dict(name=GUEST, dest_uri='{dest_uri}', reserved_memory=-1), ['reserved_memory', '0 or more']),
    ('kvm_migrate', dict(name=GUEST, dest_uri='{dest_uri}', timeout=60, timeout_action='postcopy', post_copy=False),
     ['timeout_action', 'post_copy']),
    ('kvm_migrate', dict(name=GUEST, dest_uri='{dest_uri}', timeout_action='postcopy'), ['timeout_action', 'give timeout']),
    ('kvm_migrate', dict(name=GUEST, dest_uri='{dest_uri}', timeout_action='pause'), ['timeout_action', 'give timeout']),
    ('kvm_migrate', dict(name=GUEST, dest_uri='{dest_uri}', tunnelled=True, p2p=False), ['tunnelled', 'peer-to-peer']),
    ('kvm_migrate', dict(name=GUEST, dest_uri='{dest_uri}', tunnelled=True, tls=True), ['tunnelled', 'tls']),
    ('kvm_migrate', dict(name=GUEST, dest_uri='{dest_uri}', tunnelled=True, post_copy=True), ['post_copy', 'tunnelled']),
    ('kvm_migrate', dict(name=GUEST, dest_uri='{dest_uri}', parallel_connections=2, compressed=True),
     ['parallel_connections', 'choose compressed or parallel_connections']),
    ('kvm_migrate', dict(name=GUEST, dest_uri='{dest_uri}', live=False, auto_converge=True),
     ['auto_converge', 'live is false']),
    ('kvm_migrate', dict(name=GUEST, dest_uri='{dest_uri}', storage='copy'), ['storage', 'shared, copy_all, copy_incremental']),
    ('kvm_migrate', dict(name=GUEST, dest_uri='{dest_uri}', compressed=True, compression_methods=['zstd']),
     ['compression_methods', 'xbzrle, mt']),
    ('kvm_migrate', dict(name=GUEST, dest_uri='{dest_uri}', state='absent'), ['state', 'migrated']),
    ('kvm_migrate', dict(name=GUEST), ['dest_uri', 'required']),
    # ---- kvm_snapshot (GUEST is shut off and has one internal snapshot, SNAP, with a description)
    ('kvm_snapshot', dict(domain='kvmth-none', name='s2'), ['domain', "no domain 'kvmth-none'"]),
    ('kvm_snapshot', dict(domain=GUEST, name=''), ['name', 'give the name']),
    ('kvm_snapshot', dict(domain=GUEST, name='s2', keep=0), ['keep', '1 or more']),
    ('kvm_snapshot', dict(domain=GUEST, name='s2', state='taken'), ['state', 'present, absent, current']),
    ('kvm_snapshot', dict(domain=GUEST, name=SNAP, state='absent', children='orphan'), ['children', 'keep, delete']),
    ('kvm_snapshot', dict(domain=GUEST, name='s2', type='hybrid'), ['type', 'internal, external']),
    ('kvm_snapshot', dict(domain=GUEST, name='s2', memory=True, disk_only=True), ['memory', 'exclude each other']),
    ('kvm_snapshot', dict(domain=GUEST, name='s2', memory=True), ['memory', 'shut off']),
    ('kvm_snapshot', dict(domain=GUEST, name='s2', quiesce=True), ['quiesce', 'shut off']),
    ('kvm_snapshot', dict(domain=GUEST, name='s2', type='external'), ['type', 'do not mix']),
    ('kvm_snapshot', dict(domain=GUEST, name='kvmth-nosnap', state='current'), ['name', "has no snapshot", SNAP]),
    ('kvm_snapshot', dict(domain=GUEST, name=SNAP, description='another'), ['description', 'cannot change once taken']),
    ('kvm_snapshot', dict(domain=GUEST, name=SNAP, running_after_revert='maybe', state='current'),
     ['running_after_revert', 'bool']),
    # ---- kvm_snapshot of a running guest (RGUEST)
    ('kvm_snapshot', dict(domain=RGUEST, name='s1', disk_only=True), ['disk_only', 'always keeps its RAM',
                                                                      'type: external']),
    ('kvm_snapshot', dict(domain=RGUEST, name='s1', memory=False), ['memory', 'always keeps its RAM', 'type: external']),
    ('kvm_snapshot', dict(domain=RGUEST, name='s1'), ['type', 'vdb', 'is raw', 'cannot hold internal snapshots',
                                                      'type: external']),
    ('kvm_snapshot', dict(domain=RGUEST, name='s1', type='external', disk_only=True, quiesce=True),
     ['quiesce', 'agent', 'does not answer', 'qemu-guest-agent']),
    # ---- info modules
    ('kvm_network_info', dict(name=['bad name']), ['name[0]', 'letters, digits']),
    ('kvm_pool_info', dict(name='bad/name'), ['name[0]', 'letters, digits']),
    ('kvm_volume_info', dict(pool=['kvmth-nopool']), ['pool[0]', "no pool 'kvmth-nopool'"]),
    ('kvm_volume_info', dict(pool=POOL, name=['a/b']), ['name[0]', "without '/'"]),
    ('kvm_domain_info', dict(name=['bad name'], xml='maybe'), ['xml', 'bool']),
]


def case_id(case):
    module, args, _words = case
    return '%s-%s' % (module, '-'.join('%s' % k for k in sorted(args) if k not in ('name', 'pool')) or 'name')


@pytest.fixture(autouse=True)
def clean():
    """The world below stays for every case (conftest's per-test purge would remove it)."""
    yield


@pytest.fixture(scope='module')
def world(libvirtd, tmp_path_factory):
    """The objects the cases meet: an active network, a dir pool with a volume, a defined guest (off)."""
    import shutil
    import tempfile
    from hardening_env import remove_volumes
    from harness import purge
    conn = libvirtd
    remove_volumes(conn)
    purge(conn, 'kvmth')
    path = tempfile.mkdtemp(prefix='kvmth-bad-', dir='/var/tmp')
    os.chmod(path, 0o755)
    with open(os.path.join(path, 'kvmth-not-a-volume.txt'), 'w') as stream:
        stream.write('a file of the pool directory\n')
    run('kvm_network', dict(name=NET, ipv4=ip4(dhcp=dict(ranges=[dict(start='172.30.90.100', end='172.30.90.200')]))))
    run('kvm_pool', dict(name=POOL, path=path))
    run('kvm_volume', dict(pool=POOL, name=VOL, capacity='8M'))
    made = run('kvm_domain', dict(name=GUEST, type='qemu', memory=64, state='shutdown', graphics=dict(type='none'),
                                  disks=[dict(pool=POOL, volume=VOL)], interfaces=[dict(network=NET)]))
    assert not made.get('failed'), made
    taken = run('kvm_snapshot', dict(domain=GUEST, name=SNAP, description='before the corpus'))
    assert not taken.get('failed'), taken
    for name, fmt in (('kvmth-brun.qcow2', 'qcow2'), ('kvmth-brun.raw', 'raw')):
        run('kvm_volume', dict(pool=POOL, name=name, capacity='1M', format=fmt))
    started = run('kvm_domain', dict(name=RGUEST, type='qemu', memory=32, state='running', graphics=dict(type='none'),
                                     disks=[dict(path=os.path.join(path, 'kvmth-brun.qcow2'), format='qcow2'),
                                            dict(path=os.path.join(path, 'kvmth-brun.raw'), format='raw')]))
    assert not started.get('failed'), started
    bridge_netns_up()
    other = PrivateLibvirtd(host_uuid='6b1e5c52-7e3a-4c1b-9a55-%012x' % os.getpid()).start()
    try:
        yield dict(pool_path=path, dest_uri=other.uri)
    finally:
        other.remove()
        bridge_netns_down()
        remove_volumes(conn)
        purge(conn, 'kvmth')
        shutil.rmtree(path, ignore_errors=True)


def ip(*args):
    return subprocess.run(['ip', '-n', NETNS] + list(args), check=True, capture_output=True, text=True).stdout


def bridge_netns_up():
    """NETNS: veth nic0 (free, up, with an address) and nic1 (a port of bridge kbr1); no DAD, whose flags would
    clear by themselves and spoil the byte-for-byte comparison."""
    bridge_netns_down()
    subprocess.run(['ip', 'netns', 'add', NETNS], check=True)
    subprocess.run(['ip', 'netns', 'exec', NETNS, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0',
                    'net.ipv6.conf.default.accept_dad=0'], check=True)
    ip('link', 'set', 'lo', 'up')
    for nic in ('nic0', 'nic1'):
        ip('link', 'add', nic, 'type', 'veth', 'peer', 'name', 'p' + nic)
    ip('link', 'add', 'kbr1', 'type', 'bridge', 'forward_delay', '0')
    ip('link', 'set', 'nic1', 'master', 'kbr1')
    for dev in ('nic0', 'pnic0', 'nic1', 'pnic1', 'kbr1'):
        ip('link', 'set', dev, 'up')
    ip('addr', 'add', '10.77.250.10/24', 'dev', 'nic0')
    # settled before the first snapshot: the bridge gains its carrier once its port forwards
    deadline = time.time() + 60
    while 'state UP' not in ip('link', 'show', 'kbr1') or 'NO-CARRIER' in ip('link', 'show', 'kbr1'):
        assert time.time() < deadline, ip('link', 'show', 'kbr1')
        time.sleep(0.1)


def bridge_netns_down():
    subprocess.run(['ip', 'netns', 'del', NETNS], check=False, capture_output=True)


_TIMERS = re.compile(r'(\w+_timer)\s+[0-9.]+')


def bridge_netns_state():
    """`ip -d link` and `ip addr` of NETNS byte for byte, but for the bridge timers, which count by themselves."""
    return _TIMERS.sub(r'\1 *', ip('-d', 'link', 'show')) + ip('addr', 'show')


def run(module, args):
    """The module's result as Ansible gets it, from its main() in this process."""
    args = dict(args, _ansible_check_mode=False, _ansible_diff=True)
    if not module.startswith('kvm_host'):
        args['uri'] = URI
    out = io.StringIO()
    with patch_module_args(args), contextlib.redirect_stdout(out), in_netns(NETNS if module == 'kvm_bridge' else None):
        try:
            MODULES[module].main()
        except SystemExit:
            pass
        except Exception as exc:  # a crash past the module's own handling
            return dict(failed=True, msg='Traceback: %r' % exc, _crashed=True)
    try:
        return json.loads(out.getvalue())
    except ValueError:
        return dict(failed=True, msg='Traceback: no JSON: %s' % out.getvalue()[-500:], _crashed=True)


@contextlib.contextmanager
def in_netns(name):
    """This thread in network namespace `name` for the block (kvm_bridge acts on the namespace it runs in; it
    reads links over netlink only, which follows the thread's namespace)."""
    if name is None:
        yield
        return
    netns.pushns(name)
    try:
        yield
    finally:
        netns.popns()


def classify(result, words, changed):
    if changed:
        return 'host changed'
    if not result.get('failed'):
        return 'wrongly accepted'
    msg = result.get('msg') or ''
    if result.get('_crashed') or 'Traceback' in msg or 'unexpected error in kvmops.kvm' in msg:
        return 'traceback'
    if all(word.lower() in msg.lower() for word in words):
        return 'clear'
    return 'unclear'


_TALLY = {}


@pytest.fixture(scope='module')
def tally():
    yield _TALLY
    rows = {}
    for (module, _index), outcome in sorted(_TALLY.items()):
        row = rows.setdefault(module, dict((k, 0) for k in ('clear', 'unclear', 'traceback', 'wrongly accepted',
                                                            'host changed')))
        row[outcome] += 1
    os.makedirs(os.path.dirname(TALLY), exist_ok=True)
    with open(TALLY, 'w') as stream:
        json.dump(dict(cases=len(_TALLY), modules=rows), stream, indent=1, sort_keys=True)
    print('\nbad-input tally (%d cases): %s' % (len(_TALLY), json.dumps(rows, sort_keys=True)))


def test_corpus_is_large_enough():
    assert len(CASES) >= 80
    assert set(c[0] for c in CASES) >= set(('kvm_domain', 'kvm_network', 'kvm_pool', 'kvm_volume', 'kvm_host',
                                            'kvm_bridge', 'kvm_migrate', 'kvm_snapshot'))


@pytest.mark.parametrize('index', range(len(CASES)), ids=[case_id(c) for c in CASES])
def test_bad_input(conn, world, tally, index):
    module, args, words = CASES[index]
    text = json.dumps(args).replace('{pool_path}', world['pool_path']).replace('{dest_uri}', world['dest_uri'])
    args = json.loads(text)
    before = dict(snapshot(conn), netns=bridge_netns_state())
    started = time.time()
    result = run(module, args)
    changed = differences(before, dict(snapshot(conn), netns=bridge_netns_state()))
    outcome = classify(result, words, changed)
    tally[(module, index)] = outcome
    took = time.time() - started
    assert outcome == 'clear', '%s %r -> %s: %s %s (%.1fs)' % (module, args, outcome, result.get('msg'), changed, took)
    assert re.search(r"\b%s\b" % re.escape(words[0].split('.')[0].split('[')[0]), result['msg']), result['msg']
