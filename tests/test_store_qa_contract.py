"""The Q&A part of the store contract, on every backend (SQLite and a real Redis)."""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Awaitable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from hubs_bridge.core import qa
from hubs_bridge.core.qa import Author, ModerationEntry, Question
from hubs_bridge.errors import Conflict, StoreUnavailable
from hubs_bridge.store import Store
from hubs_bridge.store.redis import RedisStore
from hubs_bridge.store.sqlite import SqliteStore

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
EVENT = "kirmes"
WAIT_S = 10  # every gather is bounded: a hung backend fails the test, not the run

# Hostile but valid text: markup, emoji sequences, right-to-left script with
# bidi overrides, decomposed accents (must not be normalised), control
# characters, quotes and backslashes, and things that mean something in Lua,
# JSON, SQL and Redis.
HOSTILE = (
    "<script>alert('x')</script> <b onmouseover=\"x\">&amp;</b> "
    "👩🏽‍🚀 🏳️‍🌈 👍🏻 "
    "שלום עולם مرحبا \u202eevil\u202c \u2067isolate\u2069 "
    "e\u0301 vs \u00e9 "
    "\x00 \x07 \t \r\n \u2028 \ufeff "
    '"quoted" \\backslash\\ \\u0000 '
    "]] --[[ %s %d {{event}} ' OR 1=1 -- ; DROP TABLE qa_questions; "
    "\r\n*3\r\n$3\r\nDEL"
)


def ask(
    question_id: str,
    *,
    visitor: str = "v-anna",
    text: str = "Wann beginnt die Führung?",
    client_msg_id: str | None = None,
    minutes: float = 0,
    event: str = EVENT,
    name: str | None = None,
    room: str | None = None,
) -> Question:
    return qa.new_question(
        question_id=question_id,
        event=event,
        room=room,
        text=text,
        author=Author(visitor=visitor, name=name),
        source="web",
        premoderation=False,
        held_for=(),
        client_msg_id=client_msg_id if client_msg_id is not None else f"m-{question_id}",
        now=NOW + timedelta(minutes=minutes),
    )


async def create(store: Store, *questions: Question) -> None:
    await store.qa_save(EVENT, questions, {q.id: None for q in questions})


async def bounded(*aws: Awaitable[object]) -> list[object]:
    async with asyncio.timeout(WAIT_S):
        return list(await asyncio.gather(*aws, return_exceptions=True))


# Questions


async def test_create_get_and_list_oldest_first(store: Store) -> None:
    assert await store.qa_questions(EVENT) == []
    late, early, tie_b, tie_a = (
        ask("q1", minutes=5),
        ask("q2"),
        ask("qb", minutes=2),
        ask("qa", minutes=2),
    )
    await create(store, late, tie_b)
    await create(store, early)
    await create(store, tie_a)
    assert await store.qa_questions(EVENT) == [early, tie_a, tie_b, late]
    assert await store.qa_get(EVENT, "q1") == late
    assert await store.qa_get(EVENT, "nope") is None
    # Scoped by event: another event sees nothing, and may reuse the id.
    assert await store.qa_questions("other") == []
    assert await store.qa_get("other", "q1") is None
    elsewhere = ask("q1", event="other", text="anderswo")
    await store.qa_save("other", [elsewhere], {"q1": None})
    assert await store.qa_get("other", "q1") == elsewhere
    assert await store.qa_get(EVENT, "q1") == late


async def test_every_field_round_trips(store: Store) -> None:
    source = ask("s", name="Anna", room="foyer", client_msg_id="m-s")
    target = ask("t", visitor="v-bert", room="foyer")
    source = qa.pin(source, [], NOW)[0]
    await create(store, source, target)
    merged_source, merged_target = qa.merge(source, target, NOW + timedelta(minutes=1))
    await store.qa_save(EVENT, [merged_source, merged_target], {"s": 2, "t": 1})
    held = replace(ask("h", minutes=1), status="pending", held_for=("wort", "🙈"))
    rejected = qa.reject(held, "offensive", NOW + timedelta(minutes=2))
    answered = qa.answer(ask("a", minutes=3), "written", "Um 10 Uhr.", NOW + timedelta(minutes=4))
    edited = qa.edit(qa.reply(answered, "Danke!", NOW), "Neu", NOW + timedelta(minutes=5))
    deleted = qa.delete(qa.pin(ask("d", minutes=6), [], NOW)[0], NOW + timedelta(minutes=7))
    anonymous = replace(ask("n", minutes=8), client_msg_id=None)
    for q in (rejected, edited, deleted, anonymous):
        await store.qa_save(EVENT, [q], {q.id: None})
    for q in (merged_source, merged_target, rejected, edited, deleted, anonymous):
        assert await store.qa_get(EVENT, q.id) == q
    assert merged_target.authors == (target.authors[0], source.authors[0])
    assert deleted.before_delete == (("pinned", True),)


