# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The parts of a user's full `xml` that a resource's typed model does not cover, compared by meaning
(private to kvmops.kvm).

What the user wrote must be in the definition, which may say more (defaults and addresses libvirt filled
in); sizes compare in bytes, children in any order (xml.covers). A resource declares what its model
compares itself; of the rest,
  - an element that stands once at the top (a domain's <clock>, <features>, <on_crash>) is laid over the
    definition's element of that name when it differs, keeping whatever the user did not mention;
  - elements that may repeat, in a container (a domain's <devices>) or at the top (a network's <portgroup>s
    and <route>s) must each be covered by an element of their own; one that is not replaces its counterpart
    (same identifying attributes: type, name, index..., keeping the address libvirt gave it) or is added.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.compare import Difference
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import etree

KEPT_ON_REPLACE = ('address', 'alias')


def label(tag):
    """A tag as a diff path shows it: without its namespace."""
    return etree.QName(tag).localname if tag.startswith('{') else tag


def _is_element(node):
    return isinstance(node.tag, str)


def unmodelled_part(element, attributes, children):
    """A copy of `element` without the attributes and children the model compares, or None when nothing is
    left."""
    part = copy.deepcopy(element)
    for key in attributes:
        part.attrib.pop(key, None)
    for child in list(part):
        if not _is_element(child) or child.tag in children:
            part.remove(child)
    return part if len(part) or part.attrib else None


def _grouped(elements):
    """[(tag, [elements])] in tag order."""
    groups = {}
    for element in elements:
        groups.setdefault(element.tag, []).append(element)
    return sorted(groups.items())


def _shown(element):
    return _xml.to_string(element) if element is not None else None


class ExtraElements(object):
    """The elements of a user's XML outside the typed model, and how they compare with a definition."""

    def __init__(self, root, modelled=(), parts=None, containers=None, repeated=False):
        """modelled: the top-level tags the model compares itself; parts: {tag: (attributes, children)} of
        top-level elements the model compares in part (the rest is compared under '<tag>.other');
        containers: {tag: the child tags the model compares} of top-level containers whose other children
        repeat (compared under '<container>.<tag>'); repeated: top-level elements repeat too (compared
        under '<tag>')."""
        parts = parts or {}
        self.containers = containers or {}
        self.top = []     # [(path, element)] laid over the definition
        self.lists = []   # [(container tag or None, tag, [elements])] each covered by an element of its own
        others = []
        for element in root:
            if not _is_element(element) or element.tag in modelled or element.tag in self.containers:
                continue
            if repeated:
                others.append(element)
                continue
            path = label(element.tag)
            if element.tag in parts:
                element = unmodelled_part(element, *parts[element.tag])
                if element is None:
                    continue
                path += '.other'   # beside the typed fields' paths (cpu.mode...) in the diff
            self.top.append((path, element))
        self.lists = [(None, tag, elements) for tag, elements in _grouped(others)]
        for where in sorted(self.containers):
            container = root.find(where)
            children = [c for c in (container if container is not None else [])
                        if _is_element(c) and c.tag not in self.containers[where]]
            self.lists += [(where, tag, elements) for tag, elements in _grouped(children)]

    def differences(self, root):
        """[Difference] between these elements and a definition (or live XML)."""
        found = []
        for path, want in self.top:
            have = root.find(want.tag)
            if have is None or not _xml.covers(want, have):
                found.append(Difference(path, _shown(have), _shown(want)))
        for where, tag, wanted in self.lists:
            parent = root if where is None else root.find(where)
            have = parent.findall(tag) if parent is not None else []
            if _match(wanted, have)[0]:
                path = label(tag) if where is None else '%s.%s' % (label(where), label(tag))
                found.append(Difference(path, [_shown(e) for e in have] or None, [_shown(e) for e in wanted]))
        return found

    def write(self, root):
        """Lay the elements that differ over a definition, in place."""
        for _path, want in self.top:
            have = root.find(want.tag)
            if have is None:
                root.append(copy.deepcopy(want))
            elif not _xml.covers(want, have):
                _xml.overlay(want, have)
        for where in sorted(self.containers):
            _xml.ensure(root, where)
        for where, tag, wanted in self.lists:
            _replace_missing(root if where is None else root.find(where), tag, wanted)
        return root


def _match(wanted, have):
    """Each wanted element takes the first free one that covers it: (wanted ones left without one, elements
    taken)."""
    free = list(have)
    missing = []
    for want in wanted:
        match = next((e for e in free if _xml.covers(want, e)), None)
        if match is None:
            missing.append(want)
        else:
            free.remove(match)
    return missing, [e for e in have if e not in free]


def _replace_missing(parent, tag, wanted):
    have = parent.findall(tag)
    missing, taken = _match(wanted, have)
    for want in missing:
        replaced = _xml.counterpart(want, [e for e in have if e not in taken])
        new = copy.deepcopy(want)
        if replaced is None:
            parent.append(new)
            continue
        for kept in KEPT_ON_REPLACE:
            if new.find(kept) is None and replaced.find(kept) is not None:
                new.append(copy.deepcopy(replaced.find(kept)))
        parent.replace(replaced, new)
        taken.append(replaced)
