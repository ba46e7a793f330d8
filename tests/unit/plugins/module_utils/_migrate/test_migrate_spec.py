"""kvm_migrate's options: contradictions refused, flags and parameters built, transports judged."""

import pytest

libvirt = pytest.importorskip('libvirt')

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import ParameterError  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._migrate import spec  # noqa: E402

DEFAULTS = dict(live=True, persistent=True, undefine_source=True, storage='shared', timeout_action='abort',
                source_uri='qemu:///system', dest_uri='qemu+ssh://root@kvm2/system')


def params(**changes):
    return dict(DEFAULTS, **changes)


def test_default_flags_are_a_live_persistent_move_with_protection():
    p2p, post_copy = spec.validate(params())
    assert (p2p, post_copy) == (False, False)
    value = spec.flags(params(), True, [], p2p, post_copy)
    assert spec.flag_names(value) == ['live', 'persist_dest', 'undefine_source', 'change_protection', 'abort_on_error']
    assert spec.parameters(params(), []) == {}


def test_offline_and_copy_and_tunables():
    offline = spec.flag_names(spec.flags(params(live=False), False, [], False, False))
    assert 'offline' in offline and 'live' not in offline and 'persist_dest' in offline
    paused = spec.flag_names(spec.flags(params(live=False), True, [], False, False))
    assert 'offline' not in paused and 'live' not in paused
    copy = spec.flag_names(spec.flags(params(storage='copy_incremental'), True, ['vda'], False, False))
    assert 'copy_storage_inc' in copy and 'copy_storage_all' not in copy
    tuned = params(bandwidth=100, migrate_uri='tcp://10.0.0.2', parallel_connections=4, auto_converge=True,
                   tls=True, unsafe=True)
    names = spec.flag_names(spec.flags(tuned, True, ['vda', 'vdb'], False, True))
    assert {'auto_converge', 'tls', 'unsafe', 'parallel', 'postcopy', 'copy_storage_all'} <= set(names)
    assert spec.parameters(tuned, ['vda', 'vdb']) == {
        libvirt.VIR_MIGRATE_PARAM_BANDWIDTH: 100, libvirt.VIR_MIGRATE_PARAM_URI: 'tcp://10.0.0.2',
        libvirt.VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS: 4, libvirt.VIR_MIGRATE_PARAM_MIGRATE_DISKS: ['vda', 'vdb']}


def test_tunnelled_implies_p2p_and_postcopy_follows_the_timeout_action():
    assert spec.validate(params(tunnelled=True)) == (True, False)
    assert spec.validate(params(timeout=60, timeout_action='postcopy')) == (False, True)


@pytest.mark.parametrize('changes, parameter', [
    (dict(tunnelled=True, p2p=False), 'tunnelled'),
    (dict(tunnelled=True, tls=True), 'tunnelled'),
    (dict(tunnelled=True, migrate_uri='tcp://x'), 'tunnelled'),
    (dict(timeout_action='postcopy', post_copy=False, timeout=5), 'timeout_action'),
    (dict(timeout_action='postcopy'), 'timeout_action'),
    (dict(timeout_action='pause'), 'timeout_action'),
    (dict(bandwidth=0), 'bandwidth'),
    (dict(timeout=-1), 'timeout'),
    (dict(reserved_memory=-5), 'reserved_memory'),
    (dict(parallel_connections=2, compressed=True), 'parallel_connections'),
    (dict(live=False, post_copy=True), 'post_copy'),
    (dict(dest_uri='qemu:///system'), 'dest_uri'),
])
def test_contradictions_are_refused_naming_the_parameter(changes, parameter):
    with pytest.raises(ParameterError) as raised:
        spec.validate(params(**changes))
    assert raised.value.parameter == parameter


def test_transports():
    assert spec.transport_of('qemu+ssh://root@kvm2/system') == 'ssh'
    assert spec.transport_of('qemu:///system') == ''
    assert spec.transport_of('qemu://kvm2/system') == 'tls'
    assert 'ssh' in spec.check_transport('dest_uri', 'qemu+ssh://kvm2/system', False)
    assert 'tls' in spec.check_transport('dest_uri', 'qemu+tls://kvm2/system', False)
    with pytest.raises(ParameterError) as raised:
        spec.check_transport('dest_uri', 'qemu+tcp://kvm2/system', False)
    assert 'insecure_transport' in str(raised.value) and raised.value.parameter == 'dest_uri'
    assert 'allowed by insecure_transport' in spec.check_transport('dest_uri', 'qemu+tcp://kvm2/system', True)
    with pytest.raises(ParameterError):
        spec.check_transport('source_uri', 'qemu+ext:///system?command=/bin/x', False)
    assert spec.memory_stream_protection(dict(tls=True)) == 'tls'
    assert spec.memory_stream_protection(dict(tunnelled=True)) == 'tunnelled'
    assert spec.memory_stream_protection({}) == 'clear'
