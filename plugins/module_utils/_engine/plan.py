# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The difference tracker: what differs, what will be done about it (private to kvmops.kvm).

A module builds a Plan the same way in check mode and in a real run; only Plan.apply() is
skipped in check mode, so check mode predicts the run exactly.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.connection import connection_lost
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError, libvirt_reason


class Action(object):
    """One step that changes the host: '<verb> <kind> '<name>'[: detail]'."""

    def __init__(self, verb, kind, name, run, detail=None):
        self.verb = verb
        self.kind = kind
        self.name = name
        self.run = run
        self.detail = detail

    def describe(self):
        text = "%s %s '%s'" % (self.verb, self.kind, self.name)
        return '%s: %s' % (text, self.detail) if self.detail else text

    def apply(self):
        try:
            self.run()
        except libvirt.libvirtError as exc:
            if connection_lost(exc):
                raise KvmError(self.verb, self.kind, self.name, 'the connection to the libvirt daemon was lost (%s): '
                               'it stopped or restarted; run the task again once it answers' % libvirt_reason(exc),
                               connection_lost=True)
            raise KvmError(self.verb, self.kind, self.name, libvirt_reason(exc))
        except (OSError, IOError) as exc:   # host files: seed ISOs, permissions, downloads
            raise KvmError(self.verb, self.kind, self.name, '%s%s' % (
                exc.strerror or exc, ' (%s)' % exc.filename if getattr(exc, 'filename', None) else ''))


def _set_path(tree, path, value):
    keys = path.split('.')
    for key in keys[:-1]:
        tree = tree.setdefault(key, {})
    tree[keys[-1]] = value


class Plan(object):
    """Differences (for diff mode) and actions (for changed/actions and for applying)."""

    def __init__(self):
        self.actions = []
        self._before = {}
        self._after = {}
        self.pending = []   # differences that need a restart to take effect
        self.done = []      # actions applied, in order
        self.failed = None  # the action that failed, when one did

    def difference(self, path, before, after):
        """Record that the compared field at dotted `path` goes from `before` to `after`."""
        _set_path(self._before, path, before)
        _set_path(self._after, path, after)

    def add(self, verb, kind, name, run, detail=None):
        self.actions.append(Action(verb, kind, name, run, detail))

    @property
    def changed(self):
        return bool(self.actions)

    @property
    def diff(self):
        return {'before': self._before, 'after': self._after}

    def describe(self):
        return [action.describe() for action in self.actions]

    def apply(self):
        """Run the actions in order; on a failure, `done` holds the ones applied and `failed` the one that
        failed (a PartialFailure is raised, carrying both, so the result can tell what happened)."""
        for action in self.actions:
            try:
                action.apply()
            except KvmError as exc:
                self.failed = action
                raise PartialFailure(exc, self.done, action)
            self.done.append(action)


class PartialFailure(KvmError):
    """An action failed: the message says what was done before it, the details list it.

    `changed` is true when a step was done before the failure, unless told otherwise: `changed=False` when what
    was done was undone again (kvm_bridge's rollback), and a failed step that itself changed the host says so
    with `step_changed=True` in its error's details (a migration that failed after the guest moved)."""

    def __init__(self, error, done, failed, changed=None):
        self.error = error
        self.done = list(done)
        self.failed = failed
        details = dict(error.details)
        step_changed = bool(details.pop('step_changed', False))
        self.changed = (bool(self.done) if changed is None else changed) or step_changed
        reason = error.reason
        if done:
            reason = '%s (done before it: %s)' % (reason, '; '.join(a.describe() for a in done))
        else:
            reason = '%s (nothing was changed before it)' % reason
        super(PartialFailure, self).__init__(error.action, error.kind, error.name, reason, **details)


def batch_summary(results):
    """What a batch did as a whole, from its objects' results keyed by name: changed if any object changed, every
    action in order, and one diff (before/after keyed by the names of the objects that differ) for Ansible's
    --diff."""
    differing = [name for name, result in results.items() if result.get('diff', {}).get('before')
                 or result.get('diff', {}).get('after')]
    return dict(changed=any(result['changed'] for result in results.values()),
                actions=[action for result in results.values() for action in result.get('actions', [])],
                diff=dict(before=dict((name, results[name]['diff']['before']) for name in differing),
                          after=dict((name, results[name]['diff']['after']) for name in differing)))


def failures_message(results, failed, what):
    """'<n> of <m> <what> failed: <name>: <msg>; ...' for the failed objects of a batch's results."""
    return '%d of %d %s failed: %s' % (len(failed), len(results), what, '; '.join(
        '%s: %s' % (name, results[name]['msg']) for name in failed))
