# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One connection to libvirt per module run (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.six.moves.urllib.parse import urlparse

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError, libvirt_reason

DEFAULT_URI = 'qemu:///system'

CONNECTION_ARGUMENT_SPEC = dict(
    uri=dict(type='str', default=DEFAULT_URI),
)

_DAEMON_HINT = (
    'is the libvirt daemon running and reachable (libvirtd, or virtqemud and friends on '
    'modular installs; "virsh -c %s version" should answer), and may this user use it?')


def _ignore_libvirt_stderr(_context, _error):
    """libvirt prints every error to stderr by default; the module reports them itself."""


def open_connection(uri):
    libvirt.registerErrorHandler(_ignore_libvirt_stderr, None)
    try:
        return libvirt.open(uri)
    except libvirt.libvirtError as exc:
        raise KvmError('connect to', 'hypervisor', uri,
                       '%s; %s' % (libvirt_reason(exc), _DAEMON_HINT % uri))


def is_local_uri(uri):
    """True when the URI points at a daemon on the machine the module runs on."""
    parsed = urlparse(uri)
    return not parsed.hostname or parsed.hostname in ('localhost', '127.0.0.1', '::1')
