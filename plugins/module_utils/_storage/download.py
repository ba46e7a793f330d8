# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checksums, and downloads verified against one before anything uses them (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import os
import re
import tempfile

from ansible.module_utils.urls import open_url

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import ParameterError

ALGORITHMS = {'sha1': 40, 'sha256': 64, 'sha512': 128}   # name -> length in hex digits
CHUNK = 1024 * 1024
TIMEOUT = 60


class DownloadError(Exception):
    """The download failed or its checksum did not match; nothing was kept."""


def parse_checksum(parameter, value):
    """'sha256:<hex>' -> ('sha256', '<hex, lower-case>')."""
    algorithm, _sep, digest = (value or '').strip().partition(':')
    algorithm, digest = algorithm.lower(), digest.strip().lower()
    if algorithm not in ALGORITHMS or not re.match(r'^[0-9a-f]+$', digest) or len(digest) != ALGORITHMS[algorithm]:
        raise ParameterError(parameter, "'%s' is not a checksum: use '<algorithm>:<hex digest>' with sha256, sha512 "
                                        "or sha1, e.g. sha256:%s" % (value, '0' * 64))
    return algorithm, digest


def file_digest(path, algorithm):
    digest = hashlib.new(algorithm)
    with open(path, 'rb') as stream:
        for chunk in iter(lambda: stream.read(CHUNK), b''):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path, checksum, what):
    algorithm, expected = checksum
    actual = file_digest(path, algorithm)
    if actual != expected:
        raise DownloadError('the %s of %s is %s, not the expected %s: refusing to use it'
                            % (algorithm, what, actual, expected))


def _open(url):
    # open_url raises (fetch_url would fail the module itself, and only the engine may)
    try:
        return open_url(url, timeout=TIMEOUT, http_agent='kvmops.kvm')
    except Exception as exc:  # HTTPError, URLError, SSL and socket errors all mean the same here
        raise DownloadError('cannot download %s: %s' % (url, exc))


def _declared_length(response):
    """The Content-Length the server announced, or None."""
    try:
        value = response.headers.get('Content-Length') if hasattr(response, 'headers') else None
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def download(url, checksum, directory=None):
    """Fetch url into a temporary file, verify it, return its path (the caller removes it)."""
    response = _open(url)
    algorithm, expected = checksum
    digest = hashlib.new(algorithm)
    descriptor, path = tempfile.mkstemp(prefix='kvmops-download-', dir=directory)
    expected_length = _declared_length(response)
    received = 0
    try:
        try:
            with os.fdopen(descriptor, 'wb') as stream:
                for chunk in iter(lambda: response.read(CHUNK), b''):
                    digest.update(chunk)
                    stream.write(chunk)
                    received += len(chunk)
        except (IOError, OSError) as exc:
            raise DownloadError('downloading %s broke off: %s' % (url, exc))
        # a server that closes early ends the body without an error: the length it announced tells
        if expected_length is not None and received != expected_length:
            raise DownloadError('downloading %s broke off after %d of %d bytes; the partial file was discarded'
                                % (url, received, expected_length))
        if digest.hexdigest() != expected:
            raise DownloadError('the %s of %s is %s, not the expected %s: the download was discarded'
                                % (algorithm, url, digest.hexdigest(), expected))
    except Exception:
        os.unlink(path)
        raise
    return path
