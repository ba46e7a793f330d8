# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wait for libvirt lifecycle events instead of polling (private to kvmops.kvm).

libvirt delivers events through an event loop that must be registered before the connection opens;
KvmModule does that for resources that set `uses_events = True`.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import threading
import time

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt

_loop = {'thread': None}


def start_event_loop():
    if _loop['thread'] is not None:
        return
    libvirt.virEventRegisterDefaultImpl()

    def run():
        while True:
            libvirt.virEventRunDefaultImpl()
    thread = threading.Thread(target=run, name='libvirt-events')
    thread.daemon = True
    thread.start()
    _loop['thread'] = thread


def wait_for_state(conn, dom, wanted_states, timeout):
    """Wait until dom.state() is one of wanted_states; True when it got there within timeout seconds."""
    return wait_until(conn, dom, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, lambda: dom.state()[0] in wanted_states, timeout)


def wait_until(conn, dom, event_id, done, timeout):
    """Wait until done() is true, asking again on every `event_id` event of dom; True when it was within
    timeout seconds."""
    changed = threading.Event()

    def on_event(_conn, event_dom, *_details):
        # only signal here: calling libvirt from the event thread would wait on this very thread
        if event_dom.UUIDString() == uuid:
            changed.set()

    uuid = dom.UUIDString()
    callback = conn.domainEventRegisterAny(dom, event_id, on_event, None)
    deadline = time.monotonic() + timeout
    try:
        while True:
            changed.clear()
            if done():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            changed.wait(remaining)
    finally:
        conn.domainEventDeregisterAny(callback)