async def test_hostile_text_round_trips_byte_exact(store: Store) -> None:
    visitor = 'v|"x"|\\|🙂'
    cmid = "m|1\x00|🙂"
    q = ask("q|1 🙂", visitor=visitor, text=HOSTILE, client_msg_id=cmid, name=HOSTILE[:40])
    q = qa.answer(q, "written", HOSTILE[::-1], NOW)
    await store.qa_save(EVENT, [q], {q.id: None})
    stored = await store.qa_get(EVENT, q.id)
    assert stored == q
    assert stored is not None
    assert stored.text.encode("utf-8") == HOSTILE.encode("utf-8")
    assert unicodedata.is_normalized("NFC", stored.text) is False  # not normalised on the way
    assert await store.qa_by_client_msg(EVENT, visitor, cmid) == q
    assert await store.qa_questions(EVENT) == [q]
    assert await store.qa_vote(EVENT, q.id, visitor, True)
    assert await store.qa_voted_by(EVENT, visitor) == {q.id}
    assert await store.qa_vote_counts(EVENT) == {q.id: 1}
    entry = ModerationEntry(
        event=EVENT,
        at=NOW,
        actor=HOSTILE[:20],
        role="moderator",
        action="announce",
        question=q.id,
        details=(("text", HOSTILE), ("rooms", "a,b|c"), ("", "")),
    )
    await store.qa_log(entry)
    assert await store.qa_log_entries(EVENT) == [entry]


# Idempotent asking


async def test_client_msg_lookup_and_duplicate(store: Store) -> None:
    first = ask("q1", client_msg_id="m-7")
    await create(store, first)
    assert await store.qa_by_client_msg(EVENT, "v-anna", "m-7") == first
    assert await store.qa_by_client_msg(EVENT, "v-bert", "m-7") is None
    assert await store.qa_by_client_msg(EVENT, "v-anna", "m-8") is None
    assert await store.qa_by_client_msg("other", "v-anna", "m-7") is None

    # A retry that got a new question id: refused, nothing written.
    retry = ask("q2", client_msg_id="m-7", text="again")
    with pytest.raises(Conflict) as info:
        await create(store, retry)
    assert info.value.code == "duplicate_client_msg"
    assert await store.qa_get(EVENT, "q2") is None
    assert await store.qa_questions(EVENT) == [first]

    # The same client_msg_id from another visitor, or in another event, is fine.
    await create(store, ask("q3", visitor="v-bert", client_msg_id="m-7"))
    await store.qa_save("other", [ask("q1", event="other", client_msg_id="m-7")], {"q1": None})

    # Later saves of a question do not claim again, even after authors change.
    merged = qa.merge(ask("q4", visitor="v-carl"), first, NOW)[1]
    await store.qa_save(EVENT, [merged], {"q1": 1})
    assert await store.qa_by_client_msg(EVENT, "v-anna", "m-7") == merged


async def test_duplicate_client_msg_within_one_save(store: Store) -> None:
    one, two = ask("q1", client_msg_id="m-1"), ask("q2", client_msg_id="m-1")
    with pytest.raises(Conflict) as info:
        await create(store, one, two)
    assert info.value.code == "duplicate_client_msg"
    assert await store.qa_questions(EVENT) == []
    assert await store.qa_by_client_msg(EVENT, "v-anna", "m-1") is None


async def test_concurrent_retries_create_one_question(store: Store) -> None:
    tries = [ask(f"q{i}", client_msg_id="m-same") for i in range(5)]
    results = await bounded(*(create(store, q) for q in tries))
    assert sum(r is None for r in results) == 1
    assert all(
        isinstance(r, Conflict) and r.code == "duplicate_client_msg"
        for r in results
        if r is not None
    )
    winner = tries[results.index(None)]
    assert await store.qa_questions(EVENT) == [winner]
    assert await store.qa_by_client_msg(EVENT, "v-anna", "m-same") == winner


