"""KvmModule (_engine/module.py): how a run ends, in success and in every kind of failure, for run() and run_many().

The connection is a stand-in that counts its opening and closing; the real one is covered by test_connection.py
and by every module test."""

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import module as _module
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError, MissingLibrary, ParameterError
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.module import KvmModule
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.resource import Resource


class FakeConnection(object):
    def __init__(self, opened):
        self.opened = opened
        self.closed = 0

    def close(self):
        self.closed += 1


@pytest.fixture
def connections(monkeypatch):
    """Every connection the module opens, in order (each a FakeConnection)."""
    opened = []

    def open_fake(uri):
        conn = FakeConnection(uri)
        opened.append(conn)
        return conn
    monkeypatch.setattr(_module, 'open_connection', open_fake)
    return opened


@pytest.fixture
def event_loop(monkeypatch):
    """How often the module started the libvirt event loop."""
    started = []
    monkeypatch.setattr(_module, 'start_event_loop', lambda: started.append(True))
    return started


class Thing(Resource):
    """A resource whose behaviour each test sets through its params."""

    KIND = 'thing'

    def validate(self):
        if self.params.get('bad'):
            raise ParameterError('bad', 'is not valid')
        if self.params.get('touch_in_validate'):
            self.conn   # pylint: disable=pointless-statement

    def plan(self, plan):
        if self.params.get('fail_in_plan'):
            raise FAILURES[self.params['fail_in_plan']]()
        if self.params.get('warn'):
            self.module.warn(self.params['warn'])
        if self.params.get('change'):
            plan.difference('size', 1, 2)
            plan.add('resize', self.KIND, self.name, self._apply, detail='1 -> 2')

    def _apply(self):
        self.conn   # pylint: disable=pointless-statement
        if self.params.get('fail_in_apply'):
            raise FAILURES[self.params['fail_in_apply']]()
        APPLIED.append(self.name)

    def result(self):
        return dict(thing=dict(name=self.name, predicted=self.predicting))


class EventThing(Thing):
    uses_events = True


APPLIED = []


def libvirt_error(message):
    """A libvirtError that says `message` (a new one otherwise takes the thread's last libvirt error)."""
    libvirt.virResetLastError()
    return libvirt.libvirtError(message)


# params pass through JSON, so a test names the exception its resource raises
FAILURES = {
    'read': lambda: KvmError('read', 'thing', 't1', 'gone'),
    'read-b': lambda: KvmError('read', 'thing', 'b', 'gone'),
    'read-restart': lambda: KvmError('read', 'thing', 't1', 'gone', restart_required=True),
    'resize': lambda: KvmError('resize', 'thing', 't1', 'x'),
    'resize-b': lambda: KvmError('resize', 'thing', 'b', 'full'),
    'libvirt-apply': lambda: libvirt_error('no space left'),
    'libvirt-plan': lambda: libvirt_error('daemon went away'),
    'library': lambda: MissingLibrary('pycdlib', 'Traceback ...', reason='for cloud_init'),
    'bug': lambda: ZeroDivisionError('bug'),
}


def exit_of(capsys, call, check=False, **params):
    """Run call(module) for a KvmModule over `params`; return the JSON it exits with."""
    del APPLIED[:]
    args = dict(params, uri='test:///unit', _ansible_check_mode=check, _ansible_diff=True)
    spec = dict(name=dict(type='str'), bad=dict(type='bool'), change=dict(type='bool'), warn=dict(type='str'),
                touch_in_validate=dict(type='bool'), fail_in_plan=dict(type='str'), fail_in_apply=dict(type='str'))
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exited:
            call(KvmModule(spec))
    result = json.loads(capsys.readouterr().out)
    result['rc'] = exited.value.code
    return result


def warnings_of(result):
    """The warning texts of a result (ansible-core 2.19 wraps each in a summary)."""
    return [w['event']['msg'] if isinstance(w, dict) else w for w in result.get('warnings', [])]


def run(capsys, resource_class=Thing, check=False, **params):
    return exit_of(capsys, lambda module: module.run(resource_class), check=check, **params)


def run_many(capsys, items, resource_class=Thing, check=False):
    return exit_of(capsys, lambda module: module.run_many(resource_class, items, results_key='things'), check=check)


# ---- run()

def test_a_run_returns_changed_actions_diff_and_the_resource_result(capsys, connections):
    result = run(capsys, name='t1', change=True)
    assert result['rc'] == 0 and result['changed'] is True
    assert result['actions'] == ["resize thing 't1': 1 -> 2"]
    assert result['diff'] == {'before': {'size': 1}, 'after': {'size': 2}}
    assert result['thing'] == {'name': 't1', 'predicted': False}
    assert APPLIED == ['t1']


