# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Put the links, addresses, routes and files a kvm_bridge run touched back as they were (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.kvmops.kvm.plugins.module_utils._bridge.deps import NetlinkError
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import files


def _mode(path):
    try:
        return os.stat(files.host_path(path)).st_mode & 0o7777
    except OSError:
        return None


class Snapshot(object):
    """The previous state of what the run may touch: some links (by name), their routes, and files."""

    def __init__(self, state, names, paths):
        self.state = state
        self.names = sorted(set(n for n in names if n))
        self.files = dict((p, files.read_text(p)) for p in paths)
        self.modes = dict((p, _mode(p)) for p in paths)


def _order(snapshot):
    """Masters before members: bridges, then bonds and VLANs, then the rest."""
    rank = {'bridge': 0, 'bond': 1, 'vlan': 2}
    return sorted(snapshot.names, key=lambda n: (rank.get((snapshot.state.link(n) or {}).get('kind'), 3), n))


def runtime(nl, snapshot, links_only=False):
    """Restore the links of the snapshot; return what was done, one line each (errors included). With `links_only`
    (NetworkManager's checkpoint restored the rest, and is still re-activating its profiles: netlink changes would
    race with it), only the links the run made are deleted."""
    done = []
    old = snapshot.state

    def step(text, run):
        try:
            run()
            done.append(text)
        except (NetlinkError, OSError, ValueError) as exc:
            done.append('%s failed: %s' % (text, exc))

    now = nl.read()
    # links the run made: gone again (members first)
    for name in reversed(_order(snapshot)):
        if old.link(name) is None and now.link(name) is not None:
            step('deleted %s' % name, lambda n=name: nl.delete(n))
    if links_only:
        return done
    # links the run deleted: made again
    for name in _order(snapshot):
        link = old.link(name)
        if link is None or now.link(name) is not None:
            continue
        if link['kind'] == 'bridge':
            step('re-created bridge %s' % name, lambda n=name, b=link['bridge'], m=link['mac']: nl.create_bridge(
                n, b['stp'], b['forward_delay'], m))
        elif link['kind'] == 'bond':
            options = dict((k, v) for k, v in link['bond'].items() if k in ('mode', 'miimon'))
            step('re-created bond %s' % name, lambda n=name, o=options: nl.create_bond(n, o))
        elif link['kind'] == 'vlan':
            step('re-created vlan %s' % name, lambda n=name, v=link['vlan']: nl.create_vlan(n, v['parent'], v['id']))
        elif link['kind'] == 'tun':
            step('re-created tap %s' % name, lambda n=name, t=link['tun']: nl.create_tap(
                n, t['owner'], t['group'], t['multi_queue']))
    now = nl.read()
    for name in _order(snapshot):
        link, current = old.link(name), now.link(name)
        if link is None or current is None:
            continue
        if link['kind'] == 'bridge' and current.get('bridge') != link['bridge']:
            step('restored STP and forward delay of %s' % name,
                 lambda n=name, b=link['bridge']: nl.set_bridge(n, b['stp'], b['forward_delay']))
        if current['master'] != link['master']:
            into_bond = link['master'] and (old.link(link['master']) or {}).get('kind') == 'bond'

            def remaster(n=name, m=link['master'], bond=into_bond):
                if bond:
                    nl.set(n, state='down')
                nl.set(n, master=m)
            step('%s %s' % ('re-attached' if link['master'] else 'released', name), remaster)
        if current['mtu'] != link['mtu']:
            step('restored MTU %s of %s' % (link['mtu'], name), lambda n=name, m=link['mtu']: nl.set(n, mtu=m))
        if link['kind'] == 'bridge' and current['mac'] != link['mac'] and link['mac']:
            step('restored MAC of %s' % name, lambda n=name, m=link['mac']: nl.set(n, address=m))
        if current['up'] != link['up'] or (into_bond_member(old, link) and not current['up']):
            step('%s %s' % ('brought up' if link['up'] else 'brought down', name),
                 lambda n=name, u=link['up']: nl.set(n, state='up' if u else 'down'))
    now = nl.read()
    for name in snapshot.names:
        if now.link(name) is None:
            continue
        wanted = old.addresses.get(name, [])
        have = now.addresses.get(name, [])
        for address in [a for a in wanted if a not in have]:
            step('restored address %s on %s' % (address, name), lambda n=name, a=address: nl.add_address(n, a))
    now = nl.read()
    for route in old.routes:
        if route['dev'] in snapshot.names and route['proto'] != 2 and not _has(now.routes, route):
            via = ' via %s' % route['gateway'] if route['gateway'] else ''
            step('restored route %s%s on %s' % (route['dst'], via, route['dev']),
                 lambda r=route: nl.replace_route(r, r['dev']))
    now = nl.read()
    for name in snapshot.names:
        if now.link(name) is None:
            continue
        for address in [a for a in now.addresses.get(name, []) if a not in old.addresses.get(name, [])]:
            step('removed address %s from %s' % (address, name), lambda n=name, a=address: nl.remove_address(n, a))
    return done


def into_bond_member(old, link):
    return bool(link['master']) and (old.link(link['master']) or {}).get('kind') == 'bond' and link['up']


def _has(routes, route):
    return any(r['dst'] == route['dst'] and r['gateway'] == route['gateway'] and r['dev'] == route['dev']
               and r['family'] == route['family'] for r in routes)


def persistent(module, snapshot):
    """Put the files back as they were; return what was done."""
    done = []
    for path in sorted(snapshot.files):
        text = snapshot.files[path]
        try:
            if text is None:
                if files.exists(path):
                    files.remove(path)
                    done.append('removed %s' % path)
            elif files.read_text(path) != text:
                files.write_atomically(module, path, text, snapshot.modes.get(path) or 0o644)
                done.append('restored %s' % path)
        except (IOError, OSError) as exc:
            done.append('restoring %s failed: %s' % (path, exc))
    return done
