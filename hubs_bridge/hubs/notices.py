"""What an event's stream means for the chat of its Hubs rooms. Pure: events in, notices out.

Three things are told in the rooms (issue 5): the pinned question when it
changes, that a question was answered (with the written answer), and
announcements. :class:`StreamNotices` follows one event's ``question`` and
``announcement`` frames and remembers what it has already told, so a pin is
told once per change (votes, edits or a republished record of the pinned
question tell nothing new) and an announcement once. It starts from the
state the stream stood at (:meth:`StreamNotices.baseline`), which it tells
nothing about: a process taking over an event's rooms does not repeat what
its predecessor already said.

Polls (opened, and their results) are told by :class:`~hubs_bridge.hubs.poll_notices.PollNotices`,
which a :class:`StreamNotices` hands their frames to when it is given one.

Question texts in frames are plain text, as is the Hubs chat; line breaks are
folded so that one notice stays one line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hubs_bridge.core import qa
from hubs_bridge.core.polls import Poll
from hubs_bridge.core.stream import (
    Announced,
    Announcement,
    PollChanged,
    PollCounted,
    QuestionChanged,
    StreamEvent,
)

if TYPE_CHECKING:  # poll_notices builds on this module (Notice, one_line)
    from hubs_bridge.hubs.poll_notices import PollNotices

PINNED = "📌 Angepinnte Frage / Pinned question: "
ANSWERED = "✅ Beantwortet / Answered: "
ANSWER = " — Antwort/Answer: "
ANNOUNCEMENT = "📣 Durchsage / Announcement: "
CLOSING = (
    "Die Veranstaltung ist beendet. Danke fürs Kommen! / The event has ended. Thanks for coming!"
)


@dataclass(frozen=True, slots=True)
class Notice:
    """A text for the chat of ``rooms`` (room slugs), or of every room when ``None``.

    ``whole``: part of a post that must be said in full and in order (a poll with its
    options); other notices may be left out of a full message in favour of newer ones.
    """

    rooms: tuple[str, ...] | None
    text: str
    whole: bool = False


@dataclass(frozen=True, slots=True)
class _Seen:
    version: int
    answered: bool


def one_line(text: str) -> str:
    return " ".join(text.split())


def pinned_text(question: qa.Question) -> str:
    return PINNED + one_line(question.text)


def answered_text(question: qa.Question) -> str:
    text = ANSWERED + one_line(question.text)
    if question.answered == "written" and question.answer:
        text += ANSWER + one_line(question.answer)
    return text


def announcement_text(text: str) -> str:
    return ANNOUNCEMENT + one_line(text)


def _rooms_of(question: qa.Question) -> tuple[str, ...] | None:
    # A question asked to the whole event is pinned (and answered) for every room.
    return None if question.room is None else (question.room,)


class StreamNotices:
    """Notices for one event's rooms, from the frames of its stream.

    ``polls``: where poll frames go; without it polls are not told.
    """

    def __init__(self, polls: PollNotices | None = None) -> None:
        self.polls = polls
        self._questions: dict[str, _Seen] = {}
        self._pinned: dict[str, str] = {}  # pin slot (room, or "" for the event) -> question id
        self._announced: set[str] = set()

    def baseline(
        self,
        questions: Iterable[qa.Question],
        announcements: Iterable[Announcement],
        polls: Iterable[Poll] = (),
    ) -> None:
        """Take the stream's state as told already (records newer than it stay as they are)."""
        if self.polls is not None:
            self.polls.baseline(polls)
        for question in questions:
            known = self._questions.get(question.id)
            if known is not None and known.version >= question.version:
                continue
            self._remember(question)
            if question.pinned and question.visible:
                self._pinned[question.slot] = question.id
            elif self._pinned.get(question.slot) == question.id:
                del self._pinned[question.slot]
        self._announced.update(a.id for a in announcements)

    def on_event(self, event: StreamEvent) -> list[Notice]:
        """The notices one stream event calls for (most events call for none)."""
        if isinstance(event, QuestionChanged):
            return self._question(event.question)
        if isinstance(event, Announced):
            return self._announcement(event.announcement)
        if isinstance(event, PollChanged | PollCounted) and self.polls is not None:
            return self.polls.on_event(event)
        return []

    def _remember(self, question: qa.Question) -> None:
        self._questions[question.id] = _Seen(question.version, question.answered is not None)

    def _question(self, question: qa.Question) -> list[Notice]:
        known = self._questions.get(question.id)
        if known is not None and known.version >= question.version:
            return []  # a republished or late record: nothing new
        self._remember(question)
        notices: list[Notice] = []
        slot = question.slot
        if question.pinned and question.visible:
            if self._pinned.get(slot) != question.id:
                self._pinned[slot] = question.id
                notices.append(Notice(_rooms_of(question), pinned_text(question)))
        elif self._pinned.get(slot) == question.id:
            del self._pinned[slot]  # unpinned: pinning it again is a change worth telling
        newly_answered = question.answered is not None and (known is None or not known.answered)
        if newly_answered and question.visible:
            notices.append(Notice(_rooms_of(question), answered_text(question)))
        return notices

    def _announcement(self, announcement: Announcement) -> list[Notice]:
        if announcement.id in self._announced or not announcement.text.strip():
            return []
        self._announced.add(announcement.id)
        return [Notice(announcement.rooms, announcement_text(announcement.text))]
