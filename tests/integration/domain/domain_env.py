"""Names and clean-up shared by the kvm_domain tests."""

import os
import shutil

import libvirt

PREFIX = 'kvmtestd-'
NETWORK = PREFIX + 'net'
DISK_DIR = '/var/lib/libvirt/images/kvmtestd'
IMAGES = '/var/lib/libvirt/images'
NETWORK_XML = """<network><name>%s</name><forward mode='nat'/><bridge name='kvmt-dnet0'/>
<ip address='10.213.99.1' prefix='24'><dhcp><range start='10.213.99.10' end='10.213.99.99'/></dhcp></ip>
</network>""" % NETWORK


def purge(conn):
    """The suite's guests (not its network, which lives for the whole module) and disk files."""
    for dom in conn.listAllDomains():
        if dom.name().startswith(PREFIX):
            if dom.isActive():
                dom.destroy()
            if dom.isPersistent():
                dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM | libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
    shutil.rmtree(DISK_DIR, ignore_errors=True)
    for name in os.listdir(IMAGES) if os.path.isdir(IMAGES) else []:
        if name.startswith(PREFIX):
            os.unlink(os.path.join(IMAGES, name))
