# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvm_network's options, shared by kvm_network and the items of kvm_networks (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kvmops.kvm.plugins.module_utils._network.model import MODES, TYPED_OPTIONS

# a full `xml` replaces the typed options
MUTUALLY_EXCLUSIVE = [('xml', option) for option in TYPED_OPTIONS]


def _range_spec():
    return dict(type='list', elements='dict', options=dict(
        start=dict(type='str', required=True),
        end=dict(type='str', required=True)))


def _ip_spec(family):
    hosts = dict(ip=dict(type='str', required=True), name=dict(type='str'))
    if family == 'ipv4':
        hosts['mac'] = dict(type='str', required=True)
    else:
        hosts['id'] = dict(type='str')
    options = dict(
        address=dict(type='str', required=True),
        prefix=dict(type='int', required=family == 'ipv6'),
        dhcp=dict(type='dict', options=dict(
            ranges=_range_spec(),
            hosts=dict(type='list', elements='dict', options=hosts))))
    if family == 'ipv4':
        options['netmask'] = dict(type='str')
    return dict(type='dict', options=options)


def argument_spec():
    """The options of one network (without uri)."""
    return dict(
        name=dict(type='str', required=True),
        state=dict(type='str', default='active', choices=['active', 'inactive', 'present', 'absent']),
        autostart=dict(type='bool'),
        mode=dict(type='str', choices=list(MODES)),
        bridge=dict(type='str'),
        forward_dev=dict(type='str'),
        mtu=dict(type='int'),
        domain=dict(type='str'),
        ipv4=_ip_spec('ipv4'),
        ipv6=_ip_spec('ipv6'),
        dns_hosts=dict(type='list', elements='dict', options=dict(
            ip=dict(type='str', required=True),
            hostnames=dict(type='list', elements='str', required=True))),
        xml=dict(type='str'),
        restart=dict(type='bool', default=False),
    )
