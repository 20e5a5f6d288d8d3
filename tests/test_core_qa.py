"""The Q&A core without an event loop, time passed in; properties checked with hypothesis."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubs_bridge.core import qa
from hubs_bridge.core.qa_text import WordFilter, clean_text
from hubs_bridge.errors import Conflict, HubsBridgeError, ValidationFailed

T0 = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)


def ask(
    qid: str, room: str | None = "info", *, visitor: str = "v1", pre: bool = False
) -> qa.Question:
    return qa.new_question(
        question_id=qid,
        event="kirmes",
        room=room,
        text=f"Frage {qid}?",
        author=qa.Author(visitor=visitor, name=None),
        source="web",
        premoderation=pre,
        held_for=(),
        client_msg_id=qid,
        now=T0,
    )


# --- text -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Wann kommt   Glasfaser?  ", "Wann kommt Glasfaser?"),
        ("Cafe\u0301 ist offen?", "Café ist offen?"),  # NFC
        ("<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>"),  # plain text, kept
        ("Zeile 1\r\n\r\n\r\n\r\nZeile 2", "Zeile 1\n\nZeile 2"),
        ("Emoji 👩‍💻 und עברית und 中文?", "Emoji 👩‍💻 und עברית und 中文?"),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw, max_chars=500) == clean


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "text_empty"),
        ("   \n\t ", "text_empty"),
        ("a" * 501, "text_too_long"),
        ("x" * 10_000, "text_too_long"),
        ("bad\u202eevil", "text_bidi_control"),
        ("hidden\u200bword", "text_control_character"),
        ("bell\x07", "text_control_character"),
    ],
)
def test_text_refused(raw: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        clean_text(raw, max_chars=500)
    assert info.value.code == code


def test_length_counts_characters_not_bytes() -> None:
    assert clean_text("ä" * 500, max_chars=500) == "ä" * 500


def test_word_filter_whole_words_casefold() -> None:
    words = WordFilter.from_lines(["# comment", "Idiot", "  depp  ", ""])
    assert words.matches("Du IDIOT!") == ["idiot"]
    assert words.matches("Idiotensicher geplant") == []
    assert words.matches("depp und idiot") == ["depp", "idiot"]


# --- transitions --------------------------------------------------------------


def test_premoderation_and_filter_hold() -> None:
    assert ask("a", pre=True).status == "pending"
    held = qa.new_question(
        question_id="h",
        event="kirmes",
        room=None,
        text="Du Idiot",
        author=qa.Author("v", None),
        source="web",
        premoderation=False,
        held_for=["idiot"],
        client_msg_id=None,
        now=T0,
    )
    assert held.status == "pending" and held.held_for == ("idiot",)


def test_pin_replaces_and_room_scoped() -> None:
    a, b, c = ask("a"), ask("b"), ask("c", room="daten")
    a = qa.pin(a, [a, b, c], T0)[-1]
    assert a.pinned
    changes = qa.pin(b, [a, b, c], T0)
    assert {q.id: q.pinned for q in changes} == {"a": False, "b": True}
    c_pinned = qa.pin(c, [a, b, c], T0)
    assert [q.id for q in c_pinned] == ["c"]  # another room: nobody unpinned


def test_pending_cannot_be_pinned_or_voted() -> None:
    pending = ask("p", pre=True)
    with pytest.raises(ValidationFailed):
        qa.pin(pending, [], T0)
    with pytest.raises(ValidationFailed):
        qa.check_votable(pending)


def test_undelete_window() -> None:
    q = qa.delete(ask("a"), T0)
    assert not q.visible
    with pytest.raises(Conflict):
        qa.undelete(q, [q], T0 + timedelta(minutes=11))
    restored = qa.undelete(q, [q], T0 + timedelta(minutes=9))
    assert restored[0].visible


def test_merge_keeps_both_authors() -> None:
    a = ask("a", visitor="anna")
    b = replace(ask("b", visitor="ben"), authors=(qa.Author("ben", "Ben"),))
    source, target = qa.merge(a, b, T0)
    assert source.status == "merged" and source.merged_into == "b"
    assert [x.visitor for x in target.authors] == ["ben", "anna"]
    assert target.merged_from == ("a",)


def test_views_hide_ids_and_pending() -> None:
    pending = replace(ask("p", visitor="anna", pre=True), authors=(qa.Author("anna", "Anna"),))
    assert qa.visible_to(pending, "author") and qa.visible_to(pending, "moderator")
    assert not qa.visible_to(pending, "visitor")
    for viewer in ("author", "moderator", "visitor"):
        view = qa.public_view(pending, 3, viewer)  # type: ignore[arg-type]
        assert "anna" not in str(view) and view["authors"] == ["Anna"]
    assert "held_for" in qa.public_view(pending, 0, "moderator")
    assert "held_for" not in qa.public_view(pending, 0, "author")


def test_codec_round_trip() -> None:
    q = qa.delete(qa.edit(ask("a"), "Neu", T0), T0)
    assert qa.question_from_dict(qa.question_to_dict(q)) == q


# --- properties -----------------------------------------------------------------
# A small model of the store's vote semantics (sets; merge = union), driven by the
# same pure functions the service calls.

ROOMS = ["info", "daten", None]
ACTIONS = st.one_of(
    st.tuples(st.just("ask"), st.integers(0, 5), st.sampled_from(ROOMS), st.booleans()),
    st.tuples(st.just("vote"), st.integers(0, 5), st.sampled_from("abcd"), st.booleans()),
    st.tuples(st.just("approve"), st.integers(0, 5)),
    st.tuples(st.just("pin"), st.integers(0, 5)),
    st.tuples(st.just("unpin"), st.integers(0, 5)),
    st.tuples(st.just("merge"), st.integers(0, 5), st.integers(0, 5)),
    st.tuples(st.just("delete"), st.integers(0, 5)),
    st.tuples(st.just("undelete"), st.integers(0, 5), st.integers(0, 15)),
    st.tuples(st.just("reject"), st.integers(0, 5)),
)


class Model:
    def __init__(self) -> None:
        self.questions: dict[str, qa.Question] = {}
        self.votes: dict[str, set[str]] = {}
        self.now = T0

    def ids(self) -> list[str]:
        return sorted(self.questions)

    def pick(self, n: int) -> qa.Question | None:
        ids = self.ids()
        return self.questions[ids[n % len(ids)]] if ids else None

    def save(self, changes: list[qa.Question]) -> None:
        for change in changes:
            self.questions[change.id] = change

    def run(self, action: tuple[object, ...]) -> None:
        kind = action[0]
        self.now += timedelta(minutes=1)
        try:
            if kind == "ask":
                _, _n, room, pre = action
                qid = f"q{len(self.questions)}"
                self.save([ask(qid, room, pre=bool(pre))])  # type: ignore[arg-type]
                return
            q = self.pick(int(action[1]))  # type: ignore[call-overload]
            if q is None:
                return
            if kind == "vote":
                qa.check_votable(q)
                voters = self.votes.setdefault(q.id, set())
                (voters.add if action[3] else voters.discard)(str(action[2]))
            elif kind == "approve":
                self.save([qa.approve(q, self.now)])
            elif kind == "reject":
                self.save([qa.reject(q, "off_topic", self.now)])
            elif kind == "pin":
                self.save(qa.pin(q, list(self.questions.values()), self.now))
            elif kind == "unpin":
                self.save([qa.unpin(q, self.now)])
            elif kind == "delete":
                self.save([qa.delete(q, self.now)])
            elif kind == "undelete":
                self.now += timedelta(minutes=int(action[2]))  # type: ignore[call-overload]
                self.save(qa.undelete(q, list(self.questions.values()), self.now))
            elif kind == "merge":
                target = self.pick(int(action[2]))  # type: ignore[call-overload]
                assert target is not None
                before = self.votes.get(q.id, set()) | self.votes.get(target.id, set())
                self.save(list(qa.merge(q, target, self.now)))
                self.votes[target.id] = self.votes.get(target.id, set()) | self.votes.get(
                    q.id, set()
                )
                # Merging never loses or double-counts a vote.
                assert self.votes[target.id] == before
        except HubsBridgeError:
            pass  # refused; the invariants below must hold all the same


@settings(max_examples=300, deadline=None)
@given(st.lists(ACTIONS, max_size=40))
def test_invariants_hold_after_any_sequence(actions: list[tuple[object, ...]]) -> None:
    model = Model()
    for action in actions:
        before = dict(model.questions)
        model.run(action)
        pinned: dict[str, int] = {}
        for q in model.questions.values():
            if q.pinned:
                pinned[q.slot] = pinned.get(q.slot, 0) + 1
                assert q.visible  # only visible questions are on stage
        assert all(n == 1 for n in pinned.values()), "two pinned questions in one room"
        for qid, q in model.questions.items():
            if qid in before and before[qid] != q:
                assert q.version > before[qid].version  # every change is a new version


@given(st.sampled_from([True, False]), st.integers(0, 9))
def test_undone_delete_restores_exactly(pinned: bool, minutes: int) -> None:
    q = qa.approve(ask("a"), T0)
    if pinned:
        q = qa.pin(q, [q], T0)[-1]
    gone = qa.delete(q, T0)
    back = qa.undelete(gone, [gone], T0 + timedelta(minutes=minutes))
    restored = next(x for x in back if x.id == "a")
    strip = {"version": 0, "updated_at": T0}
    assert replace(restored, **strip) == replace(q, **strip)  # type: ignore[arg-type]
