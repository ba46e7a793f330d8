# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of an NFS export before a netfs pool is defined on it (private to kvmops.kvm).

Reachability (TCP 2049, and rpcbind 111 for NFSv3), then, on the pool's own host as root, a trial
mount that tells "access denied" and root_squash apart from everything else, and SELinux's
virt_use_nfs. Each failure says what to fix; nothing is left mounted or written.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import pwd
import re
import shutil
import socket
import tempfile

NFS_PORT = 2049
RPCBIND_PORT = 111
PROBE_TIMEOUT = 3
MOUNT_TIMEOUT = 30
QEMU_CONF = '/etc/libvirt/qemu.conf'
QEMU_USERS = ('libvirt-qemu', 'qemu')   # Debian/Ubuntu, RHEL/Fedora/SUSE
SELINUX = '/sys/fs/selinux'
_V3_OPTIONS = ('vers=3', 'nfsvers=3', 'v3')


class NfsProblem(Exception):
    """What is wrong with the export, and the fix."""


def export_name(host, path):
    return '%s:%s' % ('[%s]' % host if ':' in host else host, path)


def _configured_user(conf_path):
    try:
        with open(conf_path) as stream:
            for line in stream:
                match = re.match(r'^\s*user\s*=\s*"([^"]+)"', line)
                if match:
                    return match.group(1)
    except (IOError, OSError):
        pass
    return None


def qemu_account(conf_path=QEMU_CONF):
    """(name, uid, gid) of the user QEMU runs as, or None when this host has none of the usual ones."""
    configured = _configured_user(conf_path)
    for name in ([configured.lstrip('+')] if configured else []) + list(QEMU_USERS):
        try:
            entry = pwd.getpwuid(int(name)) if name.isdigit() else pwd.getpwnam(name)
        except (KeyError, ValueError):
            continue
        return entry.pw_name, entry.pw_uid, entry.pw_gid
    return None


def probe(host, port, timeout=PROBE_TIMEOUT):
    """None when host:port accepts a TCP connection, else the reason."""
    try:
        connection = socket.create_connection((host, port), timeout=timeout)
    except (socket.error, socket.timeout) as exc:
        return str(exc) or exc.__class__.__name__
    connection.close()
    return None


def uses_v3(mount_options):
    return any(option in _V3_OPTIONS for option in mount_options or ())


def check_reachable(host, mount_options):
    ports = [NFS_PORT] + ([RPCBIND_PORT] if uses_v3(mount_options) else [])
    for port in ports:
        reason = probe(host, port)
        if reason:
            service = 'NFS' if port == NFS_PORT else 'rpcbind (NFSv3 needs it)'
            raise NfsProblem('the NFS server %s does not answer on TCP %d (%s): %s; is the server running, '
                             'the name right, and the port open in its firewall?' % (host, port, service, reason))


def selinux_virt_use_nfs(root=SELINUX):
    """None when SELinux is off; else whether the virt_use_nfs boolean is on."""
    if not os.path.exists(os.path.join(root, 'enforce')):
        return None
    try:
        with open(os.path.join(root, 'booleans', 'virt_use_nfs')) as stream:
            return stream.read().split()[0] == '1'
    except (IOError, OSError, IndexError):
        return False


