"""Work without the cyclic garbage collector: the one switch for it.

Building a large world, answering a batch chunk, an access review, decoding a large JSON text:
each allocates many objects that hold no cycles (freed by their counts) or stay alive, beside
a heap of a million long-lived ones, and every full collection the allocations set off walks
all of them for nothing (a 5,000-user import took 2.3x as long with it on, the 7,000-user
matrix twice, a hostile 10 MB body three times). Inside ``collector_paused()`` it is off; a
collection it owes is only late. ``bulk()`` also freezes what was built into the permanent
generation, so later collections skip it.

The collector is process-wide and a server pauses it from several threads at once: it is
enabled again when the last pause ends, and left alone if something else had turned it off.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_pauses = 0  # pauses in progress that turned it off (or found it off by one of them)
_lock = threading.Lock()


@contextmanager
def collector_paused() -> Iterator[None]:
    global _pauses
    with _lock:
        counted = _pauses > 0 or gc.isenabled()
        if counted:
            _pauses += 1
            gc.disable()
    try:
        yield
    finally:
        if counted:
            with _lock:
                _pauses -= 1
                if _pauses == 0:
                    gc.enable()


@contextmanager
def bulk() -> Iterator[None]:
    """``collector_paused``, and what was built frozen afterwards."""
    with collector_paused():
        yield
    gc.freeze()
