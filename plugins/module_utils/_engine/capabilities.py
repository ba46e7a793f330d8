# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the hypervisor offers, asked only when a task needs it and at most once per run (private to kvmops.kvm).

Capability queries are the calls libvirt may answer by probing QEMU, seconds each on a host where it
keeps re-probing (see kvm_host's qemu_kvm_access check), so no resource calls them directly.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt


class Capabilities(object):
    """The parsed answers of getCapabilities and getDomainCapabilities for one connection."""

    def __init__(self, conn):
        self._conn = conn
        self._host = None
        self._domain = {}

    def host(self):
        """The host capabilities (guest types, machine types, security models)."""
        if self._host is None:
            self._host = _xml.parse(self._conn.getCapabilities())
        return self._host

    def domain(self, virttype, arch=None):
        """The domain capabilities for `virttype` guests; raises libvirtError (remembered) when there are none."""
        key = (virttype, arch)
        if key not in self._domain:
            try:
                self._domain[key] = _xml.parse(self._conn.getDomainCapabilities(None, arch, None, virttype, 0))
            except libvirt.libvirtError as exc:
                self._domain[key] = exc
        found = self._domain[key]
        if isinstance(found, Exception):
            raise found
        return found

    def offers(self, virttype, arch=None):
        """Whether the host runs `virttype` guests (a domain capability query, remembered)."""
        try:
            self.domain(virttype, arch)
            return True
        except libvirt.libvirtError:
            return False

    def machines(self, arch='x86_64'):
        """{machine type or alias: canonical name} of the host's QEMU for `arch`."""
        names = {}
        for element in self.host().findall("guest/arch[@name='%s']/machine" % arch):
            names[element.text] = element.get('canonical') or element.text
        return names
