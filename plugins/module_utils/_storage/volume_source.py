# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a new volume's content comes from: another volume, a local file or a URL (private to kvmops.kvm).

Files and downloads reach the volume through libvirt's upload stream, so a remote hypervisor works
the same as a local one; a download is verified against its checksum on a temporary file first.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.kvmops.kvm.plugins.module_utils._storage import download as _download
from ansible_collections.kvmops.kvm.plugins.module_utils._storage import volume_model as model
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import ParameterError, libvirt_reason


class Source(object):
    """The content of a volume about to be created. format/size are None until known (URLs: downloaded)."""

    def __init__(self, kind, label, fmt=None, size=None, volume=None, path=None, checksum=None):
        self.kind = kind
        self.label = label
        self.format = fmt
        self.size = size
        self.volume = volume
        self.path = path
        self.checksum = checksum

    def describe(self):
        if self.kind == 'volume':
            return 'clone of volume %s' % self.label
        if self.kind == 'file':
            return 'import of %s%s' % (self.label, ' (%s checked)' % self.checksum[0] if self.checksum else '')
        return 'download of %s (%s checked before use)' % (self.label, self.checksum[0])


def resolve(conn, given, pool, pool_name):
    """The Source for the `source` option (already checked to hold exactly one of volume, file, url)."""
    checksum = _download.parse_checksum('source.checksum', given['checksum']) if given.get('checksum') else None
    if given.get('volume'):
        if checksum:
            raise ParameterError('source.checksum', 'a checksum verifies a file or a download, not a clone')
        return _clone_source(conn, given, pool, pool_name)
    if given.get('file'):
        return _file_source(given['file'], checksum)
    url = given['url']
    if not url.lower().startswith(('http://', 'https://')):
        raise ParameterError('source.url', "'%s' is not an http(s) URL" % url)
    if not checksum:
        raise ParameterError('source.checksum', 'a download needs the checksum it is verified against, e.g. '
                                                'sha256:<64 hex digits> (the image publisher\'s SHA256SUMS)')
    return Source('url', url, checksum=checksum)


def _clone_source(conn, given, pool, pool_name):
    other_pool_name = given.get('pool') or pool_name
    other_pool = pool
    if other_pool_name != pool_name:
        try:
            other_pool = conn.storagePoolLookupByName(other_pool_name)
        except libvirt.libvirtError as exc:
            raise ParameterError('source.pool', "no pool '%s': %s" % (other_pool_name, libvirt_reason(exc)))
    try:
        volume = other_pool.storageVolLookupByName(given['volume'])
    except libvirt.libvirtError as exc:
        raise ParameterError('source.volume', "no volume '%s' in pool '%s': %s"
                             % (given['volume'], other_pool_name, libvirt_reason(exc)))
    live = model.read(_xml.parse(volume.XMLDesc(0)))
    return Source('volume', '%s/%s' % (other_pool_name, given['volume']), live['format'], live['capacity'],
                  volume=volume)


def _file_source(path, checksum):
    # read on the machine the module runs on, and streamed to the (possibly remote) daemon
    if not os.path.isabs(path) or not os.path.isfile(path):
        raise ParameterError('source.file', "'%s' is not a file on the machine the module runs on" % path)
    try:
        fmt, size = model.image_info(path)
    except (IOError, OSError) as exc:
        raise ParameterError('source.file', "cannot read '%s': %s" % (path, exc.strerror))
    return Source('file', path, fmt, size, path=path, checksum=checksum)


def upload(conn, volume, path):
    """Stream a local file into a volume (the volume's file is overwritten from its start)."""
    length = os.path.getsize(path)
    stream = conn.newStream(0)
    try:
        volume.upload(stream, 0, length, 0)
        with open(path, 'rb') as content:
            stream.sendAll(lambda _stream, nbytes, handle: handle.read(nbytes), content)
        stream.finish()
    except Exception:
        try:
            stream.abort()
        except libvirt.libvirtError:
            pass
        raise
