# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""NoCloud seed ISOs for cloud-init, built with pycdlib and compared by content (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import io
import json
import os
import tempfile
import traceback

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import MissingLibrary
# the seed's owner is QEMU's user, which kvm_host's QEMU facts already know how to find
from ansible_collections.kvmops.kvm.plugins.module_utils._host.qemu import qemu_user

try:
    import pycdlib
    PYCDLIB_IMPORT_ERROR = None
except ImportError:
    pycdlib = None
    PYCDLIB_IMPORT_ERROR = traceback.format_exc()

VOLUME_ID = 'cidata'
FILES = ('user-data', 'meta-data', 'network-config')


def _text(value, header=None):
    """Strings are used as given; dicts and lists become JSON, which is YAML too."""
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        value = json.dumps(value, indent=2, sort_keys=True)
        if header:
            value = header + '\n' + value
    return value if value.endswith('\n') else value + '\n'


def seed_files(name, cloud_init):
    """The seed's files as bytes, by file name (meta-data gets instance-id and hostname by default)."""
    meta = cloud_init.get('meta_data')
    if meta is None:
        meta = {'instance-id': name, 'local-hostname': name}
    files = {
        'user-data': _text(cloud_init.get('user_data') or {}, header='#cloud-config'),
        'meta-data': _text(meta),
        'network-config': _text(cloud_init.get('network_config')),
    }
    return dict((key, value.encode('utf-8')) for key, value in files.items() if value is not None)


def _require():
    if pycdlib is None:
        raise MissingLibrary('pycdlib', PYCDLIB_IMPORT_ERROR, reason='to build cloud-init seed ISOs')


def read_seed(path):
    """The files of an existing seed ISO, or None when there is none (or it is not a readable ISO)."""
    _require()
    if not os.path.exists(path):
        return None
    iso = pycdlib.PyCdlib()
    try:
        iso.open(path)
    except pycdlib.pycdlibexception.PyCdlibException:
        return None
    try:
        files = {}
        for name in FILES:
            buffer = io.BytesIO()
            try:
                iso.get_file_from_iso_fp(buffer, joliet_path='/' + name)
            except pycdlib.pycdlibexception.PyCdlibException:
                continue
            files[name] = buffer.getvalue()
        return files
    finally:
        iso.close()


def write_seed(path, files):
    """Write the ISO next to its final place and move it there, so a guest never sees half of it."""
    _require()
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, joliet=3, rock_ridge='1.09', vol_ident=VOLUME_ID)
    for index, (name, data) in enumerate(sorted(files.items())):
        iso.add_fp(io.BytesIO(data), len(data), '/FILE%d.;1' % index, rr_name=name, joliet_path='/' + name)
    handle, temporary = tempfile.mkstemp(prefix='.seed-', dir=os.path.dirname(path))
    os.close(handle)
    try:
        iso.write(temporary)
        # user-data holds secrets: readable by QEMU's user only (libvirt's dynamic ownership would hand it
        # over at start anyway; owning it already works where that is off)
        os.chmod(temporary, 0o600)
        user = qemu_user()
        if user is not None and os.geteuid() == 0:
            os.chown(temporary, user.pw_uid, user.pw_gid)
        os.rename(temporary, path)
    finally:
        iso.close()
        if os.path.exists(temporary):
            os.unlink(temporary)
