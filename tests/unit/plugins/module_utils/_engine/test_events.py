"""Waiting on libvirt events instead of sleeping (_engine/events.py).

The wake-up logic is shown with a stand-in connection that delivers events when told; the test driver then shows
a real lifecycle event ending a wait (it emits them for its own state changes)."""

import threading

import pytest

libvirt = pytest.importorskip('libvirt')

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import events  # noqa: E402


class Dom(object):
    def __init__(self, uuid):
        self.uuid = uuid

    def UUIDString(self):
        return self.uuid


class Conn(object):
    """Keeps the registered callback so a test can deliver an event."""

    def __init__(self):
        self.callbacks = {}
        self.registered = []

    def domainEventRegisterAny(self, dom, event_id, callback, opaque):
        self.registered.append((dom.UUIDString(), event_id))
        self.callbacks[len(self.registered)] = callback
        return len(self.registered)

    def domainEventDeregisterAny(self, callback_id):
        del self.callbacks[callback_id]

    def deliver(self, dom):
        for callback in list(self.callbacks.values()):
            callback(self, dom, 0, 0, None)


def test_a_condition_already_true_returns_at_once_and_deregisters():
    conn, dom = Conn(), Dom('u1')
    assert events.wait_until(conn, dom, libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, lambda: True, 5) is True
    assert conn.registered == [('u1', libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED)] and conn.callbacks == {}


def test_an_event_of_the_domain_wakes_the_wait_to_ask_again():
    conn, dom = Conn(), Dom('u1')
    asked = []

    def done():
        asked.append(True)
        if len(asked) == 1:
            conn.deliver(Dom('u1'))   # the event arrives while the wait is under way
            return False
        return True
    # a long timeout: only the event can end this wait quickly
    assert events.wait_until(conn, dom, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, done, 3600) is True
    assert len(asked) == 2 and conn.callbacks == {}


def test_events_of_other_domains_do_not_wake_it_and_the_timeout_ends_it():
    conn, dom = Conn(), Dom('u1')
    asked = []

    def done():
        asked.append(True)
        conn.deliver(Dom('other'))
        return False
    assert events.wait_until(conn, dom, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, done, 0.2) is False
    assert len(asked) == 2   # once at the start, once when the time was up
    assert conn.callbacks == {}


def test_the_callback_is_deregistered_when_the_condition_fails():
    conn, dom = Conn(), Dom('u1')

    def done():
        raise libvirt.libvirtError('domain vanished')
    with pytest.raises(libvirt.libvirtError):
        events.wait_until(conn, dom, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, done, 5)
    assert conn.callbacks == {}


@pytest.fixture
def evented():
    """A test-driver connection opened after the event loop started (as KvmModule does for uses_events)."""
    events.start_event_loop()
    thread = events._loop['thread']   # pylint: disable=protected-access
    events.start_event_loop()   # a second call starts no second loop
    assert events._loop['thread'] is thread and thread.is_alive()   # pylint: disable=protected-access
    libvirt.registerErrorHandler(lambda *_: None, None)
    conn = libvirt.open('test:///default')
    yield conn
    conn.close()


def test_a_real_lifecycle_event_ends_the_wait(evented):
    dom = evented.lookupByName('test')   # the test driver's running guest
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    pause = threading.Thread(target=dom.suspend)

    def paused():
        if not pause.is_alive() and pause.ident is None:
            pause.start()   # the guest is paused from elsewhere once the wait has begun
            return False
        return dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED
    try:
        # a long timeout: only the lifecycle event can end this wait quickly
        assert events.wait_until(evented, dom, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, paused, 3600) is True
    finally:
        if pause.ident is not None:
            pause.join()
        dom.resume()


def test_wait_for_state(evented):
    dom = evented.lookupByName('test')
    assert events.wait_for_state(evented, dom, [libvirt.VIR_DOMAIN_RUNNING], 30) is True
    assert events.wait_for_state(evented, dom, [libvirt.VIR_DOMAIN_SHUTOFF], 0.1) is False
