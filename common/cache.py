"""A process-wide cache as an explicit object, owned by the module that fills it.

A warm function reuses what its first invocation read (SSM secrets, a client, a count that may
be a minute old). Each such cache is one `Cache`: `get(key, compute)` returns the kept value or
computes and keeps it; `lookup` and `keep` do the two halves for a caller that keeps only some
values; `clear()` forgets everything (a test that changed what was cached).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


class Cache(Generic[Key, Value]):
    def __init__(self, ttl_seconds: float | None = None, max_entries: int | None = None) -> None:
        """Values are kept for `ttl_seconds`, or for the life of the process when None; beyond
        `max_entries` the oldest kept value goes."""
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._kept: dict[Key, tuple[float, Value]] = {}

    def lookup(self, key: Key) -> Value | None:
        """The value kept for `key` while it is fresh, else None."""
        kept = self._kept.get(key)
        if kept is not None and (self.ttl_seconds is None or time.monotonic() - kept[0] < self.ttl_seconds):
            return kept[1]
        return None

    def keep(self, key: Key, value: Value) -> None:
        self._kept.pop(key, None)  # a renewed value counts as the newest
        self._kept[key] = (time.monotonic(), value)
        if self.max_entries is not None and len(self._kept) > self.max_entries:
            # Threads may race here; dict operations are atomic, so at worst one extra goes.
            self._kept.pop(next(iter(self._kept)), None)

    def get(self, key: Key, compute: Callable[[], Value]) -> Value:
        """The value kept for `key`, else `compute()`, kept unless it raises. It runs outside any lock
        (it may wait on the network within its caller's time limit), so two callers that miss at
        once may both compute; either result is a right one."""
        value = self.lookup(key)
        if value is None:
            value = compute()
            self.keep(key, value)
        return value

    def clear(self) -> None:
        self._kept.clear()
