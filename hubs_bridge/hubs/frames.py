"""Hubs (Reticulum) frames: the Phoenix v2 envelope and the payloads the bridge reads.

Every frame on the socket is a JSON array ``[join_ref, ref, topic, event,
payload]`` (PROTOCOL.md §1). :class:`PhxMessage` is that envelope; the models
below describe the payloads of the events the bridge handles (§2-§4).

Payload models ignore keys they do not know, because Reticulum adds fields
between versions, but validate every field the bridge reads, so a surprise
surfaces as one :class:`ProtocolError` at the edge instead of a ``KeyError``
deep inside. Flags the sources show as "once seen" or "not confirmed"
(``entering``, ``hand_raised``, ...) accept a missing value or ``null`` as false.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, RootModel, ValidationError

from hubs_bridge.hubs.errors import ProtocolError

# Large enough for a presence_state of a few thousand sessions (about 500
# characters each), small enough that a broken peer cannot make us parse
# megabytes of JSON per frame.
MAX_FRAME_CHARS = 2 * 1024 * 1024
# Enforced only by the Hubs web client, not by the server (§4); the bridge
# keeps to it so its messages look like everyone else's.
CHAT_MAX_CHARS = 750

PHOENIX_TOPIC = "phoenix"  # the socket's own topic, used for heartbeats (§1)
RET_TOPIC = "ret"  # server notices such as ret-deploy (§4)
PHX_JOIN = "phx_join"
PHX_LEAVE = "phx_leave"
PHX_REPLY = "phx_reply"
PHX_ERROR = "phx_error"
PHX_CLOSE = "phx_close"
HEARTBEAT = "heartbeat"

# Join errors after which retrying cannot help (§2): the room is gone, closed,
# or refuses this bot. Anything else (a crash, "unmatched topic" during a
# deploy, a timeout) is worth another try.
FATAL_JOIN_REASONS = frozenset({"not_found", "closed", "join_denied", "oauth_required"})


def hub_topic(hub_sid: str) -> str:
    """The channel topic of a room (§2)."""
    return f"hub:{hub_sid}"


def _summary(exc: ValidationError, limit: int = 3) -> str:
    parts = []
    for error in exc.errors()[:limit]:
        where = ".".join(str(part) for part in error["loc"]) or "payload"
        parts.append(f"{where}: {error['msg']}")
    more = exc.error_count() - limit
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


class PhxMessage(BaseModel):
    """One Phoenix v2 frame ``[join_ref, ref, topic, event, payload]`` (§1).

    Refs are strings, as phoenix.js sends them; numbers are refused rather
    than coerced, since our own refs always come back as we sent them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    join_ref: str | None
    ref: str | None
    topic: str = Field(min_length=1)
    event: str = Field(min_length=1)
    payload: dict[str, Any]

    @classmethod
    def decode(cls, text: str | bytes, *, max_chars: int = MAX_FRAME_CHARS) -> PhxMessage:
        """Parse one text frame; raise :class:`ProtocolError` on anything malformed."""
        if not isinstance(text, str | bytes):
            raise ProtocolError(f"frame must be text, not {type(text).__name__}")
        if len(text) > max_chars:
            raise ProtocolError(f"frame of {len(text)} characters exceeds {max_chars}")
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise ProtocolError(f"frame is not JSON: {exc}") from None
        if not isinstance(data, list):
            raise ProtocolError(f"frame must be a JSON array, not {type(data).__name__}")
        if len(data) != 5:
            raise ProtocolError(
                f"frame must be [join_ref, ref, topic, event, payload], got {len(data)} elements"
            )
        join_ref, ref, topic, event, payload = data
        try:
            return cls(join_ref=join_ref, ref=ref, topic=topic, event=event, payload=payload)
        except ValidationError as exc:
            raise ProtocolError(f"malformed frame: {_summary(exc)}") from None

    def encode(self) -> str:
        """The frame as sent on the socket (compact JSON text)."""
        frame = [self.join_ref, self.ref, self.topic, self.event, self.payload]
        return orjson.dumps(frame).decode()


M = TypeVar("M", bound=BaseModel)


def parse_payload(model: type[M], payload: Any) -> M:
    """Validate a payload against ``model``; a mismatch is a :class:`ProtocolError`."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise ProtocolError(f"malformed {model.__name__} payload: {_summary(exc)}") from None


def _none_is_false(value: Any) -> Any:
    return False if value is None else value


Flag = Annotated[bool, BeforeValidator(_none_is_false)]
"""A boolean that may be missing or ``null`` on the wire (read as false)."""


class WirePayload(BaseModel):
    """A payload Reticulum sends or takes: fields it adds later are ignored, never refused."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    def to_payload(self) -> dict[str, Any]:
        """The payload as sent: wire names, ``None`` left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# --- joining a room (§2) ---------------------------------------------------


class Profile(WirePayload):
    display_name: str = Field(alias="displayName")
    avatar_id: str | None = Field(default=None, alias="avatarId")
    identity_name: str | None = Field(default=None, alias="identityName")


class JoinContext(WirePayload):
    """``discord: true`` keeps the bridge out of the server's member and lobby counts."""

    mobile: Flag = False
    hmd: Flag = False
    embed: bool | None = None
    discord: bool | None = None


