"""Attendance, pure: counts from presence, what changed since the last frame, statistics.

No clock and no I/O: presence entries and ``now`` come in, counts and
statistics go out. The drivers (``realtime/attendance_leader.py``) decide when
to call this and where the results go.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from hubs_bridge.core.presence import PresenceEntry
from hubs_bridge.core.stream import AttendanceCounted

# Keys of a room's counts. Web sessions and Hubs sessions are counted apart:
# one person may have the event page open and be in the Hubs room at once.
COUNT_KEYS = (
    "web",  # distinct visitors with the event page open in this room
    "hubs_room",  # Hubs sessions inside the room
    "hubs_lobby",  # Hubs sessions in the room's lobby
    "hubs_entering",  # Hubs sessions on their way in
    "desktop",
    "mobile",
    "vr",
    "hands",  # raised hands in Hubs
)
EVENT_ROOM = ""  # presence on the event page without a room


@dataclass(frozen=True, slots=True)
class RoomCounts:
    web: int = 0
    hubs_room: int = 0
    hubs_lobby: int = 0
    hubs_entering: int = 0
    desktop: int = 0
    mobile: int = 0
    vr: int = 0
    hands: int = 0
    stale: bool = False  # Hubs counts are from before the bridge lost the room's channel

    @property
    def occupancy(self) -> int:
        """Places taken in the Hubs room, as Hubs itself counts them (room plus entering)."""
        return self.hubs_room + self.hubs_entering

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {key: getattr(self, key) for key in COUNT_KEYS}
        if self.stale:
            data["stale"] = True
        return data


@dataclass(frozen=True, slots=True)
class EventCounts:
    """Who is at an event now: distinct visitors on the page, and per room."""

    online: int = 0
    rooms: Mapping[str, RoomCounts] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"online": self.online, "rooms": {k: v.as_dict() for k, v in self.rooms.items()}}


def count(
    entries: Iterable[PresenceEntry], rooms: Iterable[str], stale_rooms: Iterable[str] = ()
) -> EventCounts:
    """Counts per room (every room of the event appears, zeros included)."""
    web_visitors: dict[str, set[str]] = defaultdict(set)
    online: set[str] = set()
    hubs: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNT_KEYS[1:], 0))
    for entry in entries:
        room = entry.room or EVENT_ROOM
        if entry.source == "web":
            online.add(entry.visitor)
            if entry.room:
                web_visitors[room].add(entry.visitor)
            continue
        details = dict(entry.details)
        where = details.get("presence", "lobby")
        tally = hubs[room]
        tally[{"room": "hubs_room", "entering": "hubs_entering"}.get(where, "hubs_lobby")] += 1
        tally[
            details.get("device", "desktop")
            if details.get("device") in ("mobile", "vr")
            else "desktop"
        ] += 1
        if details.get("hand_raised") == "1":
            tally["hands"] += 1
    stale = set(stale_rooms)
    result = {
        slug: RoomCounts(
            web=len(web_visitors.get(slug, ())), stale=slug in stale, **hubs.get(slug, {})
        )
        for slug in rooms
    }
    return EventCounts(online=len(online), rooms=result)


def changes(previous: EventCounts | None, current: EventCounts) -> AttendanceCounted | None:
    """The ``attendance`` event: only what changed, with absolute values.

    Absolute values (not deltas) make the events idempotent: a page that
    applies one twice is still right, and one that applies it over a newer
    snapshot is right again once it has applied the frames after it.
    """
    if previous is None:
        # ``full``: every room is listed; a page drops rooms it has that are not.
        rooms_now = {slug: c.as_dict() for slug, c in current.rooms.items()}
        return AttendanceCounted(online=current.online, rooms=rooms_now, full=True)
    rooms = {
        slug: counts.as_dict()
        for slug, counts in current.rooms.items()
        if previous.rooms.get(slug) != counts
    }
    gone = tuple(slug for slug in previous.rooms if slug not in current.rooms)
    if not rooms and not gone and previous.online == current.online:
        return None
    return AttendanceCounted(online=current.online, rooms=rooms, removed=gone)


# ---------------------------------------------------------------------------
# The attendance record and its statistics


@dataclass(frozen=True, slots=True)
class AttendanceMark:
    """One join or leave in the record: pseudonymous, no IP address, no name."""

    event: str
    room: str  # EVENT_ROOM for the event page itself
    visitor: str  # keyed hash of the visitor or Hubs session id
    source: Literal["web", "hubs"]
    kind: Literal["join", "leave"]
    at: datetime

    @classmethod
    def stored(
        cls, event: str, room: str, visitor: str, source: str, kind: str, at: float
    ) -> AttendanceMark:
        """A mark as a store keeps it (strings and a UNIX time)."""
        return cls(
            event=event,
            room=room,
            visitor=visitor,
            source="hubs" if source == "hubs" else "web",
            kind="leave" if kind == "leave" else "join",
            at=datetime.fromtimestamp(at, UTC),
        )


@dataclass(frozen=True, slots=True)
class AttendanceSample:
    """Counts of one room at one minute, for the chart of attendance over time."""

    event: str
    room: str
    minute: datetime
    web: int
    hubs: int


@dataclass(frozen=True, slots=True)
class RoomStats:
    current: int
    peak: int
    peak_at: datetime | None
    unique_visitors: int
    dwell_median_s: float | None
    dwell_mean_s: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "current": self.current,
            "peak": self.peak,
            "peak_at": self.peak_at.isoformat() if self.peak_at else None,
            "unique_visitors": self.unique_visitors,
            "dwell_median_s": self.dwell_median_s,
            "dwell_mean_s": self.dwell_mean_s,
        }


def statistics_of(marks: Iterable[AttendanceMark], now: datetime) -> dict[str, RoomStats]:
    """Peak (with time), unique visitors and dwell time per room, from joins and leaves.

    A visitor with two sessions in one room counts once; their stay runs from
    the first join to the last leave. A stay still open counts until ``now``.
    """
    per_room: dict[str, list[AttendanceMark]] = defaultdict(list)
    for mark in marks:
        per_room[mark.room].append(mark)
    return {room: _room_stats(room_marks, now) for room, room_marks in per_room.items()}


def _room_stats(marks: list[AttendanceMark], now: datetime) -> RoomStats:
    marks.sort(key=lambda m: (m.at, 0 if m.kind == "leave" else 1))
    sessions: dict[tuple[str, str], int] = defaultdict(int)  # (source, visitor) -> open sessions
    since: dict[tuple[str, str], datetime] = {}
    present = 0
    peak, peak_at = 0, None
    stays: list[float] = []
    visitors: set[tuple[str, str]] = set()
    for mark in marks:
        who = (mark.source, mark.visitor)
        if mark.kind == "join":
            visitors.add(who)
            sessions[who] += 1
            if sessions[who] == 1:
                since[who] = mark.at
                present += 1
                if present > peak:
                    peak, peak_at = present, mark.at
        elif sessions[who] > 0:
            sessions[who] -= 1
            if sessions[who] == 0:
                present -= 1
                stays.append((mark.at - since.pop(who)).total_seconds())
    stays.extend((now - start).total_seconds() for start in since.values())
    return RoomStats(
        current=present,
        peak=peak,
        peak_at=peak_at,
        unique_visitors=len(visitors),
        dwell_median_s=round(statistics.median(stays), 1) if stays else None,
        dwell_mean_s=round(statistics.fmean(stays), 1) if stays else None,
    )


def minute_of(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def retention_cutoff(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)
