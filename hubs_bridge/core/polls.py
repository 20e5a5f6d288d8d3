"""Live polls, pure: a poll, its answers and its results; commands and ``now`` in, records out.

The foundation of issue 14 ("Live polls answered from the web page and from
inside the Hubs room"); the service, stores, frames and pages build on it.

Kinds:
- ``single``: one of the options;
- ``multiple``: up to ``max_choices`` of the options;
- ``rating``: 1 to 5;
- ``text``: a short free text, shown as a word cloud (words normalised, German
  and English stop words dropped). Texts the word filter holds are not counted
  until a moderator lets them through, as questions are held.

Rules kept here, whoever calls:
- a poll goes ``draft`` -> ``open`` -> ``closed``, never back;
- one answer per visitor, replaced by a later one until the poll closes;
- results may be hidden from visitors until the poll is closed; moderators
  always see them.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from hubs_bridge.core.qa_text import STOP_WORDS, WordFilter, clean_text, words_of
from hubs_bridge.errors import Conflict, FieldProblem, ValidationFailed

PollKind = Literal["single", "multiple", "rating", "text"]
BallotSource = Literal["web", "hubs"]
PollState = Literal["draft", "open", "closed"]
KINDS: tuple[PollKind, ...] = ("single", "multiple", "rating", "text")
_KIND_BY_NAME: dict[str, PollKind] = {kind: kind for kind in KINDS}

MAX_QUESTION_CHARS = 200
MIN_OPTIONS, MAX_OPTIONS = 2, 10
MAX_OPTION_CHARS = 80
MAX_TEXT_CHARS = 60  # a few words for a word cloud, not an essay
RATINGS = (1, 2, 3, 4, 5)
WORDS_SHOWN = 40  # the cloud's most frequent words


@dataclass(frozen=True, slots=True)
class Poll:
    id: str
    event: str
    question: str
    kind: PollKind
    options: tuple[str, ...] = ()  # single and multiple only
    max_choices: int = 1  # multiple: up to this many options
    rooms: tuple[str, ...] | None = None  # None: the whole event
    hide_results: bool = False  # from visitors until closed
    state: PollState = "draft"
    created_at: datetime | None = None
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    version: int = 1

    @property
    def choices(self) -> int:
        """How many answers can be counted apart: options, or the five ratings."""
        return len(RATINGS) if self.kind == "rating" else len(self.options)


@dataclass(frozen=True, slots=True)
class Answer:
    """One visitor's answer: option indexes (from 0) or a rating, or a text."""

    choices: tuple[int, ...] = ()
    text: str | None = None
    held: bool = False  # a text the word filter holds until a moderator lets it through


@dataclass(frozen=True, slots=True)
class Ballot:
    """One visitor's answer to one poll as it is stored: the latest replaces earlier ones.

    ``voter`` is the pseudonymous visitor id (a Hubs participant's key for answers from
    the room chat) and never leaves the server; moderators name a ballot by :attr:`id`.
    """

    event: str
    poll: str
    voter: str
    answer: Answer
    client_msg_id: str
    at: datetime
    source: BallotSource = "web"

    @property
    def id(self) -> str:
        return ballot_id(self.poll, self.voter)


