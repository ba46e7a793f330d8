# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base of every kvmops.kvm module: the only place that exits or fails (private)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.capabilities import Capabilities
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt, missing_dependency
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.connection import (
    CONNECTION_ARGUMENT_SPEC, open_connection, is_local_uri)
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import (
    KvmError, MissingLibrary, ParameterError, libvirt_reason)
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.events import start_event_loop
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.plan import Plan

_REPORTED = (MissingLibrary, ParameterError, KvmError, libvirt.libvirtError)


class KvmModule(object):
    """Wires an argument spec to resources (see resource.Resource for their contract): run() converges the
    one object the parameters describe, run_many() a list of them over the same connection."""

    def __init__(self, argument_spec, libraries_required=True, **kwargs):
        """libraries_required=False: the resource runs without libvirt-python and lxml (it checks itself)."""
        spec = dict(CONNECTION_ARGUMENT_SPEC)
        spec.update(argument_spec)
        self.ansible = AnsibleModule(argument_spec=spec, supports_check_mode=True, **kwargs)
        self.params = self.ansible.params
        self.check_mode = self.ansible.check_mode
        self.warnings = []
        self._conn = None
        self._capabilities = None
        self.uses_events = False
        missing = missing_dependency()
        if missing and libraries_required:
            self.ansible.fail_json(msg=missing[0], exception=missing[1])

    @property
    def conn(self):
        """The run's single libvirt connection, opened on first use."""
        if self._conn is None:
            if self.uses_events:
                start_event_loop()
            self._conn = open_connection(self.params['uri'])
        return self._conn

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

    def run_command(self, args):
        return self.ansible.run_command(args)

    def run(self, resource_class):
        """Converge the one object the module's parameters describe."""
        plan = Plan()
        self.uses_events = getattr(resource_class, 'uses_events', False)
        try:
            resource = resource_class(self)
            resource.validate()
            result = self._converge(resource, plan)
        except _REPORTED as exc:
            self._fail_for(exc)
        self._exit(plan, result)

    def run_many(self, resource_class, param_sets, results_key='results'):
        """Converge many objects of one kind over this run's connection: every input is validated before any
        object is touched, then each gets its own plan, diff, actions and result, keyed by its name.
        A failure names the object; what was done before it is returned with the failure."""
        self.uses_events = getattr(resource_class, 'uses_events', False)
        results = {}
        try:
            resources = [resource_class(self, params) for params in param_sets]
            names = [resource.name for resource in resources]
            twice = sorted(set(name for name in names if names.count(name) > 1))
            if twice:
                raise ParameterError(results_key, 'each name may appear once; given more than once: %s'
                                     % ', '.join(twice))
            for resource in resources:
                resource.validate()
            for resource in resources:
                plan = Plan()
                item = self._converge(resource, plan)
                results[resource.name] = dict(item, changed=plan.changed, actions=plan.describe(), diff=plan.diff)
        except _REPORTED as exc:
            self._fail_for(exc, **{results_key: results})
        self._finish()
        self.ansible.exit_json(changed=any(r['changed'] for r in results.values()), **{results_key: results})

    def _converge(self, resource, plan):
        resource.plan(plan)
        if not self.check_mode:
            # a resource may apply its plan itself (kvm_bridge: detached, verified, rolled back on failure)
            getattr(resource, 'apply', lambda plan: plan.apply())(plan)
        return resource.result()

    def _fail_for(self, exc, **details):
        """Turn the engine's exceptions into a failure."""
        if isinstance(exc, MissingLibrary):
            self._fail(missing_required_lib(exc.library, reason=exc.reason), exception=exc.traceback_text, **details)
        if isinstance(exc, ParameterError):
            self._fail(str(exc), parameter=exc.parameter, **details)
        if isinstance(exc, KvmError):
            details.update(exc.details)
            self._fail(str(exc), **details)
        self._fail('libvirt operation failed: %s' % libvirt_reason(exc), **details)

    def _close(self):
        if self._conn is not None:
            try:
                self._conn.close()
            except libvirt.libvirtError:
                pass
            self._conn = None

    def _finish(self):
        """Close the connection and hand the warnings to Ansible, before exiting either way."""
        self._close()
        for message in self.warnings:
            self.ansible.warn(message)

    def _exit(self, plan, result):
        self._finish()
        output = dict(changed=plan.changed, actions=plan.describe(), diff=plan.diff)
        output.update(result)
        self.ansible.exit_json(**output)

    def _fail(self, msg, **details):
        self._finish()
        self.ansible.fail_json(msg=msg, **details)
