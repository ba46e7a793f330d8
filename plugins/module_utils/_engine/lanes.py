# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Work on many items in a few threads, a sliding window: each lane takes the next item as soon as it is free (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import threading
import traceback


def in_lanes(items, parallel, work, name='kvmops-lane'):
    """work(item, lane number) for every item, in up to `parallel` threads; {index of the item: (exception,
    traceback)} of the items whose work raised. The items keep no order between lanes."""
    pending = list(enumerate(items))
    lock = threading.Lock()
    errors = {}

    def lane(number):
        while True:
            with lock:
                if not pending:
                    return
                index, item = pending.pop(0)
            try:
                work(item, number)
            except Exception as exc:  # pylint: disable=broad-except
                errors[index] = (exc, traceback.format_exc())
    threads = [threading.Thread(target=lane, args=(number,), name='%s-%d' % (name, number))
               for number in range(min(int(parallel), len(pending)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
