# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One batch over many hypervisors from one process: each its own connection, all side by side (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.six import string_types

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import ParameterError
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.lanes import in_lanes
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.plan import batch_summary, failures_message


# what a batch module adds for its fleet form: the task's hypervisors, and which of them an item belongs to
OPTIONS = dict(hypervisors=dict(type='dict'), parallel_hypervisors=dict(type='int', default=20))
ITEM_OPTIONS = dict(hypervisor=dict(type='str'))


def batch_argument_spec(results_key, item_spec, mutually_exclusive=None):
    """A batch module's options: the list `results_key` of items, each with the single module's options and
    `hypervisor`, and the fleet form's (KvmModule.run_many_or_fleet)."""
    spec = {results_key: dict(type='list', elements='dict', options=dict(item_spec, **ITEM_OPTIONS),
                              mutually_exclusive=mutually_exclusive or [])}
    spec.update(OPTIONS)
    return spec


class Member(object):
    """One hypervisor of the run: its name and URI, the module as it sees it, its objects and what became of
    them."""

    def __init__(self, module, name, uri, indexed_items):
        self.name = name
        self.uri = uri
        self.view = module.bound_to(uri)
        self.indexes = [index for index, _item in indexed_items]
        self.items = [item for _index, item in indexed_items]
        self.resources = []
        self.results = {}
        self.failed_items = []
        self.error = {}        # {msg, details...}: the hypervisor itself failed (unreachable, connection lost)

    def record_failure(self, exc, trace):
        msg, details = self.view.failure(exc, trace)
        self.error = dict(details, msg=msg)

    def result(self, results_key):
        out = dict(batch_summary(self.results), uri=self.uri)
        out[results_key] = self.results
        if self.error:
            out.update(self.error, failed=True)
        elif self.failed_items:
            out.update(failed=True, msg=failures_message(self.results, self.failed_items, results_key))
        if self.failed_items:
            out['failed_' + results_key] = list(self.failed_items)
        return out


def members(module, hypervisors, items, results_key, key='hypervisor'):
    """The hypervisors of the run ({name: uri}, in order), each with the items it converges: those whose `key`
    names it, and those without one (every hypervisor's). `key` is taken off the items."""
    if not hypervisors:
        raise ParameterError('hypervisors', 'at least one hypervisor, as {name: libvirt URI}')
    for name, uri in hypervisors.items():
        if not isinstance(uri, string_types) or not uri.strip():
            raise ParameterError('hypervisors.%s' % name, 'the libvirt URI of %s (such as qemu+ssh://root@%s/system), '
                                 'got %r' % (name, name, uri))
    uris = list(hypervisors.values())
    twice = sorted(set(uri for uri in uris if uris.count(uri) > 1))
    if twice:
        # two names for one host would converge its guests twice at once
        raise ParameterError('hypervisors', 'each uri may appear once; given more than once: %s' % ', '.join(twice))
    for index, item in enumerate(items):
        if item.get(key) is not None and item[key] not in hypervisors:
            raise ParameterError('%s[%d].%s' % (results_key, index, key), 'one of the hypervisors (%s), got %s'
                                 % (', '.join(hypervisors), item[key]))
    found = []
    for name, uri in hypervisors.items():
        mine = [(index, dict((k, v) for k, v in item.items() if k != key)) for index, item in enumerate(items)
                if item.get(key) in (None, name)]
        found.append(Member(module, name, uri, mine))
    return found


def converge(resource_class, fleet, results_key, parallel):
    """Every object of every hypervisor validated first, side by side (validation reads each host): bad input
    anywhere fails the run before any host is touched. Then each hypervisor converges its objects one by one
    (keep going), the hypervisors side by side. A hypervisor that cannot be reached, or is lost, fails alone."""
    def validate(member, _lane):
        try:
            member.resources = member.view.validated(resource_class, member.items, results_key,
                                                     indexes=member.indexes)
        except ParameterError as exc:
            raise ParameterError(exc.parameter, '%s (on hypervisor %s)' % (exc.problem, member.name))

    for index, (exc, trace) in sorted(in_lanes(fleet, parallel, validate, 'kvmops-validate').items()):
        if isinstance(exc, ParameterError):
            raise exc
        fleet[index].record_failure(exc, trace)

    def run(member, _lane):
        member.view.one_by_one(member.resources, True, member.results, member.failed_items)

    reachable = [member for member in fleet if not member.error]
    for index, (exc, trace) in in_lanes(reachable, parallel, run, 'kvmops-converge').items():
        reachable[index].record_failure(exc, trace)
    for member in fleet:
        member.view.close()
