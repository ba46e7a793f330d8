"""Attach (or detach) extra NICs to a running lab Debian guest, live, on a libvirt network of the machine: the bond
slaves of the host_network scenario. Usage: lab_nics.py attach|detach URI DOMAIN NETWORK MAC [MAC...]."""
import sys

import libvirt


def _xml(network, mac):
    return ("<interface type='network'><mac address='%s'/><source network='%s'/><model type='virtio'/></interface>"
            % (mac, network))


def main(action, uri, name, network, *macs):
    conn = libvirt.open(uri)
    try:
        dom = conn.lookupByName(name)
        changed = False
        for mac in macs:
            present = ("address='%s'" % mac) in dom.XMLDesc(0)
            if action == 'attach' and not present:
                dom.attachDeviceFlags(_xml(network, mac), libvirt.VIR_DOMAIN_AFFECT_LIVE)
                changed = True
            elif action == 'detach' and present:
                dom.detachDeviceFlags(_xml(network, mac), libvirt.VIR_DOMAIN_AFFECT_LIVE)
                changed = True
        print('changed' if changed else 'ok')
    finally:
        conn.close()


if __name__ == '__main__':
    main(*sys.argv[1:])
