"""What an event's polls mean for the chat of its Hubs rooms. Pure: events in, notices out.

Two things are told about a poll (issue 14), in the rooms it is for (its
``rooms``, else every room of the event), German first, then English:

- when it opens: the question, the numbered options and how to answer in the
  chat (``/1``, ``/abstimmen 2``, ``/1 3``: :func:`~hubs_bridge.core.polls.chat_answer`),
  or, for a text poll, that it is answered on the event page;
- when it closes: the result (the leading options with counts and percent, the
  average rating, or the most frequent words).

The result needs the final counts, which a ``PollChanged`` does not carry: it is
told at the first ``PollCounted`` of the poll once it is known closed, and only
once (the poll service publishes the final count right after the close, and again
when it settles). The bridge reads that count itself as soon as it hears of the
close and hands it in first (:meth:`PollChat.final_count
<hubs_bridge.hubs.poll_chat.PollChat.final_count>` says why). :class:`PollNotices`
also knows which polls are open, so that a chat line can be matched to the poll it
answers (:meth:`PollNotices.open_for`).

Like :class:`~hubs_bridge.hubs.notices.StreamNotices`, it starts from the state the
stream stood at (:meth:`PollNotices.baseline`) and tells nothing about it: a process
taking over an event's rooms does not post a poll again or repeat a result.

A post longer than one chat message (a long question with ten long options) is
split at an option into several, each within :data:`~hubs_bridge.hubs.frames.CHAT_MAX_CHARS`;
the parts are :attr:`Notice.whole`: the outbox sends every part, in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hubs_bridge.core.polls import RATINGS, Poll, Results
from hubs_bridge.core.stream import PollChanged, PollCounted, StreamEvent
from hubs_bridge.hubs.chat_out import truncate
from hubs_bridge.hubs.frames import CHAT_MAX_CHARS
from hubs_bridge.hubs.notices import Notice, one_line

POLL = "📊 Umfrage / Poll: "
RESULT = "📊 Ergebnis / Result: "
CONTINUED = "📊 … "  # the start of a post's second and later parts
DASH = " — "
TOP_OPTIONS = 3  # a result names the leading options, not all ten
TOP_WORDS = 5


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _numbers(count: int) -> str:
    if count <= 3:
        return ", ".join(f"/{n}" for n in range(1, count + 1))
    return f"/1, /2 … /{count}"


def how_to_answer(poll: Poll) -> str:
    """The line saying how to answer ``poll`` in the chat (or that it is not answered there)."""
    if poll.kind == "text":
        return (
            "Antworten bitte auf der Veranstaltungsseite (nicht im Chat) / "
            "Please answer on the event page (not in the chat)"
        )
    if poll.kind == "multiple" and poll.max_choices > 1:
        return (
            f"Bis zu {poll.max_choices} Antworten, z. B. /1 3 / "
            f"Up to {poll.max_choices} answers, e.g. /1 3"
        )
    numbers = _numbers(poll.choices)
    return f"Antworten mit {numbers} / Answer with {numbers}"


def _pack(pieces: Sequence[tuple[str, str]], limit: int) -> list[str]:
    """``(separator, text)`` pieces joined into as few messages of at most ``limit`` as fit.

    A piece never straddles two messages: an option stays whole with its number.
    """
    messages: list[str] = []
    current = ""
    for separator, text in pieces:
        if current and len(current) + len(separator) + len(text) > limit:
            messages.append(current)
            current = CONTINUED + text
        else:
            current = current + separator + text if current else text
    messages.append(current)
    # Only a single piece longer than a message could still be too long; none is, as
    # polls are bounded (core/polls.py), but a cut post is better than a refused frame.
    return [truncate(m, limit) for m in messages]


def opening_texts(poll: Poll, limit: int = CHAT_MAX_CHARS) -> list[str]:
    """The post of an opened poll: usually one message, several for a long poll."""
    pieces: list[tuple[str, str]] = [("", POLL + one_line(poll.question))]
    if poll.kind in ("single", "multiple"):
        for n, option in enumerate(poll.options, 1):
            pieces.append((DASH if n == 1 else " ", f"{n}) {one_line(option)}"))
    elif poll.kind == "rating":
        pieces.append(
            (
                DASH,
                f"Bewertung {RATINGS[0]} (schlecht) bis {RATINGS[-1]} (sehr gut) / "
                f"Rate {RATINGS[0]} (poor) to {RATINGS[-1]} (very good)",
            )
        )
    pieces.append((DASH, how_to_answer(poll)))
    return _pack(pieces, limit)


def _percent(count: int, of: int) -> str:
    return f"{round(100 * count / of)} %"


def _summary(poll: Poll, results: Results) -> str:
    respondents = results.respondents
    if respondents == 0:
        return "keine Antworten / no answers"
    if poll.kind == "rating":
        average = results.average
        if average is None:
            return "keine Bewertungen / no ratings"
        shown = f"{average:.1f}"
        return f"Ø {shown.replace('.', ',')} von 5 / average {shown} of 5"
    if poll.kind == "text":
        words = results.words[:TOP_WORDS]
        if not words:
            return "keine Wörter / no words"
        listed = ", ".join(f"{word} ({n})" for word, n in words)
        return f"Häufigste Wörter / Top words: {listed}"
    counts = results.counts
    ranked = sorted(range(len(counts)), key=lambda i: (-counts[i], i))
    leading = [i for i in ranked if counts[i] > 0][:TOP_OPTIONS]
    # Percent of the people who answered: in a multiple-choice poll they add up to more.
    return " ".join(
        f"{i + 1}) {one_line(poll.options[i])}: {counts[i]} ({_percent(counts[i], respondents)})"
        for i in leading
        if i < len(poll.options)
    )


def result_texts(poll: Poll, results: Results, limit: int = CHAT_MAX_CHARS) -> list[str]:
    """The post of a closed poll's result: its question, the result, how many answered."""
    respondents = results.respondents
    answered = (
        f"{_plural(respondents, 'Antwort', 'Antworten')} / "
        f"{_plural(respondents, 'answer', 'answers')}"
    )
    pieces = [
        ("", RESULT + one_line(poll.question)),
        (DASH, _summary(poll, results)),
        (DASH, answered),
    ]
    if respondents == 0:
        pieces.pop()  # "no answers" says it already
    return _pack(pieces, limit)


