"""State of the Hubs server simulator: rooms and their presences. No I/O.

A :class:`SimHub` is a room as Reticulum stores it and serialises it in the
join reply and ``hub_refresh`` (PROTOCOL.md §2, §4). A :class:`SimRoom` tracks
the presences of one room the way ``Phoenix.Presence`` does (§3): one META per
session id, every change broadcast as a ``presence_diff`` to the channels
joined to the room, an update being a join of the new meta (with
``phx_ref_prev``) and a leave of the old one in the same diff.

Frames are built with :class:`hubs_bridge.hubs.frames.PhxMessage`, so the
simulator and the bridge's client agree on the envelope by construction.
"""

from __future__ import annotations

import copy
import hashlib
import re
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from hubs_bridge.hubs.frames import EntryMode, PhxMessage, hub_topic

PRESENCE_STATE = "presence_state"
PRESENCE_DIFF = "presence_diff"
HUB_REFRESH = "hub_refresh"
DEFAULT_ROOM_SIZE = 24  # §6
MAX_ROOM_SIZE = 50  # §6
# The restrictive default of §6: voice and text chat only.
DEFAULT_MEMBER_PERMISSIONS: dict[str, bool] = {
    "spawn_and_move_media": False,
    "spawn_camera": False,
    "spawn_drawing": False,
    "pin_objects": False,
    "spawn_emoji": False,
    "fly": False,
    "voice_chat": True,
    "text_chat": True,
}
# What an anonymous member may do, as the metas of the example frames show.
MEMBER_SESSION_PERMISSIONS: dict[str, bool] = {"voice_chat": True, "text_chat": True}

Device = Literal["desktop", "mobile", "vr"]
_SID_ALPHABET = string.ascii_letters + string.digits


def new_hub_sid() -> str:
    """A 7-character room id like Reticulum's ``hub_sid``."""
    return "".join(secrets.choice(_SID_ALPHABET) for _ in range(7))


def new_phx_ref() -> str:
    """A unique presence ref (Phoenix uses opaque base64 strings)."""
    return "F" + secrets.token_urlsafe(6)


