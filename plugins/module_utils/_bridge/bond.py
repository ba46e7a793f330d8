# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bonding modes and options: names, the numbers ifcfg files and netlink use, and parsing `mode=1 miimon=100` (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress

from ansible.module_utils.six import string_types, text_type

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import ParameterError

MODES = ('balance-rr', 'active-backup', 'balance-xor', 'broadcast', '802.3ad', 'balance-tlb', 'balance-alb')

# option -> its names in the order of their kernel numbers (None: an integer option)
ENUMS = {
    'mode': MODES,
    'lacp_rate': ('slow', 'fast'),
    'xmit_hash_policy': ('layer2', 'layer3+4', 'layer2+3', 'encap2+3', 'encap3+4', 'vlan+srcmac'),
    'primary_reselect': ('always', 'better', 'failure'),
    'fail_over_mac': ('none', 'active', 'follow'),
    'arp_validate': ('none', 'active', 'backup', 'all', 'filter', 'filter_active', 'filter_backup'),
    'arp_all_targets': ('any', 'all'),
    'ad_select': ('stable', 'bandwidth', 'count'),
}
INTEGERS = ('miimon', 'updelay', 'downdelay', 'arp_interval', 'min_links', 'resend_igmp', 'num_grat_arp',
            'lp_interval', 'packets_per_slave', 'ad_actor_sys_prio', 'ad_user_port_key')
FLAGS = ('use_carrier', 'all_slaves_active', 'tlb_dynamic_lb')
# options that are not numbers: an interface name, a list of IPv4 addresses
OTHER = ('primary', 'arp_ip_target')
OPTIONS = tuple(sorted(set(ENUMS) | set(INTEGERS) | set(FLAGS) | set(OTHER)))
# the netlink attribute of each option (IFLA_BOND_<this>)
NETLINK = dict((name, name.upper()) for name in OPTIONS)
NETLINK['num_grat_arp'] = 'NUM_PEER_NOTIF'
NETLINK['lacp_rate'] = 'AD_LACP_RATE'
# options the kernel changes only while the bond is down (BOND_OPTFLAG_IFDOWN; mode also needs it without slaves)
WHILE_DOWN = ('lacp_rate', 'ad_select', 'tlb_dynamic_lb', 'ad_actor_sys_prio', 'ad_user_port_key')
# options the typed `bond` parameter carries besides `options`
TYPED = ('mode', 'miimon', 'primary', 'lacp_rate', 'xmit_hash_policy')


def enum_name(option, value, parameter):
    """The canonical name of an enumerated option's value, given as a name or as the kernel's number."""
    names = ENUMS[option]
    text = text_type(value).strip()
    if text.isdigit() and int(text) < len(names):
        return names[int(text)]
    if text in names:
        return text
    raise ParameterError(parameter, "unknown bond %s '%s': use one of %s, or the numbers 0-%d"
                         % (option, value, ', '.join(names), len(names) - 1))


def canonical_value(option, value, parameter):
    """One option's value in the model's form: enum names, integers, 0/1 flags, a sorted list of targets."""
    if option in ENUMS:
        return enum_name(option, value, parameter)
    if option in INTEGERS or option in FLAGS:
        text = text_type(value).strip()
        if isinstance(value, bool) or not text.isdigit():
            if option in FLAGS and text.lower() in ('true', 'false', 'yes', 'no', 'on', 'off'):
                return 1 if text.lower() in ('true', 'yes', 'on') else 0
            raise ParameterError(parameter, "bond option %s needs a non-negative integer, got '%s'" % (option, value))
        number = int(text)
        if option in FLAGS and number not in (0, 1):
            raise ParameterError(parameter, "bond option %s is 0 or 1, got '%s'" % (option, value))
        return number
    if option == 'arp_ip_target':
        items = value if isinstance(value, list) else text_type(value).replace('+', '').split(',')
        targets = []
        for item in items:
            try:
                targets.append(text_type(ipaddress.IPv4Address(text_type(item).strip())))
            except ValueError:
                raise ParameterError(parameter, "bond option arp_ip_target takes IPv4 addresses separated by "
                                                "commas, got '%s'" % item)
        return sorted(set(targets))
    return text_type(value).strip()


def parse_options(text, parameter):
    """`mode=1 miimon=100` (as BONDING_OPTS and bond-* lines write them) -> {option: canonical value}."""
    if isinstance(text, dict):
        pairs = list(text.items())
    else:
        pairs = []
        for word in text_type(text or '').split():
            if '=' not in word:
                raise ParameterError(parameter, "'%s' is not option=value (as in 'mode=1 miimon=100')" % word)
            pairs.append(tuple(word.split('=', 1)))
    options = {}
    for key, value in pairs:
        key = text_type(key).strip().replace('-', '_')
        if key not in OPTIONS:
            raise ParameterError(parameter, "unknown bond option '%s': use one of %s" % (key, ', '.join(OPTIONS)))
        if key == 'arp_ip_target' and key in options:
            options[key] = sorted(set(options[key] + canonical_value(key, value, parameter)))
            continue
        options[key] = canonical_value(key, value, parameter)
    return options


def to_netlink(options, index_of):
    """{option: canonical value} -> pyroute2's bond_* keywords; `index_of(name)` resolves the primary."""
    keywords = {}
    for option, value in options.items():
        key = 'bond_' + NETLINK[option].lower()
        if option in ENUMS:
            keywords[key] = ENUMS[option].index(value)
        elif option == 'primary':
            keywords[key] = index_of(value)
        else:
            keywords[key] = value
    return keywords


def from_netlink(data, name_of):
    """The bond's IFLA_INFO_DATA -> {option: canonical value} for every option the kernel reports."""
    options = {}
    for option in OPTIONS:
        value = data.get('IFLA_BOND_' + NETLINK[option])
        if value is None:
            continue
        if option in ENUMS:
            names = ENUMS[option]
            options[option] = names[value] if value < len(names) else value
        elif option == 'primary':
            options[option] = name_of(value)
        elif option == 'arp_ip_target':
            options[option] = sorted(value if isinstance(value, list) else [value])
        else:
            options[option] = value
    active = data.get('IFLA_BOND_ACTIVE_SLAVE')
    options['active_slave'] = name_of(active) if active else None
    return options


def option_text(options):
    """{option: value} -> 'mode=active-backup miimon=100' in a stable order, as files write it."""
    words = []
    for option in sorted(options, key=lambda key: (key != 'mode', key)):
        value = options[option]
        if isinstance(value, list):
            value = ','.join(value)
        words.append('%s=%s' % (option, value))
    return ' '.join(words)


def is_text(value):
    return isinstance(value, string_types)