# Compare-and-set


async def test_save_checks_versions(store: Store) -> None:
    q1, q2 = ask("q1"), ask("q2", minutes=1)
    await create(store, q1, q2)
    v2 = qa.approve(replace(q1, status="pending"), NOW)
    await store.qa_save(EVENT, [v2], {"q1": 1})
    assert await store.qa_get(EVENT, "q1") == v2

    # Several questions, one expected version stale: nothing is written.
    stale = qa.reply(q1, "from an old tab", NOW)
    fresh = qa.reply(q2, "fine", NOW)
    new = ask("q3", client_msg_id="m-new", minutes=2)
    with pytest.raises(Conflict) as info:
        await store.qa_save(EVENT, [fresh, new, stale], {"q1": 1, "q2": 1, "q3": None})
    assert info.value.code == "version_conflict"
    assert await store.qa_questions(EVENT) == [v2, q2]
    assert await store.qa_by_client_msg(EVENT, "v-anna", "m-new") is None

    # "Must not exist" for an existing question, and a version for a missing one.
    for expected in ({"q2": None}, {"q2": 2}):
        with pytest.raises(Conflict) as info:
            await store.qa_save(EVENT, [fresh], expected)
        assert info.value.code == "version_conflict"
    with pytest.raises(Conflict) as info:
        await store.qa_save(EVENT, [ask("q9")], {"q9": 1})
    assert info.value.code == "version_conflict"
    assert await store.qa_get(EVENT, "q9") is None

    # The same batch with the right versions goes through at once.
    await store.qa_save(EVENT, [fresh, new], {"q2": 1, "q3": None})
    assert await store.qa_questions(EVENT) == [v2, fresh, new]


async def test_version_conflict_wins_over_duplicate(store: Store) -> None:
    await create(store, ask("q1", client_msg_id="m-1"))
    with pytest.raises(Conflict) as info:
        await store.qa_save(
            EVENT, [ask("q2", client_msg_id="m-1"), ask("q1")], {"q2": None, "q1": 7}
        )
    assert info.value.code == "version_conflict"


async def test_concurrent_saves_only_one_wins(store: Store) -> None:
    q = ask("q1")
    await create(store, q)
    edits = [qa.edit(q, f"edit {i}", NOW + timedelta(seconds=i)) for i in range(5)]
    results = await bounded(*(store.qa_save(EVENT, [e], {"q1": 1}) for e in edits))
    assert sum(r is None for r in results) == 1
    assert all(
        isinstance(r, Conflict) and r.code == "version_conflict" for r in results if r is not None
    )
    assert await store.qa_get(EVENT, "q1") == edits[results.index(None)]


async def test_save_refuses_a_malformed_batch(store: Store) -> None:
    q = ask("q1")
    with pytest.raises(KeyError):
        await store.qa_save(EVENT, [q], {})
    with pytest.raises(ValueError, match="belongs to"):
        await store.qa_save("other", [q], {"q1": None})
    with pytest.raises(ValueError, match="twice"):
        await store.qa_save(EVENT, [q, q], {"q1": None})
    await store.qa_save(EVENT, [], {})
    assert await store.qa_questions(EVENT) == []


# Votes


async def test_votes_are_a_set(store: Store) -> None:
    await create(store, ask("q1"), ask("q2", minutes=1))
    assert await store.qa_vote(EVENT, "q1", "a", up=True) is True
    assert await store.qa_vote(EVENT, "q1", "a", up=True) is False
    assert await store.qa_vote_count(EVENT, "q1") == 1
    assert await store.qa_vote(EVENT, "q1", "b", up=True) is True
    assert await store.qa_vote(EVENT, "q2", "a", up=True) is True
    assert await store.qa_vote_counts(EVENT) == {"q1": 2, "q2": 1}
    assert await store.qa_voted_by(EVENT, "a") == {"q1", "q2"}

    assert await store.qa_vote(EVENT, "q1", "a", up=False) is True
    assert await store.qa_vote(EVENT, "q1", "a", up=False) is False
    assert await store.qa_vote(EVENT, "q1", "never", up=False) is False
    assert await store.qa_vote_count(EVENT, "q1") == 1
    assert await store.qa_voted_by(EVENT, "a") == {"q2"}
    assert await store.qa_voted_by(EVENT, "never") == set()

    assert await store.qa_vote(EVENT, "q2", "a", up=False) is True
    assert await store.qa_vote_counts(EVENT) == {"q1": 1}  # no entry for no votes
    assert await store.qa_vote_count(EVENT, "q2") == 0
    assert await store.qa_vote_counts("other") == {}
    assert await store.qa_voted_by("other", "b") == set()


