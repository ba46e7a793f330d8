# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A guest's power state: from what it is to what `state` asks, and the waits (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.events import wait_for_state

KIND = 'domain'
# what each requested state needs from each current one
_STEPS = {
    'running': {'shutoff': ['start'], 'paused': ['resume'], 'running': []},
    'shutdown': {'shutoff': [], 'paused': ['resume', 'shutdown'], 'running': ['shutdown']},
    'destroyed': {'shutoff': [], 'paused': ['destroy'], 'running': ['destroy']},
    'paused': {'shutoff': ['start paused'], 'paused': [], 'running': ['pause']},
    'present': {'shutoff': [], 'paused': [], 'running': []},
}
_FINAL = {'start': 'running', 'resume': 'running', 'shutdown': 'shutoff', 'destroy': 'shutoff',
          'start paused': 'paused', 'pause': 'paused', 'restart': 'running'}
_LEASE_POLL_SECONDS = 1
_REPRESS_SECONDS = 10


class Power(object):

    def __init__(self, domain):
        self.module = domain.module
        self.domain = domain
        self.params = domain.params   # this guest's options (one item of a batch, or the module's)
        self.name = domain.name
        self.final_state = None
        self._restart_detail = None
        self._leases_before_start = None   # set when this run boots the guest

    def current(self):
        dom = self.domain.dom
        if dom is None:
            return 'absent'
        state = dom.state()[0]
        if state in (libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PMSUSPENDED):
            return 'paused'
        if state in (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_BLOCKED, libvirt.VIR_DOMAIN_SHUTDOWN):
            return 'running'
        return 'shutoff'

    def restart_for(self, pending):
        self._restart_detail = 'to apply %s' % ', '.join(pending)

    def plan(self, plan):
        now = self.domain.current_state
        now = 'shutoff' if now == 'absent' else now
        steps = list(_STEPS[self.domain.state][now])
        if self._restart_detail and now == 'running' and not steps:
            steps = ['restart']
        if steps:
            plan.difference('state', now, self.domain.state)
        for step in steps:
            plan.add(step, KIND, self.name, getattr(self, '_' + step.replace(' ', '_')),
                     self._restart_detail if step == 'restart' else None)
        self.final_state = _FINAL[steps[-1]] if steps else now

    # ------------------------------------------------------------ steps

    def _start(self):
        self._leases_before_start = self._leases()
        self.domain.dom.create()

    def _start_paused(self):
        self._leases_before_start = self._leases()
        self.domain.dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED)

    def _resume(self):
        self.domain.dom.resume()

    def _pause(self):
        self.domain.dom.suspend()

    def _destroy(self):
        self.domain.dom.destroy()

    def _shutdown(self):
        dom = self.domain.dom
        timeout = self.params['shutdown_timeout']
        if self._press_power_button(dom, timeout):
            return
        if not self.params['force']:
            raise KvmError('shut down', KIND, self.name,
                           'still running %d s after the ACPI power button (shutdown_timeout): the guest ignored it; '
                           'use force: true to power it off after the timeout' % timeout)
        try:
            dom.destroy()
        except libvirt.libvirtError:
            if dom.isActive():
                raise
            return   # it went off on its own just after the timeout: a graceful shutdown after all
        self.module.warn("domain '%s' ignored the ACPI shutdown for %d s and was powered off (force: true)"
                         % (self.name, timeout))

    def _press_power_button(self, dom, timeout):
        """The ACPI power button, pressed again every few seconds until the guest is off or the timeout: a
        press while the guest still boots (before its ACPI daemon listens) is lost. True when it went off."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                dom.shutdown()
            except libvirt.libvirtError:
                if not dom.isActive():
                    return True   # went off between the wait and this press
                raise
            remaining = deadline - time.monotonic()
            if wait_for_state(self.module.conn, dom, (libvirt.VIR_DOMAIN_SHUTOFF,), min(remaining, _REPRESS_SECONDS)):
                return True
            if remaining <= _REPRESS_SECONDS:
                return False

    def _restart(self):
        self._shutdown()
        self._start()

    # ------------------------------------------------------------ after the run

    def observed(self, result):
        """Fill in the IPv4 addresses of a running guest, waiting for them when wait_for is 'ip'."""
        if result['state'] != 'running':
            return result
        wait = self.params.get('wait_for') == 'ip'
        deadline = time.monotonic() + self.params['wait_timeout']
        while True:
            addresses = self._addresses()
            for iface in result['interfaces']:
                iface['ipv4'] = addresses.get(iface['mac'], [])
            if not wait or any(i['ipv4'] for i in result['interfaces']):
                return result
            if time.monotonic() >= deadline:
                raise KvmError('wait for an address of', KIND, self.name,
                               'no IPv4 address from DHCP leases or the guest agent within %d s (wait_timeout)'
                               % self.params['wait_timeout'])
            # libvirt has no event for DHCP leases or agent addresses: poll them
            time.sleep(_LEASE_POLL_SECONDS)

    def _leases(self):
        """The IPv4 DHCP leases of the guest's NICs on libvirt networks, as (mac, ip, expiry) tuples."""
        leases = set()
        for iface in self.domain.after.get('interfaces') or []:
            if iface.get('type') != 'network' or not iface.get('mac'):
                continue
            try:
                network = self.module.conn.networkLookupByName(iface['source'])
                entries = network.DHCPLeases(iface['mac'])
            except libvirt.libvirtError:
                continue
            for lease in entries:
                if lease.get('type') == libvirt.VIR_IP_ADDR_TYPE_IPV4:
                    leases.add((lease['mac'].lower(), lease['ipaddr'], lease.get('expirytime')))
        return leases

    def _addresses(self):
        """IPv4 addresses by MAC: DHCP leases (only ones newer than a boot this run made: a guest that
        comes back with the same MAC finds its old lease still there), then the guest agent."""
        found = {}
        stale = self._leases_before_start or set()
        pairs = [(mac, ip) for mac, ip, _expiry in self._leases() - stale]
        try:
            agent = self.domain.dom.interfaceAddresses(libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT, 0)
        except libvirt.libvirtError:
            agent = {}   # no guest agent, or none answering yet
        for info in agent.values():
            for address in info.get('addrs') or []:
                if address.get('type') == libvirt.VIR_IP_ADDR_TYPE_IPV4 and not address['addr'].startswith('127.'):
                    pairs.append(((info.get('hwaddr') or '').lower(), address['addr']))
        for mac, ip in pairs:
            found.setdefault(mac, [])
            if ip not in found[mac]:
                found[mac].append(ip)
        return found
