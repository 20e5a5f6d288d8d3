"""Chat out without a Hubs server: notices from stream frames, message composition, watchers."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from hubs_bridge.broker.memory import MemoryBroker
from hubs_bridge.core import qa, stream
from hubs_bridge.core.stream import (
    Announced,
    Announcement,
    AttendanceCounted,
    LiveState,
    QuestionChanged,
    StreamEvent,
    VotesCounted,
)
from hubs_bridge.hubs.chat_out import ELLIPSIS, compose, truncate
from hubs_bridge.hubs.frames import CHAT_MAX_CHARS
from hubs_bridge.hubs.notices import Notice, StreamNotices
from hubs_bridge.metrics import Metrics
from hubs_bridge.realtime import hub as hub_module
from hubs_bridge.realtime.hub import HubRegistry

NOW = datetime(2026, 5, 1, 18, 0, tzinfo=UTC)


def question(qid: str, room: str | None = "saal", text: str = "Wie geht es weiter?") -> qa.Question:
    return qa.new_question(
        question_id=qid,
        event="kirmes",
        room=room,
        text=text,
        author=qa.Author("v1", "Anna"),
        source="hubs",
        premoderation=False,
        held_for=(),
        client_msg_id=None,
        now=NOW,
    )


def frame(q: qa.Question) -> QuestionChanged:
    return QuestionChanged(q, 0)


def said(aid: str, text: str, rooms: list[str] | None = None) -> Announcement:
    return Announcement(aid, text, tuple(rooms) if rooms else None, NOW.isoformat())


def announcement(aid: str, text: str, rooms: list[str] | None = None) -> Announced:
    return Announced(said(aid, text, rooms))


def test_a_pin_is_told_once_per_change() -> None:
    notices = StreamNotices()
    q = question("q1", text="Wann\nkommt   das?")
    assert notices.on_event(frame(q)) == []  # asked: nothing to tell
    pinned = qa.pin(q, [q], NOW)[0]
    assert notices.on_event(frame(pinned)) == [
        Notice(("saal",), "📌 Angepinnte Frage / Pinned question: Wann kommt das?")
    ]
    assert notices.on_event(frame(pinned)) == []  # the same record again
    edited = qa.edit(pinned, "Wann kommt das Portal?", NOW)
    assert notices.on_event(frame(edited)) == []  # still the same pin
    assert notices.on_event(VotesCounted({"q1": 3})) == []
    unpinned = qa.unpin(edited, NOW)
    assert notices.on_event(frame(unpinned)) == []
    again = qa.pin(unpinned, [unpinned], NOW)[0]
    assert [n.text for n in notices.on_event(frame(again))] == [
        "📌 Angepinnte Frage / Pinned question: Wann kommt das Portal?"
    ]


def test_a_new_pin_in_the_slot_and_the_whole_event() -> None:
    notices = StreamNotices()
    a, b, stage = question("a"), question("b"), question("s", room=None, text="Für alle")
    for q in (a, b, stage):
        notices.on_event(frame(q))
    a = qa.pin(a, [a, b], NOW)[0]
    notices.on_event(frame(a))
    changes = qa.pin(b, [a, b], NOW)  # a unpinned, then b pinned
    told = [n for change in changes for n in notices.on_event(frame(change))]
    assert [n.text.rsplit(": ", 1)[1] for n in told] == ["Wie geht es weiter?"]
    stage_told = notices.on_event(frame(qa.pin(stage, [a, b, stage], NOW)[0]))
    assert stage_told == [Notice(None, "📌 Angepinnte Frage / Pinned question: Für alle")]


def test_answers_are_told_once_with_the_written_answer() -> None:
    notices = StreamNotices()
    q = question("q1")
    notices.on_event(frame(q))
    answered = qa.answer(q, "written", "Um acht.", NOW)
    assert notices.on_event(frame(answered)) == [
        Notice(
            ("saal",),
            "✅ Beantwortet / Answered: Wie geht es weiter? — Antwort/Answer: Um acht.",
        )
    ]
    assert notices.on_event(frame(qa.reply(answered, "Danke", NOW))) == []
    live = question("q2", room=None)
    notices.on_event(frame(live))
    assert notices.on_event(frame(qa.answer(live, "live", None, NOW))) == [
        Notice(None, "✅ Beantwortet / Answered: Wie geht es weiter?")
    ]


def test_hidden_questions_are_never_told() -> None:
    notices = StreamNotices()
    q = qa.reject(question("q1"), "off_topic", NOW)
    assert notices.on_event(frame(q)) == []
    deleted = qa.delete(qa.answer(question("q2"), "live", None, NOW), NOW)
    assert notices.on_event(frame(deleted)) == []


def test_announcements_go_to_their_rooms_once() -> None:
    notices = StreamNotices()
    assert notices.on_event(announcement("a1", "Pause", ["saal", "foyer"])) == [
        Notice(("saal", "foyer"), "📣 Durchsage / Announcement: Pause")
    ]
    assert notices.on_event(announcement("a1", "Pause", ["saal", "foyer"])) == []
    assert notices.on_event(announcement("a2", "Ende")) == [
        Notice(None, "📣 Durchsage / Announcement: Ende")
    ]


def test_the_baseline_is_not_told_again() -> None:
    q = question("q1")
    pinned = qa.pin(qa.answer(q, "live", None, NOW), [q], NOW)[0]
    notices = StreamNotices()
    notices.baseline([pinned], [said("a1", "Alt")])
    assert notices.on_event(frame(pinned)) == []
    assert notices.on_event(announcement("a1", "Alt")) == []
    # A record newer than the baseline's counts; one older than what was seen does not.
    newer = StreamNotices()
    told = newer.on_event(frame(pinned))
    newer.baseline([q], [])
    assert [n.text[0] for n in told] == ["📌", "✅"]
    assert newer.on_event(frame(pinned)) == []


def test_truncate_cuts_cleanly() -> None:
    assert truncate("kurz", 10) == "kurz"
    cut = truncate("Ein Satz mit vielen Wörtern darin", 20)
    assert cut == "Ein Satz mit vielen…" and len(cut) <= 20
    long_word = truncate("x" * 50, 10)
    assert long_word == "x" * 9 + ELLIPSIS


def test_compose_keeps_the_newest_notices_that_fit() -> None:
    notices = [f"{n}: " + "a" * 300 for n in range(4)]
    message = compose("Danke!", notices)
    assert len(message) <= CHAT_MAX_CHARS
    assert message.split("\n") == ["Danke!", notices[2], notices[3]]
    alone = compose("", ["b" * 2000])
    assert len(alone) == CHAT_MAX_CHARS and alone.endswith(ELLIPSIS)
    assert compose("", ["eins", "zwei"]) == "eins\nzwei"
    assert compose("Danke!", []) == "Danke!"


async def test_the_registry_tells_watchers_and_keeps_their_events() -> None:
    broker = MemoryBroker()

    async def load_state(event: str) -> LiveState:
        return LiveState(announcements=(said("old", "x"),))

    async def on_reset(hub: hub_module.EventHub) -> None:
        return None

    registry = HubRegistry(broker, Metrics(), load_state, on_reset)
    await broker.start(registry)
    seen: list[tuple[str, Any]] = []

    def observer(event: str, happened: StreamEvent) -> None:
        assert isinstance(happened, AttendanceCounted)
        seen.append((event, happened.online))

    def broken(event: str, happened: StreamEvent) -> None:
        raise RuntimeError("observer bug")

    def marker(n: int) -> bytes:
        return stream.encode(AttendanceCounted(online=n, rooms={}))

    state = await registry.watch("kirmes", broken)
    assert state.announcements[0].id == "old"
    await registry.watch("kirmes", observer)
    await broker.publish("kirmes", b'{"type": "from a newer version"}')  # skipped, not told
    await broker.publish("kirmes", marker(1))
    await broker.publish("andere", marker(2))
    assert seen == [("kirmes", 1)]  # the broken observer did not stop the other

    # Watched events stay subscribed without pages; once unwatched they are swept.
    registry.hubs["kirmes"].empty_since = time.monotonic() - 3600
    await registry.sweep()
    assert "kirmes" in registry.hubs
    registry.unwatch("kirmes", observer)
    registry.unwatch("kirmes", broken)
    await broker.publish("kirmes", marker(3))
    assert seen == [("kirmes", 1)]
    registry.hubs["kirmes"].empty_since = time.monotonic() - 3600
    await registry.sweep()
    assert "kirmes" not in registry.hubs


def test_chat_gate_lets_a_few_question_lines_through_per_minute() -> None:
    from hubs_bridge.hubs.chat_in import LINES_PER_MINUTE, ChatGate

    gate = ChatGate()
    allowed = [gate.allow("room", "anna", float(i)) for i in range(LINES_PER_MINUTE + 3)]
    assert allowed == [True] * LINES_PER_MINUTE + [False] * 3
    assert gate.allow("room", "bernd", 10.0)  # others are not held up by Anna
    assert gate.allow("room", "anna", 61.0)  # a minute later she may ask again


def test_chat_gate_stays_bounded() -> None:
    from hubs_bridge.hubs import chat_in

    gate = chat_in.ChatGate()
    for i in range(chat_in.GATE_SESSIONS + 50):
        gate.allow("room", f"s{i}", 0.0)
    assert len(gate._buckets) <= chat_in.GATE_SESSIONS
