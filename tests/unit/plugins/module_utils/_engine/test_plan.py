"""The difference tracker (_engine/plan.py): the diff a run shows, the actions it reports and applies."""

import pytest

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.plan import Action, Plan


def test_an_empty_plan_changes_nothing():
    plan = Plan()
    assert plan.changed is False and plan.describe() == [] and plan.diff == {'before': {}, 'after': {}}
    assert plan.pending == []
    plan.apply()


def test_differences_build_a_nested_before_and_after():
    plan = Plan()
    plan.difference('memory', 512, 1024)
    plan.difference('ipv4.prefix', 24, 16)
    plan.difference('ipv4.dhcp.ranges', [], [{'start': '10.0.0.10'}])
    assert plan.diff == {
        'before': {'memory': 512, 'ipv4': {'prefix': 24, 'dhcp': {'ranges': []}}},
        'after': {'memory': 1024, 'ipv4': {'prefix': 16, 'dhcp': {'ranges': [{'start': '10.0.0.10'}]}}}}


def test_a_difference_alone_is_not_a_change():
    """Only actions change the host; a difference without one (e.g. waiting for a restart) is reported, not done."""
    plan = Plan()
    plan.difference('machine', 'pc', 'q35')
    assert plan.changed is False


def test_actions_are_described_as_the_actions_list_reads_and_applied_in_order():
    done = []
    plan = Plan()
    plan.add('define', 'network', 'n1', lambda: done.append('define'))
    plan.add('set memory of', 'domain', 'g1', lambda: done.append('memory'), detail='1024 MiB (live)')
    assert plan.changed is True
    assert plan.describe() == ["define network 'n1'", "set memory of domain 'g1': 1024 MiB (live)"]
    assert done == []   # planning never runs an action
    plan.apply()
    assert done == ['define', 'memory']


def test_a_libvirt_failure_is_reported_as_the_actions_failure_and_stops_the_rest():
    done = []

    def fail():
        libvirt.virResetLastError()   # a new libvirtError otherwise says the thread's last libvirt error
        raise libvirt.libvirtError('Network is already in use by interface virbr9')
    plan = Plan()
    plan.add('start', 'network', 'n1', fail)
    plan.add('enable autostart on', 'network', 'n1', lambda: done.append('autostart'))
    with pytest.raises(KvmError) as failed:
        plan.apply()
    assert str(failed.value) == ("start network 'n1' failed: Network is already in use by interface virbr9 "
                                 "(nothing was changed before it)")
    assert (failed.value.action, failed.value.kind, failed.value.name) == ('start', 'network', 'n1')
    assert done == []


def test_other_errors_of_an_action_pass_through_unchanged():
    def fail():
        raise KvmError('resize', 'volume', 'v1', 'shrinking is not allowed')
    with pytest.raises(KvmError, match="resize volume 'v1' failed: shrinking"):
        Action('grow', 'volume', 'v1', fail).apply()