async def test_concurrent_votes_count_once(store: Store) -> None:
    await create(store, ask("q1"))
    results = await bounded(*(store.qa_vote(EVENT, "q1", "a", True) for _ in range(5)))
    assert sorted(results, key=bool) == [False] * 4 + [True]
    results = await bounded(*(store.qa_vote(EVENT, "q1", f"v{i}", True) for i in range(20)))
    assert results == [True] * 20
    assert await store.qa_vote_count(EVENT, "q1") == 21


async def test_merge_votes_unites_voters(store: Store) -> None:
    await create(store, ask("s"), ask("t", minutes=1), ask("x", minutes=2))
    for qid, voter in (("s", "a"), ("s", "b"), ("t", "b"), ("t", "c"), ("x", "a")):
        await store.qa_vote(EVENT, qid, voter, up=True)
    assert await store.qa_merge_votes(EVENT, "s", "t") == 3  # b counts once
    assert await store.qa_vote_counts(EVENT) == {"s": 2, "t": 3, "x": 1}
    assert await store.qa_voted_by(EVENT, "a") == {"s", "t", "x"}
    assert await store.qa_voted_by(EVENT, "b") == {"s", "t"}
    assert await store.qa_voted_by(EVENT, "c") == {"t"}
    # Merged votes behave like votes: a withdraws from the target only.
    assert await store.qa_vote(EVENT, "t", "a", up=False) is True
    assert await store.qa_vote_count(EVENT, "s") == 2
    assert await store.qa_voted_by(EVENT, "a") == {"s", "x"}
    # Again, or from a question without votes: nothing changes.
    assert await store.qa_merge_votes(EVENT, "s", "t") == 3
    assert await store.qa_merge_votes(EVENT, "none", "t") == 3
    assert await store.qa_merge_votes(EVENT, "s", "empty") == 2


# Moderation log


def entry(
    minutes: float, action: str, question: str | None = "q1", event: str = EVENT, **details: str
) -> ModerationEntry:
    return ModerationEntry(
        event=event,
        at=NOW + timedelta(minutes=minutes),
        actor="t1",
        role="moderator",
        action=action,
        question=question,
        details=tuple(details.items()),
    )


async def test_log_oldest_first(store: Store) -> None:
    assert await store.qa_log_entries(EVENT) == []
    first = entry(0, "approve")
    second = entry(1, "reject", reason="off_topic")
    same_time = entry(1, "announce", question=None, text="Pause", rooms="")
    earlier = entry(-1, "pin")  # written late, read in time order
    for e in (first, second, same_time, earlier):
        await store.qa_log(e)
    await store.qa_log(entry(0, "approve", event="other"))
    assert await store.qa_log_entries(EVENT) == [earlier, first, second, same_time]
    assert len(await store.qa_log_entries("other")) == 1


# A moderation's log entry is saved with its change (issue 11): it exists exactly
# when the change does.