def slugify(name: str) -> str:
    """The room slug derived from its name, as in the room URL (§5)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "room"


def context_for(device: Device, *, embed: bool = False) -> dict[str, Any]:
    """The join ``context`` the web client sends from a device (§2)."""
    return {"mobile": device == "mobile", "embed": embed, "hmd": device == "vr"}


SceneKind = Literal["scene", "scene_listing"]


@dataclass(slots=True)
class SimScene:
    """A scene or a scene listing as the join reply embeds it.

    ``to_wire`` is ``RetWeb.Api.V1.SceneView.render_scene``
    (``lib/ret_web/views/api/v1/scene_view.ex``): a listing renders its scene's
    fields with ``"type": "scene_listing"``.
    """

    scene_id: str
    name: str
    model_url: str
    screenshot_url: str | None = None
    description: str | None = None
    kind: SceneKind = "scene"
    url: str | None = None
    default: bool = False  # one of the server's default scene listings

    def to_wire(self) -> dict[str, Any]:
        return {
            "scene_id": self.scene_id,
            "project_id": None,
            "name": self.name,
            "description": self.description,
            "attributions": {"creator": "", "content": []},
            "model_url": self.model_url,
            "screenshot_url": self.screenshot_url,
            "url": self.url,
            "account_id": None,
            "parent_scene_id": None,
            "attribution": None,
            "allow_remixing": False,
            "allow_promotion": False,
            "type": self.kind,
        }


def janus_room_id(hub_id: str) -> int:
    """``Hub.janus_room_id_for_hub``: the first 53 bits of sha256(hub_sid)."""
    return int.from_bytes(hashlib.sha256(hub_id.encode()).digest()[:7], "big") >> 3


@dataclass(slots=True)
class SimHub:
    """One room (``Ret.Hub``). ``scene`` or ``gltf_bundle_url`` says what it shows.

    ``scene`` is a scene or a scene listing (``scene``/``scene_listing`` of the
    schema); ``gltf_bundle_url`` is ``default_environment_gltf_bundle_url``.
    ``creator_account_id`` and ``owner_account_ids`` (``hub_role_memberships``)
    make the owners (``Hub.is_owner?``); ``hub_invite_id`` is the active invite
    of an ``invite`` room (``Ret.HubInvite.active?``).
    """

    hub_id: str
    name: str
    scene: SimScene | None = None
    gltf_bundle_url: str | None = None
    description: str | None = None
    room_size: int = DEFAULT_ROOM_SIZE
    user_data: Any = None
    entry_mode: EntryMode = "allow"
    requires_oauth: bool = False
    allow_promotion: bool = False
    member_permissions: dict[str, bool] = field(
        default_factory=lambda: dict(DEFAULT_MEMBER_PERMISSIONS)
    )
    creator_assignment_token: str | None = field(default_factory=lambda: secrets.token_hex(16))
    embed_token: str = field(default_factory=lambda: secrets.token_hex(16))
    creator_account_id: str | None = None
    owner_account_ids: set[str] = field(default_factory=set)
    hub_invite_id: str | None = None
    created_seq: int = 0

    @property
    def slug(self) -> str:
        return slugify(self.name)

    @property
    def scene_url(self) -> str | None:
        """The GLB the room shows: the scene's model or the bare glTF bundle."""
        return self.scene.model_url if self.scene is not None else self.gltf_bundle_url

    def is_creator(self, account_id: str | None) -> bool:
        """``Hub.is_creator?``."""
        return account_id is not None and self.creator_account_id == account_id

    def is_owner(self, account_id: str | None) -> bool:
        """``Hub.is_owner?``: the creator or a ``hub_role_memberships`` account."""
        return self.is_creator(account_id) or (
            account_id is not None and account_id in self.owner_account_ids
        )

    def to_wire(
        self,
        *,
        host: str,
        port: int,
        member_count: int,
        lobby_count: int,
        embeddable: bool = False,
    ) -> dict[str, Any]:
        """``HubView.render("show.json")`` (``lib/ret_web/views/api/v1/hub_view.ex``).

        With a scene or listing: ``render_with_scene`` (``scene``, ``embed_token``
        only when ``embeddable``); else ``render_with_scene_asset``: ``topics``
        with a ``gltf_bundle`` asset and no ``embed_token`` key at all.
        ``entry_code`` is always 0 (entry codes were removed), ``port`` is
        ``Hub.janus_port``.
        """
        wire: dict[str, Any] = {
            "hub_id": self.hub_id,
            "name": self.name,
            "description": self.description,
            "user_data": copy.deepcopy(self.user_data),
            "slug": self.slug,
            "allow_promotion": self.allow_promotion,
            "entry_code": 0,
            "entry_mode": self.entry_mode,
            "host": host,
            "port": port,
            "turn": {"enabled": False},
        }
        if self.scene is not None:
            wire["scene"] = self.scene.to_wire()
            wire["embed_token"] = self.embed_token if embeddable else None
        else:
            wire["topics"] = [
                {
                    "topic_id": f"{self.hub_id}/{self.slug}",
                    "janus_room_id": janus_room_id(self.hub_id),
                    "assets": [{"asset_type": "gltf_bundle", "src": self.gltf_bundle_url}],
                }
            ]
        wire.update(
            {
                "member_permissions": dict(self.member_permissions),
                "room_size": self.room_size,
                "member_count": member_count,
                "lobby_count": lobby_count,
            }
        )
        return wire


class Subscriber(Protocol):
    """A channel joined to a room topic: receives the room's broadcasts."""

    def deliver(self, frame: PhxMessage) -> None: ...


def _entry(meta: dict[str, Any]) -> dict[str, Any]:
    return {"metas": [copy.deepcopy(meta)]}


