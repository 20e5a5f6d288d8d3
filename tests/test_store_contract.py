"""One contract for every store backend: SQLite and a real Redis."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from hubs_bridge.core import event_commands as cmds
from hubs_bridge.core.attendance import AttendanceMark, AttendanceSample
from hubs_bridge.core.calendar import Event, EventCreate, RoomCreate
from hubs_bridge.errors import Conflict, NotFound
from hubs_bridge.store import Store, TokenRecord

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
SCENES = {"foyer", "auditorium"}


def make_event(slug: str = "kirmes", rooms: int = 1) -> Event:
    return cmds.create_event(
        EventCreate(
            slug=slug,
            title="Digitale Kirmes",
            starts_at=NOW + timedelta(days=1),
            ends_at=NOW + timedelta(days=1, hours=3),
            rooms=[
                RoomCreate(slug=f"raum-{i}", title=f"Raum {i}", scene="foyer") for i in range(rooms)
            ],
        ),
        now=NOW,
        scenes=SCENES,
        max_rooms=50,
    )


async def test_ping(store: Store) -> None:
    await store.ping()


async def test_create_get_list(store: Store) -> None:
    assert await store.list_events() == []
    assert await store.get_event("kirmes") is None
    event = make_event(rooms=2)
    await store.create_event(event)
    assert await store.get_event("kirmes") == event
    await store.create_event(make_event("netzwerk"))
    assert [e.slug for e in await store.list_events()] == ["kirmes", "netzwerk"]


async def test_create_duplicate_conflicts(store: Store) -> None:
    await store.create_event(make_event())
    with pytest.raises(Conflict) as info:
        await store.create_event(make_event(rooms=3))
    assert info.value.code == "event_exists"
    stored = await store.get_event("kirmes")
    assert stored is not None and len(stored.rooms) == 1


async def test_replace_checks_version(store: Store) -> None:
    event = make_event()
    await store.create_event(event)
    later = NOW + timedelta(minutes=1)
    v2 = cmds.add_room(
        event,
        RoomCreate(slug="buehne", title="Bühne", scene="auditorium"),
        now=later,
        scenes=SCENES,
        max_rooms=50,
    )
    await store.replace_event(v2)
    assert await store.get_event("kirmes") == v2
    # A writer still holding version 1 loses and changes nothing.
    stale = cmds.remove_room(event, "raum-0", now=later)
    with pytest.raises(Conflict) as info:
        await store.replace_event(stale)
    assert info.value.code == "version_conflict"
    assert await store.get_event("kirmes") == v2


async def test_concurrent_replace_only_one_wins(store: Store) -> None:
    event = make_event()
    await store.create_event(event)
    candidates = [
        cmds.add_room(
            event,
            RoomCreate(slug=f"neu-{i}", title="Neu", scene="foyer"),
            now=NOW,
            scenes=SCENES,
            max_rooms=50,
        )
        for i in range(5)
    ]
    results = await asyncio.gather(
        *(store.replace_event(c) for c in candidates), return_exceptions=True
    )
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, Conflict) for r in results if r is not None)


async def test_replace_missing_is_not_found(store: Store) -> None:
    v2 = make_event().model_copy(update={"version": 2})
    with pytest.raises(NotFound):
        await store.replace_event(v2)


async def test_delete(store: Store) -> None:
    await store.create_event(make_event())
    assert await store.delete_event("kirmes") is True
    assert await store.delete_event("kirmes") is False
    assert await store.get_event("kirmes") is None
    assert await store.list_events() == []
    await store.create_event(make_event())  # the slug is free again


async def test_unicode_survives(store: Store) -> None:
    event = make_event().model_copy(update={"title": "Größe & Straße 🎡 ‹Test›"})
    await store.create_event(event)
    stored = await store.get_event("kirmes")
    assert stored is not None and stored.title == "Größe & Straße 🎡 ‹Test›"


def _token(token_id: str, token_hash: str, **kw: object) -> TokenRecord:
    values: dict[str, object] = {
        "token_id": token_id,
        "token_hash": token_hash,
        "role": "moderator",
        "events": ("kirmes",),
        "label": "Moderation Bühne",
        "created_at": NOW,
    }
    values.update(kw)
    return TokenRecord(**values)  # type: ignore[arg-type]


async def test_tokens(store: Store) -> None:
    first = _token("t1", "a" * 64)
    second = _token("t2", "b" * 64, role="staff", events=(), created_at=NOW + timedelta(seconds=1))
    await store.add_token(first)
    await store.add_token(second)
    assert await store.find_token("a" * 64) == first
    assert await store.find_token("c" * 64) is None
    assert await store.list_tokens() == [first, second]
    with pytest.raises(Conflict):
        await store.add_token(_token("t1", "d" * 64))
    assert await store.revoke_token("t1") is True
    assert await store.revoke_token("t1") is False
    assert await store.revoke_token("nope") is False
    found = await store.find_token("a" * 64)
    assert found is not None and found.revoked


async def test_meta_first_writer_wins(store: Store) -> None:
    assert await store.get_meta("secret") is None
    assert await store.set_meta_if_absent("secret", "one") == "one"
    assert await store.set_meta_if_absent("secret", "two") == "one"
    assert await store.get_meta("secret") == "one"


def _mark(visitor: str, kind: str, minutes: float, room: str = "info") -> AttendanceMark:
    return AttendanceMark(
        event="kirmes",
        room=room,
        visitor=visitor,
        source="web",
        kind=kind,
        at=NOW + timedelta(minutes=minutes),  # type: ignore[arg-type]
    )


async def test_attendance_record(store: Store) -> None:
    marks = [_mark("a", "join", 0), _mark("b", "join", 1), _mark("a", "leave", 2)]
    samples = [
        AttendanceSample(event="kirmes", room="info", minute=NOW, web=1, hubs=0),
        AttendanceSample(
            event="kirmes", room="info", minute=NOW + timedelta(minutes=1), web=2, hubs=3
        ),
    ]
    await store.add_attendance(marks[:2], samples)
    await store.add_attendance(marks[2:], [])
    await store.add_attendance([], [])
    assert await store.attendance_marks("kirmes") == marks
    assert await store.attendance_marks("other") == []
    assert await store.attendance_samples("kirmes") == samples
    # A sample written again for the same minute replaces the first.
    newer = AttendanceSample(event="kirmes", room="info", minute=NOW, web=5, hubs=1)
    await store.add_attendance([], [newer])
    assert (await store.attendance_samples("kirmes"))[0] == newer


async def test_attendance_retention(store: Store) -> None:
    old = [_mark("a", "join", -60 * 24 * 200), _mark("a", "leave", -60 * 24 * 199)]
    recent = [_mark("b", "join", 0)]
    await store.add_attendance(
        old + recent,
        [
            AttendanceSample(
                event="kirmes", room="info", minute=NOW - timedelta(days=200), web=1, hubs=0
            )
        ],
    )
    deleted = await store.delete_attendance_before(NOW - timedelta(days=180))
    assert deleted == 3
    assert await store.attendance_marks("kirmes") == recent
    assert await store.attendance_samples("kirmes") == []


async def test_a_storm_of_concurrent_reads_all_succeed(store: Store) -> None:
    # 2,000 pages saying hello at once each read the event: with Redis, the default
    # connection pool (100, non-blocking) refused the rest with "Too many connections".
    await store.create_event(make_event())
    events = await asyncio.gather(*(store.get_event("kirmes") for _ in range(600)))
    assert all(e is not None and e.slug == "kirmes" for e in events)
