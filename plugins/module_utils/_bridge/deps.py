# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The guarded imports of pyroute2 (netlink) and jeepney (D-Bus, for NetworkManager) of kvm_bridge (private to kvmops.kvm)."""

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


class _DBus(object):
    """jeepney's pieces kvm_bridge uses, or None each when jeepney is not installed."""

    open = DBusAddress = new_method_call = unwrap_msg = MatchRule = message_bus = None

    class DBusErrorResponse(Exception):
        """Stands in for jeepney's."""


dbus = _DBus()
try:
    from jeepney import DBusAddress, MatchRule, new_method_call
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import open_dbus_connection
    from jeepney.wrappers import DBusErrorResponse, unwrap_msg
    dbus.open = open_dbus_connection
    dbus.DBusAddress, dbus.new_method_call, dbus.unwrap_msg = DBusAddress, new_method_call, unwrap_msg
    dbus.MatchRule, dbus.message_bus = MatchRule, message_bus
    dbus.DBusErrorResponse = DBusErrorResponse
    JEEPNEY_IMPORT_ERROR = None
except (ImportError, SyntaxError):   # SyntaxError: jeepney needs Python 3.7+
    JEEPNEY_IMPORT_ERROR = traceback.format_exc()

__all__ = ['IPRoute', 'NetlinkError', 'require_pyroute2', 'dbus', 'require_jeepney']


def require_pyroute2():
    """Raise MissingLibrary (reported with the fix) when pyroute2 cannot be imported on the managed host."""
    if PYROUTE2_IMPORT_ERROR is not None:
        raise MissingLibrary('pyroute2', PYROUTE2_IMPORT_ERROR,
                             reason='to read and change bridges, bonds, VLANs and taps over netlink '
                                    '(Debian/Ubuntu: python3-pyroute2, EL: python3-pyroute2 from EPEL, or pip)')


def require_jeepney():
    """Raise MissingLibrary when jeepney (pure-Python D-Bus, NetworkManager's API) cannot be imported."""
    if JEEPNEY_IMPORT_ERROR is not None:
        raise MissingLibrary('jeepney', JEEPNEY_IMPORT_ERROR,
                             reason='to create, activate and roll back NetworkManager profiles through its D-Bus API '
                                    '(Debian/Ubuntu: python3-jeepney, EL: python3-jeepney, or pip)')
