"""Stream events: what happens at an event, as typed data, and the one codec for the broker.

Every change that pages or the Hubs bridge must learn of travels through the
event's stream (the broker carries it to every process, in order). Producers
build one of the frozen classes below; :func:`encode` turns it into the
broker's bytes and :func:`decode` turns them back. Nowhere else is a stream
body a dict.

Two pure functions say what the stream means:

- :func:`apply` advances :class:`LiveState` (what a page's snapshot shows) by
  one event; every process keeps one per event it serves.
- :func:`page_body` is what a page may see of an event, a function of the
  event and the page's :data:`~hubs_bridge.core.qa.Viewer` alone. Pages get
  every position of the stream (they detect gaps by ``seq``); an event a
  page may not see at all becomes a ``skip`` at its position.

One question, end to end::

    QaService.ask -> QuestionChanged -> encode -> broker (every process, in order)
      -> decode -> apply (LiveState) -> page_body per Viewer -> every page
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Literal, TypeAlias

import orjson

from hubs_bridge.core import polls as polling
from hubs_bridge.core import qa

ANNOUNCEMENTS_KEPT = 5
"""Announcements a snapshot shows (the latest)."""

HubsAction = Literal["mute", "kick"]


class StreamDecodeError(ValueError):
    """A stream body this version cannot read (another version's kind, or a bug)."""


@dataclass(frozen=True, slots=True)
class Announcement:
    """A moderator's message to the event or some of its rooms."""

    id: str
    text: str
    rooms: tuple[str, ...] | None  # None: every room
    at: str  # ISO 8601, as pages show it

    def to_dict(self) -> dict[str, Any]:
        rooms = list(self.rooms) if self.rooms else None
        return {"id": self.id, "text": self.text, "rooms": rooms, "at": self.at}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Announcement:
        rooms = data.get("rooms")
        return cls(
            id=str(data["id"]),
            text=str(data["text"]),
            rooms=tuple(str(r) for r in rooms) if rooms else None,
            at=str(data["at"]),
        )


# --- the events ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuestionChanged:
    """A question was asked or changed: its whole record (with visitor ids) and its votes.

    The record never reaches a page as it is: :func:`page_body` tailors it.
    """

    kind: ClassVar[str] = "question"
    question: qa.Question
    votes: int


@dataclass(frozen=True, slots=True)
class VotesCounted:
    """Exact vote counts of the questions voted on lately (coalesced by the Q&A service)."""

    kind: ClassVar[str] = "votes"
    counts: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class RejectionsCounted:
    """How many questions were rejected, by reason: everyone may know."""

    kind: ClassVar[str] = "transparency"
    rejected: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class Announced:
    kind: ClassVar[str] = "announcement"
    announcement: Announcement


@dataclass(frozen=True, slots=True)
class AttendanceCounted:
    """Who is where, in absolute numbers, so applying it twice is harmless.

    ``rooms`` holds only the rooms that changed, unless ``full``: then every
    room is listed and rooms not listed are gone.
    """

    kind: ClassVar[str] = "attendance"
    online: int
    rooms: Mapping[str, Mapping[str, Any]]
    removed: tuple[str, ...] = ()
    full: bool = False


@dataclass(frozen=True, slots=True)
class EventUpdated:
    """Staff changed the event; ``event`` is already the public view of it."""

    kind: ClassVar[str] = "event"
    event: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class HubsActionRequested:
    """A moderator asked to mute or kick one person in a Hubs room.

    For the process that bridges the room; ``session`` names the person by
    their presence entry. Pages learn the outcome from the room status, never
    from this event.
    """

    kind: ClassVar[str] = "hubs_action"
    id: str
    action: HubsAction
    session: str
    room: str | None


@dataclass(frozen=True, slots=True)
class PollChanged:
    """A poll was drafted, changed, opened, closed or (``removed``) deleted: its whole record.

    Visitors never see a draft: :func:`page_body` hides it as ``{"id", "hidden": true}``.
    """

    kind: ClassVar[str] = "poll"
    poll: polling.Poll
    removed: bool = False


@dataclass(frozen=True, slots=True)
class PollCounted:
    """A poll's exact results (coalesced by the poll service: a few frames a second).

    ``hidden``: visitors may not see the counts yet (results hidden until the poll
    closes); they learn only how many have answered.
    """

    kind: ClassVar[str] = "poll_results"
    results: polling.Results
    hidden: bool = False


StreamEvent: TypeAlias = (
    QuestionChanged
    | VotesCounted
    | RejectionsCounted
    | Announced
    | AttendanceCounted
    | EventUpdated
    | HubsActionRequested
    | PollChanged
    | PollCounted
)


# --- the codec ----------------------------------------------------------------------------


def to_body(event: StreamEvent) -> dict[str, Any]:
    """The JSON object the broker carries for ``event``."""
    match event:
        case QuestionChanged(question=question, votes=votes):
            return {"type": event.kind, "record": qa.question_to_dict(question), "votes": votes}
        case VotesCounted(counts=counts):
            return {"type": event.kind, "counts": dict(counts)}
        case RejectionsCounted(rejected=rejected):
            return {"type": event.kind, "rejected": dict(rejected)}
        case Announced(announcement=announcement):
            return {"type": event.kind, "announcement": announcement.to_dict()}
        case AttendanceCounted():
            return _attendance_body(event)
        case EventUpdated(event=data):
            return {"type": event.kind, "event": dict(data)}
        case PollChanged(poll=poll, removed=removed):
            body: dict[str, Any] = {"type": event.kind, "record": polling.poll_to_dict(poll)}
            if removed:
                body["removed"] = True
            return body
        case PollCounted(results=results, hidden=hidden):
            return {
                "type": event.kind,
                "results": polling.results_to_dict(results),
                "hidden": hidden,
            }
        case HubsActionRequested():
            return {
                "type": event.kind,
                "id": event.id,
                "action": event.action,
                "session": event.session,
                "room": event.room,
            }


def encode(event: StreamEvent) -> bytes:
    return orjson.dumps(to_body(event))


def decode(body: bytes) -> StreamEvent:
    """The event in a broker body; :class:`StreamDecodeError` for anything else."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise StreamDecodeError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise StreamDecodeError("not a JSON object")
    kind = data.get("type")
    try:
        return _from_body(kind, data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StreamDecodeError(f"invalid {str(kind)[:40]!r} body: {exc!r}") from None


def _from_body(kind: object, data: dict[str, Any]) -> StreamEvent:
    match kind:
        case "question":
            return QuestionChanged(qa.question_from_dict(data["record"]), _int(data["votes"]))
        case "votes":
            return VotesCounted(_counts(data["counts"]))
        case "transparency":
            return RejectionsCounted(_counts(data["rejected"]))
        case "announcement":
            return Announced(Announcement.from_dict(data["announcement"]))
        case "attendance":
            rooms = data["rooms"]
            if not isinstance(rooms, dict) or not all(isinstance(v, dict) for v in rooms.values()):
                raise TypeError("rooms must map rooms to counts")
            return AttendanceCounted(
                online=_int(data["online"]),
                rooms=rooms,
                removed=tuple(str(r) for r in data.get("removed", ())),
                full=data.get("full") is True,
            )
        case "event":
            if not isinstance(data["event"], dict):
                raise TypeError("event must be an object")
            return EventUpdated(data["event"])
        case "poll":
            return PollChanged(polling.poll_from_dict(data["record"]), data.get("removed") is True)
        case "poll_results":
            return PollCounted(polling.results_from_dict(data["results"]), data["hidden"] is True)
        case "hubs_action":
            action = data["action"]
            if action not in ("mute", "kick"):
                raise ValueError(f"unknown action {action!r}")
            room = data.get("room")
            return HubsActionRequested(
                id=str(data["id"]),
                action=action,
                session=str(data["session"]),
                room=None if room is None else str(room),
            )
    raise StreamDecodeError(f"unknown stream event {str(kind)[:40]!r}")


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{value!r} is not an integer")
    return value


def _counts(value: object) -> dict[str, int]:
    if not isinstance(value, dict):
        raise TypeError("counts must be an object")
    return {str(k): _int(v) for k, v in value.items()}


def _attendance_body(event: AttendanceCounted) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": event.kind,
        "online": event.online,
        "rooms": {k: dict(v) for k, v in event.rooms.items()},
    }
    if event.removed:
        body["removed"] = list(event.removed)
    if event.full:
        body["full"] = True
    return body


# --- what pages may see -------------------------------------------------------------------


def shared_audience(event: StreamEvent) -> qa.Viewer | None:
    """The one kind of viewer every page is for ``event``, or ``None`` if it depends on the page.

    Only a question is seen differently (by moderators, by its author); every other
    event is the same for every page, so a moderator's page shares the visitors' bytes
    and nothing about a page needs looking at to send it.
    """
    if isinstance(event, QuestionChanged) or _only_moderators_see_all(event):
        return None
    return "visitor"


def _only_moderators_see_all(event: StreamEvent) -> bool:
    """A draft poll or hidden results: moderators see more than visitors."""
    match event:
        case PollChanged(poll=poll, removed=removed):
            return poll.state == "draft" and not removed
        case PollCounted(hidden=hidden):
            return hidden
    return False


def audience(event: StreamEvent, *, moderator: bool, visitor: str) -> qa.Viewer:
    """Which kind of viewer a page is for this event; pages of one kind see the same bytes."""
    if isinstance(event, QuestionChanged):
        return qa.viewer_of(event.question, moderator=moderator, visitor=visitor)
    if moderator and _only_moderators_see_all(event):
        return "moderator"
    return "visitor"


def page_body(event: StreamEvent, viewer: qa.Viewer) -> dict[str, Any]:
    """What a page of ``viewer`` may see of ``event``: the frame without its position.

    Never a visitor id: a question goes out as :func:`qa.public_view`, or as a
    bare ``{"id", "hidden": true}`` where this viewer may not see it (so no page
    sees a gap and none learns what it may not).
    """
    match event:
        case QuestionChanged(question=question, votes=votes):
            view = (
                qa.public_view(question, votes, viewer)
                if qa.visible_to(question, viewer)
                else {"id": question.id, "hidden": True}
            )
            return {"type": event.kind, "question": view}
        case PollChanged(poll=poll, removed=removed):
            if removed or (poll.state == "draft" and viewer != "moderator"):
                return {"type": event.kind, "poll": {"id": poll.id, "hidden": True}}
            return {"type": event.kind, "poll": polling.public_poll(poll)}
        case PollCounted(results=results, hidden=hidden):
            shown = polling.public_results(results, hidden=hidden and viewer != "moderator")
            return {"type": event.kind, "results": shown}
        case HubsActionRequested():
            return {"type": "skip"}
        case _:
            return to_body(event)


def page_frame(event: StreamEvent, viewer: qa.Viewer, epoch: str, seq: int) -> bytes:
    """The frame sent to a page of ``viewer``, at its stream position."""
    body = page_body(event, viewer)
    return orjson.dumps({"type": body.pop("type"), "epoch": epoch, "seq": seq, **body})


def skip_frame(epoch: str, seq: int) -> bytes:
    """A position with nothing a page may see (also: a body this version cannot read)."""
    return orjson.dumps({"type": "skip", "epoch": epoch, "seq": seq})


# --- what every process keeps of the stream -----------------------------------------------


@dataclass(frozen=True, slots=True)
class LiveState:
    """What a page's snapshot shows, as of a stream position; advanced by :func:`apply`."""

    online: int = 0
    rooms: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    questions: Mapping[str, qa.Question] = field(default_factory=dict)
    votes: Mapping[str, int] = field(default_factory=dict)
    announcements: tuple[Announcement, ...] = ()
    polls: Mapping[str, polling.Poll] = field(default_factory=dict)
    poll_results: Mapping[str, polling.Results] = field(default_factory=dict)

    @property
    def attendance(self) -> dict[str, Any]:
        """Attendance as pages get it in a snapshot."""
        return {"online": self.online, "rooms": {k: dict(v) for k, v in self.rooms.items()}}


def apply(state: LiveState, event: StreamEvent) -> LiveState:
    """``state`` after ``event``; events carry absolute values, so a replay is harmless."""
    match event:
        case AttendanceCounted():
            rooms = {} if event.full else dict(state.rooms)
            rooms.update(event.rooms)
            for slug in event.removed:
                rooms.pop(slug, None)
            return replace(state, online=event.online, rooms=rooms)
        case QuestionChanged(question=question, votes=votes):
            known = state.questions.get(question.id)
            questions = state.questions
            if known is None or question.version >= known.version:
                # An older record (a republished retry) never replaces a newer one.
                questions = {**questions, question.id: question}
            return replace(state, questions=questions, votes={**state.votes, question.id: votes})
        case VotesCounted(counts=counts):
            return replace(state, votes={**state.votes, **counts})
        case Announced(announcement=announcement):
            if any(a.id == announcement.id for a in state.announcements):
                return state  # replayed on top of a state that has it already
            kept = (*state.announcements, announcement)[-ANNOUNCEMENTS_KEPT:]
            return replace(state, announcements=kept)
        case PollChanged(poll=poll, removed=True):
            return replace(
                state,
                polls={k: v for k, v in state.polls.items() if k != poll.id},
                poll_results={k: v for k, v in state.poll_results.items() if k != poll.id},
            )
        case PollChanged(poll=poll):
            known_poll = state.polls.get(poll.id)
            if known_poll is not None and known_poll.version > poll.version:
                return state
            return replace(state, polls={**state.polls, poll.id: poll})
        case PollCounted(results=results):
            # Kept even before its poll arrives, so a replayed tail gives the same state;
            # a snapshot shows results only beside their poll.
            return replace(state, poll_results={**state.poll_results, results.poll: results})
        case _:
            return state
