# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""lxml helpers: parse, serialize, compare elements by meaning (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import re

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import etree

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


_IDENTITY = ('type', 'bus', 'index', 'name', 'id', 'dev')
_TARGET_IDENTITY = ('name', 'port', 'dir')


def _amount(element):
    """Bytes of a size: <memory unit='MiB'>512</memory> or <page size='2' unit='MiB'/>, else None."""
    number = (element.text or '').strip() or element.get('size')
    if element.get('unit') is None or not number:
        return None
    try:
        return to_bytes(number + element.get('unit'))
    except ValueError:
        return None


def covers(want, have):
    """Whether `have` says at least what `want` says, by meaning: every attribute, text and child of
    `want` is in `have` (which may hold more: defaults and addresses libvirt filled in). Sizes with a
    unit compare in bytes; children match in any order."""
    if want.tag != have.tag:
        return False
    sized = _amount(want)
    if sized is not None:
        if sized != _amount(have):
            return False
    elif (want.text or '').strip() and (want.text or '').strip() != (have.text or '').strip():
        return False
    for key, value in want.attrib.items():
        if not (sized is not None and key in ('unit', 'size')) and have.get(key) != value:
            return False
    free = [child for child in have if isinstance(child.tag, str)]
    for child in want:
        if not isinstance(child.tag, str):
            continue
        match = next((c for c in free if covers(child, c)), None)
        if match is None:
            return False
        free.remove(match)
    return True


def counterpart(want, candidates):
    """The candidate that `want` is meant to change: same tag, no identifying attribute (type, bus,
    index, name...) or target name/port/dir that differs, else None. A model is what changes."""
    for candidate in candidates:
        if candidate.tag != want.tag:
            continue
        if any(want.get(key) is not None and candidate.get(key) is not None and want.get(key) != candidate.get(key)
               for key in _IDENTITY):
            continue
        target, theirs = want.find('target'), candidate.find('target')
        if target is not None and theirs is not None and any(
                target.get(key) is not None and target.get(key) != theirs.get(key) for key in _TARGET_IDENTITY):
            continue
        return candidate
    return None


def overlay(want, have):
    """Lay `want` over `have` in place: its attributes and text win, its children are overlaid on
    their counterparts or appended; whatever `want` does not mention stays."""
    for key, value in want.attrib.items():
        have.set(key, value)
    if (want.text or '').strip():
        have.text = want.text
    for child in want:
        if not isinstance(child.tag, str):
            continue
        target = counterpart(child, [c for c in have if isinstance(c.tag, str)])
        if target is None:
            have.append(copy.deepcopy(child))
        else:
            overlay(child, target)
    return have
