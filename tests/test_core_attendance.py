"""Attendance core without an event loop: counts, batching diffs, statistics, rate limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from hubs_bridge.broker.base import PresenceEntry
from hubs_bridge.core import stream
from hubs_bridge.core.attendance import (
    EVENT_ROOM,
    AttendanceMark,
    EventCounts,
    RoomCounts,
    changes,
    count,
    statistics_of,
)
from hubs_bridge.core.ratelimit import TokenBucket
from hubs_bridge.core.stream import AttendanceCounted, LiveState

T0 = datetime(2026, 12, 5, 14, 0, tzinfo=UTC)
ROOMS = ["info", "daten"]


def web(session: str, visitor: str, room: str | None) -> PresenceEntry:
    return PresenceEntry(session=session, visitor=visitor, room=room)


def hubs(session: str, room: str, **details: str) -> PresenceEntry:
    return PresenceEntry(
        session=session,
        visitor=session,
        room=room,
        source="hubs",
        details=tuple(details.items()),
    )


def test_count_web_and_hubs() -> None:
    entries = [
        web("s1", "anna", "info"),
        web("s2", "anna", "info"),  # a second tab of the same visitor counts once
        web("s3", "ben", None),
        hubs("h1", "info", presence="room", device="vr", hand_raised="1"),
        hubs("h2", "info", presence="lobby", device="mobile"),
        hubs("h3", "info", presence="entering"),
    ]
    counts = count(entries, ROOMS, stale_rooms=["daten"])
    assert counts.online == 2
    info = counts.rooms["info"]
    assert (info.web, info.hubs_room, info.hubs_lobby, info.hubs_entering) == (1, 1, 1, 1)
    assert (info.vr, info.mobile, info.desktop, info.hands) == (1, 1, 1, 1)
    assert info.occupancy == 2
    assert counts.rooms["daten"] == RoomCounts(stale=True)


def test_changes_only_what_changed() -> None:
    first = count([web("s1", "a", "info")], ROOMS)
    full = changes(None, first)
    assert full is not None and full.full and set(full.rooms) == {"info", "daten"}
    assert changes(first, first) is None
    second = count([web("s1", "a", "info"), web("s2", "b", "daten")], ROOMS)
    diff = changes(first, second)
    assert diff == AttendanceCounted(online=2, rooms={"daten": second.rooms["daten"].as_dict()})
    removed = changes(second, count([], ["info"]))
    assert removed is not None and removed.removed == ("daten",)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["s1", "s2", "s3"]),
            st.sampled_from(["a", "b"]),
            st.sampled_from([None, "info", "daten"]),
        ),
        max_size=12,
    ),
    st.lists(
        st.tuples(
            st.sampled_from(["s1", "s2", "s4"]),
            st.sampled_from(["a", "c"]),
            st.sampled_from([None, "info", "daten"]),
        ),
        max_size=12,
    ),
)
def test_applying_changes_gives_the_new_counts(
    before: list[tuple[str, str, str | None]], after: list[tuple[str, str, str | None]]
) -> None:
    old = count([web(*e) for e in before], ROOMS)
    new = count([web(*e) for e in after], ROOMS)
    start = old.as_dict()
    state = LiveState(online=start["online"], rooms=start["rooms"])
    diff = changes(old, new)
    if diff is not None:
        state = stream.apply(state, diff)
    assert state.attendance == new.as_dict()


def mark(visitor: str, kind: str, minute: float, room: str = "info") -> AttendanceMark:
    return AttendanceMark(
        event="e",
        room=room,
        visitor=visitor,
        source="web",
        kind=kind,  # type: ignore[arg-type]
        at=T0 + timedelta(minutes=minute),
    )


def test_statistics() -> None:
    marks = [
        mark("a", "join", 0),
        mark("b", "join", 1),
        mark("c", "join", 2),
        mark("a", "leave", 3),
        mark("b", "leave", 5),
        mark("a", "join", 10),  # a comes back: one unique visitor, two stays
        mark("c", "join", 2.5),
        mark("c", "leave", 4),  # a second tab: still one stay
        mark("x", "join", 0, room=EVENT_ROOM),
    ]
    stats = statistics_of(marks, now=T0 + timedelta(minutes=12))
    info = stats["info"]
    assert info.peak == 3 and info.peak_at == T0 + timedelta(minutes=2)
    assert info.unique_visitors == 3
    assert info.current == 2  # a (since 10) and c (one of its two sessions is still open)
    # Stays: a 3 min, b 4 min, a 2 min (open), c 10 min (open) -> median 3.5 min.
    assert info.dwell_median_s == 210.0
    assert info.dwell_mean_s == round((180 + 240 + 120 + 600) / 4, 1)
    assert stats[EVENT_ROOM].current == 1


@given(st.lists(st.tuples(st.sampled_from("abcd"), st.booleans(), st.integers(0, 50)), max_size=40))
def test_statistics_invariants(events: list[tuple[str, bool, int]]) -> None:
    marks = [mark(v, "join" if j else "leave", m) for v, j, m in events]
    stats = statistics_of(marks, now=T0 + timedelta(minutes=60))
    for s in stats.values():
        assert 0 <= s.current <= s.peak <= s.unique_visitors <= 4
        if s.dwell_mean_s is not None:
            assert s.dwell_mean_s >= 0


def test_token_bucket() -> None:
    bucket = TokenBucket(rate=2, burst=3)
    assert [bucket.take(0.0) for _ in range(3)] == [0, 0, 0]
    wait = bucket.take(0.0)
    assert 0.49 < wait < 0.51
    assert bucket.take(0.5) == 0
    assert bucket.take(100.0) == 0  # refills, but never above the burst
    assert bucket.tokens == 2


def test_event_counts_default_is_empty() -> None:
    assert EventCounts().as_dict() == {"online": 0, "rooms": {}}
