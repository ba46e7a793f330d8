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


_LOST_CODES = ('VIR_ERR_NO_CONNECT', 'VIR_ERR_RPC', 'VIR_ERR_SYSTEM_ERROR', 'VIR_ERR_INTERNAL_ERROR')
_LOST_WORDS = ('cannot recv data', 'cannot write data', 'end of file while reading', 'socket is closed',
               'connection reset', 'broken pipe', 'no connection driver', 'client socket')


def connection_lost(exc):
    """Whether a libvirt error says the daemon went away during the run (stopped or restarted)."""
    getter = getattr(exc, 'get_error_code', None)
    if getter is None:
        return False
    codes = set(getattr(libvirt, name, None) for name in _LOST_CODES)
    message = (exc.get_error_message() or str(exc) or '').lower()
    from_rpc = exc.get_error_domain() == getattr(libvirt, 'VIR_FROM_RPC', None)
    return getter() in codes and (from_rpc or any(word in message for word in _LOST_WORDS))


def lost_message(uri, reason):
    return ('the connection to %s was lost during the task (%s): the libvirt daemon stopped or restarted; run '
            'the task again once it answers (it re-plans from what is there; %s)' % (uri, reason, _DAEMON_HINT % uri))
