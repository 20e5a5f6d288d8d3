"""The stream's events as data: one codec, the pure reducer, and what each page may see.

No event loop, no broker: events in, bytes and states out.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubs_bridge.core import polls, qa, stream
from hubs_bridge.core.stream import (
    Announced,
    Announcement,
    AttendanceCounted,
    EventUpdated,
    HubsActionRequested,
    LiveState,
    PollChanged,
    PollCounted,
    QuestionChanged,
    RejectionsCounted,
    StreamDecodeError,
    StreamEvent,
    VotesCounted,
)

NOW = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
AUTHOR = "v-author-0123456789"
OTHER = "v-other-0123456789"


def question(
    qid: str = "q1", *, status: qa.Status = "approved", version: int = 1, **changes: Any
) -> qa.Question:
    q = qa.new_question(
        question_id=qid,
        event="kirmes",
        room="foyer",
        text="Wann öffnet das Rathaus?",
        author=qa.Author(AUTHOR, "Ada"),
        source="web",
        premoderation=status == "pending",
        held_for=(),
        client_msg_id="c-1",
        now=NOW,
    )
    return replace(q, status=status, version=version, **changes)


def poll(state: polls.PollState = "open", *, hide: bool = False, version: int = 2) -> polls.Poll:
    draft = polls.new_poll(
        poll_id="p1",
        event="kirmes",
        question="Welches Thema zuerst?",
        kind="single",
        options=("Radwege", "Spielplätze"),
        rooms=("foyer",),
        hide_results=hide,
        now=NOW,
    )
    return replace(draft, state=state, version=version)


RESULTS = polls.Results("p1", (3, 1), 4)


def announcement(n: int) -> Announcement:
    return Announcement(f"a{n}", f"Pause {n}", ("foyer",) if n % 2 else None, NOW.isoformat())


EVERY_KIND: list[StreamEvent] = [
    QuestionChanged(question(), 3),
    QuestionChanged(question(status="rejected", reject_reason="off_topic", version=2), 0),
    VotesCounted({"q1": 4, "q2": 0}),
    RejectionsCounted({"off_topic": 2}),
    Announced(announcement(1)),
    Announced(announcement(2)),
    AttendanceCounted(online=3, rooms={"foyer": {"web": 2, "hubs_room": 1}}),
    AttendanceCounted(online=0, rooms={}, removed=("bühne",)),
    AttendanceCounted(online=1, rooms={"foyer": {"web": 1, "stale": True}}, full=True),
    EventUpdated({"slug": "kirmes", "title": {"de": "Kirmes"}}),
    HubsActionRequested(id="act-1", action="mute", session="hubs:abc", room="foyer"),
    PollChanged(poll("draft", version=1)),
    PollChanged(poll("open", hide=True)),
    PollChanged(poll("closed", version=3)),
    PollChanged(poll("closed", version=3), removed=True),
    PollCounted(RESULTS),
    PollCounted(RESULTS, hidden=True),
    PollCounted(polls.Results("p1", (0, 0, 1, 2, 0), 3, (("rad", 2),), held=1)),
]


# --- codec ---------------------------------------------------------------------------------


@pytest.mark.parametrize("event", EVERY_KIND, ids=lambda e: type(e).__name__)
def test_every_event_survives_the_codec(event: StreamEvent) -> None:
    body = stream.encode(event)
    assert stream.decode(body) == event
    assert orjson.loads(body)["type"] == event.kind


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b'{"type": "poll"}',
        b'{"no": "type"}',
        b'{"type": "question", "votes": 1}',
        b'{"type": "question", "record": {"id": "q"}, "votes": 1}',
        b'{"type": "votes", "counts": {"q1": true}}',
        b'{"type": "votes", "counts": [1]}',
        b'{"type": "attendance", "online": 1, "rooms": {"foyer": 3}}',
        b'{"type": "announcement", "announcement": {"id": "a"}}',
        b'{"type": "hubs_action", "id": "x", "action": "ban", "session": "s", "room": null}',
        b'{"type": "event", "event": "kirmes"}',
        b'{"type": "poll", "record": {"id": "p1"}}',
        b'{"type": "poll_results", "results": {"poll": "p1"}, "hidden": false}',
    ],
)
def test_what_it_cannot_read_is_one_clear_error(body: bytes) -> None:
    with pytest.raises(StreamDecodeError):
        stream.decode(body)


# --- what pages see -------------------------------------------------------------------------


def _view(event: StreamEvent, *, moderator: bool = False, visitor: str = OTHER) -> dict[str, Any]:
    viewer = stream.audience(event, moderator=moderator, visitor=visitor)
    frame: dict[str, Any] = orjson.loads(stream.page_frame(event, viewer, "e1", 7))
    assert (frame["epoch"], frame["seq"]) == ("e1", 7)
    return frame


def test_a_pending_question_only_for_its_author_and_moderators() -> None:
    pending = QuestionChanged(question(status="pending"), 0)
    assert _view(pending)["question"] == {"id": "q1", "hidden": True}
    mine = _view(pending, visitor=AUTHOR)["question"]
    assert mine["mine"] is True and mine["text"] == "Wann öffnet das Rathaus?"
    moderated = _view(pending, moderator=True)["question"]
    assert moderated["status"] == "pending" and "held_for" in moderated


def test_an_approved_question_is_the_same_for_every_visitor_but_its_author() -> None:
    approved = QuestionChanged(question(), 2)
    assert stream.audience(approved, moderator=False, visitor=OTHER) == "visitor"
    assert stream.audience(approved, moderator=False, visitor=AUTHOR) == "author"
    assert stream.audience(approved, moderator=True, visitor=AUTHOR) == "moderator"
    assert _view(approved)["question"]["votes"] == 2


def test_a_hubs_action_is_only_a_position_for_pages() -> None:
    action = HubsActionRequested(id="act-1", action="kick", session="hubs:abc", room="foyer")
    for moderator in (False, True):
        assert _view(action, moderator=moderator) == {"type": "skip", "epoch": "e1", "seq": 7}


def test_other_events_are_seen_as_they_are() -> None:
    votes = VotesCounted({"q1": 4})
    assert _view(votes) == {"type": "votes", "epoch": "e1", "seq": 7, "counts": {"q1": 4}}
    said = _view(Announced(announcement(1)))
    assert said["announcement"] == {
        "id": "a1",
        "text": "Pause 1",
        "rooms": ["foyer"],
        "at": NOW.isoformat(),
    }


questions = st.builds(
    lambda status, votes, deleted, merged: (
        question(
            status=status,
            deleted_at=NOW if deleted else None,
            merged_into="q9" if merged else None,
        ),
        votes,
    ),
    st.sampled_from(["pending", "approved", "rejected", "merged"]),
    st.integers(0, 10_000),
    st.booleans(),
    st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(questions, st.booleans(), st.sampled_from([AUTHOR, OTHER]))
def test_no_page_ever_sees_a_visitor_id(
    changed: tuple[qa.Question, int], moderator: bool, visitor: str
) -> None:
    event = QuestionChanged(*changed)
    frame = stream.page_frame(
        event, stream.audience(event, moderator=moderator, visitor=visitor), "e", 1
    )
    assert AUTHOR.encode() not in frame
    assert b"c-1" not in frame  # nor the client's message id


# --- the reducer ------------------------------------------------------------------------------


def test_attendance_changes_full_and_removed() -> None:
    state = stream.apply(
        LiveState(), AttendanceCounted(online=2, rooms={"foyer": {"web": 2}, "bühne": {"web": 0}})
    )
    state = stream.apply(state, AttendanceCounted(online=3, rooms={"foyer": {"web": 3}}))
    assert state.attendance == {"online": 3, "rooms": {"foyer": {"web": 3}, "bühne": {"web": 0}}}
    state = stream.apply(state, AttendanceCounted(online=3, rooms={}, removed=("bühne",)))
    assert state.rooms == {"foyer": {"web": 3}}
    state = stream.apply(state, AttendanceCounted(online=1, rooms={"saal": {"web": 1}}, full=True))
    assert state.rooms == {"saal": {"web": 1}}


def test_an_older_record_never_replaces_a_newer_one_but_its_votes_count() -> None:
    newer = question(version=3, answer="Um neun.")
    state = stream.apply(LiveState(), QuestionChanged(newer, 1))
    state = stream.apply(state, QuestionChanged(question(version=2), 5))
    assert state.questions["q1"] is newer
    assert state.votes["q1"] == 5


def test_votes_and_announcements() -> None:
    state = stream.apply(LiveState(votes={"q1": 1, "q2": 2}), VotesCounted({"q2": 7}))
    assert state.votes == {"q1": 1, "q2": 7}
    for n in range(8):
        state = stream.apply(state, Announced(announcement(n)))
    assert [a.id for a in state.announcements] == ["a3", "a4", "a5", "a6", "a7"]


def test_events_for_others_leave_the_state_as_it_is() -> None:
    state = LiveState(online=4)
    for event in (
        EventUpdated({"slug": "kirmes"}),
        RejectionsCounted({"spam": 1}),
        HubsActionRequested(id="a", action="mute", session="hubs:x", room=None),
    ):
        assert stream.apply(state, event) is state


events = st.sampled_from(EVERY_KIND)


@settings(max_examples=200, deadline=None)
@given(st.lists(events, max_size=12), st.lists(events, min_size=1, max_size=4))
def test_apply_is_pure_and_a_replayed_tail_changes_nothing(
    head: list[StreamEvent], tail: list[StreamEvent]
) -> None:
    # Replaying the last frames again (a hub applies frames that arrived while its
    # state loaded on top of that state) gives the same state: values are absolute.
    def seen(s: LiveState) -> tuple[Any, ...]:
        return (
            s.attendance,
            dict(s.questions),
            dict(s.votes),
            s.announcements,
            dict(s.polls),
            dict(s.poll_results),
        )

    state = LiveState()
    for event in head + tail:
        before = seen(state)
        after = stream.apply(state, event)
        assert seen(state) == before  # a new state; the old one is untouched
        state = after
    once = state
    snapshot = seen(once)
    for event in tail:
        state = stream.apply(state, event)
    assert seen(state) == snapshot
    assert seen(once) == snapshot


def test_apply_never_changes_the_state_it_was_given() -> None:
    start = LiveState(rooms={"foyer": {"web": 1}}, votes={"q1": 1})
    stream.apply(start, AttendanceCounted(online=1, rooms={"saal": {"web": 1}}))
    stream.apply(start, VotesCounted({"q1": 9}))
    stream.apply(start, QuestionChanged(question(), 2))
    assert start == LiveState(rooms={"foyer": {"web": 1}}, votes={"q1": 1})


def test_announcement_times_are_kept_as_given() -> None:
    later = (NOW + timedelta(minutes=5)).isoformat()
    said = Announcement("a", "x", None, later)
    assert Announcement.from_dict(said.to_dict()) == said


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(EVERY_KIND), st.booleans(), st.sampled_from([AUTHOR, OTHER]))
def test_a_shared_audience_is_what_every_page_gets(
    event: StreamEvent, moderator: bool, visitor: str
) -> None:
    # The hub sends one encoding to every page when there is a shared audience.
    shared = stream.shared_audience(event)
    if shared is not None:
        assert stream.audience(event, moderator=moderator, visitor=visitor) == shared
    else:
        assert isinstance(event, QuestionChanged | PollChanged | PollCounted)


# --- polls ------------------------------------------------------------------------------------


def test_a_draft_poll_only_for_moderators() -> None:
    draft = PollChanged(poll("draft", version=1))
    assert _view(draft)["poll"] == {"id": "p1", "hidden": True}
    seen = _view(draft, moderator=True)["poll"]
    assert seen["state"] == "draft" and seen["options"] == ["Radwege", "Spielplätze"]
    assert "event" not in seen


def test_an_open_poll_is_the_same_for_every_page() -> None:
    opened = PollChanged(poll("open"))
    assert stream.shared_audience(opened) == "visitor"
    assert _view(opened)["poll"]["state"] == "open"
    removed = PollChanged(poll("closed"), removed=True)
    assert stream.shared_audience(removed) == "visitor"
    assert _view(removed)["poll"] == {"id": "p1", "hidden": True}


def test_hidden_results_show_visitors_only_how_many_answered() -> None:
    hidden = PollCounted(RESULTS, hidden=True)
    assert _view(hidden)["results"] == {"poll": "p1", "respondents": 4, "hidden": True}
    assert _view(hidden, moderator=True)["results"]["counts"] == [3, 1]
    shown = _view(PollCounted(RESULTS))["results"]
    assert shown["counts"] == [3, 1] and shown["respondents"] == 4


def test_polls_in_the_state() -> None:
    state = stream.apply(LiveState(), PollChanged(poll("open", version=2)))
    state = stream.apply(state, PollCounted(RESULTS))
    # An older record of the poll (a late frame) never replaces a newer one.
    closed = poll("closed", version=3)
    state = stream.apply(state, PollChanged(closed))
    assert stream.apply(state, PollChanged(poll("open", version=2))).polls["p1"] is closed
    assert state.poll_results["p1"] == RESULTS
    state = stream.apply(state, PollChanged(closed, removed=True))
    assert state.polls == {} and state.poll_results == {}
