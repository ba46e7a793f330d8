# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base of every kvmops.kvm module: the only place that exits or fails (private)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.aftermath import describe_failure
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.argspec import CheckedModule

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.capabilities import Capabilities
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt, missing_dependency
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.connection import (
    CONNECTION_ARGUMENT_SPEC, connection_lost, lost_message, open_connection, is_local_uri)
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import (
    KvmError, MissingLibrary, ParameterError, libvirt_reason)
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.events import start_event_loop
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.lanes import in_lanes
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import fleet
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.plan import (
    PartialFailure, Plan, batch_summary, failures_message)


_REPORTED = (MissingLibrary, ParameterError, KvmError, libvirt.libvirtError)


def info_argument_spec(**options):
    """The options every info module has (which objects by name, and whether to add their XML), plus `options`."""
    spec = dict(name=dict(type='list', elements='str'), xml=dict(type='bool', default=False))
    spec.update(options)
    return spec


def _stops_all(exc):
    """A failure no other object of the run could escape: the daemon is gone, or a library is missing."""
    return (isinstance(exc, MissingLibrary) or connection_lost(exc)
            or bool(getattr(exc, 'details', None) and exc.details.get('connection_lost')))


def key_of(resource):
    """What identifies an object of a batch, its results' key: Resource.key (its name, or more for an object named
    only inside a container, a pool's volume), the name for an object that does not say."""
    return getattr(resource, 'key', None) or resource.name


