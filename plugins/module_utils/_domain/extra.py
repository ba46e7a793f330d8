# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The parts of a full domain `xml` that the typed model does not cover (private to kvmops.kvm).

Clock, features, on_* actions, cputune, controllers, channels, video... are compared by meaning:
what the user wrote must be in the definition (libvirt may add defaults and addresses), sizes in
bytes, children in any order. A differing element is laid over the definition; a differing device
replaces its counterpart (keeping the address libvirt gave it) or is added.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.compare import Difference
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import etree

# what _domain_model reads and compares itself
MODELLED = ('name', 'uuid', 'memory', 'currentMemory', 'vcpu', 'devices')
MODELLED_PARTS = {'os': (('firmware',), ('type', 'loader', 'nvram', 'boot', 'kernel', 'initrd', 'cmdline')),
                  'cpu': (('mode',), ('model',))}
MODELLED_DEVICES = ('disk', 'interface', 'graphics')
KEPT_ON_REPLACE = ('address', 'alias')


def _label(tag):
    return etree.QName(tag).localname if tag.startswith('{') else tag


def _unmodelled_part(element):
    """A copy of os/cpu without what the typed model compares, or None when nothing is left."""
    attributes, children = MODELLED_PARTS[element.tag]
    part = copy.deepcopy(element)
    for key in attributes:
        part.attrib.pop(key, None)
    for child in list(part):
        if not isinstance(child.tag, str) or child.tag in children:
            part.remove(child)
    return part if len(part) or part.attrib else None


class ExtraElements(object):
    """The unmodelled elements of the user's domain XML."""

    def __init__(self, root):
        self.top = []          # [(path, element)] laid over the definition
        self.devices = {}      # tag -> [elements] that must each be in the definition
        for element in root:
            if not isinstance(element.tag, str) or element.tag in MODELLED:
                continue
            path = _label(element.tag)
            if element.tag in MODELLED_PARTS:
                element = _unmodelled_part(element)
                if element is None:
                    continue
                path += '.other'   # beside the typed fields' paths (cpu.mode...) in the diff
            self.top.append((path, element))
        devices = root.find('devices')
        for device in devices if devices is not None else []:
            if isinstance(device.tag, str) and device.tag not in MODELLED_DEVICES:
                self.devices.setdefault(device.tag, []).append(device)

    def differences(self, root):
        """[Difference] between these elements and a domain's definition (or live XML)."""
        found = []
        for path, want in self.top:
            have = root.find(want.tag)
            if have is None or not _xml.covers(want, have):
                found.append(Difference(path, _shown(have), _shown(want)))
        devices = root.find('devices')
        for tag in sorted(self.devices):
            have = devices.findall(tag) if devices is not None else []
            if self._match(tag, have)[0]:
                found.append(Difference('devices.' + _label(tag), [_shown(e) for e in have] or None,
                                        [_shown(e) for e in self.devices[tag]]))
        return found

    def _match(self, tag, have):
        """Each wanted device takes the first free device that covers it: (wanted ones left without one,
        devices taken)."""
        free = list(have)
        missing = []
        for want in self.devices[tag]:
            match = next((e for e in free if _xml.covers(want, e)), None)
            if match is None:
                missing.append(want)
            else:
                free.remove(match)
        return missing, [e for e in have if e not in free]

    def write(self, root):
        """Lay the elements that differ over a domain definition, in place."""
        for _path, want in self.top:
            have = root.find(want.tag)
            if have is None:
                root.append(copy.deepcopy(want))
            elif not _xml.covers(want, have):
                _xml.overlay(want, have)
        devices = _xml.ensure(root, 'devices')
        for tag in sorted(self.devices):
            have = devices.findall(tag)
            missing, taken = self._match(tag, have)
            for want in missing:
                replaced = _xml.counterpart(want, [e for e in have if e not in taken])
                new = copy.deepcopy(want)
                if replaced is None:
                    devices.append(new)
                    continue
                for kept in KEPT_ON_REPLACE:
                    if new.find(kept) is None and replaced.find(kept) is not None:
                        new.append(copy.deepcopy(replaced.find(kept)))
                devices.replace(replaced, new)
                taken.append(replaced)
        return root


def _shown(element):
    return _xml.to_string(element) if element is not None else None
