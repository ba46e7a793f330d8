# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""lxml helpers: parse, serialize, compare elements by meaning (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.kvmops.kvm.plugins.module_utils._deps import etree

_UNIT_FACTORS = {
    'b': 1, 'bytes': 1,
    'k': 1024, 'kib': 1024, 'kb': 1000,
    'm': 1024 ** 2, 'mib': 1024 ** 2, 'mb': 1000 ** 2,
    'g': 1024 ** 3, 'gib': 1024 ** 3, 'gb': 1000 ** 3,
    't': 1024 ** 4, 'tib': 1024 ** 4, 'tb': 1000 ** 4,
}
_SIZE_RE = re.compile(r'^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$')


def parse(text):
    parser = etree.XMLParser(remove_blank_text=True, remove_comments=True)
    return etree.fromstring(text.encode('utf-8') if isinstance(text, str) else text, parser)


def to_string(element):
    return etree.tostring(element, encoding='unicode')


def pretty(element):
    return etree.tostring(element, encoding='unicode', pretty_print=True)


def sub(parent, tag, **attributes):
    """Append a child element with the given (non-None) attributes."""
    child = etree.SubElement(parent, tag)
    for key, value in attributes.items():
        if value is not None:
            child.set(key, str(value))
    return child


def ensure(parent, tag):
    """The first child named `tag`, created when missing."""
    child = parent.find(tag)
    return child if child is not None else etree.SubElement(parent, tag)


def remove_all(parent, tag):
    for child in parent.findall(tag):
        parent.remove(child)


def canonical(element):
    """A comparable form of an element: attribute order, whitespace and comments do not matter."""
    return (
        element.tag,
        tuple(sorted(element.attrib.items())),
        (element.text or '').strip(),
        tuple(canonical(child) for child in element if isinstance(child.tag, str)),
    )


def to_bytes(value, default_unit='b'):
    """'512MiB', '2 GiB', 1024 (in default_unit) -> bytes; None for None."""
    if value is None:
        return None
    match = _SIZE_RE.match(str(value))
    if not match or (match.group(2) or default_unit).lower() not in _UNIT_FACTORS:
        raise ValueError("'%s' is not a size (a number with an optional unit such as KiB, MiB, GiB)" % value)
    number, unit = match.groups()
    return int(float(number) * _UNIT_FACTORS[(unit or default_unit).lower()])
