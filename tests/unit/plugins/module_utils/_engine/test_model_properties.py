"""Property-based tests of the canonical models, the guarantees idempotence rests on (hypothesis):
for generated networks, guests, pools and volumes
  1. write -> read gives back the model (what the module writes is what it reads next run),
  2. a model compared with itself has no difference,
  3. the comparison ignores what the user did not specify (a desired model that is any part of the live one,
     or the live one with fields the user never gave changed, shows no difference)."""

import copy
import ipaddress

import pytest

hypothesis = pytest.importorskip('hypothesis')
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from ansible_collections.kvmops.kvm.plugins.module_utils._domain import model as domain_model  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.compare import differences  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._network import model as network_model  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._storage import pool_model, volume_model  # noqa: E402

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NAME = st.from_regex(r'\A[a-z]([a-z0-9-]{0,9}[a-z0-9])?\Z')
IFNAME = st.from_regex(r'\A[a-z][a-z0-9]{0,9}\Z')


def reread(root, read):
    """What libvirt hands back, as far as text goes: the written XML parsed again and read."""
    return read(_xml.parse(_xml.to_string(root)))


def some_keys(data, model):
    """A desired model made of any part of `model` (top-level keys)."""
    keys = data.draw(st.lists(st.sampled_from(sorted(model)), unique=True)) if model else []
    return dict((key, copy.deepcopy(model[key])) for key in keys)


# ---------------------------------------------------------------- networks

@st.composite
def ipv4_options(draw):
    second, third = draw(st.integers(0, 255)), draw(st.integers(0, 255))
    net = ipaddress.ip_network(u'10.%d.%d.0/24' % (second, third))
    options = {'address': str(net[1]), 'prefix': 24}
    if draw(st.booleans()):
        cuts = sorted(draw(st.lists(st.integers(2, 254), min_size=0, max_size=6, unique=True)))
        ranges = [{'start': str(net[cuts[i]]), 'end': str(net[cuts[i + 1]])} for i in range(0, len(cuts) - 1, 2)]
        count = draw(st.integers(0, 4))
        hosts = [{'mac': '52:54:00:%02x:%02x:%02x' % (second, third, i), 'ip': str(net[200 + i])} for i in range(count)]
        for host in hosts:
            if draw(st.booleans()):
                host['name'] = draw(NAME)
        options['dhcp'] = {'ranges': ranges, 'hosts': hosts}
    return options


@st.composite
def network_options(draw):
    mode = draw(st.sampled_from(['nat', 'isolated', 'route', 'open', 'bridge']))
    options = {'mode': mode}
    if mode == 'bridge':
        options['bridge'] = draw(IFNAME)
        return options
    if draw(st.booleans()):
        options['bridge'] = 'virbr%d' % draw(st.integers(0, 999))
    if mode in ('nat', 'route') and draw(st.booleans()):
        options['forward_dev'] = draw(IFNAME)
    if draw(st.booleans()):
        options['mtu'] = draw(st.integers(68, 65535))
    if draw(st.booleans()):
        options['domain'] = draw(NAME)
    options['ipv4'] = draw(ipv4_options())
    if draw(st.booleans()):
        options['ipv6'] = {'address': 'fd00:%x::1' % draw(st.integers(1, 0xffff)), 'prefix': 64}
    if draw(st.booleans()):
        count = draw(st.integers(0, 3))
        options['dns_hosts'] = [{'ip': '192.0.2.%d' % (i + 1), 'hostnames': draw(st.lists(NAME, min_size=1, max_size=3,
                                                                                          unique=True))}
                                for i in range(count)]
    return options


@SETTINGS
@given(network_options(), st.data())
def test_network_model_properties(options, data):
    desired = network_model.from_options(options)
    root = network_model.new_definition('net', desired)
    live = reread(root, network_model.read)
    assert differences(desired, live) == []                                   # 1. write -> read
    assert differences(live, live) == []                                      # 2. self
    assert differences(some_keys(data, live), live) == []                     # 3. any part
    again = reread(network_model.write(_xml.parse(_xml.to_string(root)), desired), network_model.read)
    assert again == live                                                      # writing it twice changes nothing
    unspecified = [key for key in live if key not in desired]
    changed = dict(live, **dict((key, 'changed-by-someone') for key in unspecified))
    assert differences(desired, changed) == []                                # 3. the rest may be anything


