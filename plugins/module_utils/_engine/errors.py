# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The two kinds of failure a module reports (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class KvmError(Exception):
    """An operation on a libvirt object failed: '<action> <object> '<name>' failed: <reason>'."""

    def __init__(self, action, kind, name, reason, **details):
        self.action = action
        self.kind = kind
        self.name = name
        self.reason = reason
        self.details = details
        super(KvmError, self).__init__(
            "%s %s '%s' failed: %s" % (action, kind, name, reason))


class ParameterError(Exception):
    """The user's input is invalid; raised before anything on the host is touched."""

    def __init__(self, parameter, problem):
        self.parameter = parameter
        self.problem = problem
        super(ParameterError, self).__init__(
            "Invalid parameter '%s': %s" % (parameter, problem))


class MissingLibrary(Exception):
    """An optional library an option needs is not installed on the managed host."""

    def __init__(self, library, traceback_text, reason=None):
        self.library = library
        self.traceback_text = traceback_text
        self.reason = reason
        super(MissingLibrary, self).__init__(library)


def libvirt_reason(exc):
    """libvirt's own message without the 'error:' decorations it sometimes carries."""
    getter = getattr(exc, 'get_error_message', None)
    message = getter() if getter else None
    return (message or str(exc)).strip()