async def test_log_entry_is_saved_exactly_with_its_change(store: Store) -> None:
    q1 = ask("q1", client_msg_id="m-1")
    await create(store, q1)
    approved = qa.approve(replace(q1, status="pending"), NOW)
    approving = entry(1, "approve")
    await store.qa_save(EVENT, [approved], {"q1": 1}, log=approving)
    assert await store.qa_get(EVENT, "q1") == approved
    assert await store.qa_log_entries(EVENT) == [approving]

    # Refused saves write neither the change nor the entry.
    refused: list[tuple[Question, dict[str, int | None]]] = [
        (qa.reply(q1, "stale", NOW), {"q1": 1}),  # version_conflict
        (ask("q2", client_msg_id="m-1"), {"q2": None}),  # duplicate_client_msg
    ]
    for question, expected in refused:
        with pytest.raises(Conflict):
            await store.qa_save(EVENT, [question], expected, log=entry(2, "reply"))
    with pytest.raises(ValueError, match="log entry"):
        await store.qa_save(EVENT, [ask("q3")], {"q3": None}, log=entry(2, "x", event="other"))
    await store.qa_save(EVENT, [], {}, log=entry(2, "nothing"))  # no change, no entry
    assert await store.qa_questions(EVENT) == [approved]
    assert await store.qa_log_entries(EVENT) == [approving]
    assert await store.qa_log_entries("other") == []

    # Hostile text in an entry that rides along round-trips like one written alone.
    hostile = ModerationEntry(
        event=EVENT,
        at=NOW + timedelta(minutes=3),
        actor=HOSTILE[:20],
        role="staff",
        action="edit",
        question="q1",
        details=(("text", HOSTILE), ("original", approved.text), ("", "")),
    )
    edited = qa.edit(approved, HOSTILE, NOW)
    await store.qa_save(EVENT, [edited], {"q1": approved.version}, log=hostile)
    assert await store.qa_log_entries(EVENT) == [approving, hostile]


async def test_racing_moderations_log_only_the_one_that_won(store: Store) -> None:
    q = ask("q1")
    await create(store, q)
    edits = [qa.edit(q, f"edit {i}", NOW) for i in range(8)]
    logs = [entry(i, "edit", text=f"edit {i}") for i in range(8)]
    results = await bounded(
        *(store.qa_save(EVENT, [e], {"q1": 1}, log=g) for e, g in zip(edits, logs, strict=True))
    )
    assert sum(r is None for r in results) == 1
    winner = results.index(None)
    assert await store.qa_get(EVENT, "q1") == edits[winner]
    assert await store.qa_log_entries(EVENT) == [logs[winner]]


async def _refuse_log_writes(store: Store) -> None:
    """Make the next log write fail inside the store, as a full disk or a bug would."""
    if isinstance(store, SqliteStore):
        async with store._transaction() as tx:
            await tx.execute(
                "CREATE TRIGGER refuse_log BEFORE INSERT ON qa_log "
                "BEGIN SELECT RAISE(ABORT, 'log refused'); END"
            )
    elif isinstance(store, RedisStore):
        # A key of the wrong type: XADD fails with WRONGTYPE inside the save script.
        await store._r.set(store._qa_key(EVENT, "log"), "not a stream")
    else:  # pragma: no cover - a new backend must say how to break its log
        raise AssertionError(f"no way to refuse log writes on {store.backend}")


async def test_a_change_whose_log_entry_fails_is_not_saved(store: Store) -> None:
    q = ask("q1")
    await create(store, q)
    await _refuse_log_writes(store)
    with pytest.raises(StoreUnavailable):
        await store.qa_save(EVENT, [qa.reply(q, "Danke!", NOW)], {"q1": 1}, log=entry(1, "reply"))
    assert await store.qa_get(EVENT, "q1") == q
    # Without an entry the same change goes through: only the failed log held it back.
    await store.qa_save(EVENT, [qa.reply(q, "Danke!", NOW)], {"q1": 1})


# Retention


async def test_retention_deletes_old_questions_with_votes_and_log(store: Store) -> None:
    days = 60 * 24
    old = ask("old", client_msg_id="m-old", minutes=-200 * days)
    new = ask("new", client_msg_id="m-new")
    await create(store, old, new)
    elsewhere = ask("old", event="other", minutes=-200 * days)
    await store.qa_save("other", [elsewhere], {"old": None})
    for qid in ("old", "new"):
        await store.qa_vote(EVENT, qid, "a", up=True)
    await store.qa_vote(EVENT, "old", "b", up=True)
    await store.qa_vote("other", "old", "a", up=True)
    await store.qa_log(entry(-200 * days, "approve", question="old"))
    recent_entry = entry(0, "approve", question="new")
    await store.qa_log(recent_entry)

    assert await store.qa_delete_before(NOW - timedelta(days=180)) == 2
    assert await store.qa_questions(EVENT) == [new]
    assert await store.qa_questions("other") == []
    assert await store.qa_vote_counts(EVENT) == {"new": 1}
    assert await store.qa_vote_count(EVENT, "old") == 0
    assert await store.qa_voted_by(EVENT, "a") == {"new"}
    assert await store.qa_voted_by(EVENT, "b") == set()
    assert await store.qa_voted_by("other", "a") == set()
    assert await store.qa_by_client_msg(EVENT, "v-anna", "m-old") is None
    assert await store.qa_by_client_msg(EVENT, "v-anna", "m-new") == new
    assert await store.qa_log_entries(EVENT) == [recent_entry]
    # The retired client_msg_id is free again; a second run finds nothing.
    await create(store, ask("again", client_msg_id="m-old"))
    assert await store.qa_delete_before(NOW - timedelta(days=180)) == 0


