"""Names and clean-up shared by the kvm_domain tests."""

import os
import shutil

import libvirt

# KVMOPS_TEST_SLOT=N (1-9) gives a run its own names, bridge and subnet, so two people (or two
# helpers) can run the domain suites against the same libvirtd without purging each other's guests.
SLOT = int(os.environ.get('KVMOPS_TEST_SLOT', '0'))
PREFIX = 'kvmtestd%s-' % (SLOT or '')
NETWORK = PREFIX + 'net'
SUBNET = '10.213.%d.' % (100 + SLOT)   # 10.213.92-97 are the network suite's, 10.213.47-56 the labs'
BRIDGE = 'kvmt-dnet%d' % SLOT   # the network's bridge, for guests plugged in with `bridge:`
DISK_DIR = '/var/lib/libvirt/images/' + PREFIX.rstrip('-')
IMAGES = '/var/lib/libvirt/images'
NETWORK_XML = """<network><name>%s</name><forward mode='nat'/><bridge name='%s'/>
<ip address='%s1' prefix='24'><dhcp><range start='%s10' end='%s99'/></dhcp></ip>
</network>""" % (NETWORK, BRIDGE, SUBNET, SUBNET, SUBNET)


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
