# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvm_migrate's options: checked together, turned into libvirt's migration flags and parameters, and the
security of the transports they choose (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.six.moves.urllib.parse import urlparse

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import ParameterError

STORAGE_MODES = ('shared', 'copy_all', 'copy_incremental')
TIMEOUT_ACTIONS = ('abort', 'postcopy', 'pause')
COMPRESSION_METHODS = ('xbzrle', 'mt')

# libvirt connection transports: what authenticates the daemon and encrypts the connection
_SECURE_TRANSPORTS = {
    'ssh': 'ssh (authenticated and encrypted by ssh)',
    'libssh': 'ssh (authenticated and encrypted by libssh)',
    'libssh2': 'ssh (authenticated and encrypted by libssh2)',
    'tls': 'tls (x509 certificates, encrypted)',
    'unix': 'unix socket (local)',
    '': 'unix socket (local)',
}
_INSECURE_TRANSPORTS = ('tcp',)


def transport_of(uri):
    """The transport of a libvirt URI: 'ssh', 'tls', 'tcp', 'unix', ... ('' for a local 'qemu:///system')."""
    scheme = urlparse(uri).scheme
    transport = scheme.split('+', 1)[1] if '+' in scheme else ''
    if not transport and urlparse(uri).hostname:
        return 'tls'   # libvirt's default transport for a URI with a host name
    return transport


def check_transport(parameter, uri, insecure_allowed):
    """How a libvirt connection is protected; ParameterError for an unauthenticated transport not allowed
    explicitly (`insecure_transport`)."""
    transport = transport_of(uri)
    if transport in _SECURE_TRANSPORTS:
        return _SECURE_TRANSPORTS[transport]
    if transport in _INSECURE_TRANSPORTS:
        if insecure_allowed:
            return 'tcp (unauthenticated unless the daemon requires SASL, unencrypted; allowed by insecure_transport)'
        raise ParameterError(parameter, "%s uses qemu+tcp: the connection is unencrypted and, as libvirtd is usually "
                             "set up for it (auth_tcp = none), unauthenticated, so anyone on that network can drive the "
                             "hypervisor; use qemu+ssh:// or qemu+tls://, or set insecure_transport: true to accept it"
                             % uri)
    raise ParameterError(parameter, "%s: the transport '%s' is not one kvm_migrate trusts (ssh, libssh, libssh2, tls, "
                         "unix); set insecure_transport: true to use it anyway" % (uri, transport))


def memory_stream_protection(params):
    """How the guest's memory travels: 'tls', 'tunnelled' (inside the libvirt connection) or 'clear'."""
    if params.get('tls'):
        return 'tls'
    if params.get('tunnelled'):
        return 'tunnelled'
    return 'clear'


def validate(params):
    """Refuse contradictory tunables before anything is touched; returns the effective p2p and post-copy."""
    for key in ('bandwidth', 'max_downtime', 'timeout', 'parallel_connections'):
        if params.get(key) is not None and params[key] <= 0:
            raise ParameterError(key, 'must be a positive number, got %s' % params[key])
    if params.get('reserved_memory') is not None and params['reserved_memory'] < 0:
        raise ParameterError('reserved_memory', 'must be 0 or more (MiB)')
    if params.get('dest_uri') == params.get('source_uri'):
        raise ParameterError('dest_uri', 'is the same URI as the source (%s)' % params['dest_uri'])
    p2p = params.get('p2p')
    if params.get('tunnelled'):
        if p2p is False:
            raise ParameterError('tunnelled', 'a tunnelled migration is peer-to-peer; it cannot run with p2p: false')
        p2p = True
        for key in ('tls', 'parallel_connections', 'migrate_uri'):
            if params.get(key):
                raise ParameterError('tunnelled', 'cannot be combined with %s (the memory stream goes through the '
                                     'libvirt connection)' % key)
    post_copy = params.get('post_copy')
    if params.get('timeout_action') == 'postcopy':
        if post_copy is False:
            raise ParameterError('timeout_action', 'postcopy needs post_copy allowed (true or unset), not false')
        if params.get('timeout') is None:
            raise ParameterError('timeout_action', 'postcopy switches after timeout seconds: give timeout')
        post_copy = True
    if post_copy and params.get('tunnelled'):
        raise ParameterError('post_copy', 'libvirt cannot switch a tunnelled migration to post-copy')
    if params.get('timeout_action') == 'pause' and params.get('timeout') is None:
        raise ParameterError('timeout_action', 'pause acts after timeout seconds: give timeout')
    if params.get('parallel_connections') and params.get('compressed'):
        raise ParameterError('parallel_connections', 'QEMU cannot compress a multi-connection migration; '
                             'choose compressed or parallel_connections')
    if not params.get('live', True):
        for key in ('post_copy', 'auto_converge', 'max_downtime'):
            if params.get(key):
                raise ParameterError(key, 'is a live-migration tunable; live is false')
    return bool(p2p), bool(post_copy)


def flags(params, running, copy_disks, p2p, post_copy):
    """The virDomainMigrateFlags for this run. `running`: the guest runs now; `copy_disks`: disks to copy."""
    value = 0
    if running:
        if params.get('live', True):
            value |= libvirt.VIR_MIGRATE_LIVE
    else:
        value |= libvirt.VIR_MIGRATE_OFFLINE
    if params.get('persistent', True) or not running:
        value |= libvirt.VIR_MIGRATE_PERSIST_DEST   # an offline migration moves only the definition
    if params.get('undefine_source', True):
        value |= libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
    if copy_disks:
        value |= (libvirt.VIR_MIGRATE_NON_SHARED_INC if params.get('storage') == 'copy_incremental'
                  else libvirt.VIR_MIGRATE_NON_SHARED_DISK)
    optional = (
        ('auto_converge', libvirt.VIR_MIGRATE_AUTO_CONVERGE),
        ('compressed', libvirt.VIR_MIGRATE_COMPRESSED),
        ('tunnelled', libvirt.VIR_MIGRATE_TUNNELLED),
        ('tls', libvirt.VIR_MIGRATE_TLS),
        ('unsafe', libvirt.VIR_MIGRATE_UNSAFE),
    )
    for key, flag in optional:
        if params.get(key):
            value |= flag
    if p2p:
        value |= libvirt.VIR_MIGRATE_PEER2PEER
    if post_copy and running:
        value |= libvirt.VIR_MIGRATE_POSTCOPY
    if params.get('parallel_connections'):
        value |= libvirt.VIR_MIGRATE_PARALLEL
    # the source keeps its ownership of the guest until the destination confirms, and an error in a disk
    # mirror aborts instead of going on with a broken copy
    value |= libvirt.VIR_MIGRATE_CHANGE_PROTECTION | libvirt.VIR_MIGRATE_ABORT_ON_ERROR
    return value


def parameters(params, copy_disks):
    """The typed parameters of virDomainMigrate3/ToURI3."""
    value = {}
    if params.get('bandwidth'):
        value[libvirt.VIR_MIGRATE_PARAM_BANDWIDTH] = int(params['bandwidth'])
    if params.get('migrate_uri'):
        value[libvirt.VIR_MIGRATE_PARAM_URI] = params['migrate_uri']
    if params.get('parallel_connections'):
        value[libvirt.VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS] = int(params['parallel_connections'])
    if copy_disks:
        value[libvirt.VIR_MIGRATE_PARAM_MIGRATE_DISKS] = list(copy_disks)
    if params.get('compressed') and params.get('compression_methods'):
        value[libvirt.VIR_MIGRATE_PARAM_COMPRESSION] = list(params['compression_methods'])
    return value


FLAG_NAMES = (
    ('VIR_MIGRATE_LIVE', 'live'), ('VIR_MIGRATE_OFFLINE', 'offline'), ('VIR_MIGRATE_PERSIST_DEST', 'persist_dest'),
    ('VIR_MIGRATE_UNDEFINE_SOURCE', 'undefine_source'), ('VIR_MIGRATE_NON_SHARED_DISK', 'copy_storage_all'),
    ('VIR_MIGRATE_NON_SHARED_INC', 'copy_storage_inc'), ('VIR_MIGRATE_AUTO_CONVERGE', 'auto_converge'),
    ('VIR_MIGRATE_COMPRESSED', 'compressed'), ('VIR_MIGRATE_TUNNELLED', 'tunnelled'), ('VIR_MIGRATE_TLS', 'tls'),
    ('VIR_MIGRATE_UNSAFE', 'unsafe'), ('VIR_MIGRATE_PEER2PEER', 'p2p'), ('VIR_MIGRATE_POSTCOPY', 'postcopy'),
    ('VIR_MIGRATE_PARALLEL', 'parallel'), ('VIR_MIGRATE_CHANGE_PROTECTION', 'change_protection'),
    ('VIR_MIGRATE_ABORT_ON_ERROR', 'abort_on_error'),
)


def flag_names(value):
    """The names of the flags set in `value`, as the result reports them."""
    return [name for constant, name in FLAG_NAMES if value & getattr(libvirt, constant)]