def test_check_mode_plans_the_same_and_skips_apply(capsys, connections):
    predicted = run(capsys, check=True, name='t1', change=True)
    assert APPLIED == []
    assert predicted['changed'] is True and predicted['actions'] == ["resize thing 't1': 1 -> 2"]
    assert predicted['thing']['predicted'] is True
    assert connections == []   # nothing in this resource's check run needed libvirt


def test_nothing_to_do_is_not_a_change(capsys, connections):
    result = run(capsys, name='t1')
    assert result['changed'] is False and result['actions'] == [] and result['diff'] == {'before': {}, 'after': {}}


def test_the_connection_is_opened_on_first_use_once_and_closed_once(capsys, connections):
    run(capsys, name='t1', change=True, touch_in_validate=True)
    assert len(connections) == 1 and connections[0].opened == 'test:///unit'
    assert connections[0].closed == 1


@pytest.mark.parametrize('failure', [
    dict(fail_in_plan='read'),
    dict(change=True, fail_in_apply='libvirt-apply'),
])
def test_the_connection_is_closed_once_on_failure_too(capsys, connections, failure):
    result = run(capsys, name='t1', touch_in_validate=True, **failure)
    assert result['failed'] is True and result['rc'] == 1
    assert [conn.closed for conn in connections] == [1]


def test_a_parameter_error_names_the_parameter_before_connecting(capsys, connections):
    result = run(capsys, name='t1', bad=True, change=True, touch_in_validate=True)
    assert result['failed'] and result['msg'] == "Invalid parameter 'bad': is not valid" and result['parameter'] == 'bad'
    assert APPLIED == [] and connections == []


def test_a_kvm_error_reads_action_object_name_reason_with_its_details(capsys, connections):
    result = run(capsys, name='t1', fail_in_plan='read-restart')
    assert result['msg'] == "read thing 't1' failed: gone" and result['restart_required'] is True


def test_a_libvirt_error_in_an_action_becomes_the_actions_failure(capsys, connections):
    result = run(capsys, name='t1', change=True, fail_in_apply='libvirt-apply')
    assert result['msg'] == "resize thing 't1' failed: no space left (nothing was changed before it)"
    assert result['changed'] is False and result['failed_action'] == "resize thing 't1': 1 -> 2"


def test_a_libvirt_error_outside_an_action_names_the_object_read(capsys, connections):
    result = run(capsys, name='t1', fail_in_plan='libvirt-plan')
    assert result['msg'] == "inspect thing 't1' failed: daemon went away"


def test_a_missing_optional_library_says_which(capsys, connections):
    result = run(capsys, name='t1', fail_in_plan='library')
    assert 'pycdlib' in result['msg'] and 'for cloud_init' in result['msg']


def test_an_unexpected_exception_is_reported_as_a_bug_with_its_traceback(capsys, connections):
    result = run(capsys, name='t1', fail_in_plan='bug')
    assert result['failed'] and 'unexpected error in kvmops.kvm (a bug' in result['msg']
    assert 'ZeroDivisionError: bug' in result['msg']


def test_warnings_reach_ansible_on_success_and_on_failure(capsys, connections):
    assert 'look here' in warnings_of(run(capsys, name='t1', warn='look here'))
    failed = run(capsys, name='t1', warn='and here', change=True, fail_in_apply='resize')
    assert failed['failed'] and 'and here' in warnings_of(failed)


def test_the_event_loop_starts_only_for_resources_that_use_events(capsys, connections, event_loop):
    run(capsys, name='t1', touch_in_validate=True)
    assert event_loop == []
    run(capsys, EventThing, name='t1', touch_in_validate=True)
    assert event_loop == [True]


def test_missing_libraries_fail_before_anything_unless_the_resource_checks_itself(capsys, monkeypatch, connections):
    monkeypatch.setattr(_module, 'missing_dependency', lambda: ('Failed to import the required Python library', 'tb'))
    args = dict(uri='test:///unit', _ansible_check_mode=False, _ansible_diff=True)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            KvmModule({})
        failed = json.loads(capsys.readouterr().out)
        assert failed['failed'] and failed['msg'].startswith('Failed to import')
        assert KvmModule({}, libraries_required=False).params['uri'] == 'test:///unit'


def test_capabilities_are_one_object_per_run_on_the_runs_connection(connections):
    args = dict(uri='test:///unit', _ansible_check_mode=False, _ansible_diff=True)
    with patch_module_args(args):
        module = KvmModule({})
    assert connections == []   # asked for nothing yet
    assert module.capabilities is module.capabilities
    assert len(connections) == 1
    assert module.is_local is True


