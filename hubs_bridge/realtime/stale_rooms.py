"""Rooms whose Hubs counts are from before the bridge lost the room's channel.

The Hubs bridge knows when it loses and regains a room; whoever counts
attendance (the attendance leader, the live counts route) marks those counts
as stale. One small object with one writer's and one reader's method, given
to both, instead of a dict both reach into.
"""

from __future__ import annotations


class StaleRooms:
    def __init__(self) -> None:
        self._by_event: dict[str, set[str]] = {}

    def mark(self, event: str, room: str, stale: bool) -> None:
        """The bridge lost (``stale``) or regained the room's channel."""
        rooms = self._by_event.setdefault(event, set())
        if stale:
            rooms.add(room)
        else:
            rooms.discard(room)
            if not rooms:
                del self._by_event[event]

    def of(self, event: str) -> frozenset[str]:
        return frozenset(self._by_event.get(event, ()))