def _notices(poll: Poll, texts: Iterable[str]) -> list[Notice]:
    return [Notice(poll.rooms, text, whole=True) for text in texts]


def _opened_order(poll: Poll) -> tuple[float, int]:
    opened = poll.opened_at.timestamp() if poll.opened_at is not None else float("-inf")
    return (opened, poll.version)


class PollNotices:
    """Notices for one event's polls, and which of its polls are open."""

    def __init__(self) -> None:
        self._polls: dict[str, Poll] = {}  # the newest record of each poll seen
        self._opened: set[str] = set()  # polls whose opening was told (or was before us)
        self._resulted: set[str] = set()  # polls whose result was told (or was before us)

    def baseline(self, polls: Iterable[Poll]) -> None:
        """Take the stream's state as told already (records newer than it stay as they are)."""
        for poll in polls:
            if not self._remember(poll):
                continue
            if poll.state != "draft":
                self._opened.add(poll.id)
            if poll.state == "closed":
                self._resulted.add(poll.id)

    def on_event(self, event: StreamEvent) -> list[Notice]:
        """The notices one stream event calls for (most events call for none)."""
        if isinstance(event, PollChanged):
            return self._changed(event)
        if isinstance(event, PollCounted):
            return self._counted(event.results)
        return []

    def open_for(self, room: str) -> Poll | None:
        """The poll a chat line in ``room`` answers: of the open polls for that room that
        are answered in the chat (not text polls), the one opened last."""
        candidates = [
            p
            for p in self._polls.values()
            if p.state == "open" and p.kind != "text" and (p.rooms is None or room in p.rooms)
        ]
        return max(candidates, key=_opened_order, default=None)

    def result_due(self, poll_id: str) -> bool:
        """Whether the poll is closed and its result not told yet (it waits for a count)."""
        poll = self._polls.get(poll_id)
        return poll is not None and poll.state == "closed" and poll_id not in self._resulted

    def _remember(self, poll: Poll) -> bool:
        known = self._polls.get(poll.id)
        if known is not None and known.version >= poll.version:
            return False  # a republished or late record: nothing new
        self._polls[poll.id] = poll
        return True

    def _changed(self, event: PollChanged) -> list[Notice]:
        poll = event.poll
        if event.removed:
            # Deleted: nothing more is said about it, and no line answers it any more.
            self._polls.pop(poll.id, None)
            self._opened.discard(poll.id)
            self._resulted.discard(poll.id)
            return []
        if not self._remember(poll) or poll.state == "draft":
            return []
        if poll.id in self._opened:
            return []  # closed: its result waits for the final count
        self._opened.add(poll.id)
        if poll.state == "closed":
            return []  # opened and closed before we heard of it: its result is still told
        return _notices(poll, opening_texts(poll))

    def _counted(self, results: Results) -> list[Notice]:
        if not self.result_due(results.poll):
            return []  # a running count (pages show it) or the final one told already
        poll = self._polls[results.poll]
        self._resulted.add(poll.id)
        return _notices(poll, result_texts(poll, results))
