"""What :class:`~hubs_bridge.hubs.client.ReticulumClient` tells the bridge about its rooms.

Each event is a frozen dataclass; the bridge receives them through the
client's ``on_event`` callback, in the order the server's frames caused them.
The promises the bridge may rely on:

- ``RoomLost`` comes before any rejoin of that room, so presence is marked
  stale before fresh presence arrives (issue 79 of the Discord bridge:
  presence that silently stuck);
- ``RoomFailed`` is final: the client no longer tries to join that room;
- ``ChatReceived`` never carries the bridge's own messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

from hubs_bridge.hubs.frames import EntryMode, Hub
from hubs_bridge.hubs.perms import HubPerms
from hubs_bridge.hubs.presence import RoomPresence


@dataclass(frozen=True, slots=True)
class RoomJoined:
    """The room's channel is joined (again); ``session_id`` is the bridge's own session.

    ``perms`` are the bridge's rights there from the join reply's ``perms_token``.
    """

    hub_sid: str
    hub: Hub
    session_id: str
    perms: HubPerms = field(default_factory=HubPerms)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The reply to the bridge's ``sign_in`` on a room's channel.

    ``perms`` are its rights afterwards; ``error`` is Reticulum's reason when
    the account token was refused (``hub_channel.ex``: "Sign in failed").
    """

    hub_sid: str
    perms: HubPerms
    error: str | None = None


@dataclass(frozen=True, slots=True)
class RoomFailed:
    """The server refused the join for good (§2: not_found, closed, ...); no more retries."""

    hub_sid: str
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class RoomLost:
    """The room's channel or the whole socket was lost; a rejoin is under way."""

    hub_sid: str


@dataclass(frozen=True, slots=True)
class PresenceChanged:
    """A ``presence_state`` or ``presence_diff`` was applied.

    ``presence`` is the client's live object for the room, not a copy: read
    ``people()`` or ``counts()`` inside the callback. The bridge's own session
    and other bots are already left out of ``people()``.
    """

    hub_sid: str
    presence: RoomPresence


@dataclass(frozen=True, slots=True)
class ChatReceived:
    """A chat message from someone else in the room.

    ``display_name`` is the sender's name from presence (``None`` if the
    sender's presence is unknown); ``author_override`` is the free-text
    ``from`` that bots such as the Discord bridge set.
    """

    hub_sid: str
    session_id: str | None
    display_name: str | None
    body: str
    author_override: str | None


@dataclass(frozen=True, slots=True)
class HubRefreshed:
    """``hub_refresh``: the room changed; a closed room arrives as ``entry_mode == "deny"``."""

    hub_sid: str
    entry_mode: EntryMode
    hub: Hub
    stale_fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ConnectionState:
    """The socket to the Hubs server opened (``True``) or was lost (``False``)."""

    connected: bool


RoomEvent: TypeAlias = (
    RoomJoined
    | SignedIn
    | RoomFailed
    | RoomLost
    | PresenceChanged
    | ChatReceived
    | HubRefreshed
    | ConnectionState
)