async def test_writes_racing_a_refused_save_are_kept(store: Store) -> None:
    # A refused save rolls back only itself: votes and log lines written while it
    # ran (by other coroutines of the same process) stay.
    q = ask("q1")
    await create(store, q)
    stale = [qa.reply(q, f"stale {i}", NOW) for i in range(20)]
    writes = [store.qa_save(EVENT, [s], {"q1": 7}) for s in stale]
    writes += [store.qa_vote(EVENT, "q1", f"v{i}", True) for i in range(20)]
    writes += [store.qa_log(entry(i, "approve")) for i in range(20)]
    results = await bounded(*writes)
    assert all(isinstance(r, Conflict) for r in results[:20])
    assert results[20:40] == [True] * 20
    assert await store.qa_vote_count(EVENT, "q1") == 20
    assert len(await store.qa_log_entries(EVENT)) == 20


async def test_deleting_an_event_deletes_what_was_kept_for_it(store: Store) -> None:
    from hubs_bridge.core import event_commands as cmds
    from hubs_bridge.core.attendance import AttendanceMark
    from hubs_bridge.core.calendar import EventCreate

    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    for slug in ("kirmes", "kirmes-2"):
        await store.create_event(
            cmds.create_event(
                EventCreate(slug=slug, title="K", starts_at=now, ends_at=now + timedelta(hours=2)),
                now=now,
                scenes=set(),
                max_rooms=5,
            )
        )
        q = qa.new_question(
            question_id="q1",
            event=slug,
            room=None,
            text="Frage?",
            author=qa.Author("v", None),
            source="web",
            premoderation=False,
            held_for=(),
            client_msg_id="c1",
            now=now,
        )
        await store.qa_save(slug, [q], {"q1": None})
        await store.qa_vote(slug, "q1", "w", True)
        await store.add_attendance(
            [AttendanceMark(event=slug, room="", visitor="v", source="web", kind="join", at=now)],
            [],
        )
    assert await store.delete_event("kirmes")
    assert await store.qa_questions("kirmes") == []
    assert await store.qa_vote_counts("kirmes") in ({}, {"q1": 0})
    assert await store.qa_by_client_msg("kirmes", "v", "c1") is None
    assert await store.attendance_marks("kirmes") == []
    # The other event (whose slug begins the same) keeps everything.
    assert [q.id for q in await store.qa_questions("kirmes-2")] == ["q1"]
    assert await store.qa_vote_count("kirmes-2", "q1") == 1
    assert len(await store.attendance_marks("kirmes-2")) == 1


async def test_votes_only_on_visible_questions(store: Store) -> None:
    from hubs_bridge.errors import NotFound, ValidationFailed

    pending = replace(ask("p"), status="pending")
    approved = ask("a", minutes=1)
    await create(store, pending, approved)
    with pytest.raises(ValidationFailed):
        await store.qa_vote(EVENT, "p", "v", up=True)
    with pytest.raises(NotFound):
        await store.qa_vote(EVENT, "nope", "v", up=True)
    assert await store.qa_vote(EVENT, "a", "v", up=True) is True
    merged = replace(approved, status="merged", merged_into="x", version=2)
    await store.qa_save(EVENT, [merged], {"a": 1})
    with pytest.raises(ValidationFailed):
        await store.qa_vote(EVENT, "a", "w", up=True)
    assert await store.qa_vote(EVENT, "a", "v", up=False) is True  # withdrawing always works
    assert await store.qa_vote_count(EVENT, "a") == 0