class KvmModule(object):
    """Wires an argument spec to resources (see resource.Resource for their contract): run() converges the
    one object the parameters describe, run_many() a list of them over the same connection."""

    def __init__(self, argument_spec, libraries_required=True, **kwargs):
        """libraries_required=False: the resource runs without libvirt-python and lxml (it checks itself)."""
        spec = dict(CONNECTION_ARGUMENT_SPEC)
        spec.update(argument_spec)
        self.ansible = CheckedModule(argument_spec=spec, supports_check_mode=True, **kwargs)
        self.params = self.ansible.params
        self.check_mode = self.ansible.check_mode
        self.warnings = []
        self._conns = {}     # uri (or (uri, lane)) -> connection: one per URI per run (and per parallel lane)
        self._capabilities = None
        self._remembered = {}
        self.uses_events = False
        missing = missing_dependency()
        if missing and libraries_required:
            self.ansible.fail_json(msg=missing[0], exception=missing[1])

    @property
    def conn(self):
        """The run's libvirt connection to `uri`, opened on first use."""
        return self.connection(self.params['uri'])

    def connection(self, uri, lane=None):
        """The run's connection to `uri`, opened on first use: a module that speaks to two hypervisors (a
        migration's source and destination) opens one connection to each, never two to one.
        lane: a batch that applies side by side (run_many's `parallel`) gives each of its lanes connections of
        its own, so a long call in one lane (a migration) never holds up a call of another."""
        key = uri if lane is None else (uri, lane)
        if key not in self._conns:
            if self.uses_events:
                start_event_loop()
            self._conns[key] = open_connection(uri)
        return self._conns[key]

    def remembered(self, key, compute):
        """compute(), once per run for `key` (what every object of a batch asks the same hosts)."""
        if key not in self._remembered:
            self._remembered[key] = compute()
        return self._remembered[key]

    @property
    def capabilities(self):
        """What the hypervisor offers: asked when first needed, at most once per run."""
        if self._capabilities is None:
            self._capabilities = Capabilities(self.conn)
        return self._capabilities

    @property
    def is_local(self):
        return is_local_uri(self.params['uri'])

    def warn(self, message):
        self.warnings.append(message)

    def log(self, message):
        """A progress line for the managed host's log (syslog/journal), not for the task's output."""
        self.ansible.log(message)

    def run_command(self, args):
        return self.ansible.run_command(args)

    def run(self, resource_class):
        """Converge the one object the module's parameters describe."""
        plan = Plan()
        self.uses_events = getattr(resource_class, 'uses_events', False)
        resource = None
        try:
            resource = resource_class(self)
            resource.validate()
            self._note_ignored(resource)
            result = self._converge(resource, plan)
        except Exception as exc:  # pylint: disable=broad-except
            self._fail_with(exc, resource)
        self._exit(plan, result)

    def run_many(self, resource_class, param_sets, results_key='results', keep_going=False, parallel=None):
        """Converge many objects of one kind over this run's connection: every input is validated before any
        object is touched, then each gets its own plan, diff, actions and result, keyed by its name (its
        `key`: a volume's is '<pool>/<name>'). Each item is validated knowing the items before it (`earlier`),
        so it may use what they will make (an overlay on a base image the batch creates first).
        Bad input fails the run before anything changes, naming the item (`results_key[i].option`).
        A failure while converging names the object; what was done before it is returned with the failure.
        keep_going: a failed object does not stop the others; each failure is reported in its own result
        (`failed`, `msg`), and the run fails at the end naming every failed object.
        parallel: every object is planned first (in list order), then the plans are applied up to `parallel` at
        a time, a sliding window (the next starts as soon as any ends), each lane with connections of its own
        (`resource.lane`, see connection()); implies keep_going."""
        self.uses_events = getattr(resource_class, 'uses_events', False)
        results = {}
        failed = []
        try:
            if parallel is not None and parallel < 1:
                raise ParameterError('parallel', 'how many at a time: 1 or more, got %s' % parallel)
            resources = self.validated(resource_class, param_sets, results_key)
            if parallel:
                self._side_by_side(resources, parallel, results, failed)
            else:
                self.one_by_one(resources, keep_going, results, failed)
        except Exception as exc:  # pylint: disable=broad-except
            self._fail_with(exc, None, **{results_key: results})
        summary = batch_summary(results)
        if failed:
            self._fail(failures_message(results, failed, results_key),
                       **dict(summary, **{results_key: results, 'failed_' + results_key: failed}))
        self._finish()
        self.ansible.exit_json(**dict(summary, **{results_key: results}))

    def bound_to(self, uri):
        """This run as one hypervisor of a fleet sees it (run_fleet): the task's parameters, check mode, warnings
        and Ansible, with `uri` and connections, capabilities and remembered answers of its own."""
        view = copy.copy(self)
        view.params = dict(self.params, uri=uri)
        view._conns, view._capabilities, view._remembered = {}, None, {}
        return view

    def run_fleet(self, resource_class, hypervisors, items, results_key, parallel):
        """Converge objects on many hypervisors from this one process, each over a connection of its own:
        `hypervisors` is {name: uri}; an item goes to the hypervisor its `hypervisor` names, or to every one
        without it. Every item of every hypervisor is validated before any host is touched; then the
        hypervisors converge side by side, `parallel` at a time, each its objects one by one (keep going).
        Results are keyed by hypervisor name, each with its objects' results keyed by name; a hypervisor that
        cannot be reached fails alone, and the run fails at the end naming every hypervisor that failed."""
        self.uses_events = getattr(resource_class, 'uses_events', False)
        found = []
        try:
            if parallel < 1:
                raise ParameterError('parallel_hypervisors', 'how many at a time: 1 or more, got %s' % parallel)
            found = fleet.members(self, hypervisors, items, results_key)
            if self.uses_events:
                start_event_loop()   # once, before the lanes connect side by side
            fleet.converge(resource_class, found, results_key, parallel)
        except Exception as exc:  # pylint: disable=broad-except
            for member in found:
                member.view.close()
            self._fail_with(exc, None)
        results = dict((member.name, member.result(results_key)) for member in found)
        # the hypervisors' results summed up as a batch's objects' are; each action says where it happened
        summary = batch_summary(results)
        summary.update(hypervisors=results, actions=['%s: %s' % (name, action) for name, result in results.items()
                                                     for action in result['actions']])
        failed = [member.name for member in found if results[member.name].get('failed')]
        if failed:
            self._fail(failures_message(results, failed, 'hypervisors'), failed_hypervisors=failed, **summary)
        self._finish()
        self.ansible.exit_json(**summary)

    def run_many_or_fleet(self, resource_class, results_key):
        """A batch module with a fleet form (fleet.OPTIONS): run_fleet() when the task names hypervisors, else
        run_many() on `uri` (keep going)."""
        if self.params.get('hypervisors') is not None:
            self.run_fleet(resource_class, self.params['hypervisors'], self.params[results_key] or [], results_key,
                           self.params['parallel_hypervisors'])
        else:
            self.run_many(resource_class, self.params[results_key], results_key=results_key, keep_going=True)

    def failure(self, exc, trace=None):
        """(msg, details) of a failure that is no single object's (a hypervisor of a fleet unreachable, a bug in
        its lane: then its own traceback, not this thread's)."""
        msg, details = self._failure(exc, None)
        if trace and 'exception' in details:
            details['exception'] = trace
        return msg, details

    def one_by_one(self, resources, keep_going, results, failed):
        for resource in resources:
            plan = Plan()
            try:
                item = self._converge(resource, plan)
            except Exception as exc:  # pylint: disable=broad-except
                if not keep_going or _stops_all(exc):
                    raise
                results[key_of(resource)] = self._failed_item(exc, resource, plan)
                failed.append(key_of(resource))
                continue
            results[key_of(resource)] = dict(item, changed=plan.changed, actions=plan.describe(), diff=plan.diff)

    def _failed_item(self, exc, resource, plan, trace=None):
        msg, details = self._failure(exc, resource)
        if trace and 'exception' in details:
            details['exception'] = trace   # a bug in a lane: its own traceback, not this thread's
        details.setdefault('changed', plan.changed)
        details.setdefault('actions', plan.describe())
        return dict(details, failed=True, msg=msg, diff=plan.diff)

    def _side_by_side(self, resources, parallel, results, failed):
        """Plan every object, then apply the plans `parallel` at a time (run_many's `parallel`)."""
        planned, outcome = [], {}
        for resource in resources:
            plan = Plan()
            try:
                resource.plan(plan)
                planned.append((resource, plan))
            except Exception as exc:  # pylint: disable=broad-except
                outcome[key_of(resource)] = self._failed_item(exc, resource, plan)
        if not self.check_mode:
            errors = self._apply_in_lanes([item for item in planned if item[1].actions], parallel)
            for resource, plan in planned:
                if key_of(resource) in errors:
                    exc, trace = errors[key_of(resource)]
                    outcome[key_of(resource)] = self._failed_item(exc, resource, plan, trace)
        for resource, plan in planned:
            key = key_of(resource)
            if key not in outcome:
                outcome[key] = dict(resource.result(), changed=plan.changed, actions=plan.describe(), diff=plan.diff)
        for resource in resources:   # keyed in list order
            key = key_of(resource)
            results[key] = outcome[key]
            if outcome[key].get('failed'):
                failed.append(key)

    @staticmethod
    def _apply_in_lanes(items, parallel):
        """Apply (resource, plan) pairs in up to `parallel` lanes; {name: (exception, traceback)} of the ones
        that failed."""
        def apply(item, number):
            resource, plan = item
            resource.lane = number
            getattr(resource, 'apply', lambda plan: plan.apply())(plan)
        errors = in_lanes(items, parallel, apply)
        return dict((key_of(items[index][0]), error) for index, error in errors.items())

    def validated(self, resource_class, param_sets, results_key, indexes=None):
        """Every item built and validated, before any is touched; bad input names the item.
        indexes: the items' places in the task's list, as bad input names them (when these are some of them)."""
        resources = [resource_class(self, params) for params in param_sets]
        keys = [key_of(resource) for resource in resources]
        twice = sorted(set(key for key in keys if keys.count(key) > 1))
        if twice:
            raise ParameterError(results_key, 'each name may appear once; given more than once: %s'
                                 % ', '.join(twice))
        item_spec = (self.ansible.argument_spec.get(results_key) or {}).get('options')
        for index, resource in enumerate(resources):
            try:
                if getattr(resource, 'params', {}).get('hypervisor') is not None:
                    # run_fleet() hands its items out without it: here nothing would use it
                    raise ParameterError('hypervisor', 'names one of the task\'s hypervisors, so it needs '
                                         'hypervisors ({name: libvirt URI}); without them every item goes to uri')
                # what the items before it will make (a volume's base image made by the same run)
                resource.earlier = resources[:index]
                resource.validate()
            except ParameterError as exc:
                where = '%s[%d].%s' % (results_key, indexes[index] if indexes else index, exc.parameter)
                if item_spec is not None and exc.parameter.split('.')[0].split('[')[0] not in item_spec:
                    where = exc.parameter   # an option of the task that all items share, not one of the item
                raise ParameterError(where, '(%s %s) %s' % (resource.KIND or 'item', key_of(resource), exc.problem))
            self._note_ignored(resource, item_spec)
        return resources

    def run_info(self, reader_class):
        """Report objects without changing anything: reader_class(module) validates its input, then result()
        gives what the module returns (changed is always false)."""
        try:
            reader = reader_class(self)
            reader.validate()
            result = reader.result()
        except Exception as exc:  # pylint: disable=broad-except
            self._fail_with(exc, None)
        self._finish()
        self.ansible.exit_json(changed=False, **result)

    def _converge(self, resource, plan):
        resource.plan(plan)
        if not self.check_mode:
            # a resource may apply its plan itself (kvm_bridge: detached, verified, rolled back on failure)
            getattr(resource, 'apply', lambda plan: plan.apply())(plan)
        return resource.result()

    def _fail_with(self, exc, resource, **details):
        """Every failure of a run: a step that failed after others, a reported error, or a bug."""
        msg, found = self._failure(exc, resource)
        details.update(found)
        self._fail(msg, **details)

    def _failure(self, exc, resource):
        """(msg, details) of a failure: a step that failed after others, a reported error, or a bug."""
        if isinstance(exc, PartialFailure):
            return self._partial_failure(exc, resource)
        if isinstance(exc, _REPORTED):
            return self._reported_failure(exc, resource)
        # a bug: said as one, with the traceback where Ansible shows it (-vvv), never as a bare crash
        return ('unexpected error in kvmops.kvm (a bug, please report it with this message): %s: %s'
                % (type(exc).__name__, exc), dict(exception=traceback.format_exc()))

    def _note_ignored(self, resource, spec=None):
        """Options that do nothing in this task are said to do nothing, not silently dropped: everything but
        the object's identity with state: absent, and the absent-only options (purge...) with any other state.
        `spec`: the options of one item of a batch (the module's own by default)."""
        spec = spec or self.ansible.argument_spec
        used_when_absent = set(getattr(resource, 'ABSENT_OPTIONS', ())) | set(('name', 'state', 'uri'))
        absent_only = set(getattr(resource, 'ABSENT_ONLY_OPTIONS', ()))
        params = getattr(resource, 'params', None) or self.params
        given = [key for key in sorted(spec) if params.get(key) is not None
                 and params.get(key) != spec[key].get('default') and key != 'uri']
        if params.get('state') == 'absent':
            ignored = [key for key in given if key not in used_when_absent]
            if ignored:
                name = getattr(resource, 'name', None) or params.get('name')
                self.warn('state: absent removes %s; %s do%s nothing then and %s ignored'
                          % (name, ', '.join(ignored), 'es' if len(ignored) == 1 else '',
                             'is' if len(ignored) == 1 else 'are'))
        else:
            ignored = [key for key in given if key in absent_only]
            if ignored:
                self.warn('%s only act%s with state: absent; with state: %s %s ignored'
                          % (', '.join(ignored), 's' if len(ignored) == 1 else '', params.get('state'),
                             'it is' if len(ignored) == 1 else 'they are'))

    def _partial_failure(self, exc, resource):
        """A step failed after others were applied: say which, and the state the objects are left in."""
        details = dict(exc.details)
        left = {}
        conn = self._conns.get(self.params['uri'])
        if exc.details.get('connection_lost'):
            self._conns.pop(self.params['uri'], None)   # nothing to close
            conn = None
        describe = getattr(resource, 'describe_left', None)
        if describe is not None and not exc.details.get('connection_lost'):
            # objects libvirt's lookups cannot name alone (a guest's snapshot, a link, a guest on two hosts)
            try:
                left = describe(exc.failed)
            except Exception as error:  # pylint: disable=broad-except
                left = {'%s %s' % (exc.failed.kind, exc.failed.name): 'unknown (%s)' % error}
        elif conn is not None:
            kind = getattr(resource, 'KIND', None)
            name = getattr(resource, 'label', None) or getattr(resource, 'name', None)
            left = describe_failure(conn, kind, name, exc.failed)
        msg = str(exc)
        if exc.details.get('connection_lost'):
            msg += ' (uri %s)' % self.params['uri']
        if left:
            msg += '; left: %s' % ', '.join("%s is %s" % (label, state) for label, state in sorted(left.items()))
        details.update(changed=exc.changed, actions=[a.describe() for a in exc.done],
                       failed_action=exc.failed.describe(), state_left=left)
        return msg, details

    def _reported_failure(self, exc, resource=None):
        """The engine's exceptions and libvirt's errors, as messages; a bare libvirt error names the object read."""
        if isinstance(exc, MissingLibrary):
            return missing_required_lib(exc.library, reason=exc.reason), dict(exception=exc.traceback_text)
        if isinstance(exc, ParameterError):
            return str(exc), dict(parameter=exc.parameter)
        if isinstance(exc, KvmError):
            return str(exc), dict(exc.details)
        if connection_lost(exc):
            self._conns.pop(self.params['uri'], None)   # nothing to close
            return lost_message(self.params['uri'], libvirt_reason(exc)), {}
        kind, name = getattr(resource, 'KIND', None), getattr(resource, 'name', None)
        if kind and name:
            return "inspect %s '%s' failed: %s" % (kind, name, libvirt_reason(exc)), {}
        return 'libvirt operation failed: %s' % libvirt_reason(exc), {}

    def close(self):
        for conn in self._conns.values():
            try:
                conn.close()
            except libvirt.libvirtError:
                pass
        self._conns = {}

    def _finish(self):
        """Close the connection and hand the warnings to Ansible, before exiting either way."""
        self.close()
        for index, message in enumerate(self.warnings):
            if message not in self.warnings[:index]:   # a batch's guests may each say the same
                self.ansible.warn(message)

    def _exit(self, plan, result):
        self._finish()
        output = dict(changed=plan.changed, actions=plan.describe(), diff=plan.diff)
        output.update(result)
        self.ansible.exit_json(**output)

    def _fail(self, msg, **details):
        self._finish()
        self.ansible.fail_json(msg=msg, **details)
