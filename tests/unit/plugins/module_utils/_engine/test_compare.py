from ansible_collections.kvmops.kvm.plugins.module_utils._engine.compare import differences, merged
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.plan import Plan


def test_only_specified_keys_are_compared():
    current = {'mode': 'nat', 'bridge': 'virbr7', 'ipv4': {'address': '10.0.0.1', 'prefix': 24, 'dhcp': None}}
    assert differences({'mode': 'nat'}, current) == []
    assert differences({'ipv4': {'address': '10.0.0.1', 'prefix': 24}}, current) == []


def test_nested_difference_names_the_path():
    current = {'ipv4': {'address': '10.0.0.1', 'prefix': 24, 'dhcp': {'ranges': [], 'hosts': []}}}
    found = differences({'ipv4': {'address': '10.0.0.1', 'prefix': 16}}, current)
    assert [(d.path, d.before, d.after) for d in found] == [('ipv4.prefix', 24, 16)]


def test_missing_section_is_one_difference():
    found = differences({'ipv4': {'address': '10.0.0.1', 'prefix': 24}}, {'ipv4': None})
    assert [(d.path, d.before) for d in found] == [('ipv4', None)]


def test_merged_keeps_what_was_not_specified():
    current = {'bridge': 'virbr7', 'ipv4': {'address': '10.0.0.1', 'prefix': 24}}
    assert merged(current, {'ipv4': {'prefix': 16}}) == {'bridge': 'virbr7', 'ipv4': {'address': '10.0.0.1', 'prefix': 16}}


def test_plan_tracks_diff_and_actions_and_applies_in_order():
    done = []
    plan = Plan()
    assert not plan.changed and plan.diff == {'before': {}, 'after': {}}
    plan.difference('ipv4.prefix', 24, 16)
    plan.add('define', 'network', 'n1', lambda: done.append('define'), 'ipv4.prefix')
    plan.add('start', 'network', 'n1', lambda: done.append('start'))
    assert plan.changed
    assert plan.diff == {'before': {'ipv4': {'prefix': 24}}, 'after': {'ipv4': {'prefix': 16}}}
    assert plan.describe() == ["define network 'n1': ipv4.prefix", "start network 'n1'"]
    plan.apply()
    assert done == ['define', 'start']
