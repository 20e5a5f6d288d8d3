"""Moderation as a pure function: command, questions and ``now`` in; the outcome out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hubs_bridge.core import qa
from hubs_bridge.core.moderation import ACTIONS, Moderate, Outcome, moderate
from hubs_bridge.core.stream import QuestionChanged, RejectionsCounted
from hubs_bridge.errors import HubsBridgeError

NOW = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)


def question(qid: str, *, status: qa.Status = "approved", room: str = "foyer") -> qa.Question:
    q = qa.new_question(
        question_id=qid,
        event="kirmes",
        room=room,
        text=f"Frage {qid}?",
        author=qa.Author(f"v-{qid}", None),
        source="web",
        premoderation=status == "pending",
        held_for=(),
        client_msg_id=None,
        now=NOW - timedelta(minutes=5),
    )
    return replace(q, status=status)


def run(action: str, qid: str, questions: list[qa.Question], **fields: Any) -> Outcome:
    command = Moderate(action=action, question=qid, actor="tok-1", role="moderator", **fields)
    return moderate(
        command, {q.id: q for q in questions}, NOW, event="kirmes", max_question_chars=300
    )


@pytest.mark.parametrize(
    ("action", "fields", "code"),
    [
        ("shout", {}, "unknown_action"),
        ("reject", {}, "reason_required"),
        ("reject", {"reason": "rude"}, "reason_required"),
        ("edit", {"text": ""}, "text_empty"),
        ("edit", {"text": "   "}, "text_empty"),
        ("edit", {"text": "x" * 2001}, "text_too_long"),
        ("merge", {}, "into_required"),
        ("merge", {"into": "q1"}, "merge_into_self"),
        ("merge", {"into": "nope"}, "question_not_found"),
        ("answer", {"mode": "written"}, "answer_text_required"),
        ("undelete", {}, "question_not_deleted"),
    ],
)
def test_each_rule_refuses_with_its_code(action: str, fields: dict[str, Any], code: str) -> None:
    with pytest.raises(HubsBridgeError) as refused:
        run(action, "q1", [question("q1")], **fields)
    assert refused.value.code == code


def test_approving_logs_it_and_recounts_rejections() -> None:
    pending = question("q1", status="pending")
    outcome = run("approve", "q1", [pending, question("q2", status="rejected")])
    assert [c.status for c in outcome.changes] == ["approved"]
    assert outcome.expected_versions == {"q1": pending.version}
    entry = outcome.log_entry
    assert entry is not None
    assert (entry.event, entry.actor, entry.role, entry.action, entry.question, entry.at) == (
        "kirmes",
        "tok-1",
        "moderator",
        "approve",
        "q1",
        NOW,
    )
    assert outcome.rejected is not None
    events = outcome.events({"q1": 4})
    assert events[0] == QuestionChanged(outcome.changes[0], 4)
    assert isinstance(events[1], RejectionsCounted) and sum(events[1].rejected.values()) == 0


def test_what_changes_nothing_stores_logs_and_publishes_nothing() -> None:
    approved = question("q1")
    outcome = run("unpin", "q1", [approved])
    assert outcome.changes == () and outcome.log_entry is None and outcome.events({}) == []
    assert outcome.target is approved


def test_a_pin_takes_the_slot_from_the_question_pinned_there() -> None:
    old = replace(question("q1"), pinned=True)
    other_room = replace(question("q3", room="saal"), pinned=True)
    outcome = run("pin", "q2", [old, question("q2"), other_room])
    assert {c.id: c.pinned for c in outcome.changes} == {"q1": False, "q2": True}
    assert set(outcome.expected_versions) == {"q1", "q2"}
    assert outcome.rejected is None  # a pin cannot change what was rejected


def test_merging_unites_votes_after_the_save_and_finishes_a_merge_cut_short() -> None:
    source, target = question("q1"), question("q2")
    outcome = run("merge", "q1", [source, target], into="q2")
    assert outcome.unite_votes == ("q1", "q2")
    assert dict(outcome.log_entry.details if outcome.log_entry else ()) == {"into": "q2"}
    merged = {c.id: c for c in outcome.changes}
    # The same command again, after the records were saved: only the votes remain to do.
    again = run("merge", "q1", list(merged.values()), into="q2")
    assert again.changes == () and again.log_entry is None
    assert again.unite_votes == ("q1", "q2")


def test_texts_are_cleaned_and_the_log_keeps_what_an_edit_replaced() -> None:
    outcome = run("edit", "q1", [question("q1")], text="  Neue   Frage?  ")
    assert outcome.changes[0].text == "Neue Frage?"
    assert outcome.log_entry is not None
    assert dict(outcome.log_entry.details) == {"text": "Neue Frage?", "original": "Frage q1?"}
    answered = run("answer", "q1", [question("q1")], mode="written", text="Um neun.")
    assert answered.log_entry is not None
    assert dict(answered.log_entry.details) == {"mode": "written", "text": "Um neun."}


questions = st.lists(
    st.builds(
        lambda n, status, pinned, room: replace(
            question(f"q{n}", status=status, room=room), pinned=pinned and status == "approved"
        ),
        st.integers(0, 4),
        st.sampled_from(["pending", "approved", "rejected"]),
        st.booleans(),
        st.sampled_from(["foyer", "saal"]),
    ),
    min_size=1,
    max_size=5,
    unique_by=lambda q: q.id,
)
commands = st.builds(
    dict,
    action=st.sampled_from(ACTIONS),
    qid=st.sampled_from([f"q{n}" for n in range(5)]),
    reason=st.sampled_from([None, "off_topic", "duplicate"]),
    mode=st.sampled_from([None, "live", "written"]),
    text=st.sampled_from([None, "Antwort", ""]),
    into=st.sampled_from([None, "q0", "q1", "q4"]),
)


@settings(max_examples=300, deadline=None)
@given(questions, commands)
def test_a_log_entry_exactly_when_something_changed(
    records: list[qa.Question], command: dict[str, Any]
) -> None:
    before = {q.id: q for q in records}
    pinned_before = [q.slot for q in records if q.pinned]
    assume(len(pinned_before) == len(set(pinned_before)))  # a state the rules allow
    qid = command.pop("qid")
    action = command.pop("action")
    try:
        outcome = run(action, qid, records, **command)
    except HubsBridgeError:
        return  # refused: nothing to store
    assert {q.id: q for q in records} == before  # the input is never changed
    assert (outcome.log_entry is not None) == bool(outcome.changes)
    for change in outcome.changes:
        assert change.version == before[change.id].version + 1
        assert outcome.expected_versions[change.id] == before[change.id].version
    pinned = [q for q in {**before, **{c.id: c for c in outcome.changes}}.values() if q.pinned]
    slots = [q.slot for q in pinned]
    assert len(slots) == len(set(slots))  # at most one pin per room
