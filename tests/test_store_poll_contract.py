"""The polls part of the store contract, on every backend (SQLite and a real Redis)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubs_bridge.core import event_commands as cmds
from hubs_bridge.core import polls
from hubs_bridge.core.calendar import EventCreate
from hubs_bridge.core.polls import Answer, Ballot, Poll, ballot_id
from hubs_bridge.core.qa import ModerationEntry
from hubs_bridge.errors import Conflict, NotFound, StoreUnavailable
from hubs_bridge.store import Store
from hubs_bridge.store.base import BallotOutcome
from hubs_bridge.store.redis import RedisStore
from hubs_bridge.store.sqlite import SqliteStore

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
EVENT = "kirmes"
# Every gather is bounded: a hung backend fails the test, not the run. Generous, since
# 200 SQLite commits with a full fsync each share two busy cores with other test runs.
WAIT_S = 60

# Hostile but valid text (as in the Q&A contract): markup, emoji, bidi overrides,
# decomposed accents, control characters, and what means something in Lua, JSON, SQL
# and Redis.
HOSTILE = (
    "<script>alert('x')</script> 👩🏽‍🚀 🏳️‍🌈 שלום \u202eevil\u202c e\u0301 "
    '\x00 \x07 \t \r\n \u2028 \ufeff "quoted" \\backslash\\ \\u0000 '
    "]] --[[ %s {{event}} ' OR 1=1 -- ; DROP TABLE polls; \r\n*3\r\n$3\r\nDEL"
)


def draft(
    poll_id: str = "p1",
    *,
    kind: str = "single",
    minutes: float = 0,
    event: str = EVENT,
    question: str = "Wie war die Führung?",
) -> Poll:
    options = ("Gut", "Geht so", "Schlecht") if kind in ("single", "multiple") else ()
    return polls.new_poll(
        poll_id=poll_id,
        event=event,
        question=question,
        kind=kind,
        options=options,
        max_choices=2 if kind == "multiple" else 1,
        now=NOW + timedelta(minutes=minutes),
    )


async def open_stored(store: Store, poll: Poll) -> Poll:
    """Open a stored draft."""
    live = polls.open_poll(poll, NOW)
    await store.poll_save(live, poll.version)
    return live


async def opened(store: Store, poll: Poll | None = None) -> Poll:
    """``poll`` (by default a new single-choice one) stored, then opened."""
    poll = poll or draft()
    await store.poll_save(poll, None)
    return await open_stored(store, poll)


async def closed(store: Store, live: Poll) -> Poll:
    done = polls.close_poll(live, NOW + timedelta(hours=1))
    await store.poll_save(done, live.version)
    return done


def ballot(
    poll: Poll,
    voter: str = "v-anna",
    *,
    choices: tuple[int, ...] = (0,),
    text: str | None = None,
    held: bool = False,
    cmid: str = "m-1",
    seconds: float = 0,
) -> Ballot:
    answer = Answer(text=text, held=held) if text is not None else Answer(choices=choices)
    return Ballot(
        event=poll.event,
        poll=poll.id,
        voter=voter,
        answer=answer,
        client_msg_id=cmid,
        at=NOW + timedelta(seconds=seconds),
    )


def entry(poll: Poll, action: str, minutes: float = 0, event: str | None = None) -> ModerationEntry:
    return ModerationEntry(
        event=event or poll.event,
        at=NOW + timedelta(minutes=minutes),
        actor="t1",
        role="moderator",
        action=action,
        question=None,
        details=(("poll", poll.id), ("state", poll.state)),
    )


def by_voter(ballots: list[Ballot]) -> list[Ballot]:
    return sorted(ballots, key=lambda b: (b.poll, b.voter))


async def bounded(*aws: Awaitable[object]) -> list[object]:
    async with asyncio.timeout(WAIT_S):
        return list(await asyncio.gather(*aws, return_exceptions=True))


# Polls


async def test_save_get_and_list_oldest_first(store: Store) -> None:
    assert await store.poll_list(EVENT) == []
    late, early, tie_b, tie_a = (
        draft("p1", minutes=5),
        draft("p2"),
        draft("pb", minutes=2),
        (draft("pa", minutes=2)),
    )
    timeless = replace(draft("pz"), created_at=None)  # sorts first, as NULL does in SQLite
    for poll in (late, tie_b, early, timeless, tie_a):
        await store.poll_save(poll, None)
    assert await store.poll_list(EVENT) == [timeless, early, tie_a, tie_b, late]
    assert await store.poll_get(EVENT, "p1") == late
    assert await store.poll_get(EVENT, "nope") is None
    # Scoped by event: another event sees nothing, and may reuse the id.
    assert await store.poll_list("other") == []
    elsewhere = draft("p1", event="other", question="Anderswo?")
    await store.poll_save(elsewhere, None)
    assert await store.poll_get("other", "p1") == elsewhere
    assert await store.poll_get(EVENT, "p1") == late


async def test_every_field_round_trips(store: Store) -> None:
    poll = replace(
        draft("p|1 🙂", kind="multiple"),
        question=HOSTILE,  # the store keeps what it is given, checked or not
        options=(HOSTILE[:80], "ñ", "🙈"),
        rooms=("foyer", "saal|2"),
        hide_results=True,
    )
    await store.poll_save(poll, None)
    assert await store.poll_get(EVENT, poll.id) == poll
    done = await closed(store, await open_stored(store, poll))
    assert done.opened_at is not None and done.closed_at is not None
    assert await store.poll_get(EVENT, poll.id) == done
    # A text ballot from the Hubs chat, held, keeps every field.
    words = await opened(store, draft("w", kind="text", minutes=1))
    hostile = replace(
        ballot(words, 'v|"x"|\\|🙂', text=HOSTILE[::-1], held=True, cmid="m|1\x00|🙂"),
        source="hubs",
    )
    assert await store.poll_answer(hostile) == BallotOutcome(hostile, changed=True)
    assert await store.poll_ballot_of(EVENT, "w", hostile.voter) == hostile
    assert await store.poll_ballots(EVENT, "w") == [hostile]
    assert await store.poll_ballots_of(EVENT, hostile.voter) == [hostile]
    assert await store.poll_list(EVENT) == [done, words]


async def test_save_checks_versions(store: Store) -> None:
    poll = draft()
    await store.poll_save(poll, None)
    edited = replace(poll, question="Neu?", version=2)
    # "Must not exist" for an existing poll, a stale version, a version for a missing one.
    for stale, expected in ((edited, None), (edited, 2), (draft("p9"), 1)):
        with pytest.raises(Conflict) as info:
            await store.poll_save(stale, expected)
        assert info.value.code == "version_conflict"
    assert await store.poll_list(EVENT) == [poll]
    await store.poll_save(edited, 1)
    assert await store.poll_get(EVENT, "p1") == edited


async def test_concurrent_saves_only_one_wins_and_only_its_entry_is_logged(store: Store) -> None:
    poll = draft()
    await store.poll_save(poll, None)
    edits = [replace(poll, question=f"Version {i}?", version=2) for i in range(8)]
    logs = [entry(e, "poll_edit", minutes=i) for i, e in enumerate(edits)]
    results = await bounded(
        *(store.poll_save(e, 1, log=g) for e, g in zip(edits, logs, strict=True))
    )
    assert sum(r is None for r in results) == 1
    assert all(
        isinstance(r, Conflict) and r.code == "version_conflict" for r in results if r is not None
    )
    winner = results.index(None)
    assert await store.poll_get(EVENT, "p1") == edits[winner]
    assert await store.qa_log_entries(EVENT) == [logs[winner]]


async def test_log_entry_is_written_exactly_with_its_change(store: Store) -> None:
    poll = draft()
    drafting = entry(poll, "poll_draft")
    await store.poll_save(poll, None, log=drafting)
    # In the Q&A's log, with no question: the details name the poll.
    assert await store.qa_log_entries(EVENT) == [drafting]
    live = polls.open_poll(poll, NOW)

    # Refused writes write no entry.
    with pytest.raises(Conflict):
        await store.poll_save(live, 7, log=entry(live, "poll_open", 1))
    with pytest.raises(Conflict):
        await store.poll_delete(EVENT, "p1", 7, log=entry(live, "poll_delete", 1))
    assert not await store.poll_delete(EVENT, "nope", 1, log=entry(live, "poll_delete", 1))
    with pytest.raises(ValueError, match="log entry"):
        await store.poll_save(live, 1, log=entry(live, "poll_open", 1, event="other"))
    with pytest.raises(ValueError, match="log entry"):
        await store.poll_delete(EVENT, "p1", 1, log=entry(live, "poll_delete", 1, event="other"))
    assert await store.poll_get(EVENT, "p1") == poll
    assert await store.qa_log_entries(EVENT) == [drafting]
    assert await store.qa_log_entries("other") == []

    opening = entry(live, "poll_open", 2)
    await store.poll_save(live, 1, log=opening)
    deleting = entry(live, "poll_delete", 3)
    assert await store.poll_delete(EVENT, "p1", live.version, log=deleting)
    assert await store.qa_log_entries(EVENT) == [drafting, opening, deleting]


async def _refuse_log_writes(store: Store) -> None:
    """Make the next log write fail inside the store, as a full disk or a bug would."""
    if isinstance(store, SqliteStore):
        async with store._transaction() as tx:
            await tx.execute(
                "CREATE TRIGGER refuse_log BEFORE INSERT ON qa_log "
                "BEGIN SELECT RAISE(ABORT, 'log refused'); END"
            )
    elif isinstance(store, RedisStore):
        # A key of the wrong type: XADD fails with WRONGTYPE inside the script.
        await store._r.set(store._qa_key(EVENT, "log"), "not a stream")
    else:  # pragma: no cover - a new backend must say how to break its log
        raise AssertionError(f"no way to refuse log writes on {store.backend}")


async def test_a_change_whose_log_entry_fails_is_not_written(store: Store) -> None:
    live = await opened(store)
    await store.poll_answer(ballot(live))
    await _refuse_log_writes(store)
    done = polls.close_poll(live, NOW)
    with pytest.raises(StoreUnavailable):
        await store.poll_save(done, live.version, log=entry(done, "poll_close"))
    with pytest.raises(StoreUnavailable):
        await store.poll_delete(EVENT, "p1", live.version, log=entry(done, "poll_delete"))
    assert await store.poll_get(EVENT, "p1") == live
    assert len(await store.poll_ballots(EVENT, "p1")) == 1
    await store.poll_save(done, live.version)  # without an entry it goes through


# Answers


async def test_an_open_poll_takes_an_answer(store: Store) -> None:
    live = await opened(store)
    first = ballot(live)
    assert await store.poll_answer(first) == BallotOutcome(first, changed=True)
    assert await store.poll_ballots(EVENT, "p1") == [first]
    assert await store.poll_ballot_of(EVENT, "p1", "v-anna") == first
    assert await store.poll_ballot_of(EVENT, "p1", "v-bert") is None
    assert await store.poll_ballot_of("other", "p1", "v-anna") is None


@pytest.mark.parametrize("state", ["missing", "draft", "closed"])
async def test_answers_are_refused_unless_the_poll_is_open(store: Store, state: str) -> None:
    poll = draft()
    if state == "draft":
        await store.poll_save(poll, None)
    elif state == "closed":
        poll = await closed(store, await opened(store, poll))
    refused = ballot(poll)
    with pytest.raises(NotFound if state == "missing" else Conflict) as info:
        await store.poll_answer(refused)
    assert info.value.code == ("poll_not_found" if state == "missing" else "poll_not_open")
    assert await store.poll_ballots(EVENT, "p1") == []
    assert await store.poll_ballots_of(EVENT, "v-anna") == []
    if state != "closed":
        # Nothing was remembered either: once open, the same client_msg_id counts.
        live = await opened(store) if state == "missing" else await open_stored(store, poll)
        assert (await store.poll_answer(ballot(live))).changed


async def test_a_later_answer_replaces_the_earlier(store: Store) -> None:
    live = await opened(store)
    await store.poll_answer(ballot(live, choices=(0,), cmid="m-1"))
    second = ballot(live, choices=(2,), cmid="m-2", seconds=5)
    assert await store.poll_answer(second) == BallotOutcome(second, changed=True)
    other = ballot(live, "v-bert", choices=(0,), cmid="m-1")
    assert (await store.poll_answer(other)).changed
    assert by_voter(await store.poll_ballots(EVENT, "p1")) == [second, other]


async def test_a_retry_changes_nothing(store: Store) -> None:
    live = await opened(store)
    first = ballot(live, choices=(0,), cmid="m-1")
    await store.poll_answer(first)
    # The same client_msg_id again, even with another content: the stored one stays.
    again = ballot(live, choices=(1,), cmid="m-1", seconds=1)
    assert await store.poll_answer(again) == BallotOutcome(first, changed=False)
    newer = ballot(live, choices=(2,), cmid="m-2", seconds=2)
    assert (await store.poll_answer(newer)).changed
    # A late retry of the older answer: the newer one stays and is what it returns.
    assert await store.poll_answer(first) == BallotOutcome(newer, changed=False)
    # A new client_msg_id with the stored answer: nothing changes, the stored time stays.
    same = ballot(live, choices=(2,), cmid="m-3", seconds=3)
    assert await store.poll_answer(same) == BallotOutcome(newer, changed=False)
    # ... but that id is remembered: its late retry never undoes a later answer.
    latest = ballot(live, choices=(1,), cmid="m-4", seconds=4)
    assert (await store.poll_answer(latest)).changed
    assert await store.poll_answer(same) == BallotOutcome(latest, changed=False)
    assert await store.poll_ballots(EVENT, "p1") == [latest]


async def test_client_msg_ids_are_per_voter_and_poll(store: Store) -> None:
    p1 = await opened(store)
    p2 = await opened(store, draft("p2", minutes=1))
    await store.poll_answer(ballot(p1, cmid="m-1"))
    assert (await store.poll_answer(ballot(p1, "v-bert", cmid="m-1"))).changed
    assert (await store.poll_answer(ballot(p2, cmid="m-1"))).changed
    elsewhere = await opened(store, draft(event="other"))
    assert (await store.poll_answer(ballot(elsewhere, cmid="m-1"))).changed


async def test_concurrent_retries_store_one_ballot(store: Store) -> None:
    live = await opened(store)
    tries = [ballot(live, choices=(i % 3,), cmid="m-same", seconds=i) for i in range(10)]
    results = await bounded(*(store.poll_answer(b) for b in tries))
    assert all(isinstance(r, BallotOutcome) for r in results)
    outcomes = [r for r in results if isinstance(r, BallotOutcome)]
    assert sum(o.changed for o in outcomes) == 1
    winner = next(o.ballot for o in outcomes if o.changed)
    assert all(o.ballot == winner for o in outcomes)
    assert await store.poll_ballots(EVENT, "p1") == [winner]


# Held texts


async def test_a_held_text_kept_counts(store: Store) -> None:
    live = await opened(store, draft("w", kind="text"))
    held = ballot(live, text="Mist", held=True)
    await store.poll_answer(held)
    assert await store.poll_release(EVENT, "w", "0" * 16, keep=True) is None
    assert await store.poll_release(EVENT, "nope", held.id, keep=True) is None
    kept = await store.poll_release(EVENT, "w", held.id, keep=True, text="Mist")
    assert kept == replace(held, answer=Answer(text="Mist", held=False))
    assert await store.poll_ballots(EVENT, "w") == [kept]
    # Not held any more: no second verdict, and no drop of a counted answer.
    assert await store.poll_release(EVENT, "w", held.id, keep=False) is None
    assert await store.poll_ballots(EVENT, "w") == [kept]


async def test_a_held_text_dropped_is_gone_and_its_retry_does_not_bring_it_back(
    store: Store,
) -> None:
    live = await opened(store, draft("w", kind="text"))
    held = ballot(live, text="Mist", held=True)
    fine = ballot(live, "v-bert", text="Toll")
    for b in (held, fine):
        await store.poll_answer(b)
    assert await store.poll_release(EVENT, "w", held.id, keep=False) == held
    assert await store.poll_ballots(EVENT, "w") == [fine]
    assert await store.poll_ballot_of(EVENT, "w", "v-anna") is None
    # The page's late retry is answered, but the dropped text stays dropped.
    assert await store.poll_answer(held) == BallotOutcome(held, changed=False)
    assert await store.poll_ballots(EVENT, "w") == [fine]
    # A new answer of the voter is taken as any other.
    anew = ballot(live, text="Schön", cmid="m-2")
    assert (await store.poll_answer(anew)).changed


async def test_no_verdict_on_a_text_the_moderator_has_not_seen(store: Store) -> None:
    live = await opened(store, draft("w", kind="text"))
    await store.poll_answer(ballot(live, text="Mist", held=True))
    changed = ballot(live, text="Doof", held=True, cmid="m-2")
    await store.poll_answer(changed)
    for keep in (True, False):
        assert await store.poll_release(EVENT, "w", changed.id, keep=keep, text="Mist") is None
    assert await store.poll_ballots(EVENT, "w") == [changed]
    assert await store.poll_release(EVENT, "w", changed.id, keep=False, text="Doof") == changed
    assert await store.poll_ballots(EVENT, "w") == []


async def test_a_new_held_answer_replaces_a_kept_one(store: Store) -> None:
    # The answer compared is (choices, text, held): a text let through, sent again and
    # held again by the filter, is held again (the moderator sees it once more).
    live = await opened(store, draft("w", kind="text"))
    held = ballot(live, text="Mist", held=True)
    await store.poll_answer(held)
    await store.poll_release(EVENT, "w", held.id, keep=True)
    again = ballot(live, text="Mist", held=True, cmid="m-2")
    assert await store.poll_answer(again) == BallotOutcome(again, changed=True)


# A voter's ballots, deletion, retention


async def test_ballots_of_one_voter_on_every_poll(store: Store) -> None:
    p1, p2 = await opened(store), await opened(store, draft("p2", minutes=1))
    p3 = await opened(store, draft("p3", kind="rating", minutes=2))
    elsewhere = await opened(store, draft(event="other"))
    mine = [ballot(p1), ballot(p3, choices=(4,))]
    for b in (*mine, ballot(p2, "v-bert"), ballot(elsewhere)):
        await store.poll_answer(b)
    assert by_voter(await store.poll_ballots_of(EVENT, "v-anna")) == mine
    assert await store.poll_ballots_of(EVENT, "v-bert") == [ballot(p2, "v-bert")]
    assert await store.poll_ballots_of(EVENT, "v-carl") == []
    assert await store.poll_ballots_of("other", "v-anna") == [ballot(elsewhere)]
    assert await store.poll_ballots_of("none", "v-anna") == []


async def test_delete_takes_the_ballots_and_client_msg_ids(store: Store) -> None:
    live = await opened(store)
    keep = await opened(store, draft("p2", minutes=1))
    for b in (ballot(live), ballot(live, "v-bert"), ballot(keep)):
        await store.poll_answer(b)
    with pytest.raises(Conflict) as info:
        await store.poll_delete(EVENT, "p1", 1)
    assert info.value.code == "version_conflict"
    assert len(await store.poll_ballots(EVENT, "p1")) == 2

    assert await store.poll_delete(EVENT, "p1", live.version)
    assert await store.poll_get(EVENT, "p1") is None
    assert await store.poll_ballots(EVENT, "p1") == []
    assert await store.poll_ballot_of(EVENT, "p1", "v-anna") is None
    assert await store.poll_ballots_of(EVENT, "v-anna") == [ballot(keep)]
    assert not await store.poll_delete(EVENT, "p1", live.version)
    # A new poll with the same id starts clean: the old client_msg_ids are forgotten.
    again = await opened(store)
    assert (await store.poll_answer(ballot(again))).changed


async def test_retention_deletes_old_polls_with_their_ballots(store: Store) -> None:
    days = 60 * 24
    old = await opened(store, draft("old", minutes=-200 * days))
    new = await opened(store, draft("new"))
    elsewhere = await opened(store, draft("old", event="other", minutes=-200 * days))
    timeless = replace(draft("timeless"), created_at=None)
    await store.poll_save(timeless, None)
    for b in (ballot(old), ballot(old, "v-bert"), ballot(new), ballot(elsewhere)):
        await store.poll_answer(b)

    assert await store.poll_delete_before(NOW - timedelta(days=180)) == 2
    assert await store.poll_list(EVENT) == [timeless, new]
    assert await store.poll_list("other") == []
    assert await store.poll_ballots(EVENT, "old") == []
    assert await store.poll_ballots("other", "old") == []
    assert await store.poll_ballots_of(EVENT, "v-anna") == [ballot(new)]
    assert await store.poll_delete_before(NOW - timedelta(days=180)) == 0
    # The retired poll's client_msg_ids are gone with it.
    again = await opened(store, draft("old"))
    assert (await store.poll_answer(ballot(again))).changed


async def test_deleting_an_event_deletes_its_polls(store: Store) -> None:
    for slug in ("kirmes", "kirmes-2"):
        await store.create_event(
            cmds.create_event(
                EventCreate(slug=slug, title="K", starts_at=NOW, ends_at=NOW + timedelta(hours=2)),
                now=NOW,
                scenes=set(),
                max_rooms=5,
            )
        )
        live = await opened(store, draft(event=slug))
        await store.poll_answer(ballot(live))
    assert await store.delete_event("kirmes")
    assert await store.poll_list("kirmes") == []
    assert await store.poll_ballots("kirmes", "p1") == []
    assert await store.poll_ballots_of("kirmes", "v-anna") == []
    assert [p.id for p in await store.poll_list("kirmes-2")] == ["p1"]
    assert len(await store.poll_ballots("kirmes-2", "p1")) == 1
    # Retention finds only the other event's poll.
    assert await store.poll_delete_before(NOW + timedelta(days=1)) == 1


# Concurrency


async def test_many_concurrent_answers_leave_one_ballot_per_voter(store: Store) -> None:
    live = await opened(store)
    calls = [
        ballot(live, f"v{i % 100}", choices=(i % 3,), cmid=f"m{i}", seconds=i) for i in range(200)
    ]
    results = await bounded(*(store.poll_answer(b) for b in calls))
    assert all(isinstance(r, BallotOutcome) for r in results), results
    stored = await store.poll_ballots(EVENT, "p1")
    assert len(stored) == 100
    assert {b.voter for b in stored} == {f"v{i}" for i in range(100)}
    # Each voter's ballot is one of their own two answers.
    sent = {(b.voter, b.client_msg_id, b.answer) for b in calls}
    assert all((b.voter, b.client_msg_id, b.answer) in sent for b in stored)


@pytest.mark.parametrize("close_at", [0, 50, 100])
async def test_answers_racing_the_close_are_stored_exactly_when_acknowledged(
    store: Store, close_at: int
) -> None:
    # Several rounds: how the calls interleave differs from round to round, and a
    # check made apart from its write shows only in some of them.
    for round_ in range(4):
        await _race_the_close(store, f"p{round_}", close_at)


async def _race_the_close(store: Store, poll_id: str, close_at: int) -> None:
    live = await opened(store, draft(poll_id))

    async def close_and_look() -> list[Ballot]:
        await closed(store, live)
        # What is stored once the close is: an answer checked against the poll before
        # the close but written after it would show as a ballot missing here.
        return await store.poll_ballots(EVENT, poll_id)

    answers = [ballot(live, f"v{i}", choices=(i % 3,), cmid=f"m{i}") for i in range(100)]
    calls: list[Awaitable[object]] = [store.poll_answer(b) for b in answers]
    calls.insert(close_at, close_and_look())
    results = await bounded(*calls)
    at_close = results.pop(close_at)
    assert isinstance(at_close, list), at_close
    acknowledged = []
    for sent, result in zip(answers, results, strict=True):
        if isinstance(result, BallotOutcome):
            assert result == BallotOutcome(sent, changed=True)
            acknowledged.append(sent)
        else:
            assert isinstance(result, Conflict) and result.code == "poll_not_open", result
    # Not one acknowledged answer missing, not one refused answer stored, and not one
    # stored after the close.
    stored = by_voter(await store.poll_ballots(EVENT, poll_id))
    assert stored == by_voter(acknowledged)
    assert stored == by_voter(at_close)
    with pytest.raises(Conflict):
        await store.poll_answer(ballot(live, "v-late"))


# Any sequence of answers and verdicts leaves what the contract says, in both backends.

_events = itertools.count()
_answer_ops = st.tuples(
    st.just("answer"),
    st.sampled_from(["a", "b"]),
    st.sampled_from(["m1", "m2", "m3"]),
    st.sampled_from(["eins", "zwei"]),
    st.booleans(),
)
_release_ops = st.tuples(
    st.just("release"),
    st.sampled_from(["a", "b"]),
    st.booleans(),
    st.sampled_from([None, "eins", "zwei"]),
    st.just(False),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=st.lists(st.one_of(_answer_ops, _release_ops), max_size=12))
async def test_any_sequence_matches_the_contract(
    store: Store, ops: list[tuple[str, str, object, object, bool]]
) -> None:
    # One store for every example: each example gets an event of its own.
    live = await opened(store, draft("w", kind="text", event=f"prop-{next(_events)}"))
    remembered: set[tuple[str, str]] = set()
    current: dict[str, Ballot] = {}
    for step, (op, voter, a, b, held) in enumerate(ops):
        mine = current.get(voter)
        if op == "answer":
            sent = ballot(live, voter, text=str(b), held=held, cmid=str(a), seconds=step)
            outcome = await store.poll_answer(sent)
            if (voter, sent.client_msg_id) in remembered:
                assert outcome == BallotOutcome(mine or sent, changed=False)
            elif mine is not None and mine.answer == sent.answer:
                assert outcome == BallotOutcome(mine, changed=False)
            else:
                assert outcome == BallotOutcome(sent, changed=True)
                current[voter] = sent
            remembered.add((voter, sent.client_msg_id))
        else:
            keep, text = bool(a), None if b is None else str(b)
            after = await store.poll_release(
                live.event, "w", ballot_id("w", voter), keep=keep, text=text
            )
            if mine is None or not mine.answer.held or text not in (None, mine.answer.text):
                assert after is None
            elif keep:
                assert after == replace(mine, answer=replace(mine.answer, held=False))
                current[voter] = after
            else:
                assert after == mine
                del current[voter]
    assert by_voter(await store.poll_ballots(live.event, "w")) == by_voter(list(current.values()))
