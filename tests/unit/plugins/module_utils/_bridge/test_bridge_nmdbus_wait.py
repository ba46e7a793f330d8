"""NetworkManager waits are driven by its D-Bus signals, not by sleeping: a state is looked at again only when a
signal came, the subscription is made once per connection and before the first look, the time limit holds."""

from collections import deque
from contextlib import contextmanager

import pytest

pytest.importorskip('jeepney')

from ansible_collections.kvmops.kvm.plugins.module_utils._bridge import nmdbus  # noqa: E402


class Bus(object):
    """A system-bus connection that delivers `signals` NetworkManager signals, then times out."""

    def __init__(self, signals):
        self.signals = signals
        self.calls = []
        self.filters = []

    @contextmanager
    def filter(self, rule):
        queue = deque(maxlen=1)
        self.filters.append(rule)
        yield queue

    def send_and_get_reply(self, message, timeout=None):
        self.calls.append(message.header.fields)
        assert self.filters, 'subscribed before the filter was in place: a signal could be lost'

    def recv_until_filtered(self, queue, timeout=None):
        assert timeout > 0
        if not self.signals:
            raise TimeoutError
        self.signals -= 1
        return 'signal'


def client(bus):
    nm = nmdbus.NetworkManager.__new__(nmdbus.NetworkManager)
    nm.conn, nm.subscribed = bus, False
    return nm


def test_the_state_is_read_again_once_per_signal_until_it_holds():
    bus, looks = Bus(signals=5), []
    nm = client(bus)
    assert nm._wait(lambda: looks.append(1) or len(looks) == 3, 30) is True
    assert len(looks) == 3 and bus.signals == 3       # two signals woke it, no more were waited for
    assert len(bus.calls) == 1                        # one AddMatch


def test_the_subscription_is_made_once_per_connection():
    bus = Bus(signals=10)
    nm = client(bus)
    nm._wait(lambda: True, 30)
    nm._wait(lambda: True, 30)
    assert len(bus.calls) == 1 and nm.subscribed


def test_no_signal_before_the_time_is_up_gives_the_last_look():
    nm = client(Bus(signals=0))
    assert nm._wait(lambda: False, 5) is False
    states = iter([False, True])
    assert client(Bus(signals=0))._wait(lambda: next(states), 5) is True


def test_wait_profiles_names_the_profiles_not_activated():
    nm = client(Bus(signals=0))
    nm.active_profiles = lambda: {'u1': nmdbus.ACTIVATED, 'u2': nmdbus.ACTIVATING}
    with pytest.raises(Exception) as failure:
        nm.wait_profiles({'u1': 'br0', 'u2': 'bond0'}, 1)
    assert "'bond0'" in str(failure.value) and 'bond0 activating' in str(failure.value)
    nm.wait_profiles({'u1': 'br0', 'u2': 'bond0'}, 1, still_activating_ok=True)
