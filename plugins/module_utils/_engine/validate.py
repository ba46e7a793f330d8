# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input checks shared by the modules; each raises ParameterError naming the parameter."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import re

from ansible.module_utils.six import text_type

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import ParameterError

_NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$')
_IFNAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,14}$')
_MAC_RE = re.compile(r'^([0-9a-f]{2}:){5}[0-9a-f]{2}$')
_HOSTNAME_RE = re.compile(r'^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$')


def object_name(parameter, value):
    if not _NAME_RE.match(value or ''):
        raise ParameterError(parameter, "'%s' is not a valid name: use 1-64 letters, digits, '.', '_', '+' "
                                        "or '-', starting with a letter or digit" % value)
    return value


def interface_name(parameter, value):
    if len(value or '') > 15:
        raise ParameterError(parameter, "'%s' is %d characters long; Linux interface names have at most 15"
                             % (value, len(value)))
    if not _IFNAME_RE.match(value or ''):
        raise ParameterError(parameter, "'%s' is not a valid interface name: letters, digits, '.', '_' or "
                                        "'-', at most 15 characters" % value)
    return value


def mac_address(parameter, value):
    mac = (value or '').strip().lower().replace('-', ':')
    if not _MAC_RE.match(mac):
        raise ParameterError(parameter, "'%s' is not a MAC address (six hex pairs, e.g. 52:54:00:12:34:56)" % value)
    if int(mac[:2], 16) & 1:
        raise ParameterError(parameter, "'%s' is a multicast MAC address; a NIC needs a unicast one "
                                        "(first octet even, e.g. 52:54:00:...)" % value)
    return mac


def ip_address(parameter, value, version=None):
    try:
        address = ipaddress.ip_address(text_type(value).strip())
    except ValueError:
        raise ParameterError(parameter, "'%s' is not an IP address" % value)
    if version and address.version != version:
        raise ParameterError(parameter, "'%s' is not an IPv%d address" % (value, version))
    return address


def hostname(parameter, value):
    if not _HOSTNAME_RE.match(value or ''):
        raise ParameterError(parameter, "'%s' is not a valid host or domain name" % value)
    return value


def integer_range(parameter, value, low, high):
    if value is not None and not low <= value <= high:
        raise ParameterError(parameter, '%s is out of range: use %d to %d' % (value, low, high))
    return value
