# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input checks shared by the modules; each raises ParameterError naming the parameter."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import re

from ansible.module_utils.six import integer_types, string_types, text_type

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import ParameterError

_NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$')
_IFNAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,14}$')
_MAC_RE = re.compile(r'^([0-9a-f]{2}:){5}[0-9a-f]{2}$')
_OCTAL_RE = re.compile(r'^[0-7]+$')
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


def file_mode(parameter, value):
    """A file mode as '0644', the one rule of every module: a string of octal digits ('644', '0644', '0o644'),
    permission bits only (libvirt keeps no setuid, setgid or sticky bit). A YAML integer is refused: `mode: 644`
    reaches the module as the number 644 and `mode: 0644` as 420, and nothing tells the two apart."""
    if isinstance(value, bool) or value is None or not isinstance(value, (integer_types, string_types)):
        raise ParameterError(parameter, "%r is not a file mode: give octal digits as a quoted string, e.g. '0644'"
                             % (value,))
    if isinstance(value, integer_types):
        digits = str(value)
        meant = ('0' + digits) if _OCTAL_RE.match(digits) and len(digits) <= 3 else '%04o' % value
        raise ParameterError(parameter, "%s is a YAML integer, which is ambiguous (mode: 644 is the number 644, "
                                        "mode: 0644 the number 420): quote it, e.g. '%s'" % (value, meant))
    text = value.strip()
    if text.lower().startswith('0o'):
        text = text[2:]
    if not _OCTAL_RE.match(text) or len(text) > 5:
        raise ParameterError(parameter, "'%s' is not an octal file mode: use 3 or 4 octal digits as a quoted string, "
                                        "e.g. '0644'" % value)
    mode = int(text, 8)
    if mode > 0o777:
        raise ParameterError(parameter, "'%s' sets a setuid, setgid or sticky bit, which libvirt does not keep: give "
                                        "permission bits only, '0000' to '0777' (e.g. '%04o')" % (value, mode & 0o777))
    return '%04o' % mode


def numeric_id(parameter, value, kind):
    """A user or group ID given as a number (or a string of digits): 0 to 4294967294 (-1 means 'none' to the
    kernel and to libvirt, so it is no ID). Returns None when `value` is a name, left for the caller to resolve."""
    if isinstance(value, bool) or not isinstance(value, (integer_types, string_types)):
        raise ParameterError(parameter, "%r is not a %s: give a %s name or a numeric ID (e.g. 0 or 'root')"
                             % (value, kind, kind))
    text = value.strip() if isinstance(value, string_types) else str(value)
    if not re.match(r'^[+-]?\d+$', text):
        if not text:
            raise ParameterError(parameter, "an empty string is not a %s: give a %s name or a numeric ID" % (kind, kind))
        return None
    number = int(text)
    if not 0 <= number <= 4294967294:
        raise ParameterError(parameter, '%d is not a %s ID: use 0 to 4294967294 (or a %s name)' % (number, kind, kind))
    return number
