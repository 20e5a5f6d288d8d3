"""Coalesced publishing of exact counts: a few frames a second, however many changes.

Votes on a question and answers to a poll change counts far more often than a page
needs to hear of it. A service marks what changed; a periodic flush publishes the
exact counts of what was marked, read from the store. Counts read by several
processes may reach the stream out of order, so whatever was published is published
once more after it has been quiet for ``settle_s``: the last frame is then always
exact, whichever process sent the one before.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class Coalescer(Generic[K]):
    def __init__(self, settle_s: float) -> None:
        self._settle_s = settle_s
        self._dirty: set[K] = set()
        self._settle: dict[K, float] = {}

    def mark(self, key: K) -> None:
        """``key``'s counts changed: publish them at the next flush."""
        self._dirty.add(key)

    def again(self, keys: Iterable[K]) -> None:
        """A flush could not publish these: the next one tries again."""
        self._dirty.update(keys)

    def due(self, now: float) -> set[K]:
        """What to publish now (monotonic ``now``): changed lately, or settled since."""
        dirty, self._dirty = self._dirty, set()
        settled = {key for key, at in self._settle.items() if at <= now and key not in dirty}
        for key in settled:
            del self._settle[key]
        for key in dirty:
            self._settle[key] = now + self._settle_s
        return dirty | settled
