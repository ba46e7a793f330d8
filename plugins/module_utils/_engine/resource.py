# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The contract every converged object follows, and the helpers that every resource needs (private to kvmops.kvm).

A resource is built as Resource(module, params) and goes through four steps, driven by KvmModule:
  validate()    check its input; may read the host, never changes it
  plan(plan)    compare desired and live state; record differences and actions on `plan`
  (apply)       the engine runs the actions, except in check mode
  result()      what the module returns for it: observed after a real run, predicted in check mode
`params` are the object's own options: the module's parameters, or one item of a batch, so one module run
can converge many objects of a kind over one connection, each with its own plan.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.objects import lookup


class Resource(object):
    """The base of every resource: the four steps and what they share."""

    KIND = None            # the object's kind as messages and actions name it ('domain', 'network', ...)
    uses_events = False    # True: the engine starts a libvirt event loop before connecting
    lane = None            # the lane that applies this object's plan in a batch applied side by side (run_many)
    earlier = ()           # in a batch: the items before this one, validated already (what they will make first)

    def __init__(self, module, params=None):
        self.module = module
        self.params = module.params if params is None else params
        self.name = self.params.get('name')
        self.state = self.params.get('state')

    @property
    def key(self):
        """What identifies the object in a batch (its results' key, unique in the batch): its name; an object
        that is named only inside a container (a pool's volume) says more."""
        return self.name

    @property
    def conn(self):
        return self.module.conn

    @property
    def predicting(self):
        """The result describes what a real run would leave (check mode), not what is there."""
        return self.module.check_mode

    # ---- the contract

    def validate(self):
        """Check the input before anything is touched; reading the host is allowed."""

    def plan(self, plan):
        raise NotImplementedError

    def apply(self, plan):
        """Run the plan's actions (not called in check mode); a resource may wrap them."""
        plan.apply()

    def result(self):
        return {}

    # ---- shared helpers

    def lookup(self, finder, not_found_code, label=None):
        """finder(name), or None when there is no such object."""
        return lookup(finder, self.KIND, self.name, not_found_code, label)

    @staticmethod
    def persistent_definition(obj, inactive_flag, flags=0):
        """The persistent definition when there is one; the live one for a transient object, and on drivers
        that keep only that (they refuse the inactive flag). `flags` are added to either read."""
        if obj.isPersistent():
            try:
                return _xml.parse(obj.XMLDesc(inactive_flag | flags))
            except libvirt.libvirtError as exc:
                if exc.get_error_code() not in (libvirt.VIR_ERR_NO_SUPPORT, libvirt.VIR_ERR_INVALID_ARG):
                    raise
        return _xml.parse(obj.XMLDesc(flags))

    def wanted_autostart(self, default_when_active=True):
        """The autostart the user asked for; None (leave it) when not given, except that an object made
        `active` starts at boot by default."""
        if self.params.get('autostart') is not None:
            return bool(self.params['autostart'])
        if default_when_active and self.state == 'active':
            return True
        return None

    def reported(self, obj, predict, observe):
        """What result() returns for the object: predict() in check mode, or when there is no object to
        read; otherwise observe(), what the run left."""
        if self.predicting or obj is None:
            return predict()
        return observe()

    def plan_autostart(self, plan, obj_of, now, wanted):
        """Record and plan an autostart change; return the autostart the object will have.
        `obj_of()` gives the object when the action runs (it may be defined by an earlier action)."""
        if wanted is None or bool(wanted) == bool(now):
            return bool(now)
        plan.difference('autostart', bool(now), bool(wanted))
        plan.add('enable autostart on' if wanted else 'disable autostart on', self.KIND, self.name,
                 lambda: obj_of().setAutostart(1 if wanted else 0))
        return bool(wanted)
