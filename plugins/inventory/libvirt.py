# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: libvirt
short_description: Guests of one or more libvirt hypervisors as an inventory
version_added: 0.1.0
description:
  - Lists the guests (domains) of every libvirt URI given, so a whole fleet of hypervisors is one inventory source.
  - Each guest gets host variables prefixed C(kvm_) (its state, memory, vCPUs, UUID, NICs with MACs and addresses,
    and the hypervisor it is defined on, by name and URI; see the notes).
  - Addresses come from the sources in O(address_sources), in that order (DHCP leases of libvirt networks, the
    QEMU guest agent, asked only when its channel is connected, and the host's ARP table).
  - C(ansible_host) is set to the first address a controller can ssh to (see O(ansible_host)).
  - Unlike C(community.libvirt.libvirt), no C(ansible_connection) is set; guests are reached the usual way (ssh).
    Set one with O(compose) when wanted (see the examples).
  - Guests are grouped by hypervisor (C(kvm_hypervisor_<name>)), state (C(kvm_state_<state>)), libvirt network
    (C(kvm_network_<network>)) and host bridge (C(kvm_bridge_<bridge>)); all are in C(kvm_guests). Characters not
    valid in a group name become C(_).
  - One connection is opened per URI and refresh, no capability queries are made.
  - The inventory file name must end with V(libvirt.yml), V(libvirt.yaml), V(kvm.yml) or V(kvm.yaml).
author:
  - kvmops.kvm maintainers (@kvmops)
requirements:
  - libvirt-python
  - lxml
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  plugin:
    description: The name of this plugin; makes the file an inventory source for it.
    type: str
    required: true
    choices: [kvmops.kvm.libvirt]
  uris:
    description:
      - The hypervisors, each a libvirt URI (V(qemu:///system), V(qemu+ssh://root@kvm1/system),
        V(qemu+tls://kvm2/system)) or a dictionary with C(uri) and C(name).
      - C(name) names the hypervisor in C(kvm_hypervisor) and its group; without it the host name the daemon
        reports is used.
    type: list
    elements: raw
    default: [qemu:///system]
    aliases: [uri]
  read_only:
    description:
      - Open read-only connections (libvirt's read-only socket; a user without write access can list guests).
      - A read-only connection cannot ask the guest agent, so C(agent) is skipped in O(address_sources).
    type: bool
    default: false
  address_sources:
    description:
      - Where addresses come from, in order of preference. V(lease) reads the DHCP leases of libvirt networks,
        V(agent) asks the QEMU guest agent of the guest, V(arp) reads the hypervisor's ARP table.
      - The first source that reports an address keeps it (in the address's C(source)).
      - Only running and paused guests have addresses.
    type: list
    elements: str
    choices: [lease, agent, arp]
    default: [lease, agent, arp]
  ansible_host:
    description:
      - What C(ansible_host) is set to.
      - V(ipv4) is the first IPv4 address, V(ipv6) the first IPv6 address, V(ip) the first of either, in the order of
        the guest's NICs and then of O(address_sources). Loopback and link-local addresses are skipped, and so are
        addresses outside O(ansible_host_networks) when that is given. A guest with no such address gets no
        C(ansible_host).
      - V(name) is the guest's name (for guests whose names resolve), V(uuid) its UUID, V(none) sets nothing.
    type: str
    choices: [ipv4, ipv6, ip, name, uuid, none]
    default: ipv4
  ansible_host_networks:
    description:
      - Address ranges (CIDR) C(ansible_host) is taken from, for example the management network.
    type: list
    elements: str
    default: []
  inventory_hostname:
    description:
      - The inventory name of a guest, its libvirt V(name) or its V(uuid).
      - A guest defined on two hypervisors (a migrated guest whose definition stayed behind) is one host; the
        copy that is running wins, the others are listed in C(kvm_other_definitions).
    type: str
    choices: [name, uuid]
    default: name
  skip_unreachable:
    description:
      - When a hypervisor cannot be reached, warn and list the others instead of failing the inventory source.
      - Off by default, so a play never acts on a fleet it only partly sees.
    type: bool
    default: false
notes:
  - The host variables of a guest are C(kvm_name), C(kvm_uuid), C(kvm_title), C(kvm_description), C(kvm_state) (V(running), V(paused), V(shutoff),
    V(shutdown), V(crashed), V(pmsuspended), V(blocked), V(nostate)), C(kvm_persistent), C(kvm_autostart),
    C(kvm_domain_type), C(kvm_arch).
  - C(kvm_memory) and C(kvm_max_memory) in MiB (current and maximum, as in M(kvmops.kvm.kvm_domain)), C(kvm_vcpus)
    and C(kvm_max_vcpus).
  - C(kvm_hypervisor) (name) and C(kvm_hypervisor_uri).
  - C(kvm_interfaces), a list of C(type), C(mac), C(network), C(bridge), C(portgroup), C(device), C(model),
    C(target) and C(addresses) (each with C(address), C(prefix), C(family) and C(source)); C(kvm_macs),
    C(kvm_networks), C(kvm_ipv4_addresses) and C(kvm_ipv6_addresses) summarise them.
'''

EXAMPLES = r'''
# fleet.libvirt.yml: every guest of two hypervisors, reached over ssh
plugin: kvmops.kvm.libvirt
uris:
  - uri: qemu+ssh://root@kvm1.example.com/system
    name: kvm1
  - qemu+ssh://root@kvm2.example.com/system

---
# local.kvm.yml: the management network's address, groups by a guest's title, extra variables
plugin: kvmops.kvm.libvirt
uris: [qemu:///system]
ansible_host_networks: [192.168.122.0/24]
compose:
  ansible_user: "'debian'"
  big: kvm_memory >= 4096
keyed_groups:
  - key: kvm_title | default('untitled', true)
    prefix: title
groups:
  web: kvm_name is match('web')
strict: false

---
# cached.libvirt.yml: a cached inventory (ansible-inventory --flush-cache refreshes it)
plugin: kvmops.kvm.libvirt
uris: [qemu+tls://kvm1.example.com/system]
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/kvmops-inventory
cache_timeout: 600

---
# console.libvirt.yml: reach guests with no network through community.libvirt's connection instead of ssh
plugin: kvmops.kvm.libvirt
ansible_host: uuid
compose:
  ansible_connection: "'community.libvirt.libvirt_qemu'"
  ansible_libvirt_uri: kvm_hypervisor_uri
'''

import ipaddress
import re

from ansible.errors import AnsibleParserError
from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.display import Display
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import missing_dependency
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError
from ansible_collections.kvmops.kvm.plugins.module_utils._inventory.guests import read_hypervisor

display = Display()

ALL_GROUP = 'kvm_guests'
FILE_ENDINGS = ('libvirt.yml', 'libvirt.yaml', 'kvm.yml', 'kvm.yaml')


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):

    NAME = 'kvmops.kvm.libvirt'

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith(FILE_ENDINGS)

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        missing = missing_dependency()
        if missing:
            raise AnsibleParserError(missing[0])
        self._read_config_data(path)
        hypervisors = self._hypervisors()
        networks = self._host_networks()

        cache_key = self.get_cache_key(path)
        use_cache = self.get_option('cache') and cache
        update_cache = self.get_option('cache') and not cache
        gathered = None
        if use_cache:
            try:
                gathered = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if gathered is None:
            gathered = self._gather(hypervisors)
        if update_cache:
            self._cache[cache_key] = gathered
        self._populate(gathered, networks)

    # ---- options

    def _hypervisors(self):
        """[(uri, name or None)] from `uris`."""
        found = []
        for index, item in enumerate(self.get_option('uris') or []):
            if isinstance(item, dict):
                unknown = set(item) - set(['uri', 'name'])
                if not item.get('uri') or unknown:
                    raise AnsibleParserError(
                        "Invalid option 'uris[%d]': a URI or a dictionary with 'uri' (required) and 'name'%s"
                        % (index, ', not %s' % ', '.join(sorted(unknown)) if unknown else ''))
                found.append((to_text(item['uri']), to_text(item['name']) if item.get('name') else None))
            elif isinstance(item, str):
                found.append((to_text(item), None))
            else:
                raise AnsibleParserError("Invalid option 'uris[%d]': a URI or a dictionary with 'uri' and 'name', not %r"
                                         % (index, item))
        if not found:
            raise AnsibleParserError("Invalid option 'uris': give at least one libvirt URI")
        return found

    def _host_networks(self):
        networks = []
        for cidr in self.get_option('ansible_host_networks') or []:
            try:
                networks.append(ipaddress.ip_network(to_text(cidr), strict=False))
            except ValueError as exc:
                raise AnsibleParserError("Invalid option 'ansible_host_networks': %s" % to_native(exc))
        return networks

    # ---- reading the hypervisors

    def _gather(self, hypervisors):
        """One read of every hypervisor: a list of {'uri', 'hypervisor', 'guests'} (what the cache keeps)."""
        gathered = []
        for uri, name in hypervisors:
            try:
                gathered.append(read_hypervisor(uri, name, read_only=self.get_option('read_only'),
                                                sources=self.get_option('address_sources')))
            except KvmError as exc:
                if not self.get_option('skip_unreachable'):
                    raise AnsibleParserError(to_native(exc))
                display.warning('kvmops.kvm.libvirt: %s; its guests are left out' % to_native(exc))
        return gathered

    # ---- the inventory

    def _populate(self, gathered, networks):
        chosen = {}
        order = []
        for hypervisor in gathered:
            for guest in hypervisor['guests']:
                guest = dict(guest, uri=hypervisor['uri'], hypervisor=hypervisor['hypervisor'])
                for source, reason in sorted((guest.pop('address_errors', None) or {}).items()):
                    display.vvv("kvmops.kvm.libvirt: no %s addresses of '%s' on %s: %s"
                                % (source, guest['name'], guest['hypervisor'], reason))
                key = guest['uuid'] if self.get_option('inventory_hostname') == 'uuid' else guest['name']
                if key not in chosen:
                    chosen[key] = (guest, [])
                    order.append(key)
                    continue
                kept, others = chosen[key]
                if kept['uuid'] != guest['uuid']:
                    display.warning("kvmops.kvm.libvirt: two different guests are named '%s' (%s on %s, %s on %s); "
                                    "the first is listed, set inventory_hostname: uuid to list both"
                                    % (key, kept['uuid'], kept['hypervisor'], guest['uuid'], guest['hypervisor']))
                if guest['state'] == 'running' and kept['state'] != 'running':
                    kept, guest = guest, kept
                chosen[key] = (kept, others + [guest])
        self.inventory.add_group(ALL_GROUP)
        strict = self.get_option('strict')
        for key in order:
            guest, others = chosen[key]
            host = self.inventory.add_host(key, group=ALL_GROUP)
            hostvars = self._hostvars(guest, others, networks)
            for name, value in hostvars.items():
                # what libvirt reports (a guest's title, say) is data, never a template
                self.inventory.set_variable(host, name, wrap_var(value))
            for group in self._default_groups(guest):
                self.inventory.add_group(group)
                self.inventory.add_child(group, host)
            hostvars = self.inventory.get_host(host).get_vars()
            self._set_composite_vars(self.get_option('compose'), hostvars, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option('groups'), hostvars, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option('keyed_groups'), hostvars, host, strict=strict)

    def _hostvars(self, guest, others, networks):
        nics = guest['interfaces']
        addresses = [address for nic in nics for address in nic['addresses']]
        hostvars = dict(('kvm_' + name, guest[name]) for name in (
            'name', 'uuid', 'title', 'description', 'state', 'persistent', 'autostart', 'domain_type', 'arch',
            'memory', 'max_memory', 'vcpus', 'max_vcpus', 'hypervisor', 'interfaces'))
        hostvars.update(
            kvm_hypervisor_uri=guest['uri'],
            kvm_macs=[nic['mac'] for nic in nics if nic['mac']],
            kvm_networks=_unique(nic['network'] for nic in nics if nic['network']),
            kvm_ipv4_addresses=[a['address'] for a in addresses if a['family'] == 'ipv4'],
            kvm_ipv6_addresses=[a['address'] for a in addresses if a['family'] == 'ipv6'],
            kvm_other_definitions=[dict(hypervisor=o['hypervisor'], uri=o['uri'], state=o['state'], uuid=o['uuid'])
                                   for o in others],
        )
        target = self._ansible_host(guest, addresses, networks)
        if target is not None:
            hostvars['ansible_host'] = target
        return hostvars

    def _ansible_host(self, guest, addresses, networks):
        wanted = self.get_option('ansible_host')
        if wanted in ('name', 'uuid'):
            return guest[wanted]
        if wanted == 'none':
            return None
        for address in addresses:
            if wanted != 'ip' and address['family'] != wanted:
                continue
            try:
                ip = ipaddress.ip_address(to_text(address['address']).split('%')[0])
            except ValueError:
                continue
            if ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast:
                continue
            if networks and not any(ip.version == net.version and ip in net for net in networks):
                continue
            return address['address']
        return None

    def _default_groups(self, guest):
        groups = ['kvm_hypervisor_' + guest['hypervisor'], 'kvm_state_' + guest['state']]
        groups += ['kvm_network_' + nic['network'] for nic in guest['interfaces'] if nic['network']]
        groups += ['kvm_bridge_' + nic['bridge'] for nic in guest['interfaces']
                   if nic['bridge'] and nic['type'] == 'bridge']
        return _unique(_group_name(group) for group in groups)


def _group_name(name):
    return re.sub('[^A-Za-z0-9_]', '_', name)


def _unique(items):
    seen = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen
