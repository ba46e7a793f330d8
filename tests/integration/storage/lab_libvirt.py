"""Turn a lab Debian guest into a KVM host for the netfs tests: install libvirt (daemon, python bindings,
lxml) into it although guests have no network.

The guest resolves what it lacks against this machine's package lists (same Debian suite), this machine
fetches exactly those .debs with `apt-get download` (cached between runs), and the guest installs them with
`apt-get --no-download`."""

import os
import subprocess
from urllib.parse import unquote

PACKAGES = ['libvirt-daemon-system', 'python3-libvirt', 'python3-lxml']
DEB_CACHE = '/var/cache/kvmops-tests/debs'
READY = 'virsh -q -c qemu:///system pool-list --all >/dev/null && python3 -c "import libvirt, lxml"'


class Unavailable(Exception):
    """libvirt cannot be installed into the guest here (the reason says why)."""


def _ssh_command(lab, ip):
    from kvmlab.keys import ssh_options
    return ['ssh', *ssh_options(lab.keys), 'root@%s' % ip]


def _pipe_tar(lab, ip, directory, members, remote):
    tar = subprocess.Popen(['tar', '-C', directory, '-cf', '-', *members], stdout=subprocess.PIPE)
    try:
        subprocess.run(_ssh_command(lab, ip) + [remote], stdin=tar.stdout, check=True, timeout=300,
                       capture_output=True)
    finally:
        tar.stdout.close()
        tar.wait()


def _needed_debs(lab, ip):
    """(package=version, file name) of every .deb the guest lacks for PACKAGES."""
    _pipe_tar(lab, ip, '/', ['var/lib/apt/lists', 'etc/apt/sources.list.d'],
              'rm -f /etc/apt/sources.list && tar -C / --exclude=lock --exclude=partial -xf -')
    out = lab.ssh(ip, 'apt-get install -y -qq --no-install-recommends --print-uris %s' % ' '.join(PACKAGES),
                  timeout=600).stdout
    needed = []
    for line in out.splitlines():
        if not line.startswith("'"):
            continue
        filename = line.split()[1]
        name, version, _arch = filename[:-len('.deb')].split('_')
        needed.append(('%s=%s' % (name, unquote(version)), filename))
    return needed


def _fetch(needed):
    os.makedirs(DEB_CACHE, exist_ok=True)
    missing = [spec for spec, filename in needed if not os.path.exists(os.path.join(DEB_CACHE, filename))]
    if missing:
        proc = subprocess.run(['apt-get', 'download', '-q', *missing], cwd=DEB_CACHE, capture_output=True,
                              text=True, timeout=600, check=False)
        if proc.returncode != 0:
            raise Unavailable('apt-get download failed: %s' % proc.stderr.strip()[-500:])
    for spec, filename in needed:
        if not os.path.exists(os.path.join(DEB_CACHE, filename)):
            raise Unavailable('apt-get download did not give %s (%s)' % (filename, spec))


def ensure_libvirt(lab, ip):
    """Install libvirt into the guest at ip unless it is there."""
    if lab.ssh(ip, READY, check=False, timeout=120).returncode == 0:
        return
    needed = _needed_debs(lab, ip)
    _fetch(needed)
    _pipe_tar(lab, ip, DEB_CACHE, [filename for _spec, filename in needed], 'tar -C /var/cache/apt/archives -xf -')
    lab.ssh(ip, 'DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends --no-download %s'
            % ' '.join(PACKAGES), timeout=600)
    lab.ssh(ip, 'systemctl start libvirtd; for i in $(seq 60); do %s && exit 0; sleep 1; done; exit 1' % READY,
            timeout=300)
