"""SQLite under mixed load: visitors ask and vote while moderators and staff write.

Found in issue 11: with a moderator acting during visitor traffic, votes and
staff writes were refused ``unavailable`` and moderation-log entries were lost,
because two connections of the store contended for SQLite's write lock. Writes
must queue instead; every moderation that changed a question has its log entry.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hubs_bridge.auth import Principal
from hubs_bridge.core import event_commands as cmds
from hubs_bridge.core import qa
from hubs_bridge.core.attendance import AttendanceSample
from hubs_bridge.core.calendar import Event, EventCreate, EventUpdate, QaSettingsUpdate
from hubs_bridge.core.qa_text import WordFilter
from hubs_bridge.core.stream import StreamEvent
from hubs_bridge.errors import Conflict
from hubs_bridge.qa_service import QaService
from hubs_bridge.ratelimits import MemoryLimiter
from hubs_bridge.settings import QaLimits
from hubs_bridge.store.sqlite import SqliteStore

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
SLUG = "kirmes"
VISITORS = 40
ASKS_EACH = 2
SEEDED = 8  # approved questions everyone votes on while a moderator pins and answers them
STAFF_WRITES = 25
DEADLINE_S = 120  # generous: the machine is shared; a hang fails the test, not the run
MODERATOR = Principal(role="staff", token_id="tok-mod")


def make_event() -> Event:
    return cmds.create_event(
        EventCreate(
            slug=SLUG,
            title="Digitale Kirmes",
            starts_at=NOW + timedelta(hours=1),
            ends_at=NOW + timedelta(hours=4),
        ),
        now=NOW,
        scenes=set(),
        max_rooms=5,
    )


def seeded(n: int) -> qa.Question:
    return qa.new_question(
        question_id=f"s{n}",
        event=SLUG,
        room=None,
        text=f"Vorab-Frage {n}",
        author=qa.Author(visitor=f"v-seed-{n}", name=None),
        source="web",
        premoderation=False,
        held_for=(),
        client_msg_id=f"seed-{n}",
        now=NOW,
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = await SqliteStore.open(tmp_path / "db.sqlite3")
    yield opened
    await opened.close()


async def _noop_publish(event: str, happened: StreamEvent) -> None:
    del event, happened


def make_service(store: SqliteStore) -> QaService:
    # Limits out of the way: this test is about the store, not about rate limits.
    limits = QaLimits(
        questions_per_minute=10_000,
        question_burst=10_000,
        votes_per_minute=10_000,
        vote_burst=10_000,
        word_filter_dir=None,
    )
    clock = lambda: NOW  # noqa: E731
    return QaService(store, limits, MemoryLimiter(), WordFilter(frozenset()), _noop_publish, clock)


async def test_writes_queue_under_mixed_load_and_every_moderation_is_logged(
    store: SqliteStore,
) -> None:
    await store.create_event(make_event())
    event = await store.get_event(SLUG)
    assert event is not None
    # Pre-moderated, so that every visitor's question waits for the moderator.
    event = cmds.update_event(event, EventUpdate(qa=QaSettingsUpdate(premoderation=True)), now=NOW)
    await store.replace_event(event)
    await store.qa_save(
        SLUG,
        [seeded(n) for n in range(SEEDED)],
        dict.fromkeys((f"s{n}" for n in range(SEEDED)), None),
    )
    service = make_service(store)
    moderated: list[str] = []  # the question of every moderation (each one changes it)
    visitors_done = asyncio.Event()

    async def visitor(n: int) -> None:
        for k in range(ASKS_EACH):
            await service.ask(
                event=event, visitor=f"v-{n}", text=f"Frage {n}/{k}", client_msg_id=f"m-{k}"
            )
        for s in range(SEEDED):
            await service.vote(event=event, visitor=f"v-{n}", question_id=f"s{s}", up=True)
            # What a page reads beside its votes (its snapshot after a reconnect).
            await store.qa_voted_by(SLUG, f"v-{n}")
            await store.qa_questions(SLUG)

    async def act(action: str, question_id: str, **kw: Any) -> None:
        before = await store.qa_get(SLUG, question_id)
        await service.moderate(
            principal=MODERATOR, event=event, action=action, question_id=question_id, **kw
        )
        after = await store.qa_get(SLUG, question_id)
        # Only this task moderates this question, so a change seen here is its own.
        assert after != before, f"{action} on {question_id} changed nothing"
        moderated.append(question_id)

    async def queue_moderator() -> None:
        # Approves or rejects every visitor question as it arrives.
        done = 0
        while done < VISITORS * ASKS_EACH:
            pending = [q for q in await store.qa_questions(SLUG) if q.status == "pending"]
            for q in pending:
                if done % 2:
                    await act("reject", q.id, reason="off_topic")
                else:
                    await act("approve", q.id)
                done += 1
            if not pending and visitors_done.is_set() and done < VISITORS * ASKS_EACH:
                # The visitors stopped (their failure is reported by gather) short of the
                # questions this loop waits for: stop instead of spinning to the deadline.
                return
            if not pending:
                await asyncio.sleep(0)  # let the visitors ask (a yield, not a wait for time)

    async def stage_moderator() -> None:
        # Pins, answers and unpins the voted-on questions while the votes come in.
        for s in range(SEEDED):
            await act("pin", f"s{s}")
            await act("answer", f"s{s}", mode="live", text="Gleich auf der Bühne.")
            await act("unpin", f"s{s}")

    async def staff() -> None:
        for n in range(STAFF_WRITES):
            while True:
                current = await store.get_event(SLUG)
                assert current is not None
                changed = cmds.update_event(current, EventUpdate(description=f"Stand {n}"), now=NOW)
                try:
                    await store.replace_event(changed)
                    break
                except Conflict:
                    continue  # only this task changes the event, but retry like the service
            await store.add_attendance(
                [],
                [
                    AttendanceSample(
                        event=SLUG, room="foyer", minute=NOW + timedelta(minutes=n), web=n, hubs=0
                    )
                ],
            )

    async def visitors() -> None:
        try:
            await asyncio.gather(*(visitor(n) for n in range(VISITORS)))
        finally:
            visitors_done.set()

    async with asyncio.timeout(DEADLINE_S):
        results = await asyncio.gather(
            visitors(), queue_moderator(), stage_moderator(), staff(), return_exceptions=True
        )
    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures == [], failures

    # Nothing refused, nothing lost: every vote counted, every write stored.
    counts = await store.qa_vote_counts(SLUG)
    assert all(counts.get(f"s{s}") == VISITORS for s in range(SEEDED)), counts
    stored = await store.get_event(SLUG)
    assert stored is not None and stored.description == f"Stand {STAFF_WRITES - 1}"
    assert len(await store.attendance_samples(SLUG)) == STAFF_WRITES
    seeded_ids = {f"s{s}" for s in range(SEEDED)}
    asked = [q for q in await store.qa_questions(SLUG) if q.id not in seeded_ids]
    assert len(asked) == VISITORS * ASKS_EACH
    assert all(q.status in ("approved", "rejected") for q in asked)
    # Every moderation that changed a question has its log entry, and no other exists.
    log = await store.qa_log_entries(SLUG)
    assert sorted(e.question or "" for e in log) == sorted(moderated)
