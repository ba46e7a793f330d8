# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Guarded imports of the libraries the modules need (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import traceback

from ansible.module_utils.basic import missing_required_lib


class _NotInstalled(object):
    """Stands in for a missing libvirt-python: false like None, yet `except libvirt.libvirtError` still
    works in the engine, for a module that runs without the library (kvm_host)."""

    class libvirtError(Exception):
        pass

    def __bool__(self):
        return False

    __nonzero__ = __bool__


try:
    import libvirt
    LIBVIRT_IMPORT_ERROR = None
except ImportError:
    libvirt = _NotInstalled()
    LIBVIRT_IMPORT_ERROR = traceback.format_exc()

try:
    from lxml import etree
    LXML_IMPORT_ERROR = None
except ImportError:
    etree = None
    LXML_IMPORT_ERROR = traceback.format_exc()

__all__ = ['libvirt', 'etree', 'missing_dependency']

_REQUIREMENTS = (
    ('libvirt-python', lambda: LIBVIRT_IMPORT_ERROR),
    ('lxml', lambda: LXML_IMPORT_ERROR),
)


def missing_dependency():
    """Return (message, traceback) for the first missing library, or None when all import."""
    for library, error in _REQUIREMENTS:
        if error() is not None:
            return missing_required_lib(library), error()
    return None
