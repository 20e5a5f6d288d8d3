"""Polls as pure functions: making, opening and closing, answers, results, chat votes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubs_bridge.core import polls
from hubs_bridge.core.polls import Answer, Poll
from hubs_bridge.core.qa_text import WordFilter
from hubs_bridge.errors import HubsBridgeError

NOW = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
NO_FILTER = WordFilter(frozenset())
THEMES = ["Verkehr", "Klima", "Bildung", "Digitales"]


def poll(kind: str = "single", **fields: Any) -> Poll:
    values: dict[str, Any] = {"options": THEMES if kind in ("single", "multiple") else ()}
    values.update(fields)
    made = polls.new_poll(
        poll_id="p1",
        event="kirmes",
        question="Welche Themen sollen wir 2027 zuerst angehen?",
        kind=kind,
        now=NOW,
        **values,
    )
    return polls.open_poll(made, NOW + timedelta(minutes=1))


@pytest.mark.parametrize(
    ("kind", "fields", "code"),
    [
        ("quiz", {}, "unknown_kind"),
        ("single", {"options": ["Nur eins"]}, "options_count"),
        ("single", {"options": [f"O{n}" for n in range(11)]}, "options_count"),
        ("single", {"options": ["Klima", "klima"]}, "options_repeat"),
        ("single", {"options": ["Klima", " "]}, "text_empty"),
        ("multiple", {"options": THEMES, "max_choices": 5}, "max_choices_out_of_range"),
        ("multiple", {"options": THEMES, "max_choices": 0}, "max_choices_out_of_range"),
        ("rating", {"options": ["a", "b"]}, "options_not_allowed"),
        ("text", {"options": ["a", "b"]}, "options_not_allowed"),
    ],
)
def test_a_poll_that_cannot_be_meant_is_refused(
    kind: str, fields: dict[str, Any], code: str
) -> None:
    fields.setdefault("options", ())
    with pytest.raises(HubsBridgeError) as refused:
        polls.new_poll(poll_id="p", event="e", question="Frage?", kind=kind, now=NOW, **fields)
    assert refused.value.code == code


def test_draft_open_closed_and_never_back() -> None:
    draft = polls.new_poll(poll_id="p", event="e", question="Frage?", kind="rating", now=NOW)
    assert draft.state == "draft" and draft.choices == 5
    with pytest.raises(HubsBridgeError, match="not open"):
        polls.check_answer(draft, Answer(choices=(1,)), NO_FILTER)
    opened = polls.open_poll(draft, NOW)
    closed = polls.close_poll(opened, NOW + timedelta(minutes=3))
    assert (opened.state, closed.state) == ("open", "closed")
    assert closed.version == draft.version + 2
    for step in (polls.open_poll, polls.close_poll):
        with pytest.raises(HubsBridgeError):
            step(closed, NOW)
    with pytest.raises(HubsBridgeError, match="not open"):
        polls.check_answer(closed, Answer(choices=(1,)), NO_FILTER)


@pytest.mark.parametrize(
    ("kind", "answer", "code"),
    [
        ("single", Answer(choices=()), "choices_required"),
        ("single", Answer(choices=(0, 1)), "too_many_choices"),
        ("single", Answer(choices=(4,)), "choice_out_of_range"),
        ("single", Answer(choices=(-1,)), "choice_out_of_range"),
        ("single", Answer(text="Klima"), "choices_required"),
        ("rating", Answer(choices=(5,)), "choice_out_of_range"),
        ("text", Answer(choices=(1,)), "text_required"),
        ("text", Answer(text="x" * 61), "text_too_long"),
    ],
)
def test_answers_out_of_bounds_are_refused(kind: str, answer: Answer, code: str) -> None:
    with pytest.raises(HubsBridgeError) as refused:
        polls.check_answer(poll(kind), answer, NO_FILTER)
    assert refused.value.code == code


def test_multiple_choice_up_to_n_and_counted_once() -> None:
    p = poll("multiple", max_choices=2)
    kept = polls.check_answer(p, Answer(choices=(3, 1, 3)), NO_FILTER)
    assert kept.choices == (1, 3)
    with pytest.raises(HubsBridgeError, match="at most 2"):
        polls.check_answer(p, Answer(choices=(0, 1, 2)), NO_FILTER)
    results = polls.tally(p, [kept, Answer(choices=(1,))])
    assert results.counts == (0, 2, 0, 1) and results.respondents == 2


def test_ratings_and_their_average() -> None:
    p = poll("rating")
    answers = [Answer(choices=(r - 1,)) for r in (5, 4, 4, 1)]
    results = polls.tally(p, answers)
    assert results.counts == (1, 0, 0, 2, 1)
    assert results.average == pytest.approx(3.5)
    assert polls.tally(p, []).average is None


def test_a_word_cloud_without_stop_words_and_held_texts() -> None:
    p = poll("text")
    flt = WordFilter.from_lines(["idiot"])
    texts = ["Sichere Radwege!", "radwege und Bäume", "BÄUME, Bäume, Bäume", "So ein Idiot"]
    answers = [polls.check_answer(p, Answer(text=t), flt) for t in texts]
    assert [a.held for a in answers] == [False, False, False, True]
    results = polls.tally(p, answers)
    # Folded case, stop words (und, ein, so) gone, one count per answer and word.
    assert dict(results.words) == {"bäume": 2, "radwege": 2, "sichere": 1}
    assert results.words[0] == ("bäume", 2)  # most frequent first, then by the word
    assert results.respondents == 3 and results.held == 1


def test_hidden_results_only_for_moderators_until_closed() -> None:
    p = poll(hide_results=True)
    results = polls.tally(p, [Answer(choices=(0,))])
    assert polls.results_for(p, results, moderator=False) is None
    assert polls.results_for(p, results, moderator=True) == results
    closed = polls.close_poll(p, NOW + timedelta(hours=1))
    assert polls.results_for(closed, results, moderator=False) == results


@pytest.mark.parametrize(
    ("line", "choice"),
    [
        ("/1", 0),
        ("/4", 3),
        ("/ 2", 1),
        ("/abstimmen 2", 1),
        ("/ABSTIMMEN 3 ", 2),
        ("/vote 1", 0),
        ("/5", None),
        ("/0", None),
        ("/abstimmen", None),
        ("/frage Wie geht es weiter?", None),
        ("1", None),
        ("/1 und /2", None),
    ],
)
def test_votes_from_the_hubs_chat(line: str, choice: int | None) -> None:
    answer = polls.chat_answer(line, poll())
    assert (answer.choices[0] if answer else None) == choice


@pytest.mark.parametrize(
    ("line", "choices"),
    [
        ("/1 3", (0, 2)),
        ("/1,3", (0, 2)),
        ("/abstimmen 2; 4", (1, 3)),
        ("/3 3", (2,)),
        ("/1 2 3", None),  # more than max_choices
        ("/1 9", None),
    ],
)
def test_multiple_choices_in_one_chat_line(line: str, choices: tuple[int, ...] | None) -> None:
    answer = polls.chat_answer(line, poll("multiple", max_choices=2))
    assert (answer.choices if answer else None) == choices
    if choices is not None and len(choices) > 1:
        assert polls.chat_answer(line, poll()) is None  # a single choice takes one number


def test_a_text_poll_takes_no_chat_numbers() -> None:
    assert polls.chat_answer("/1", poll("text")) is None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, 3), min_size=1, max_size=4), max_size=50))
def test_counts_are_exact_whatever_the_answers(raw: list[list[int]]) -> None:
    p = poll("multiple", max_choices=4)
    answers = [polls.check_answer(p, Answer(choices=tuple(c)), NO_FILTER) for c in raw]
    results = polls.tally(p, answers)
    assert results.respondents == len(raw)
    for option in range(4):
        assert results.counts[option] == sum(1 for c in raw if option in c)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_words_are_folded_and_never_stop_words(text: str) -> None:
    for word in polls.words_of(text, polls.STOP_WORDS):
        assert word == word.casefold() and word not in polls.STOP_WORDS and len(word) >= 2
