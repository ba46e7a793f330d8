"""A libvirtd of the test's own, to restart while a module runs (the machine's libvirtd is shared with other
suites and is never restarted).

It runs in a private mount and network namespace (`unshare -m -n`): /etc/libvirt, /run/libvirt, /var/lib/libvirt,
/var/log/libvirt and /var/cache/libvirt are bind mounts of directories under /var/tmp/kvmth-libvirtd-*, so it
sees none of the machine's guests, networks or pools and the machine's daemon sees none of its own; its network
driver cannot touch the machine's interfaces or firewall. The rest of the file system is the machine's (its dir
pools are ordinary directories). It answers on qemu:///system?socket=<dir>/run/libvirt-sock; the process
started is libvirtd itself (unshare and sh exec into it), so stopping it is a signal to that one pid.
"""

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time

import libvirt

from hardening_env import PREFIX

_DIRS = {'etc': '/etc/libvirt', 'run': '/run/libvirt', 'varlib': '/var/lib/libvirt', 'log': '/var/log/libvirt',
         'cache': '/var/cache/libvirt'}
_CONFIG = ('unix_sock_group = "root"\nunix_sock_rw_perms = "0700"\nauth_unix_rw = "none"\nauth_unix_ro = "none"\n'
           'log_outputs = "3:file:/var/log/libvirt/libvirtd.log"\n')


def sweep():
    """Stop and remove what an earlier run killed outright left behind: each daemon by the pid file in its own
    /var/tmp/kvmth-libvirtd-* directory (checked to be a libvirtd), then the directory."""
    for root in glob.glob('/var/tmp/%s-libvirtd-*' % PREFIX):
        try:
            with open(os.path.join(root, 'run', 'libvirtd.pid')) as stream:
                pid = int(stream.read().strip())
            with open('/proc/%d/cmdline' % pid, 'rb') as stream:
                if stream.read().split(b'\0')[0].endswith(b'libvirtd'):
                    os.kill(pid, signal.SIGKILL)
        except (IOError, OSError, ValueError):
            pass
        shutil.rmtree(root, ignore_errors=True)


class PrivateLibvirtd(object):
    def __init__(self, host_uuid=None):
        self.root = tempfile.mkdtemp(prefix=PREFIX + '-libvirtd-', dir='/var/tmp')
        for sub in _DIRS:
            os.makedirs(os.path.join(self.root, sub))
        with open(os.path.join(self.root, 'etc', 'libvirtd.conf'), 'w') as stream:
            stream.write(_CONFIG)
            if host_uuid:   # another host as far as libvirt can tell (kvm_migrate compares host UUIDs)
                stream.write('host_uuid = "%s"\n' % host_uuid)
        self.socket = os.path.join(self.root, 'run', 'libvirt-sock')
        self.uri = 'qemu:///system?socket=%s' % self.socket
        self.proc = None
        self.starts = 0

    def start(self, timeout=30):
        mounts = '; '.join('mount --bind %s %s' % (os.path.join(self.root, sub), target)
                           for sub, target in sorted(_DIRS.items()))
        script = 'set -e; %s; exec libvirtd --pid-file /run/libvirt/libvirtd.pid' % mounts
        with open(os.path.join(self.root, 'libvirtd.out'), 'a') as out:
            self.proc = subprocess.Popen(['unshare', '-m', '-n', '--propagation', 'private', 'sh', '-c', script],
                                         stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.starts += 1
        deadline = time.time() + timeout
        while not self.answers():
            assert self.proc.poll() is None, 'private libvirtd exited: %s' % self.log()
            assert time.time() < deadline, 'private libvirtd does not answer on %s' % self.uri
            time.sleep(0.05)
        return self

    def answers(self):
        if not os.path.exists(self.socket):
            return False
        try:
            conn = libvirt.open(self.uri)
        except libvirt.libvirtError:
            return False
        try:
            return conn.getLibVersion() > 0
        finally:
            conn.close()

    def stop(self, sig=signal.SIGTERM):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(sig)
        if sig == signal.SIGSTOP:
            return
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
        if os.path.exists(self.socket):   # a daemon killed outright leaves its socket file
            os.unlink(self.socket)

    def resume(self):
        """Let a daemon frozen with stop(signal.SIGSTOP) go on."""
        self.proc.send_signal(signal.SIGCONT)

    def restart(self, sig=signal.SIGTERM):
        """As `systemctl restart libvirtd` does (SIGTERM), or a crash and a restart (SIGKILL)."""
        self.stop(sig)
        return self.start()

    def pending_requests(self):
        """Bytes clients sent the daemon that it has not read yet. A connection accepted from a client lives in
        the client's network namespace (here the machine's), so `ss` is asked there, for this daemon's sockets."""
        out = subprocess.run(['ss', '-x', '-p', '-H'], capture_output=True, text=True, check=False).stdout
        mine = 'pid=%d,' % self.proc.pid
        return sum(int(line.split()[2]) for line in out.splitlines() if mine in line)

    def log(self):
        path = os.path.join(self.root, 'log', 'libvirtd.log')
        if not os.path.exists(path):
            return ''
        with open(path) as stream:
            return stream.read()[-2000:]

    def remove(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        shutil.rmtree(self.root, ignore_errors=True)
