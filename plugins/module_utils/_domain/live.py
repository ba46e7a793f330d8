# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What of a running guest's new definition can be applied live, and how (private to kvmops.kvm).

The persistent definition is redefined once elsewhere; here every change goes with AFFECT_LIVE only.
Whatever cannot be applied live is returned as pending, for restart_required or a restart.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kvmops.kvm.plugins.module_utils._domain import model
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.compare import differences
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.events import wait_until

HOTPLUG_BUSES = ('virtio', 'scsi', 'usb')
KIND = 'domain'
DETACH_WAIT_SECONDS = 30


class LivePlanner(object):

    def __init__(self, domain, live_root, live, wanted, changing):
        self.changing = changing   # paths the persistent definition changes in this run
        self.domain = domain
        self.name = domain.name
        self.live_root = live_root
        self.live = live
        self.wanted = wanted
        self.flags = libvirt.VIR_DOMAIN_AFFECT_LIVE

    def plan(self, plan):
        """Add the live actions; return the paths that only a restart applies."""
        pending = []
        for diff in differences(model.comparable(self.wanted), model.comparable(self.live)):
            handler = getattr(self, '_' + diff.path.replace('.', '_'), None)
            if handler is None or not handler(plan, diff):
                pending.append(diff.path)
        return pending

    def _act(self, plan, verb, detail, run):
        plan.add(verb, KIND, self.name, run, detail + ' (live)')

    def _dom(self):
        return self.domain.dom

    # ------------------------------------------------------------ memory and vCPUs

    def _memory(self, plan, diff):
        # the balloon is a request the guest's driver fulfils (or not): the live size can stay where it is.
        # Ask once, when the definition changes, rather than on every run the guest ignores it.
        wanted = diff.after
        if 'memory' not in self.changing:
            return wanted <= self.live['max_memory']   # above the running ceiling: still waiting for a restart
        ceiling = self.live['max_memory']
        if wanted > ceiling or not self.live['balloon'] or self.wanted.get('max_memory', ceiling) != ceiling:
            return False
        self._act(plan, 'set memory of', '%d MiB' % wanted,
                  lambda: self._dom().setMemoryFlags(wanted * model.KIB_PER_MIB, self.flags))
        return True

    def _vcpus(self, plan, diff):
        wanted = diff.after
        # hot-unplug needs the guest's cooperation; lowering waits for the next boot
        if wanted < diff.before or wanted > self.live['max_vcpus']:
            return False
        self._act(plan, 'set vCPUs of', str(wanted), lambda: self._dom().setVcpusFlags(wanted, self.flags))
        return True

    # ------------------------------------------------------------ devices

    def _live_element(self, tag, child, attribute, value):
        """The live XML of the device whose <child attribute=value> matches (libvirt finds devices by it)."""
        element = _device_with(self.live_root, tag, child, attribute, value)
        return _xml.to_string(element) if element is not None else None

    def _interfaces(self, plan, diff):
        before = dict((i['mac'], i) for i in diff.before or [])
        after = dict((i['mac'], i) for i in diff.after or [])
        handled = True
        for mac in sorted(set(before) - set(after)):
            element = self._live_element('interface', 'mac', 'address', mac)
            self._act(plan, 'detach interface from', mac, self._detach(element, ('interface', 'mac', 'address', mac)))
        for mac in sorted(set(after) - set(before)):
            element = _xml.to_string(model.interface_element(after[mac]))
            self._act(plan, 'attach interface to', '%s on %s %s' % (mac, after[mac]['type'], after[mac]['source']),
                      self._device('attachDeviceFlags', element))
        for mac in sorted(set(after) & set(before)):
            old, new = before[mac], after[mac]
            if old == new:
                continue
            if old['model'] != new['model']:
                handled = False
                continue
            if not _source_changes_live(old, new):
                handled = False   # the source waits for the restart; the link state can still change now
                new = dict(new, type=old['type'], source=old['source'], portgroup=old['portgroup'])
                if old == new:
                    continue
            changes = ', '.join('%s %s' % (k, new[k]) for k in ('type', 'source', 'portgroup', 'link_state') if old[k] != new[k])
            element = _xml.to_string(model.interface_element(new))
            self._act(plan, 'update interface of', '%s: %s' % (mac, changes), self._device('updateDeviceFlags', element))
        return handled

    def _disks(self, plan, diff):
        before = dict((d['target'], d) for d in diff.before or [])
        after = dict((d['target'], d) for d in diff.after or [])
        handled = True
        for target in sorted(set(before) - set(after)):
            if before[target]['bus'] not in HOTPLUG_BUSES:
                handled = False
                continue
            element = self._live_element('disk', 'target', 'dev', target)
            self._act(plan, 'detach disk from', target, self._detach(element, ('disk', 'target', 'dev', target)))
        for target in sorted(set(after) - set(before)):
            if after[target]['bus'] not in HOTPLUG_BUSES:
                handled = False
                continue
            full = next(d for d in self.wanted['disks'] if d['target'] == target)
            element = _xml.to_string(model.disk_element(full))
            self._act(plan, 'attach disk to', '%s %s' % (target, full.get('volume') or full.get('path')),
                      self._device('attachDeviceFlags', element))
        if any(before[t] != after[t] for t in set(before) & set(after)):
            handled = False
        return handled

    def _cdroms(self, plan, diff):
        before = dict((d['target'], d) for d in diff.before or [])
        after = dict((d['target'], d) for d in diff.after or [])
        if set(before) != set(after):
            return False
        for target in sorted(after):
            if before[target]['path'] != after[target]['path']:
                element = _xml.to_string(model.disk_element(after[target], 'cdrom'))
                what = 'insert %s into' % after[target]['path'] if after[target]['path'] else 'eject'
                self._act(plan, 'change media of', '%s %s' % (what, target),
                          self._device('updateDeviceFlags', element))
        return True

    def _graphics_password(self, plan, diff):
        element = _xml.to_string(model.graphics_element(self.wanted['graphics']))
        self._act(plan, 'set graphics password of', '********', self._device('updateDeviceFlags', element))
        return True

    def _device(self, method, element):
        def run():
            getattr(self._dom(), method)(element, self.flags)
        return run

    def _detach(self, element, key):
        """detachDeviceFlags returns when the guest let go of the device, or after libvirt's own 5 s: a slower
        guest (TCG, a busy host) finishes later, and until then the live XML still lists the device, so the
        next run would detach it again. Wait for libvirt's device-removed event (not on a paused guest)."""
        tag, _child, _attribute, value = key

        def gone():
            return _device_with(_xml.parse(self._dom().XMLDesc(0)), *key) is None

        def run():
            dom = self._dom()
            dom.detachDeviceFlags(element, self.flags)
            if dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED:
                return
            if not wait_until(self.domain.module.conn, dom, libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, gone,
                              DETACH_WAIT_SECONDS):
                self.domain.module.warn("domain '%s' has not released %s %s within %d s; libvirt removes it when "
                                        "the guest does" % (self.name, tag, value, DETACH_WAIT_SECONDS))
        return run


def _device_with(root, tag, child, attribute, value):
    """The device of a domain XML whose <child attribute=value> matches, or None."""
    for element in root.find('devices').findall(tag):
        node = element.find(child)
        if node is not None and node.get(attribute) == value:
            return element
    return None


def _source_changes_live(old, new):
    """Whether libvirt moves a running NIC to its new source. It does between networks and bridges (the tap
    changes bridge), refuses any change of a macvtap (direct) NIC's type or device ('unable to change
    config'), and accepts a new portgroup without applying it (libvirt 9.0: the live XML keeps the old one)."""
    if new['type'] == 'network' and old['portgroup'] != new['portgroup']:
        return False
    moved = (old['type'], old['source']) != (new['type'], new['source'])
    return not (moved and 'direct' in (old['type'], new['type']))