class SimRoom:
    """Presences and subscribed channels of one room (§3)."""

    def __init__(self, hub: SimHub) -> None:
        self.hub = hub
        self.topic = hub_topic(hub.hub_id)
        self.metas: dict[str, dict[str, Any]] = {}
        self.subscribers: dict[str, Subscriber] = {}

    def broadcast(self, event: str, payload: dict[str, Any], *, exclude: str | None = None) -> None:
        """``[null, null, topic, event, payload]`` to every joined channel (§1).

        ``exclude`` (a session id) is ``broadcast_from``: everyone but the sender.
        """
        frame = PhxMessage(join_ref=None, ref=None, topic=self.topic, event=event, payload=payload)
        for session_id, subscriber in list(self.subscribers.items()):
            if session_id != exclude:
                subscriber.deliver(frame)

    def counts(self) -> tuple[int, int]:
        """``(member_count, lobby_count)``, leaving out ``context.discord`` sessions (§2)."""
        members = lobby = 0
        for meta in self.metas.values():
            if meta.get("context", {}).get("discord"):
                continue
            if meta.get("presence") == "room":
                members += 1
            else:
                lobby += 1
        return members, lobby

    def state(self) -> dict[str, Any]:
        """The ``presence_state`` payload."""
        return {sid: _entry(meta) for sid, meta in self.metas.items()}

    def track(
        self,
        session_id: str,
        profile: dict[str, Any],
        context: dict[str, Any],
        *,
        roles: dict[str, bool] | None = None,
        permissions: dict[str, bool] | None = None,
    ) -> dict[str, Any]:
        """``Presence.track`` of a new session in the lobby; broadcasts its join.

        The META is ``presence_meta_for_socket`` (``hub_channel.ex``): presence,
        profile, context, ``roles`` and ``permissions`` of the session's account.
        """
        meta: dict[str, Any] = {
            "presence": "lobby",
            "phx_ref": new_phx_ref(),
            "profile": copy.deepcopy(profile),
            "context": copy.deepcopy(context),
            "roles": dict(roles or {"owner": False, "creator": False, "signed_in": False}),
            "permissions": dict(permissions or MEMBER_SESSION_PERMISSIONS),
        }
        self.metas[session_id] = meta
        self.broadcast(PRESENCE_DIFF, {"joins": {session_id: _entry(meta)}, "leaves": {}})
        return meta

    def update(self, session_id: str, change: Callable[[dict[str, Any]], None]) -> None:
        """Change a session's meta; broadcast join(new, with ``phx_ref_prev``) + leave(old)."""
        old = self.metas.get(session_id)
        if old is None:
            return
        new = copy.deepcopy(old)
        change(new)
        new["phx_ref_prev"] = old["phx_ref"]
        new["phx_ref"] = new_phx_ref()
        self.metas[session_id] = new
        self.broadcast(
            PRESENCE_DIFF,
            {"joins": {session_id: _entry(new)}, "leaves": {session_id: _entry(old)}},
        )

    def untrack(self, session_id: str) -> None:
        """The session left; broadcasts its leave to the channels still joined."""
        old = self.metas.pop(session_id, None)
        if old is not None:
            self.broadcast(PRESENCE_DIFF, {"joins": {}, "leaves": {session_id: _entry(old)}})


# --- meta changes for the room events of §4 --------------------------------


def set_entering(entering: bool) -> Callable[[dict[str, Any]], None]:
    """``events:entering`` / ``events:entering_cancelled``: ``context.entering``."""

    def change(meta: dict[str, Any]) -> None:
        if entering:
            meta["context"]["entering"] = True
        else:
            meta["context"].pop("entering", None)

    return change


def set_entered(meta: dict[str, Any]) -> None:
    """``events:entered``: presence flips to ``room``."""
    meta["presence"] = "room"
    meta["context"].pop("entering", None)


def set_hand(raised: bool) -> Callable[[dict[str, Any]], None]:
    """``events:raise_hand`` / ``events:lower_hand``: ``hand_raised``."""

    def change(meta: dict[str, Any]) -> None:
        meta["hand_raised"] = raised

    return change


def set_profile(profile: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    """``events:profile_updated {profile}``."""

    def change(meta: dict[str, Any]) -> None:
        meta["profile"] = copy.deepcopy(profile)

    return change
