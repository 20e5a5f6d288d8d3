"""The websocket protocol of ``/ws``: every frame as a pydantic model, tagged by ``type``.

``docs/protocol.md`` describes the same frames for people; this module is the
source of truth for machines. Client frames are validated here; server frames
are modelled here too (tests validate what the server sends against them), but
the hot paths encode plain dicts with orjson, once per frame.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

from hubs_bridge.core.calendar import Slug
from hubs_bridge.core.event_commands import validation_details
from hubs_bridge.core.qa import Action, AnswerMode, RejectReason
from hubs_bridge.errors import FieldProblem, HubsBridgeError

MAX_FRAME_BYTES = 16 * 1024
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- client to server ------------------------------------------------------


class Resume(_Frame):
    epoch: Annotated[str, StringConstraints(max_length=64)]
    seq: int = Field(ge=0)


class Hello(_Frame):
    """Must be the first frame. Credentials travel here, never in the URL."""

    type: Literal["hello"]
    event: Slug
    room: Slug | None = None
    token: Annotated[str, StringConstraints(max_length=200)] | None = None
    visitor: Annotated[str, StringConstraints(max_length=200)] | None = None
    name: Name | None = None
    resume: Resume | None = None


class Enter(_Frame):
    type: Literal["enter"]
    room: Slug


class Leave(_Frame):
    type: Literal["leave"]
    room: Slug


class Ping(_Frame):
    type: Literal["ping"]
    t: float | None = None  # echoed in the pong, for round-trip times


Ref = Annotated[str, StringConstraints(min_length=1, max_length=64)]
# Raw text may be longer than the event's limit: it is measured after normalising,
# and a too-long question gets its own clear error code.
RawText = Annotated[str, StringConstraints(max_length=16 * 1024)]
QuestionId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class Ask(_Frame):
    """A visitor's question. ``client_msg_id`` makes a retry return the same question."""

    type: Literal["ask"]
    text: RawText
    client_msg_id: Ref
    room: Slug | None = None
    anonymous: bool = False
    name: Name | None = None


class Vote(_Frame):
    type: Literal["vote"]
    question: QuestionId
    up: bool = True
    ref: Ref | None = None


class Moderate(_Frame):
    """A moderator's action on one question (role checked on the server)."""

    type: Literal["moderate"]
    action: Action
    question: QuestionId
    reason: RejectReason | None = None
    mode: AnswerMode | None = None
    text: RawText | None = None
    into: QuestionId | None = None
    ref: Ref | None = None


class Announce(_Frame):
    type: Literal["announce"]
    text: RawText
    rooms: list[Slug] | None = Field(default=None, max_length=100)
    ref: Ref | None = None


PollId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class PollAnswer(_Frame):
    """A visitor's answer to an open poll: option indexes (from 0; ratings 1-5 are 0-4) or
    a short text. A later answer replaces the earlier one until the poll closes;
    ``client_msg_id`` makes a retry change nothing."""

    type: Literal["poll_answer"]
    poll: PollId
    choices: list[Annotated[int, Field(ge=0, le=99)]] = Field(default_factory=list, max_length=10)
    text: RawText | None = None
    client_msg_id: Ref


ClientFrames = Hello | Enter | Leave | Ping | Ask | Vote | Moderate | Announce | PollAnswer
ClientFrame = Annotated[ClientFrames, Field(discriminator="type")]
CLIENT_TYPES = frozenset(
    {"hello", "enter", "leave", "ping", "ask", "vote", "moderate", "announce", "poll_answer"}
)
_client_adapter: TypeAdapter[ClientFrames] = TypeAdapter(ClientFrame)


