# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Finding libvirt objects and reading user-given definitions, the same way for every resource (private)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError, ParameterError, libvirt_reason


def lookup(finder, kind, name, not_found_code, label=None):
    """finder(name), or None when libvirt says there is no such object (not_found_code).
    Errors name the object by `label` (default: name)."""
    try:
        return finder(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == not_found_code:
            return None
        raise KvmError('read', kind, label or name, libvirt_reason(exc))


def parse_definition(text, kind, name, parameter='xml'):
    """A user-given XML definition of a `kind` element that must be named `name`."""
    try:
        root = _xml.parse(text)
    except Exception as exc:  # lxml raises several types; all mean the same to the user
        raise ParameterError(parameter, 'not well-formed XML: %s' % exc)
    if root.tag != kind:
        raise ParameterError(parameter, 'the root element is <%s>; a %s definition starts with <%s>' % (root.tag, kind, kind))
    if not (root.findtext('name') or '').strip():
        raise ParameterError(parameter, "the XML has no <name>: add <name>%s</name> (the name option and the XML "
                                        "must agree)" % name)
    if root.findtext('name') != name:
        raise ParameterError(parameter, "the XML names the %s '%s' but name is '%s'" % (kind, root.findtext('name'), name))
    return root
