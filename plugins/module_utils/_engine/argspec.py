# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible's own argument checks, with messages that name the parameter and say what is valid (private to kvmops.kvm).

ansible-core reports the first error it met, and for a dict option given a string that is a bare
"dictionary requested, could not parse JSON or key=value" (from its no_log scan), naming nothing.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.six import string_types

_NAMED = (
    re.compile(r"argument '(?P<name>[^']+)' is of type \S+(?: found in '(?P<where>[^']+)'\.?)? and we were unable "
               r"to convert to (?P<wanted>\w+)"),
    re.compile(r"Elements value for option '(?P<name>[^']+)'(?: found in '(?P<where>[^']+)')? is of type \S+ and "
               r"we were unable to convert to (?P<wanted>\w+)"),
    re.compile(r"value of '(?P<name>[^']+)' must be of type dict"),
)


def _option(spec, path):
    """The spec entry of a dotted option path, or None."""
    entry = None
    for part in path.split('.'):
        entry = (spec or {}).get(part)
        if entry is None:
            return None
        spec = entry.get('options')
    return entry


def _shape(entry, name):
    """How to write a dict option, e.g. '{address: ..., prefix: ...}'."""
    options = entry.get('options') or {}
    keys = sorted(options, key=lambda k: not (options[k] or {}).get('required'))   # stable: spec order otherwise
    return '{%s}' % ', '.join('%s: ...' % k for k in keys[:5]) if keys else '{...}'


def _hint(spec, params, name, where, wanted):
    path = '%s.%s' % (where, name) if where else name
    entry = _option(spec, path) or {}
    value = params.get(name) if not where else None
    if wanted == 'dict' and entry.get('type') == 'list':
        return "'%s' is a list of mappings, each like %s (one '- ' item per entry)" % (path, _shape(entry, name))
    if wanted == 'dict':
        text = "'%s' is a mapping: write it as %s: %s" % (path, name, _shape(entry, name))
        if name in ('ipv4', 'ipv6') and isinstance(value, string_types) and '/' in value:
            address, _sep, prefix = value.partition('/')
            text += " (for '%s': {address: %s, prefix: %s})" % (value, address.strip(), prefix.strip())
        return text
    if wanted == 'list':
        return "'%s' is a list: write it as %s: [..] or as '- ' items" % (path, name)
    if wanted in ('int', 'float'):
        return "'%s' is a number" % path
    if wanted == 'bool':
        return "'%s' is true or false" % path
    return None


def clearer_message(spec, params, errors):
    """One message for ansible-core's validation errors: every real error (its no_log scan's noise left out),
    each with how the option is written when Ansible could not convert it."""
    messages, named = [], set()
    for error in errors:
        if type(error).__name__ == 'NoLogError':
            continue
        text = error.msg
        for pattern in _NAMED:
            match = pattern.search(text)
            if match:
                found = match.groupdict()
                if (found.get('where'), found['name']) in named:
                    text = None
                    break
                named.add((found.get('where'), found['name']))
                hint = _hint(spec, params, found['name'], found.get('where'), found.get('wanted') or 'dict')
                if hint:
                    text = '%s: %s' % (text, hint)
                break
        if text and text not in messages:
            messages.append(text)
    return '; '.join(messages)


class CheckedModule(AnsibleModule):
    """AnsibleModule whose argument errors name the parameter and say how it is written."""

    def fail_json(self, msg, **kwargs):
        result = getattr(self, 'validation_result', None)
        if result is not None and not getattr(self, '_kvm_validated', False):
            self._kvm_validated = True
            try:
                better = clearer_message(self.argument_spec, self.params, result.errors.errors)
            except Exception:  # a clearer message is a nicety; Ansible's own is still true
                better = None
            if better and not msg.startswith('Unsupported parameters'):
                msg = better
        super(CheckedModule, self).fail_json(msg=msg, **kwargs)
