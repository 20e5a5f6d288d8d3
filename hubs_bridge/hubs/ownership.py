"""What the bridge does as a Hubs room's owner, and what it may do in each room. Pure.

The bridge owns a room when Reticulum counts its account as the room's
creator (``Hub.is_owner?`` in ``lib/ret/hub.ex``): it made the room signed in
(``HubController.create`` with a bearer account token; ``createRoom`` with an
account's API token), or it signed in on the room's channel with the room's
``creator_assignment_token`` (``hub_channel.ex`` ``sign_in``). The join reply's
and the sign-in reply's ``perms_token`` say so (:mod:`~hubs_bridge.hubs.perms`).

As owner it keeps the room as staff defined it, from the facts it has (the
room as the join reply and each ``hub_refresh`` describe it) and the event's
room definition; each function returns the pushes to make, nothing else:

- :func:`scene_push`: a room showing one of the server's scenes (a default
  listing attached by ``Hub.create_new_room``) gets the library's scene with
  ``update_scene {url}`` (``hub_channel.ex``: a URL on another host becomes the
  room's ``default_environment_gltf_bundle_url``, the listing cleared);
- :func:`settings_push`: member permissions or room size that differ from the
  event's room get one ``update_hub`` with the whole room (Reticulum casts the
  payload's name, description and room size and maps its member permissions,
  so leaving one out would blank it or crash the channel);
- :func:`capabilities`: what staff see per room: join, close, moderate,
  settings, and why not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from hubs_bridge.core.calendar import Room
from hubs_bridge.hubs.frames import Hub
from hubs_bridge.hubs.perms import HubPerms

SceneState = Literal["library", "hubs_scene"]
WhyNot = Literal["refused", "not_joined", "no_account", "account_refused", "not_owner"]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the bridge may do in one Hubs room, and why not, for staff and moderators."""

    join: bool
    close: bool
    moderate: bool
    settings: bool
    why_not: str | None
    # A stable name of the reason, for pages to say it in their language.
    why_not_code: WhyNot | None = None


def scene_state(hub: Hub) -> SceneState:
    """``hubs_scene`` when the room shows a scene of the Hubs server instead of a bundle URL.

    ``RetWeb.Api.V1.HubView`` renders ``scene`` for a scene or scene listing,
    else ``topics`` with the ``default_environment_gltf_bundle_url``; the
    bridge always gives rooms the library's GLB by URL.
    """
    return "hubs_scene" if hub.scene is not None else "library"


def scene_push(
    hub: Hub, perms: HubPerms, library_url: str | None, hubs_url: str | None = None
) -> dict[str, Any] | None:
    """The ``update_scene`` payload that puts the library's scene in, or ``None``.

    Never for a library URL on the Hubs server's own host: Reticulum would look
    its ``/scenes/<id>`` up among its own scenes, find none and crash the
    channel (``hub_channel.ex`` ``update_scene``: ``changeset_for_new_scene(nil)``).
    """
    if library_url is None or not perms.update_hub or scene_state(hub) == "library":
        return None
    if hubs_url is not None and same_host(library_url, hubs_url):
        return None
    return {"url": library_url}


def same_host(url: str, other: str) -> bool:
    """Whether two URLs name the same host (Reticulum compares hosts, not ports)."""
    return (urlsplit(url).hostname or "").lower() == (urlsplit(other).hostname or "").lower()


def settings_push(
    hub: Hub, perms: HubPerms, room: Room, max_room_size: int
) -> dict[str, Any] | None:
    """The ``update_hub`` payload that makes the Hubs room match ``room``, or ``None``."""
    if not perms.update_hub:
        return None
    size = min(room.capacity, max_room_size)
    wanted = {flag: bool(value) for flag, value in room.member_permissions.items()}
    current = {flag: hub.member_permissions.get(flag) for flag in wanted}
    if hub.room_size == size and current == wanted:
        return None
    return {
        "name": hub.name,
        "description": hub.description,
        "room_size": size,
        "member_permissions": wanted,
        "allow_promotion": hub.allow_promotion,
    }


def capabilities(
    perms: HubPerms | None,
    *,
    joined: bool,
    failed_reason: str | None,
    account_configured: bool,
    admin_key_configured: bool,
) -> Capabilities:
    """What the bridge may do in a room: the perms of its session, explained."""
    if failed_reason is not None:
        return Capabilities(False, admin_key_configured, False, False, failed_reason, "refused")
    if not joined or perms is None:
        waiting = "the bridge joins the room while the event is open"
        return Capabilities(False, admin_key_configured, False, False, waiting, "not_joined")
    owner = perms.close_hub or perms.kick_users or perms.update_hub
    why: str | None = None
    code: WhyNot | None = None
    if not owner:
        if not account_configured:
            why = "no Hubs account for the bridge (HUBS_BRIDGE_HUBS__ACCOUNT_TOKEN)"
            code = "no_account"
        elif not perms.signed_in:
            why = "the Hubs server did not accept the bridge's account token"
            code = "account_refused"
        else:
            why = "the bridge's account does not own this room (made before it had one?)"
            code = "not_owner"
    return Capabilities(
        join=True,
        close=perms.close_hub or admin_key_configured,
        moderate=perms.kick_users and perms.mute_users,
        settings=perms.update_hub,
        why_not=why,
        why_not_code=code,
    )