class TrialMount(object):
    """Mount the export on a temporary directory, try writing as QEMU would, always unmount."""

    def __init__(self, run_command, mount_nfs, host, path, fmt, mount_options, account):
        self.run_command = run_command
        self.mount_nfs = mount_nfs
        self.export = export_name(host, path)
        self.fmt = fmt
        self.mount_options = mount_options or []
        self.account = account

    def run(self):
        """Raises NfsProblem."""
        if self.fmt == 'nfs' and not self.mount_nfs:
            raise NfsProblem('mount.nfs is missing on this host, and libvirt needs it to mount the pool: install '
                             'nfs-common (Debian, Ubuntu) or nfs-utils (RHEL, Fedora, SUSE)')
        where = tempfile.mkdtemp(prefix='kvmops-nfs-')
        try:
            self._mount(where)
            try:
                self._try_write(where)
            finally:
                self.run_command(['timeout', str(MOUNT_TIMEOUT), 'umount', where])
        finally:
            shutil.rmtree(where, ignore_errors=True)

    def _mount(self, where):
        command = ['timeout', str(MOUNT_TIMEOUT), 'mount']
        if self.fmt == 'nfs':
            command += ['-t', 'nfs']
        if self.mount_options:
            command += ['-o', ','.join(self.mount_options)]
        rc, out, err = self.run_command(command + [self.export, where])
        if rc == 0:
            return
        message = (err or out or '').strip() or 'exit code %d' % rc
        if rc == 124:
            message = 'no answer within %d seconds' % MOUNT_TIMEOUT
        hint = 'check the export exists and the server exports it to this host'
        if 'denied' in message.lower():
            hint = ('the server refuses this host: add it to the export\'s clients (exports(5) or the '
                    'EXPORT CLIENT block of nfs-ganesha)')
        raise NfsProblem('a trial mount of %s failed: %s; %s' % (self.export, message, hint))

    def _try_write(self, where):
        name, uid, gid = self.account if self.account else ('root', 0, 0)
        probe_file = os.path.join(where, '.kvmops-write-test-%d' % os.getpid())
        fix = ('export it with no_root_squash, or with anonuid=%d,anongid=%d (the %s user QEMU runs as); '
               'on nfs-ganesha: Squash = No_Root_Squash, or Anonymous_Uid/Anonymous_Gid' % (uid, gid, name))
        try:
            descriptor = os.open(probe_file, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except OSError as exc:
            raise NfsProblem('root on this host cannot create files in %s (%s): the export squashes root '
                             '(root_squash) or its directory is not writable, and libvirt could not create '
                             'volumes there; %s' % (self.export, exc.strerror, fix))
        try:
            os.close(descriptor)
            try:
                os.chown(probe_file, uid, gid)
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.EACCES, errno.EINVAL):
                    raise
                raise NfsProblem('root on this host cannot hand files in %s to %s (chown: %s): the export '
                                 'squashes root (root_squash), so QEMU, which runs as %s, could not write its '
                                 'disks; %s' % (self.export, name, exc.strerror, name, fix))
        finally:
            try:
                os.unlink(probe_file)
            except OSError:
                pass


def check_export(module, host, path, fmt, mount_options):
    """Run every check that applies here. Returns a report dict; raises NfsProblem.

    On a remote pool host only the network probe runs (from this machine) and a failure is a
    warning: the pool's host may see the server differently."""
    report = dict(export=export_name(host, path), reachable=None, mounted=None, root_squash=None,
                  selinux_virt_use_nfs=None)
    try:
        check_reachable(host, mount_options)
        report['reachable'] = True
    except NfsProblem as exc:
        if module.is_local:
            raise
        report['reachable'] = False
        module.warn('%s (probed from the machine the module runs on, not from the pool\'s host)' % exc)
    if not module.is_local or os.geteuid() != 0:
        module.warn('the NFS export %s was not test-mounted: that needs the module to run as root on the '
                    'pool\'s own host (local URI)' % report['export'])
        return report
    mount_nfs = module.ansible.get_bin_path('mount.nfs', opt_dirs=['/sbin', '/usr/sbin'])
    trial = TrialMount(module.run_command, mount_nfs, host, path, fmt, mount_options, qemu_account())
    trial.run()
    report['mounted'] = True
    report['root_squash'] = False
    selinux = selinux_virt_use_nfs()
    report['selinux_virt_use_nfs'] = selinux
    if selinux is False:
        module.warn('SELinux is on and its boolean virt_use_nfs is off: QEMU will be denied its disks on NFS; '
                    'fix: setsebool -P virt_use_nfs on')
    return report
