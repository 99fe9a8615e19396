"""One process-wide cache of compiled policy parts (wildcard matchers, Resource entries, Action
lists, condition values), bounded in bytes.

Batches and worlds repeat the same patterns across thousands of documents, so each distinct
piece is compiled once. Every entry is immutable once built, so it may be shared by any number
of documents. The bound is approximate (a few times the key text, plus a fixed overhead per
entry); the least recently used entries go first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

V = TypeVar("V")


@dataclass(frozen=True)
class CacheInfo:
    hits: int
    misses: int
    entries: int
    bytes: int
    max_bytes: int


class BoundedCache:
    """A least-recently-used map bounded by the approximate bytes of what it holds."""

    OVERHEAD = 400  # bytes per entry beyond its key text: the compiled objects, the dict slot

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._data: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, size: int, build: Callable[[], V]) -> V:
        """The value under ``key``, built (outside the lock) when absent; ``size`` is the length
        of the text it was built from, times how much larger than its text such a value is."""
        # A hit takes no lock: dict reads and move_to_end are atomic under the GIL, and a batch
        # looks up a few dozen parts per request. An entry evicted meanwhile is still returned.
        found = self._data.get(key)
        if found is not None:
            try:
                self._data.move_to_end(key)
            except KeyError:
                pass
            self.hits += 1
            value: V = found[0]
            return value
        built = build()
        cost = size * 3 + self.OVERHEAD
        with self._lock:
            self.misses += 1
            if key not in self._data:
                self._data[key] = (built, cost)
                self._bytes += cost
                self._evict()
        return built

    def _evict(self) -> None:
        while self._bytes > self.max_bytes and self._data:
            _, (_, old) = self._data.popitem(last=False)
            self._bytes -= old

    def resize(self, max_bytes: int) -> None:
        with self._lock:
            self.max_bytes = max_bytes
            self._evict()

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0

    def info(self) -> CacheInfo:
        with self._lock:
            return CacheInfo(self.hits, self.misses, len(self._data), self._bytes, self.max_bytes)


COMPILED = BoundedCache(64 * 1024 * 1024)
# Whole documents parsed from text, and what requests build from them (policy sets, statement
# positions): keyed by the text itself, so bounded by it. ``graphsim serve --cache-bytes``
# shares its bound between this cache and COMPILED.
DOCUMENTS = BoundedCache(128 * 1024 * 1024)
# A parsed document holds some 30 times the bytes of its JSON text (dicts of the raw document,
# frozen statements, compiled matchers): DOCUMENT_WEIGHT x 3 per character of text.
DOCUMENT_WEIGHT = 10
