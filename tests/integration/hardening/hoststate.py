"""What 'the host unchanged' means in the hardening tests: a snapshot of everything a kvmth task could touch.

The daemon and the machine are shared with other engineers' suites, which create and remove their own objects
at any time, so the snapshot holds this suite's objects (kvmth*), the libvirt 'default' network, and the links
and files they own: every such object's persistent XML (live sizes left out), each such guest's snapshots, each of those pools' volumes, the
links named kvmth* or used as bridges by those networks (`ip -d link`), and every file under those pools'
paths (name, size, mode, owner)."""

import os
import re
import subprocess

import libvirt
from lxml import etree

PREFIX = 'kvmth'
_TIMERS = re.compile(r'\b\w+_timer\s+\S+')   # a bridge's running timers tick between two reads
_SIZES = re.compile(r"\s*<(capacity|allocation|available)( unit='[^']*')?>\d+</\1>\n?")


def _mine(name):
    return name.startswith(PREFIX) or name == 'default'


def _volume(vol):
    """What a task could change of a volume: not its timestamps or allocation, which reads and time move."""
    root = etree.fromstring(vol.XMLDesc(0).encode())
    return (vol.name(), root.findtext('capacity'), root.findtext('target/path'),
            root.find('target/format').get('type') if root.find('target/format') is not None else None,
            root.findtext('target/permissions/mode'), root.findtext('target/permissions/owner'),
            root.findtext('target/permissions/group'), root.findtext('backingStore/path'))


def snapshot(conn):
    state = {}
    bridges = set()
    for dom in conn.listAllDomains():
        if _mine(dom.name()):
            state['domain ' + dom.name()] = (dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), dom.isActive())
            state['snapshots of ' + dom.name()] = sorted((snap.getName(), snap.getXMLDesc(0))
                                                         for snap in dom.listAllSnapshots(0))
    for net in conn.listAllNetworks():
        if _mine(net.name()):
            state['network ' + net.name()] = (net.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE), net.isActive(),
                                              net.autostart())
            try:
                bridges.add(net.bridgeName())
            except libvirt.libvirtError:
                pass
    paths = []
    for pool in conn.listAllStoragePools():
        if not _mine(pool.name()):
            continue
        xml = pool.XMLDesc(libvirt.VIR_STORAGE_XML_INACTIVE)
        state['pool ' + pool.name()] = (_SIZES.sub('', xml), pool.isActive(), pool.autostart())
        path = re.search(r'<path>([^<]+)</path>', xml)
        if path:
            paths.append(path.group(1))
        if pool.isActive():
            state['volumes of ' + pool.name()] = sorted(_volume(v) for v in pool.listAllVolumes(0))
    for path in sorted(paths):
        files = []
        for root, _dirs, names in os.walk(path):
            for name in names:
                full = os.path.join(root, name)
                st = os.lstat(full)
                files.append((full, st.st_size, oct(st.st_mode), st.st_uid, st.st_gid))
        state['files under ' + path] = sorted(files)
    links = subprocess.run(['ip', '-d', '-o', 'link', 'show'], capture_output=True, text=True, check=True).stdout
    state['ip -d link'] = sorted(_TIMERS.sub('', line) for line in links.splitlines()
                                 if re.match(r'\d+: (%s[^:@ ]*|%s)[:@]' % (PREFIX, '|'.join(map(re.escape, bridges)) or 'x^'),
                                             line))
    return state


def differences(before, after):
    keys = sorted(set(before) | set(after))
    return dict((key, (before.get(key), after.get(key))) for key in keys if before.get(key) != after.get(key))