# ---------------------------------------------------------------- pools

@st.composite
def pool_options(draw):
    pool_type = draw(st.sampled_from(['dir', 'netfs', 'logical']))
    params = {'type': pool_type}
    if pool_type != 'logical' or draw(st.booleans()):
        params['path'] = '/srv/' + draw(NAME)
    for key in ('owner', 'group'):
        if draw(st.booleans()):
            params[key] = draw(st.integers(0, 65534))
    if draw(st.booleans()):
        params['mode'] = '0%o%o%o' % tuple(draw(st.integers(0, 7)) for _digit in range(3))
    if pool_type == 'netfs':
        params['source'] = {'host': draw(NAME), 'path': '/export/' + draw(NAME)}
        if draw(st.booleans()):
            params['source']['format'] = draw(st.sampled_from(['nfs', 'auto']))
        if draw(st.booleans()):
            params['mount_options'] = draw(st.lists(st.sampled_from(['soft', 'vers=4.2', 'noatime', 'ro']),
                                                    min_size=1, max_size=3, unique=True))
    if pool_type == 'logical' and draw(st.booleans()):
        params['source'] = {'name': draw(NAME),
                            'devices': ['/dev/' + d for d in draw(st.lists(NAME, max_size=3, unique=True))]}
    return params


@SETTINGS
@given(pool_options(), st.data())
def test_pool_model_properties(params, data):
    desired = pool_model.from_options(params, params['type'], local=True)
    desired = pool_model.completed('pool1', desired, params['type'])
    root = pool_model.new_definition('pool1', desired)
    live = reread(root, pool_model.read)
    assert differences(desired, live) == []
    assert differences(live, live) == []
    assert differences(some_keys(data, live), live) == []
    again = reread(pool_model.write(_xml.parse(_xml.to_string(root)), desired), pool_model.read)
    assert again == live
    unspecified = [key for key in live if key not in desired]
    assert differences(desired, dict(live, **dict((key, 'x') for key in unspecified))) == []


# ---------------------------------------------------------------- volumes

@SETTINGS
@given(size=st.integers(1, 2 ** 50), fmt=st.sampled_from([None, 'qcow2', 'raw']),
       perms=st.fixed_dictionaries({}, optional={'owner': st.integers(0, 65534), 'group': st.integers(0, 65534),
                                                 'mode': st.sampled_from(['0600', '0640', '0644', '0660', '0755'])}),
       backing=st.one_of(st.none(), st.builds(lambda n: {'path': '/images/%s.qcow2' % n, 'format': 'qcow2'}, NAME)),
       data=st.data())
def test_volume_model_properties(size, fmt, perms, backing, data):
    text = volume_model.new_definition('vol1', size, fmt, perms, backing)
    live = volume_model.read(_xml.parse(text))
    desired = dict(perms, capacity=size)
    if fmt:
        desired['format'] = fmt
    if backing:
        desired['backing'] = backing['path']
    assert differences(desired, live) == []
    assert differences(live, live) == []
    assert differences(some_keys(data, live), live) == []
    # the size the user writes and the size returned speak one unit: the returned value given back is the same
    assert volume_model.capacity('capacity', live['capacity'] if live['capacity'] >= volume_model.SMALLEST_BARE
                                 else '%dB' % live['capacity']) == size
    # the human form is for people: it reads back within its rounding (0.5 %)
    assert abs(volume_model.capacity('capacity', volume_model.human(size).replace(' ', '').replace('bytes', 'B'))
               - size) <= size * 0.005 or size < volume_model.SMALLEST_BARE


# ---------------------------------------------------------------- guests

MAC = st.integers(0, 0xffffff).map(lambda n: '52:54:00:%02x:%02x:%02x' % (n >> 16, (n >> 8) & 0xff, n & 0xff))


