# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading and writing the managed host's own files (private to kvmops.kvm).

Every path is taken relative to ROOT, which is '/' on a host; unit tests point it at a fake tree.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import os
import tempfile

ROOT = '/'


def host_path(path):
    return os.path.join(ROOT, path.lstrip('/'))


def exists(path):
    return os.path.exists(host_path(path))


def read_text(path, default=None):
    """The file's text, or `default` when it is missing or unreadable."""
    try:
        with open(host_path(path), 'rb') as stream:
            return stream.read().decode('utf-8', 'replace')
    except (IOError, OSError):
        return default


def list_dir(path):
    """Sorted entry names of a directory; empty when it is missing or unreadable."""
    try:
        return sorted(os.listdir(host_path(path)))
    except (IOError, OSError):
        return []


def matching(pattern):
    """Host paths (as seen on the host, not under ROOT) that match a glob pattern, sorted."""
    prefix = host_path('/')
    return sorted('/' + found[len(prefix):].lstrip('/') for found in glob.glob(host_path(pattern)))


def write_atomically(module, path, text, mode=None):
    """Replace `path` with `text` in one rename, so a reader never sees half a file. With `mode`, the file ends with
    that mode; without, a new file gets 0644 and an existing one keeps its own."""
    target = host_path(path)
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    handle, temporary = tempfile.mkstemp(prefix='.kvmops-', dir=directory)
    try:
        with os.fdopen(handle, 'wb') as stream:
            stream.write(text.encode('utf-8'))
        os.chmod(temporary, 0o644 if mode is None else mode)
        module.ansible.atomic_move(temporary, target)
        if mode is not None:
            # atomic_move gives a file it creates the umask's default mode (0644), whatever the temporary had:
            # NetworkManager refuses a keyfile that others may read ("insecure permissions")
            os.chmod(target, mode)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def remove(path):
    try:
        os.remove(host_path(path))
    except OSError:
        if os.path.exists(host_path(path)):
            raise
