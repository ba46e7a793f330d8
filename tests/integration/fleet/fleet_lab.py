"""What the fleet suites share: their objects' names on the lab hosts, reading them back, removing them."""

import libvirt
from lxml import etree


def prefix(tag):
    """<lab prefix><tag>-: every object a fleet suite makes on the lab hosts."""
    from kvmlab import config
    return '%s%s-' % (config.PREFIX, tag)


def purge(hosts, start):
    """Remove the guests and networks whose names begin with `start` from the hosts."""
    for host in hosts:
        conn = host.connect()
        try:
            for obj in conn.listAllDomains() + conn.listAllNetworks():
                if obj.name().startswith(start):
                    persistent = obj.isPersistent()
                    if obj.isActive():
                        obj.destroy()
                    if persistent:
                        obj.undefine()
        finally:
            conn.close()


def defined_on(host, start):
    """{guest name: its persistent definition} of the guests on a lab host whose names begin with `start`."""
    conn = host.connect()
    try:
        return dict((dom.name(), etree.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)))
                    for dom in conn.listAllDomains() if dom.name().startswith(start))
    finally:
        conn.close()
