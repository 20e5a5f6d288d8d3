"""The rooms of one Hubs socket: channel events in, :data:`RoomEvent` out. Pure.

:class:`RoomTable` is the part of the client that knows what a room channel
means to the bridge: the join reply gives the room and the bridge's own
session, presence frames update one :class:`RoomPresence` per room, chat is
relayed unless the bridge sent it (the server echoes it back, PROTOCOL.md §4),
and a lost channel marks presence stale before anything else happens. It
does no I/O and keeps no timers; :class:`~hubs_bridge.hubs.client.ReticulumClient`
feeds it and delivers what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hubs_bridge.hubs.client_events import (
    ChatReceived,
    HubRefreshed,
    PresenceChanged,
    RoomEvent,
    RoomFailed,
    RoomJoined,
    RoomLost,
    SignedIn,
)
from hubs_bridge.hubs.frames import HubRefresh, JoinReply, parse_chat, parse_payload
from hubs_bridge.hubs.perms import HubPerms, perms_from_token
from hubs_bridge.hubs.presence import RoomPresence

HUB_PREFIX = "hub:"


def hub_sid_of(topic: str) -> str | None:
    """The room id of a ``hub:<sid>`` topic, ``None`` for other topics (``ret``...)."""
    return topic.removeprefix(HUB_PREFIX) if topic.startswith(HUB_PREFIX) else None


@dataclass(slots=True)
class _Room:
    hub_sid: str
    presence: RoomPresence = field(default_factory=RoomPresence)
    joined: bool = False
    session_id: str | None = None  # the bridge's own session in this room
    perms: HubPerms = field(default_factory=HubPerms)
    creator_token: str | None = field(default=None, repr=False)  # for sign_in, once


class RoomTable:
    """The rooms the bridge is in or joining, keyed by hub sid."""

    def __init__(self) -> None:
        self._rooms: dict[str, _Room] = {}
        # One per socket, but every join reply carries it: the newest wins (§1).
        self.session_token: str | None = None

    def __contains__(self, hub_sid: object) -> bool:
        return hub_sid in self._rooms

    @property
    def hub_sids(self) -> tuple[str, ...]:
        return tuple(self._rooms)

    def is_joined(self, hub_sid: str) -> bool:
        room = self._rooms.get(hub_sid)
        return room is not None and room.joined

    def presence(self, hub_sid: str) -> RoomPresence | None:
        room = self._rooms.get(hub_sid)
        return None if room is None else room.presence

    def perms(self, hub_sid: str) -> HubPerms:
        room = self._rooms.get(hub_sid)
        return HubPerms() if room is None or not room.joined else room.perms

    def set_creator_token(self, hub_sid: str, token: str | None) -> None:
        room = self._rooms.get(hub_sid)
        if room is not None:
            room.creator_token = token

    def creator_token(self, hub_sid: str) -> str | None:
        room = self._rooms.get(hub_sid)
        return None if room is None else room.creator_token

    def signed_in(self, hub_sid: str, status: str, response: dict[str, Any]) -> list[RoomEvent]:
        """The reply to a ``sign_in``: new perms, or the reason it failed."""
        room = self._rooms.get(hub_sid)
        if room is None:
            return []
        if status != "ok":
            reason = response.get("reason") or response.get("message") or "sign in failed"
            return [SignedIn(hub_sid, room.perms, str(reason)[:100])]
        token = response.get("perms_token")
        room.perms = perms_from_token(token if isinstance(token, str) else None)
        room.creator_token = None  # Reticulum forgets it once used
        return [SignedIn(hub_sid, room.perms)]

    def add(self, hub_sid: str) -> bool:
        """Track a room; ``False`` if it was tracked already."""
        if hub_sid in self._rooms:
            return False
        self._rooms[hub_sid] = _Room(hub_sid)
        return True

    def remove(self, hub_sid: str) -> bool:
        """Stop tracking a room (left by the bridge): no event."""
        return self._rooms.pop(hub_sid, None) is not None

    def clear(self) -> None:
        self._rooms.clear()

    # --- channel events -------------------------------------------------------

    def joined(self, topic: str, response: dict[str, Any]) -> list[RoomEvent]:
        """An ok join reply; raises ``ProtocolError`` if the reply is malformed."""
        room = self._room(topic)
        if room is None:
            return []  # a room left while its join was under way
        reply = parse_payload(JoinReply, response)
        if reply.session_token is not None:
            self.session_token = reply.session_token
        room.joined = True
        room.session_id = reply.session_id
        room.presence.own_session_id = reply.session_id
        room.perms = perms_from_token(reply.perms_token)
        return [RoomJoined(room.hub_sid, reply.hub, reply.session_id, room.perms)]

    def refused(self, topic: str, reason: str, message: str) -> list[RoomEvent]:
        """A fatal join error (§2): the room is forgotten."""
        room = self._room(topic)
        if room is None:
            return []
        del self._rooms[room.hub_sid]
        # The server's words go to logs, the broker and staff pages: bounded.
        return [RoomFailed(room.hub_sid, reason[:64], message[:200])]

    def lost(self, topic: str) -> list[RoomEvent]:
        """The channel errored, closed or timed out; ``RoomLost`` if it was joined."""
        room = self._room(topic)
        return [] if room is None else self._lose(room)

    def all_lost(self) -> list[RoomEvent]:
        """The socket is gone: every joined room is lost."""
        return [event for room in self._rooms.values() for event in self._lose(room)]

    def message(self, topic: str, event: str, payload: dict[str, Any]) -> list[RoomEvent]:
        """A push on a room channel; raises ``ProtocolError`` for a malformed payload."""
        room = self._room(topic)
        if room is None:
            return []
        if room.presence.apply(event, payload):
            # A diff that comes before the state is only held: nothing to report yet.
            return [] if room.presence.stale else [PresenceChanged(room.hub_sid, room.presence)]
        if event == "message":
            chat = parse_chat(payload)
            # The server echoes the bridge's own chat to it (§4): never relay it.
            if chat is None or chat.session_id == room.session_id:
                return []
            meta = room.presence.meta(chat.session_id) if chat.session_id else None
            name = meta.profile.display_name if meta is not None else None
            return [ChatReceived(room.hub_sid, chat.session_id, name, chat.body, chat.author)]
        if event == "hub_refresh":
            refresh = parse_payload(HubRefresh, payload)
            hub = refresh.hub
            return [HubRefreshed(room.hub_sid, hub.entry_mode, hub, tuple(refresh.stale_fields))]
        return []  # naf, nafr and the rest of avatar networking

    def _room(self, topic: str) -> _Room | None:
        hub_sid = hub_sid_of(topic)
        return None if hub_sid is None else self._rooms.get(hub_sid)

    def _lose(self, room: _Room) -> list[RoomEvent]:
        if not room.joined:
            return []
        room.joined = False
        room.presence.mark_stale()
        return [RoomLost(room.hub_sid)]