# ---- run_many()

def test_run_many_keys_each_result_by_name(capsys, connections):
    result = run_many(capsys, [dict(name='a', change=True), dict(name='b')])
    assert result['changed'] is True and APPLIED == ['a']
    assert result['things']['a'] == dict(thing=dict(name='a', predicted=False), changed=True,
                                         actions=["resize thing 'a': 1 -> 2"], diff={'before': {'size': 1}, 'after': {'size': 2}})
    assert result['things']['b']['changed'] is False and result['things']['b']['actions'] == []


def test_run_many_in_check_mode_applies_nothing(capsys, connections):
    result = run_many(capsys, [dict(name='a', change=True), dict(name='b', change=True)], check=True)
    assert result['changed'] is True and APPLIED == []
    assert all(item['thing']['predicted'] for item in result['things'].values())


def test_run_many_with_nothing_to_do_is_unchanged(capsys, connections):
    assert run_many(capsys, [])['changed'] is False
    assert run_many(capsys, [dict(name='a')])['things'] == {'a': dict(
        thing=dict(name='a', predicted=False), changed=False, actions=[], diff={'before': {}, 'after': {}})}


def test_run_many_a_failure_returns_what_was_done_before_it(capsys, connections):
    items = [dict(name='a', change=True), dict(name='b', change=True, fail_in_apply='resize-b'),
             dict(name='c', change=True)]
    result = run_many(capsys, items)
    assert result['failed'] and result['msg'] == "resize thing 'b' failed: full (nothing was changed before it)"
    assert list(result['things']) == ['a'] and APPLIED == ['a']   # c was never touched
    assert [conn.closed for conn in connections] == [1]


def test_run_many_a_planning_failure_names_the_object(capsys, connections):
    items = [dict(name='a'), dict(name='b', fail_in_plan='read-b')]
    result = run_many(capsys, items)
    assert result['msg'] == "read thing 'b' failed: gone" and list(result['things']) == ['a']


def test_run_many_validates_every_item_before_touching_any(capsys, connections):
    result = run_many(capsys, [dict(name='a', change=True), dict(name='b', bad=True)])
    # the item is named by its place and its name
    assert result['failed'] and result['parameter'] == 'things[1].bad' and result['things'] == {} and APPLIED == []
    assert result['msg'].startswith("Invalid parameter 'things[1].bad': (thing b) "), result['msg']


def test_run_many_a_libvirt_error_keeps_the_results_key(capsys, connections):
    result = run_many(capsys, [dict(name='a', fail_in_plan='libvirt-plan')])
    assert result['msg'] == 'libvirt operation failed: daemon went away' and result['things'] == {}


def test_run_many_shares_one_connection_and_starts_events_once(capsys, connections, event_loop):
    run_many(capsys, [dict(name='a', change=True), dict(name='b', change=True)], resource_class=EventThing)
    assert len(connections) == 1 and connections[0].closed == 1 and event_loop == [True]


def test_run_many_warnings_reach_ansible(capsys, connections):
    assert 'from b' in warnings_of(run_many(capsys, [dict(name='a'), dict(name='b', warn='from b')]))


def run_keep_going(capsys, items, check=False):
    return exit_of(capsys, lambda module: module.run_many(Thing, items, results_key='things', keep_going=True),
                   check=check)


def test_run_many_keep_going_converges_the_others_and_fails_naming_the_failed(capsys, connections):
    items = [dict(name='a', change=True), dict(name='b', change=True, fail_in_apply='resize-b'),
             dict(name='c', change=True), dict(name='d', fail_in_plan='read-b')]
    result = run_keep_going(capsys, items)
    assert result['failed'] and APPLIED == ['a', 'c'] and result['failed_things'] == ['b', 'd']
    assert result['msg'] == ("2 of 4 things failed: b: resize thing 'b' failed: full (nothing was changed before it); "
                             "d: read thing 'b' failed: gone")
    assert result['changed'] is True and result['things']['c']['changed'] is True
    failed = result['things']['b']
    assert failed['failed'] is True and failed['changed'] is False and failed['failed_action'] == "resize thing 'b': 1 -> 2"
    assert result['things']['d']['msg'] == "read thing 'b' failed: gone"   # the canned error names b
    assert [conn.closed for conn in connections] == [1]


def test_run_many_keep_going_still_validates_everything_first(capsys, connections):
    result = run_keep_going(capsys, [dict(name='a', change=True), dict(name='b', bad=True)])
    assert result['failed'] and result['parameter'] == 'things[1].bad' and APPLIED == []
