"""The room channel (``hub:<sid>``) of the Hubs server simulator, as ``hub_channel.ex`` is.

Every behaviour cites ``lib/ret_web/channels/hub_channel.ex`` (``RetWeb.HubChannel``)
of Reticulum:

- ``join/3`` matches only payloads with ``profile`` and ``context``; anything
  else crashes the join (Phoenix answers ``{"reason": "join crashed"}``).
- ``perform_join``/``join_with_hub``: ``not_found``; ``closed`` (entry mode
  deny); ``join_denied`` for an ``invite`` room without the active
  ``hub_invite_id`` unless the account may ``update_hub``, and for anonymous
  joins when ``features|require_account_for_join`` is on (unless a
  ``perms_token`` or a valid ``bot_access_key`` is sent); rooms bound to an
  OAuth channel (``requires_oauth``) answer ``oauth_required`` without a valid
  bot key and without a ``perms_token``. ``context.discord`` is never checked.
- The ok reply carries ``perms_token`` (the join's own, or ``get_perms_token``);
  ``presence_state`` follows on a later turn of the loop, after the session is
  tracked (``send(self(), {:begin_tracking, ...})`` then ``handle_info``), so
  broadcasts in between reach the socket first and the session's own
  ``presence_diff`` precedes its ``presence_state``.
- ``sign_in``, ``sign_out``, ``refresh_perms_token``, ``fetch_invite``,
  ``mute``, ``kick``, ``close_hub``, ``update_hub``, ``update_scene``,
  ``message`` and the ``events:*`` presence flags; an owner action of someone
  who may not do it does nothing and answers nothing.
- A crash of the channel process (``Repo.update!`` of an invalid changeset, a
  payload Reticulum's code cannot take) pushes ``phx_error`` to that channel
  and ends its join, its presence leaves.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from hubs_bridge.hubs.frames import PhxMessage
from hubs_bridge.hubs.sim_auth import SimAccount, verify_jwt
from hubs_bridge.hubs.sim_changeset import (
    Changeset,
    hub_attrs_changeset,
    member_permissions_to_map,
)
from hubs_bridge.hubs.sim_socket import Channel, Conn
from hubs_bridge.hubs.sim_state import (
    HUB_REFRESH,
    PRESENCE_STATE,
    SimHub,
    SimRoom,
    set_entered,
    set_entering,
    set_hand,
    set_profile,
)

if TYPE_CHECKING:
    from hubs_bridge.hubs.simulator import HubsSimulator

log = logging.getLogger(__name__)

HUB_PREFIX = "hub:"
PHX_ERROR = "phx_error"
JOIN_KEYS = ("push_subscription_endpoint", "auth_token", "perms_token", "bot_access_key",
             "hub_invite_id")  # fmt: skip
_FLAGS = {
    "events:raise_hand": set_hand(True),
    "events:lower_hand": set_hand(False),
    "events:entering": set_entering(True),
    "events:entering_cancelled": set_entering(False),
    "events:entered": set_entered,
}
_PRESENCE_FLAGS = {  # set_presence_flag(socket, flag, value)
    "events:begin_recording": ("recording", True),
    "events:end_recording": ("recording", False),
    "events:begin_streaming": ("streaming", True),
    "events:end_streaming": ("streaming", False),
    "events:begin_typing": ("typing", True),
    "events:end_typing": ("typing", False),
}


class ChannelCrash(Exception):
    """The channel process would raise here (``Repo.update!``, a failed match)."""


def _deny() -> dict[str, Any]:
    return {"message": "Join denied", "reason": "join_denied"}


class HubChannels:
    """The ``hub:<sid>`` channels of one simulator."""

    def __init__(self, sim: HubsSimulator) -> None:
        self.sim = sim

    # --- join ---------------------------------------------------------------

    def join_error(
        self, hub: SimHub, account: SimAccount | None, params: dict[str, Any]
    ) -> dict[str, Any] | None:
        """``join_with_hub``'s refusals in Reticulum's clause order, or None to join."""
        sim = self.sim
        if hub.entry_mode == "deny":
            return {"message": "Hub no longer accessible", "reason": "closed"}
        bound = hub.requires_oauth
        bot_key = sim.bot_key
        valid_bot_key = bool(bot_key) and params.get("bot_access_key") == bot_key
        perms = sim.perms(hub, account)
        can_join, can_update = perms["join_hub"], perms["update_hub"]
        token = params.get("perms_token")
        has_perms_token = token is not None
        decoded = verify_jwt(token, sim.secret)
        token_can_join = decoded is not None and decoded.get("join_hub") is True
        active_invite = hub.hub_invite_id is not None and (
            params.get("hub_invite_id") == hub.hub_invite_id
        )
        has_provider = False  # Account.matching_oauth_providers: none simulated
        if account is not None and not bound and not can_join:
            return _deny()
        if hub.entry_mode == "invite" and not active_invite and not can_update:
            return _deny()
        if account is not None and bound and has_provider and not can_join:
            return _deny()
        anonymous_bound = account is None and bound and not valid_bot_key
        if anonymous_bound and has_perms_token and not token_can_join:
            return _deny()
        if account is not None and bound and not has_provider:
            return self._oauth_required(hub)
        if account is None and bound and not valid_bot_key and not has_perms_token:
            return self._oauth_required(hub)
        anonymous_unbound = account is None and not bound and not valid_bot_key
        if anonymous_unbound and not has_perms_token and not can_join:
            return _deny()
        return None

    def _oauth_required(self, hub: SimHub) -> dict[str, Any]:
        return {
            "message": "OAuth required",
            "reason": "oauth_required",
            "oauth_info": [{"type": "discord", "url": f"{self.sim.base_url}/oauth/{hub.hub_id}"}],
        }

    def join(self, conn: Conn, msg: PhxMessage) -> None:
        """``join/3`` + ``perform_join`` + ``join_with_hub``; tracking on a later turn."""
        sim = self.sim
        sim.kill_join(conn, msg.topic)
        payload = msg.payload
        profile, context = payload.get("profile"), payload.get("context")
        if "profile" not in payload or "context" not in payload:
            conn.reply(msg, "error", {"reason": "join crashed"})
            return
        room = sim.rooms.get(msg.topic.removeprefix(HUB_PREFIX))
        if room is None:
            conn.reply(msg, "error", {"message": "No such Hub", "reason": "not_found"})
            return
        params = {key: payload[key] for key in JOIN_KEYS if key in payload}
        account = sim.account_for_token(params.get("auth_token"))
        hub = room.hub
        error = self.join_error(hub, account, params)
        if error is not None:
            conn.reply(msg, "error", error)
            return
        # Another socket holding the same session (token reuse) loses its join.
        previous = room.subscribers.get(conn.session_id)
        if isinstance(previous, Channel):
            sim.kill_join(previous.conn, msg.topic)
        channel = Channel(conn, msg.topic, msg.join_ref or "", account)
        perms_token = params.get("perms_token") or sim.perms_token(hub, account)
        reply = {
            "hubs": [sim.hub_wire(hub.hub_id, embeddable=sim.perms(hub, account)["embed_hub"])],
            "session_id": conn.session_id,
            "session_token": sim.session_token(conn.session_id),
            "subscriptions": {"web_push": None, "favorites": False},
            "perms_token": perms_token,
            "hub_requires_oauth": hub.requires_oauth,
        }
        conn.reply(msg, "ok", reply)
        conn.joins[msg.topic] = msg.join_ref or ""
        room.subscribers[conn.session_id] = channel
        asyncio.get_running_loop().call_soon(
            self._begin_tracking, room, channel, copy.deepcopy(profile), copy.deepcopy(context)
        )

    def _begin_tracking(self, room: SimRoom, channel: Channel, profile: Any, context: Any) -> None:
        """``handle_info({:begin_tracking, ...})``: ``Presence.track`` then push the list."""
        if room.subscribers.get(channel.session_id) is not channel:
            return  # left (or crashed) before the message was handled
        hub, account = room.hub, channel.account
        room.track(channel.session_id, profile, context, roles=self.sim.roles(hub, account),
                   permissions=self.sim.perms(hub, account))  # fmt: skip
        channel.push(PRESENCE_STATE, room.state())

    # --- events -------------------------------------------------------------

    def handle_in(self, conn: Conn, msg: PhxMessage) -> None:
        """A client event on a joined room; a crash ends the channel with ``phx_error``."""
        room = self.sim.rooms[msg.topic.removeprefix(HUB_PREFIX)]
        channel = room.subscribers.get(conn.session_id)
        if not isinstance(channel, Channel) or channel.conn is not conn:
            return
        try:
            self._handle_in(room, channel, msg)
        except ChannelCrash as exc:
            log.info("channel %s of %s crashed: %s", msg.topic, conn.session_id, exc)
            self.crash(room, channel)

    def crash(self, room: SimRoom, channel: Channel) -> None:
        """The channel process died: ``phx_error`` on its join, its presence leaves."""
        conn = channel.conn
        conn.send(PhxMessage(join_ref=channel.join_ref or None, ref=channel.join_ref or None,
                             topic=channel.topic, event=PHX_ERROR, payload={}))  # fmt: skip
        conn.joins.pop(channel.topic, None)
        if room.subscribers.get(channel.session_id) is channel:
            del room.subscribers[channel.session_id]
            room.untrack(channel.session_id)

    def _handle_in(self, room: SimRoom, channel: Channel, msg: PhxMessage) -> None:
        event, payload = msg.event, msg.payload
        sim, hub, account = self.sim, room.hub, channel.account
        conn = channel.conn
        if event in _FLAGS:
            room.update(channel.session_id, _FLAGS[event])
        elif event in _PRESENCE_FLAGS:
            flag, value = _PRESENCE_FLAGS[event]
            room.update(channel.session_id, _set(flag, value))
        elif event == "events:profile_updated" and "profile" in payload:
            room.update(channel.session_id, set_profile(payload["profile"]))
        elif event == "message" and "type" in payload:
            kind = payload["type"]
            if kind in ("photo", "video") and not sim.perms(hub, account)["spawn_camera"]:
                return
            # The sender's session_id replaces any given; from_session_id is added for
            # the block filter of handle_out("message") and removed before the push.
            body = {k: v for k, v in payload.items() if k != "session_id"}
            body["session_id"] = channel.session_id
            room.broadcast("message", body)
        elif event == "mute":
            if sim.perms(hub, account)["mute_users"]:
                sim.muted.append((hub.hub_id, channel.session_id, payload.get("session_id")))
                self._broadcast_mute(room, channel, payload)
        elif event == "kick" and "session_id" in payload:
            if sim.perms(hub, account)["kick_users"]:
                target = payload["session_id"]
                sim.kicked.append((hub.hub_id, channel.session_id, target))
                sim.disconnect_session(str(target))
        elif event == "close_hub":
            if sim.perms(hub, account)["close_hub"]:
                sim.closed.append((hub.hub_id, channel.session_id))
                hub.entry_mode = "deny"
                self.broadcast_hub_refresh(room, account, ["entry_mode"], channel.session_id)
        elif event == "update_hub":
            if sim.perms(hub, account)["update_hub"]:
                stale = self._update_hub(hub, account, payload)
                sim.hub_updates.append((hub.hub_id, channel.session_id, stale))
                self.broadcast_hub_refresh(room, account, stale, channel.session_id)
        elif event == "update_scene" and "url" in payload:
            if sim.perms(hub, account)["update_hub"]:
                self._update_scene(hub, payload["url"])
                sim.scene_updates.append((hub.hub_id, channel.session_id, payload["url"]))
                self.broadcast_hub_refresh(room, account, ["scene"], channel.session_id)
        elif event == "sign_in" and "token" in payload:
            self._sign_in(room, channel, msg)
        elif event == "sign_out":
            channel.account = None
            self.presence_update(room, channel)
            conn.reply(msg, "ok", {})
        elif event == "refresh_perms_token":
            conn.reply(msg, "ok", {"perms_token": sim.perms_token(hub, account)})
        elif event == "fetch_invite":
            if sim.perms(hub, account)["update_hub"]:
                if hub.hub_invite_id is None:
                    hub.hub_invite_id = sim.new_invite_id()
                conn.reply(msg, "ok", {"hub_invite_id": hub.hub_invite_id})
            else:
                conn.reply(msg, "ok", {})
        # any other event: handle_in(_message, _payload, socket) -> {:noreply, socket}

    def _broadcast_mute(self, room: SimRoom, sender: Channel, payload: dict[str, Any]) -> None:
        """``broadcast_from!`` then ``handle_out("mute")`` in every other channel.

        Only the channel of the muted session pushes it; a payload without
        ``session_id`` matches no ``handle_out`` clause and crashes the others.
        """
        for session_id, subscriber in list(room.subscribers.items()):
            if session_id == sender.session_id or not isinstance(subscriber, Channel):
                continue
            if "session_id" not in payload:
                self.crash(room, subscriber)
            elif payload["session_id"] == session_id:
                subscriber.push("mute", dict(payload))

    def _sign_in(self, room: SimRoom, channel: Channel, msg: PhxMessage) -> None:
        """``handle_in("sign_in", %{"token" => token})``."""
        sim, hub = self.sim, room.hub
        account = sim.account_for_token(msg.payload["token"])
        if account is None:
            channel.conn.reply(msg, "error", {"message": "Sign in failed",
                                              "reason": "invalid_token"})  # fmt: skip
            return
        channel.account = account
        given = msg.payload.get("creator_assignment_token")
        expected = hub.creator_assignment_token
        if given and expected is not None and given == expected:
            # Hub.changeset_for_creator_assignment
            hub.creator_account_id = account.account_id
            hub.creator_assignment_token = None
        token = sim.perms_token(hub, account)
        self.presence_update(room, channel)
        channel.conn.reply(msg, "ok", {"perms_token": token})

    def presence_update(self, room: SimRoom, channel: Channel) -> None:
        """``broadcast_presence_update``: the session's meta with its roles and permissions."""
        self.refresh_meta(room, channel.session_id, channel.account)

    def refresh_meta(self, room: SimRoom, session_id: str, account: SimAccount | None) -> None:
        roles, perms = self.sim.roles(room.hub, account), self.sim.perms(room.hub, account)

        def change(meta: dict[str, Any]) -> None:
            meta["roles"], meta["permissions"] = roles, perms

        room.update(session_id, change)

    def broadcast_hub_refresh(
        self,
        room: SimRoom,
        account: SimAccount | None,
        stale_fields: list[str],
        session_id: str | None,
    ) -> None:
        """``broadcast_hub_refresh!`` (or ``Ret.Api.Rooms.broadcast_hub_refresh``).

        ``show.json`` rendered for the actor, ``session_id`` of the actor's
        channel (none from the API) and ``stale_fields``. ``handle_out("hub_refresh")``
        re-tracks every session when ``member_permissions`` is stale.
        """
        hub = room.hub
        payload = self.sim.refresh_payload(hub, self.sim.perms(hub, account)["embed_hub"])
        if session_id is not None:
            payload["session_id"] = session_id
        payload["stale_fields"] = list(stale_fields)
        room.broadcast(HUB_REFRESH, payload)
        if "member_permissions" in stale_fields:
            self._refresh_all_metas(room)

    def broadcast_hub_refresh_from_api(
        self, room: SimRoom, embeddable: bool, stale_fields: list[str]
    ) -> None:
        """``Ret.Api.Rooms.broadcast_hub_refresh``: ``Endpoint.broadcast`` without session_id."""
        payload = self.sim.refresh_payload(room.hub, embeddable)
        payload["stale_fields"] = list(stale_fields)
        room.broadcast(HUB_REFRESH, payload)
        if "member_permissions" in stale_fields:
            self._refresh_all_metas(room)

    def _refresh_all_metas(self, room: SimRoom) -> None:
        for sid, subscriber in list(room.subscribers.items()):
            who = subscriber.account if isinstance(subscriber, Channel) else None
            self.refresh_meta(room, sid, who)
        for sid in [s for s in room.metas if s not in room.subscribers]:
            self.refresh_meta(room, sid, None)  # simulated web clients (avatars)

    def _update_hub(
        self, hub: SimHub, account: SimAccount | None, payload: dict[str, Any]
    ) -> list[str]:
        """``handle_in("update_hub")``: stale fields as Reticulum computes them, then
        ``add_attrs_to_changeset``, ``add_member_permissions_to_changeset``,
        ``maybe_add_promotion_to_changeset``, ``maybe_add_entry_mode_to_changeset``
        and ``Repo.update!`` (which raises on an invalid changeset)."""
        given_perms = payload.get("member_permissions")
        if not isinstance(given_perms, dict):
            raise ChannelCrash("member_permissions_from_attrs: Map.new(nil)")
        new_perms = member_permissions_to_map(given_perms)
        if new_perms is None:
            raise ChannelCrash("member_permissions_to_int: invalid permission")
        can_promote = self.sim.perms(hub, account)["update_hub_promotion"]
        stale: list[str] = []  # prepended, as Reticulum does
        if hub.name != payload.get("name"):
            stale.insert(0, "name")
        if hub.description != payload.get("description"):
            stale.insert(0, "description")
        if hub.member_permissions != new_perms:
            stale.insert(0, "member_permissions")
        if hub.room_size != payload.get("room_size"):
            stale.insert(0, "room_size")
        if can_promote and hub.allow_promotion != payload.get("allow_promotion"):
            stale.insert(0, "allow_promotion")
        entry_mode = payload.get("entry_mode")
        if entry_mode is not None:  # the atom never equals the string: always stale
            stale.insert(0, "entry_mode")
        cs = hub_attrs_changeset(_hub_data(hub), payload, max_room_size=self.sim.max_room_size)
        if entry_mode is not None and entry_mode not in ("allow", "invite", "deny"):
            raise ChannelCrash(f"entry_mode {entry_mode!r}")
        if not cs.valid:
            raise ChannelCrash(f"Ecto.InvalidChangesetError {cs.errors}")
        _apply_attrs(hub, cs, default_room_size=self.sim.default_room_size)
        hub.member_permissions = new_perms
        if can_promote:
            hub.allow_promotion = bool(payload.get("allow_promotion", False))
        if entry_mode is not None:
            hub.entry_mode = entry_mode
        return stale

    def _update_scene(self, hub: SimHub, url: Any) -> None:
        """``handle_in("update_scene", %{"url" => url})``."""
        if not isinstance(url, str):
            raise ChannelCrash("URI.parse of a non-string")
        parts = urlsplit(url)
        if parts.hostname == self.sim.endpoint_host and parts.path.startswith("/scenes/"):
            sid = parts.path.removeprefix("/scenes/").split("/")[0]
            scene = self.sim.scenes.get(sid)
            if scene is None:
                raise ChannelCrash("changeset_for_new_scene(hub, nil)")
            hub.scene = scene
            return
        if url.strip() == "":
            raise ChannelCrash("changeset_for_new_environment_url: can't be blank")
        hub.scene, hub.gltf_bundle_url = None, url


def _set(flag: str, value: bool) -> Any:
    def change(meta: dict[str, Any]) -> None:
        meta[flag] = value

    return change


def _hub_data(hub: SimHub) -> dict[str, Any]:
    return {"name": hub.name, "description": hub.description, "user_data": hub.user_data,
            "room_size": hub.room_size}  # fmt: skip


def apply_attrs(hub: SimHub, cs: Changeset, *, default_room_size: int) -> None:
    """Store a valid changeset's attribute changes on the room."""
    for key, value in cs.changes.items():
        if key == "room_size" and value is None:
            value = default_room_size  # Hub.room_size_for: nil is features|default_room_size
        setattr(hub, key, value)


_apply_attrs = apply_attrs
