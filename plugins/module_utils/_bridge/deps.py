# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The guarded import of pyroute2, the netlink library kvm_bridge reads and changes links with (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import traceback

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import MissingLibrary

try:
    from pyroute2 import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError
    PYROUTE2_IMPORT_ERROR = None
except ImportError:
    IPRoute = None
    PYROUTE2_IMPORT_ERROR = traceback.format_exc()

    class NetlinkError(Exception):
        """Stands in for pyroute2's, so `except NetlinkError` works without the library."""

        code = 0

__all__ = ['IPRoute', 'NetlinkError', 'require_pyroute2']


def require_pyroute2():
    """Raise MissingLibrary (reported with the fix) when pyroute2 cannot be imported on the managed host."""
    if PYROUTE2_IMPORT_ERROR is not None:
        raise MissingLibrary('pyroute2', PYROUTE2_IMPORT_ERROR,
                             reason='to read and change bridges, bonds, VLANs and taps over netlink '
                                    '(Debian/Ubuntu: python3-pyroute2, EL: python3-pyroute2 from EPEL, or pip)')