@st.composite
def disk_models(draw, target):
    disk = {'target': target, 'bus': draw(st.sampled_from(['virtio', 'sata', 'scsi'])),
            'format': draw(st.sampled_from(['qcow2', 'raw'])),
            'cache': draw(st.sampled_from([None, 'none', 'writeback', 'unsafe'])),
            'readonly': draw(st.booleans()), 'path': None}
    if draw(st.booleans()):
        disk['pool'], disk['volume'] = draw(NAME), draw(NAME) + '.qcow2'
    else:
        disk['path'] = draw(st.sampled_from(['/images/', '/dev/vg0/'])) + draw(NAME)
    return disk


@st.composite
def interface_models(draw, mac):
    kind = draw(st.sampled_from(['network', 'bridge', 'direct']))
    return {'type': kind, 'source': draw(IFNAME), 'mac': mac, 'model': draw(st.sampled_from(['virtio', 'e1000'])),
            'portgroup': draw(st.one_of(st.none(), NAME)) if kind == 'network' else None,
            'link_state': draw(st.sampled_from(['up', 'down']))}


@st.composite
def domain_models(draw):
    memory = draw(st.integers(16, 65536))
    vcpus = draw(st.integers(1, 64))
    desired = {
        'type': draw(st.sampled_from(['kvm', 'qemu'])),
        'memory': memory, 'max_memory': memory + draw(st.integers(0, 4096)),
        'vcpus': vcpus, 'max_vcpus': vcpus + draw(st.integers(0, 8)),
        'firmware': 'bios',
    }
    mode = draw(st.sampled_from([None, 'host-passthrough', 'host-model', 'custom']))
    if mode:
        desired['cpu'] = {'mode': mode, 'model': draw(st.sampled_from(['Westmere', 'EPYC'])) if mode == 'custom' else None}
    if draw(st.booleans()):
        desired['machine'] = draw(st.sampled_from(['pc-q35-7.2', 'pc-i440fx-7.2']))
    if draw(st.booleans()):
        desired['kernel'] = '/boot/' + draw(NAME)
        desired['cmdline'] = draw(st.sampled_from(['console=ttyS0', 'root=/dev/vda quiet']))
    else:
        desired['boot'] = draw(st.permutations(['hd', 'cdrom', 'network']).flatmap(
            lambda order: st.integers(1, 3).map(lambda n: list(order[:n]))))
    targets = draw(st.lists(st.sampled_from(['vd%s' % c for c in 'abcdefgh']), max_size=4, unique=True))
    desired['disks'] = sorted([draw(disk_models(t)) for t in targets], key=lambda d: d['target'])
    macs = draw(st.lists(MAC, max_size=4, unique=True))
    desired['interfaces'] = [draw(interface_models(m)) for m in macs]
    if draw(st.booleans()):
        desired['graphics'] = {'type': 'none'}
    else:
        desired['graphics'] = {'type': draw(st.sampled_from(['vnc', 'spice'])),
                               'listen': draw(st.sampled_from(['127.0.0.1', '0.0.0.0', '::1'])),
                               'port': draw(st.one_of(st.none(), st.integers(5900, 65535))),
                               'password': draw(st.one_of(st.none(), st.text('abcdefgh0123', min_size=1, max_size=8)))}
    return desired


@SETTINGS
@given(domain_models(), st.data())
def test_domain_model_properties(desired, data):
    root = domain_model.new_definition('guest1', desired)
    live = domain_model.comparable(reread(root, domain_model.read))
    want = domain_model.comparable(desired)
    assert differences(want, live) == []
    assert differences(live, live) == []
    assert differences(some_keys(data, live), live) == []
    again = domain_model.comparable(reread(domain_model.write(_xml.parse(_xml.to_string(root)), desired),
                                           domain_model.read))
    assert differences(want, again) == [] and differences(again, live) == []
    unspecified = [key for key in live if key not in want]
    assert differences(want, dict(live, **dict((key, 'x') for key in unspecified))) == []
