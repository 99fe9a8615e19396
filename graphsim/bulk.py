"""Bulk work without the cyclic garbage collector.

Building a large world allocates millions of objects that all stay alive; the collector would
walk the growing heap again and again for nothing (a 5,000-user import took 2.3x as long with
it on). Inside ``bulk()`` it is paused; afterwards what was built is frozen into the permanent
generation, so later collections skip it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def bulk() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            gc.freeze()