class JoinPayload(WirePayload):
    """The ``phx_join`` payload of a ``hub:<sid>`` topic; secrets stay out of reprs."""

    profile: Profile
    context: JoinContext
    bot_access_key: str | None = Field(default=None, repr=False)
    perms_token: str | None = Field(default=None, repr=False)
    auth_token: str | None = Field(default=None, repr=False)
    hub_invite_id: str | None = None
    push_subscription_endpoint: str | None = None


class PhxReply(WirePayload):
    """The payload of every ``phx_reply`` (§1)."""

    status: Literal["ok", "error"]
    response: dict[str, Any] = Field(default_factory=dict)


EntryMode = Literal["allow", "invite", "deny"]


class Scene(WirePayload):
    scene_id: str
    name: str = ""
    description: str | None = None
    model_url: str | None = None
    screenshot_url: str | None = None
    allow_remixing: Flag = False


class Hub(WirePayload):
    """A room as the join reply and ``hub_refresh`` describe it.

    ``hub_refresh`` may carry fewer fields than the join reply, so only the
    id, name and entry mode are required; counts are ``None`` when absent.
    """

    hub_id: str
    name: str
    entry_mode: EntryMode
    description: str | None = None
    slug: str | None = None
    room_size: int | None = Field(default=None, ge=0)
    member_count: int | None = Field(default=None, ge=0)
    lobby_count: int | None = Field(default=None, ge=0)
    member_permissions: dict[str, bool] = Field(default_factory=dict)
    allow_promotion: Flag = False
    host: str | None = None
    port: int | None = None
    scene: Scene | None = None  # absent for rooms built from a bare glTF bundle
    embed_token: str | None = Field(default=None, repr=False)


class JoinReply(WirePayload):
    """The ``response`` of an ok join reply on a room topic."""

    hubs: list[Hub] = Field(min_length=1)
    session_id: str
    session_token: str | None = Field(default=None, repr=False)
    perms_token: str | None = Field(default=None, repr=False)
    hub_requires_oauth: Flag = False

    @property
    def hub(self) -> Hub:
        return self.hubs[0]


class JoinError(WirePayload):
    """The ``response`` of an error join reply; lenient, since any reason may come."""

    reason: str = "unknown"
    message: str = ""
    oauth_info: list[Any] | None = None

    @property
    def fatal(self) -> bool:
        """True when retrying the join cannot succeed (§2)."""
        return self.reason in FATAL_JOIN_REASONS


# --- presence (§3) ---------------------------------------------------------


class Roles(WirePayload):
    owner: Flag = False
    creator: Flag = False
    signed_in: Flag = False


class PresenceContext(WirePayload):
    mobile: Flag = False
    hmd: Flag = False
    embed: Flag = False
    discord: Flag = False
    entering: Flag = False


class PresenceMeta(WirePayload):
    presence: Literal["lobby", "room"]
    profile: Profile
    phx_ref: str
    phx_ref_prev: str | None = None
    context: PresenceContext = Field(default_factory=PresenceContext)
    roles: Roles = Field(default_factory=Roles)
    permissions: dict[str, Any] = Field(default_factory=dict)
    hand_raised: Flag = False
    typing: Flag = False
    streaming: Flag = False
    recording: Flag = False


class PresenceMetas(WirePayload):
    """One session's entry: usually one meta; the last one is current (§3)."""

    metas: list[PresenceMeta]


class PresenceState(RootModel[dict[str, PresenceMetas]]):
    """``presence_state``: every session of the room, keyed by session id."""

    model_config = ConfigDict(frozen=True)


class PresenceDiff(WirePayload):
    """``presence_diff``: an update is a join and a leave of the same session."""

    joins: dict[str, PresenceMetas] = Field(default_factory=dict)
    leaves: dict[str, PresenceMetas] = Field(default_factory=dict)


# --- room events (§4) ------------------------------------------------------


class ChatMessage(WirePayload):
    """A chat ``message``; the server adds ``session_id``, ``from`` is free text."""

    type: Literal["chat"] = "chat"
    body: str
    session_id: str | None = None
    author: str | None = Field(default=None, alias="from")


def parse_chat(payload: dict[str, Any]) -> ChatMessage | None:
    """The chat message in a ``message`` payload, or ``None`` for other types (photos...)."""
    if payload.get("type") != "chat":
        return None
    return parse_payload(ChatMessage, payload)


def chat_payload(body: str, author: str | None = None) -> dict[str, Any]:
    """The payload of a chat push; refuses what the web client would refuse."""
    if not body.strip():
        raise ValueError("chat body is empty")
    if len(body) > CHAT_MAX_CHARS:
        raise ValueError(f"chat body of {len(body)} characters exceeds {CHAT_MAX_CHARS}")
    return ChatMessage(body=body, author=author).to_payload()


class HubRefresh(WirePayload):
    """``hub_refresh``: the room again, plus which fields changed (a close is ``deny``)."""

    hubs: list[Hub] = Field(min_length=1)
    stale_fields: list[str] = Field(default_factory=list)

    @property
    def hub(self) -> Hub:
        return self.hubs[0]


class RetNotice(WirePayload):
    """``notice`` on the ``ret`` topic; ``ret-deploy`` asks clients to reconnect soon."""

    event: str

    @property
    def is_deploy(self) -> bool:
        return self.event == "ret-deploy"
