# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvm_host: kernel modules, their nested option, and the files that persist them (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import gzip
import io
import os
import re

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import files as _files

MODULES_LOAD_FILE = '/etc/modules-load.d/kvmops-kvm.conf'
NESTED_FILE = '/etc/modprobe.d/kvmops-kvm-nested.conf'
MODPROBE_DIRS = ('/etc/modprobe.d', '/run/modprobe.d', '/usr/local/lib/modprobe.d', '/usr/lib/modprobe.d',
                 '/lib/modprobe.d')
_HEADER = '# Managed by kvmops.kvm.kvm_host: %s\n'

LOADED, BUILTIN, AVAILABLE, ABSENT = 'loaded', 'builtin', 'available', 'absent'
# The kernel config symbol of modules kvm_host knows: a built-in module does not always show
# under /sys/module (only when it has parameters or a version), but the config tells.
CONFIG_SYMBOLS = {
    'kvm': 'KVM', 'kvm_intel': 'KVM_INTEL', 'kvm_amd': 'KVM_AMD', 'kvm_pvm': 'KVM_PVM',
    'vhost_net': 'VHOST_NET', 'vhost_vsock': 'VHOST_VSOCK', 'tun': 'TUN', 'bridge': 'BRIDGE',
    'br_netfilter': 'BRIDGE_NETFILTER', 'bonding': 'BONDING', '8021q': 'VLAN_8021Q',
    'macvlan': 'MACVLAN', 'macvtap': 'MACVTAP', 'veth': 'VETH', 'vxlan': 'VXLAN', 'dummy': 'DUMMY',
    'team': 'NET_TEAM', 'vfio_pci': 'VFIO_PCI', 'vfio': 'VFIO', 'nbd': 'BLK_DEV_NBD', 'loop': 'BLK_DEV_LOOP',
    'nfs': 'NFS_FS', 'nfsd': 'NFSD', 'iscsi_tcp': 'ISCSI_TCP', 'dm_multipath': 'DM_MULTIPATH',
}
_NAME = re.compile(r'^[A-Za-z0-9_-]{1,64}$')


def canonical(name):
    """modprobe treats '-' and '_' in module names alike; /sys/module uses '_'."""
    return name.replace('-', '_')


def valid_name(name):
    return bool(_NAME.match(name or ''))


def kernel_release():
    return os.uname()[2]


def kernel_config(release):
    """{symbol: 'y'|'m'|'n'} from /proc/config.gz or /boot/config-<release>; empty when neither exists."""
    text = None
    try:
        with gzip.open(_files.host_path('/proc/config.gz')) as stream:
            text = io.TextIOWrapper(stream, encoding='utf-8', errors='replace').read()
    except (IOError, OSError, EOFError):
        text = _files.read_text('/boot/config-%s' % release)
    config = {}
    for line in (text or '').splitlines():
        match = re.match(r'^CONFIG_(\w+)=(.*)$', line) or re.match(r'^# CONFIG_(\w+) is not set$', line)
        if match:
            config[match.group(1)] = match.group(2) if match.lastindex == 2 else 'n'
    return config


def builtin_list(release):
    """Module names listed in modules.builtin (paths like kernel/net/bridge/bridge.ko)."""
    text = _files.read_text('/lib/modules/%s/modules.builtin' % release, '')
    return set(canonical(os.path.basename(line.strip()).split('.')[0]) for line in text.splitlines() if line.strip())


class KernelModules(object):
    """What the running kernel says about its modules; loading goes through modprobe."""

    def __init__(self, run_command, release=None):
        self.run_command = run_command
        self.release = release or kernel_release()
        self.loadable_modules = _files.exists('/proc/modules')
        self.config = kernel_config(self.release)
        self.builtin = builtin_list(self.release)
        self.present = set(_files.list_dir('/sys/module'))

    def state(self, name):
        """(state, how we know): loaded, builtin, available (can be loaded) or absent."""
        name = canonical(name)
        if name in self.present:
            if _files.exists('/sys/module/%s/initstate' % name):
                return LOADED, '/sys/module/%s/initstate' % name
            return BUILTIN, '/sys/module/%s without initstate' % name
        if name in self.builtin:
            return BUILTIN, 'modules.builtin'
        symbol = CONFIG_SYMBOLS.get(name)
        setting = self.config.get(symbol) if symbol else None
        if setting == 'y':
            return BUILTIN, 'CONFIG_%s=y' % symbol
        if not self.loadable_modules:
            if setting == 'n':
                return ABSENT, 'CONFIG_%s is not set in kernel %s' % (symbol, self.release)
            return ABSENT, 'kernel %s has no loadable modules' % self.release
        rc, _out, err = self._modprobe('--dry-run', '--quiet', name)
        if rc == 0:
            return AVAILABLE, 'modprobe --dry-run'
        return ABSENT, err.strip() or 'modprobe cannot find it (kernel %s)' % self.release

    def parameter(self, name, parameter):
        value = _files.read_text('/sys/module/%s/parameters/%s' % (canonical(name), parameter))
        return None if value is None else value.strip()

    def refcount(self, name):
        value = _files.read_text('/sys/module/%s/refcnt' % canonical(name))
        return int(value) if value and value.strip().isdigit() else 0

    def load(self, name):
        rc, _out, err = self._modprobe(name)
        return rc == 0, err.strip()

    def unload(self, name):
        rc, _out, err = self._modprobe('--remove', name)
        return rc == 0, err.strip()

    def _modprobe(self, *args):
        try:
            return self.run_command(['modprobe'] + list(args))
        except (IOError, OSError) as exc:
            return 1, '', 'cannot run modprobe: %s' % exc


def flag(value):
    """A boolean module parameter as the kernel shows it (Y/N or 1/0); None when unknown."""
    if value is None:
        return None
    return value.strip().upper() in ('Y', '1', 'ON', 'YES', 'TRUE')


# ------------------------------------------------------------ /etc/modules-load.d

def parse_modules_load(text):
    """The module names a modules-load.d file lists, as a set; None for a missing file."""
    if text is None:
        return None
    names = set()
    for line in text.splitlines():
        line = line.split('#', 1)[0].split(';', 1)[0].strip()
        if line:
            names.add(canonical(line))
    return names


def render_modules_load(names):
    return _HEADER % 'kernel modules loaded at boot' + ''.join('%s\n' % name for name in sorted(names))


# ------------------------------------------------------------ /etc/modprobe.d options

def parse_options(text):
    """{module: {parameter: value}} from the 'options' lines of a modprobe.d file; None when missing."""
    if text is None:
        return None
    options = {}
    for line in text.splitlines():
        words = line.split('#', 1)[0].split()
        if len(words) >= 2 and words[0] == 'options':
            params = options.setdefault(canonical(words[1]), {})
            for word in words[2:]:
                key, _sep, value = word.partition('=')
                params[key] = value
    return options


def render_options(options):
    lines = [_HEADER % 'kernel module options']
    for module in sorted(options):
        params = ' '.join('%s=%s' % (key, options[module][key]) for key in sorted(options[module]))
        lines.append('options %s %s\n' % (module, params))
    return ''.join(lines)


def other_option_files(module, parameter, own_file):
    """modprobe.d files besides our own that set the same option (modprobe would combine them)."""
    found = []
    for directory in MODPROBE_DIRS:
        for name in _files.list_dir(directory):
            path = '%s/%s' % (directory, name)
            if not name.endswith('.conf') or path == own_file:
                continue
            options = parse_options(_files.read_text(path)) or {}
            if parameter in options.get(canonical(module), {}):
                found.append(path)
    return found