def ballot_id(poll: str, voter: str) -> str:
    """A ballot's public name: stable per (poll, voter), and no way back to the voter."""
    return hashlib.sha256(f"{poll}\x00{voter}".encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Results:
    """Exact counts: per option (or per rating 1-5), respondents, and a text poll's words."""

    poll: str
    counts: tuple[int, ...]
    respondents: int
    words: tuple[tuple[str, int], ...] = ()  # most frequent first
    held: int = 0  # texts waiting for a moderator

    @property
    def average(self) -> float | None:
        """A rating poll's mean (None without ratings or for other kinds)."""
        total = sum(self.counts)
        if len(self.counts) != len(RATINGS) or not total:
            return None
        return sum(r * n for r, n in zip(RATINGS, self.counts, strict=True)) / total


# --- making and running a poll -------------------------------------------------------------


def new_poll(
    *,
    poll_id: str,
    event: str,
    question: str,
    kind: str,
    options: Iterable[str] = (),
    max_choices: int = 1,
    rooms: Iterable[str] | None = None,
    hide_results: bool = False,
    known_rooms: Collection[str] | None = None,
    now: datetime,
) -> Poll:
    """A draft poll, or one :class:`ValidationFailed` naming every problem at once.

    ``details`` lists each wrong field (``question``, ``kind``, ``options`` or
    ``options.N``, ``max_choices``, ``rooms``), so a form marks them all; ``code``
    is the first problem's. ``known_rooms``: the event's rooms (``None``: not checked).
    """
    problems: list[FieldProblem] = []

    def problem(field: str, message: str, code: str) -> None:
        problems.append({"field": field, "message": message, "type": code})

    def cleaned(raw: str, max_chars: int, field: str) -> str:
        try:
            return clean_text(raw, max_chars=max_chars, field=field)
        except ValidationFailed as exc:
            problems.extend(
                exc.details or [{"field": field, "message": exc.message, "type": exc.code}]
            )
            return raw

    chosen = _KIND_BY_NAME.get(kind)
    if chosen is None:
        problem("kind", f"kind must be one of {', '.join(KINDS)}", "unknown_kind")
    text = cleaned(question, MAX_QUESTION_CHARS, "question")
    given = list(options)
    texts = tuple(cleaned(o, MAX_OPTION_CHARS, f"options.{n}") for n, o in enumerate(given))
    if chosen in ("single", "multiple"):
        if not MIN_OPTIONS <= len(texts) <= MAX_OPTIONS:
            problem(
                "options",
                f"a {kind} poll needs {MIN_OPTIONS} to {MAX_OPTIONS} options",
                "options_count",
            )
        seen: set[str] = set()
        for n, option in enumerate(texts):
            if option.casefold() in seen:
                problem(f"options.{n}", "the options must differ", "options_repeat")
            seen.add(option.casefold())
    elif chosen is not None and texts:
        problem("options", f"a {kind} poll has no options", "options_not_allowed")
    if chosen == "multiple":
        if not 1 <= max_choices <= max(1, len(texts)):
            problem(
                "max_choices",
                f"max_choices must be 1 to {len(texts)}",
                "max_choices_out_of_range",
            )
    else:
        max_choices = 1
    chosen_rooms = tuple(rooms) if rooms else None
    unknown = [r for r in chosen_rooms or () if known_rooms is not None and r not in known_rooms]
    if unknown:
        problem("rooms", f"unknown rooms: {', '.join(unknown)}", "unknown_room")
    if problems or chosen is None:
        raise ValidationFailed(
            problems[0]["message"] if len(problems) == 1 else "the poll is not valid",
            code=problems[0]["type"],
            details=problems,
        )
    return Poll(
        id=poll_id,
        event=event,
        question=text,
        kind=chosen,
        options=texts,
        max_choices=max_choices,
        rooms=chosen_rooms,
        hide_results=hide_results,
        created_at=now,
    )


def open_poll(poll: Poll, now: datetime) -> Poll:
    if poll.state != "draft":
        raise Conflict(f"the poll is {poll.state}, only a draft opens", code="poll_not_draft")
    return replace(poll, state="open", opened_at=now, version=poll.version + 1)


def close_poll(poll: Poll, now: datetime) -> Poll:
    if poll.state != "open":
        raise Conflict(f"the poll is {poll.state}, only an open one closes", code="poll_not_open")
    return replace(poll, state="closed", closed_at=now, version=poll.version + 1)


def check_answer(poll: Poll, answer: Answer, word_filter: WordFilter) -> Answer:
    """The answer as it is kept (text cleaned, held by the filter), or why it is refused."""
    if poll.state != "open":
        raise Conflict("the poll is not open", code="poll_not_open")
    if poll.kind == "text":
        if answer.choices or answer.text is None:
            raise ValidationFailed("a text poll takes a text", code="text_required")
        text = clean_text(answer.text, max_chars=MAX_TEXT_CHARS)
        return Answer(text=text, held=bool(word_filter.matches(text)))
    if answer.text is not None:
        raise ValidationFailed("this poll takes choices, not a text", code="choices_required")
    choices = tuple(sorted(set(answer.choices)))
    if not choices:
        raise ValidationFailed("choose at least one", code="choices_required")
    if len(choices) > poll.max_choices:
        raise ValidationFailed(f"choose at most {poll.max_choices}", code="too_many_choices")
    if any(not 0 <= c < poll.choices for c in choices):
        raise ValidationFailed(f"choices are 0 to {poll.choices - 1}", code="choice_out_of_range")
    return Answer(choices=choices)


# --- results -------------------------------------------------------------------------------


def tally(
    poll: Poll, answers: Iterable[Answer], stop_words: frozenset[str] | None = None
) -> Results:
    """Exact results from every visitor's (latest) answer."""
    counts = [0] * poll.choices
    words: Counter[str] = Counter()
    respondents = held = 0
    stop = STOP_WORDS if stop_words is None else stop_words
    for answer in answers:
        if answer.held:
            held += 1
            continue
        respondents += 1
        for choice in answer.choices:
            if 0 <= choice < len(counts):
                counts[choice] += 1
        if answer.text is not None:
            # A word counts once per answer: one person cannot fill the cloud alone.
            words.update(set(words_of(answer.text, stop)))
    top = sorted(words.items(), key=lambda item: (-item[1], item[0]))[:WORDS_SHOWN]
    return Results(poll.id, tuple(counts), respondents, tuple(top), held)


def results_for(poll: Poll, results: Results, *, moderator: bool) -> Results | None:
    """What a viewer may see of the results: hidden from visitors until closed if asked."""
    return None if results_hidden(poll) and not moderator else results


# --- what pages see -----------------------------------------------------------------------


def public_poll(poll: Poll) -> dict[str, Any]:
    """A poll as pages get it (no visitor ids exist on a poll; drafts only to moderators)."""
    data = poll_to_dict(poll)
    del data["event"]
    return data


def public_results(results: Results, *, hidden: bool) -> dict[str, Any]:
    """Results as a page gets them; ``hidden``: only how many have answered."""
    if hidden:
        return {"poll": results.poll, "respondents": results.respondents, "hidden": True}
    return results_to_dict(results)


def poll_view(poll: Poll, results: Results, *, moderator: bool) -> dict[str, Any]:
    """A poll with its results as a viewer may see them (snapshots and the HTTP list)."""
    hidden = results_hidden(poll) and not moderator
    return {"poll": public_poll(poll), "results": public_results(results, hidden=hidden)}


def own_answer(ballot: Ballot) -> dict[str, Any]:
    """A visitor's own answer as their page gets it (acks and snapshots)."""
    return {
        "poll": ballot.poll,
        "choices": list(ballot.answer.choices),
        "text": ballot.answer.text,
        "held": ballot.answer.held,
    }


def results_hidden(poll: Poll) -> bool:
    """Whether visitors may not see the poll's counts now."""
    return poll.hide_results and poll.state != "closed"


# --- answers from the Hubs chat ------------------------------------------------------------

_CHAT_VOTE = re.compile(r"^/(?:abstimmen|vote)?\s*(\d{1,2}(?:\s*[,;\s]\s*\d{1,2}){0,9})\s*$", re.I)


def chat_answer(line: str, poll: Poll) -> Answer | None:
    """``/2``, ``/abstimmen 2`` (``/vote 2``) or, for multiple choice, ``/1 3`` or ``/1,3``
    in a Hubs room's chat, as an answer.

    Options are numbered from 1 in the chat, as they are posted (ratings are their own
    numbers, 1 to 5). ``None`` when the line is no vote for this poll: a text poll, a
    number that is no option, or more numbers than the poll takes.
    """
    if poll.kind == "text":
        return None
    match = _CHAT_VOTE.match(line.strip())
    if match is None:
        return None
    numbers = {int(n) for n in re.split(r"[,;\s]+", match.group(1))}
    if len(numbers) > poll.max_choices or not all(1 <= n <= poll.choices for n in numbers):
        return None
    return Answer(choices=tuple(sorted(n - 1 for n in numbers)))


# --- records as JSON-ready dicts, the one format both store backends keep ------------------


def poll_to_dict(poll: Poll) -> dict[str, Any]:
    return {
        "id": poll.id,
        "event": poll.event,
        "question": poll.question,
        "kind": poll.kind,
        "options": list(poll.options),
        "max_choices": poll.max_choices,
        "rooms": list(poll.rooms) if poll.rooms is not None else None,
        "hide_results": poll.hide_results,
        "state": poll.state,
        "created_at": _iso(poll.created_at),
        "opened_at": _iso(poll.opened_at),
        "closed_at": _iso(poll.closed_at),
        "version": poll.version,
    }


def poll_from_dict(d: Mapping[str, Any]) -> Poll:
    kind = _KIND_BY_NAME[d["kind"]]
    state = d["state"]
    if state not in ("draft", "open", "closed"):
        raise ValueError(f"unknown poll state {state!r}")
    rooms = d.get("rooms")
    return Poll(
        id=str(d["id"]),
        event=str(d["event"]),
        question=str(d["question"]),
        kind=kind,
        options=tuple(str(o) for o in d.get("options", ())),
        max_choices=int(d.get("max_choices", 1)),
        rooms=tuple(str(r) for r in rooms) if rooms is not None else None,
        hide_results=bool(d.get("hide_results", False)),
        state=state,
        created_at=_time(d.get("created_at")),
        opened_at=_time(d.get("opened_at")),
        closed_at=_time(d.get("closed_at")),
        version=int(d["version"]),
    )


def ballot_to_dict(ballot: Ballot) -> dict[str, Any]:
    return {
        "event": ballot.event,
        "poll": ballot.poll,
        "voter": ballot.voter,
        "choices": list(ballot.answer.choices),
        "text": ballot.answer.text,
        "held": ballot.answer.held,
        "client_msg_id": ballot.client_msg_id,
        "at": ballot.at.isoformat(),
        "source": ballot.source,
    }


def ballot_from_dict(d: Mapping[str, Any]) -> Ballot:
    source = d.get("source", "web")
    if source not in ("web", "hubs"):
        raise ValueError(f"unknown ballot source {source!r}")
    text = d.get("text")
    return Ballot(
        event=str(d["event"]),
        poll=str(d["poll"]),
        voter=str(d["voter"]),
        answer=Answer(
            choices=tuple(int(c) for c in d.get("choices", ())),
            text=None if text is None else str(text),
            held=bool(d.get("held", False)),
        ),
        client_msg_id=str(d["client_msg_id"]),
        at=datetime.fromisoformat(d["at"]),
        source=source,
    )


def results_to_dict(results: Results) -> dict[str, Any]:
    return {
        "poll": results.poll,
        "counts": list(results.counts),
        "respondents": results.respondents,
        "words": [[word, n] for word, n in results.words],
        "held": results.held,
        "average": results.average,
    }


def results_from_dict(d: Mapping[str, Any]) -> Results:
    return Results(
        poll=str(d["poll"]),
        counts=tuple(int(c) for c in d["counts"]),
        respondents=int(d["respondents"]),
        words=tuple((str(w), int(n)) for w, n in d.get("words", ())),
        held=int(d.get("held", 0)),
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _time(value: object) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None