class FrameError(HubsBridgeError):
    """A client frame that cannot be accepted; ``code`` goes into the ``error`` frame."""

    def __init__(self, code: str, message: str, details: list[FieldProblem] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


def parse_client_frame(text: str | bytes, max_bytes: int = MAX_FRAME_BYTES) -> ClientFrames:
    """One client frame, or :class:`FrameError` with a stable code."""
    # A character is at most 4 bytes in UTF-8: only long texts need encoding to measure.
    if len(text) > max_bytes or (
        isinstance(text, str) and len(text) * 4 > max_bytes and len(text.encode()) > max_bytes
    ):
        raise FrameError("frame_too_large", f"frames may be at most {max_bytes} bytes")
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise FrameError("bad_frame", "frames must be JSON objects") from None
    if not isinstance(data, dict):
        raise FrameError("bad_frame", "frames must be JSON objects")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in CLIENT_TYPES:
        raise FrameError("unknown_type", f"unknown frame type {str(kind)[:40]!r}")
    try:
        return _client_adapter.validate_python(data)
    except ValidationError as exc:
        raise FrameError(
            "invalid_frame", f"invalid {kind} frame", validation_details(exc)
        ) from None


# --- server to client ------------------------------------------------------


class Welcome(_Frame):
    type: Literal["welcome"]
    session: str
    role: Literal["visitor", "moderator", "staff"]
    visitor: str  # the signed pseudonymous id to send in the next hello
    epoch: str
    seq: int
    recovered: bool
    snapshot: dict[str, Any]


class Snapshot(_Frame):
    """Replaces the page's state when the stream's continuity was lost."""

    type: Literal["snapshot"]
    epoch: str
    seq: int
    snapshot: dict[str, Any]


class Attendance(_Frame):
    type: Literal["attendance"]
    epoch: str
    seq: int
    online: int
    rooms: dict[str, dict[str, Any]]
    removed: list[str] = Field(default_factory=list)
    full: bool = False  # every room is listed; rooms not listed are gone


class EventChanged(_Frame):
    """Staff changed the event (title, times, rooms); replaces the page's event data."""

    type: Literal["event"]
    epoch: str
    seq: int
    event: dict[str, Any]


class Pong(_Frame):
    type: Literal["pong"]
    t: float | None = None


class Error(_Frame):
    type: Literal["error"]
    code: str
    message: str
    ref: str | None = None
    details: list[FieldProblem] | None = None  # one {field, message, type} per wrong field
    retry_after_ms: int | None = None
    # Context of some refusals, as in HTTP error bodies (errors.CONTEXT_KEYS).
    max_chars: int | None = None
    question: str | None = None


class Bye(_Frame):
    type: Literal["bye"]
    reason: str
    reconnect_after_ms: int | None = None


class Ack(_Frame):
    """The answer to ``ask``, ``vote``, ``moderate``, ``announce`` or ``poll_answer``, after
    it is stored."""

    type: Literal["ack"]
    ref: str | None = None
    question: dict[str, Any] | None = None
    votes: int | None = None
    voted: bool | None = None
    announcement: dict[str, Any] | None = None
    answer: dict[str, Any] | None = None  # the visitor's answer to a poll as stored now


class PollFrame(_Frame):
    """A poll opened, closed, drafted (moderators only) or changed; ``{"id", "hidden": true}``
    means: remove it."""

    type: Literal["poll"]
    epoch: str
    seq: int
    poll: dict[str, Any]


class PollResults(_Frame):
    """A poll's exact results (coalesced: at most a few frames a second); ``hidden``: the
    counts are hidden until it closes, only ``respondents`` is given."""

    type: Literal["poll_results"]
    epoch: str
    seq: int
    results: dict[str, Any]


class QuestionFrame(_Frame):
    """A question as this page may see it; ``{"id", "hidden": true}`` means: remove it."""

    type: Literal["question"]
    epoch: str
    seq: int
    question: dict[str, Any]


class Votes(_Frame):
    """Exact vote counts of the questions voted on lately (coalesced: a few frames a second)."""

    type: Literal["votes"]
    epoch: str
    seq: int
    counts: dict[str, int]


class Announcement(_Frame):
    type: Literal["announcement"]
    epoch: str
    seq: int
    announcement: dict[str, Any]


class Transparency(_Frame):
    """How many questions were rejected, by category: everyone may know."""

    type: Literal["transparency"]
    epoch: str
    seq: int
    rejected: dict[str, int]


class Skip(_Frame):
    """A stream position with nothing this page may see (it only advances the position)."""

    type: Literal["skip"]
    epoch: str
    seq: int


ServerFrames = (
    Welcome
    | Snapshot
    | Attendance
    | EventChanged
    | Pong
    | Error
    | Bye
    | Ack
    | QuestionFrame
    | Votes
    | Announcement
    | Transparency
    | Skip
    | PollFrame
    | PollResults
)
ServerFrame = Annotated[ServerFrames, Field(discriminator="type")]
server_frame_adapter: TypeAdapter[ServerFrames] = TypeAdapter(ServerFrame)


def encode(frame: dict[str, Any]) -> bytes:
    return orjson.dumps(frame)


def error_frame(code: str, message: str, **extra: Any) -> bytes:
    return encode(
        {
            "type": "error",
            "code": code,
            "message": message,
            **{k: v for k, v in extra.items() if v is not None},
        }
    )
