"""Provisioning: one Hubs room per room of an event (PROTOCOL.md §5).

Each room is created with its scene set to the library's content-addressed
GLB URL of the room's scene version (``Room.scene_sha256``, recorded here the
first time, so later uploads of the scene leave the room as it is), with the
token GraphQL API when an API token is set, else over
``POST /api/v1/hubs`` (``rooms_api.HubsApi``; there Reticulum attaches a
default scene listing, which the result says, and which the bridge replaces
with the library's scene once it owns the room). Names fit Reticulum's 64
characters (``room_names.py``), sizes its maximum. Every call is paced by
the process's one pacer (Reticulum throttles per address, ``pacer.py``).
The room's ``creator_assignment_token`` is kept as a secret
(``creator_tokens.py``) before the link is stored, so the bridge can become
the room's owner. Each new room's link is stored right after its creation, so
provisioning again creates nothing twice: rooms with an open link are skipped
(``exists``); a room whose link was closed gets a fresh Hubs room, because
Hubs cannot reopen a closed one. One room failing does not stop the others.

A Hubs room whose link cannot be stored (the event deleted meanwhile, the
store away, a lost race) would be an orphan nobody knows of: its hub id is
logged and it is closed at once when the admin key allows (``failed``). When
another provisioner (the command takes no job lease) stored an open link for
the room first, that link stays and the new Hubs room is closed (``exists``).

Overflow twins (``overflow.py``) are created here too (:func:`provision_twin`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from hubs_bridge.calendar_service import CalendarService
from hubs_bridge.core.calendar import Event, HubsRoomLink, Room, with_room_scene
from hubs_bridge.core.event_commands import set_room_hubs_link
from hubs_bridge.core.room_links import add_twin
from hubs_bridge.errors import ConfigError
from hubs_bridge.hubs import creator_tokens
from hubs_bridge.hubs.room_names import hub_name, hub_names
from hubs_bridge.hubs.rooms_api import HubsApi, HubSpec, HubsRequestFailed, NewHub
from hubs_bridge.scenes.library import Scene, SceneLibrary
from hubs_bridge.scenes.urls import glb_url
from hubs_bridge.settings import Settings

log = logging.getLogger(__name__)

RoomState = Literal["created", "exists", "failed"]
SceneState = Literal["library", "default_listing"]
Progress = Callable[[str, str, str], None]
OnResult = Callable[["RoomResult"], Awaitable[None]]


class RoomResult(BaseModel):
    """What provisioning did for one room."""

    room: str
    state: RoomState
    message: str
    hub_id: str | None = None
    url: str | None = None
    name: str | None = None  # the room's name on the Hubs server
    # "default_listing": made over POST /api/v1/hubs, where Reticulum shows one of
    # its default scenes until the bridge, as owner, sets the library's.
    scene: SceneState | None = None
    owned: bool | None = None  # made by the bridge's account, or a creator token kept


class ProvisionResults(BaseModel):
    """Per-room results of provisioning one event."""

    event: str
    rooms: list[RoomResult]


def hubs_url(settings: Settings) -> str:
    if settings.hubs.url is None:
        raise ConfigError("hubs.url", "no Hubs server is configured (HUBS_BRIDGE_HUBS__URL)")
    return settings.hubs.url


def public_url(settings: Settings) -> str:
    if settings.public_url is None:
        raise ConfigError(
            "public_url",
            "needed to give Hubs absolute scene URLs (HUBS_BRIDGE_PUBLIC_URL)",
        )
    return settings.public_url


async def provision_event(
    calendar: CalendarService,
    library: SceneLibrary,
    settings: Settings,
    api: HubsApi,
    event_slug: str,
    *,
    progress: Progress | None,
    on_result: OnResult | None = None,
) -> list[RoomResult]:
    """Create the missing Hubs rooms of an event; one result per room, in event order.

    ``progress`` (a line per room, for the command) and ``on_result`` (for
    background jobs) hear of each room as soon as it is done. The api's pacer
    spaces the creations (shared with every other room API call of the process).
    """
    hubs_url(settings)
    public_url(settings)
    event = await calendar.get(event_slug)
    names = hub_names(event.title, [(room.slug, room.title) for room in event.rooms])
    results: list[RoomResult] = []
    for room in event.rooms:
        if room.hubs is not None and not room.hubs.closed:
            result = RoomResult(
                room=room.slug,
                state="exists",
                message="already provisioned",
                hub_id=room.hubs.hub_id,
                url=room.hubs.url,
            )
        else:
            try:
                result = await _provision_room(
                    calendar, library, settings, api, event, room, names[room.slug]
                )
            except Exception as exc:  # one room's trouble must not stop the others
                log.exception("provisioning %s/%s failed", event.slug, room.slug)
                result = RoomResult(room=room.slug, state="failed", message=str(exc))
        results.append(result)
        if progress is not None:
            progress(result.room, result.state, result.message)
        if on_result is not None:
            await on_result(result)
    return results


def _scene(library: SceneLibrary, room: Room) -> Scene:
    # The version the room was provisioned with (or moved to by staff), else the latest.
    scene = library.pinned(room.scene, room.scene_sha256)
    if scene is None:
        raise HubsRequestFailed(f"scene {room.scene!r} is not in the library")
    return scene


def _spec(settings: Settings, name: str, room: Room, scene: Scene) -> HubSpec:
    size = min(room.capacity, settings.hubs.max_room_size)
    return HubSpec(name, glb_url(public_url(settings), scene), size)


async def _create_owned(calendar: CalendarService, api: HubsApi, spec: HubSpec) -> NewHub:
    """Create a room and keep its creator token (a secret) before anyone may use the room."""
    new = await api.create(spec)
    if new.creator_token is not None:
        try:
            await creator_tokens.keep(calendar.store, new.hub_id, new.creator_token)
        except Exception:
            # The room is still usable; only ownership is lost. Say so, do not fail.
            log.exception("the creator token of Hubs room %s was not stored", new.hub_id)
            return NewHub(new.hub_id, new.url, None, new.default_scene)
    return new


def _created_message(new: NewHub, api: HubsApi) -> str:
    parts = ["Hubs room created"]
    if new.default_scene:
        parts.append(
            "the Hubs server shows one of its default scenes in rooms made without an API "
            "token (POST /api/v1/hubs)"
            + (
                "; the bridge sets the library's scene when it joins as owner"
                if api.settings.account_token is not None
                else "; set HUBS_BRIDGE_HUBS__API_TOKEN or an account token to fix it"
            )
        )
    return "; ".join(parts)


async def _provision_room(
    calendar: CalendarService,
    library: SceneLibrary,
    settings: Settings,
    api: HubsApi,
    event: Event,
    room: Room,
    name: str,
) -> RoomResult:
    try:
        scene = _scene(library, room)
        new = await _create_owned(calendar, api, _spec(settings, name, room, scene))
    except HubsRequestFailed as exc:
        log.warning("provisioning %s/%s failed: %s", event.slug, room.slug, exc)
        return RoomResult(room=room.slug, state="failed", message=str(exc), name=name)

    def store_link(current: Event, now: datetime) -> Event:
        there = current.room(room.slug)
        if there is not None and there.hubs is not None and not there.hubs.closed:
            raise _AlreadyLinked(there.hubs)
        link = HubsRoomLink(hub_id=new.hub_id, url=new.url, provisioned_at=now)
        linked = set_room_hubs_link(current, room.slug, link, now=now)
        # The room keeps this scene version when newer ones are uploaded (scene_catalog.py).
        return with_room_scene(linked, room.slug, scene.sha256)

    try:
        await calendar.change(event.slug, store_link)
    except _AlreadyLinked as race:
        log.info(
            "%s/%s got a Hubs room meanwhile (%s); the new one %s is not used",
            event.slug,
            room.slug,
            race.link.hub_id,
            new.hub_id,
        )
        await _discard(api, new)
        return RoomResult(
            room=room.slug,
            state="exists",
            message="already provisioned (by someone else just now)",
            hub_id=race.link.hub_id,
            url=race.link.url,
        )
    except Exception as exc:
        log.exception(
            "Hubs room %s (%s) made for %s/%s, but its link was not stored",
            new.hub_id,
            new.url,
            event.slug,
            room.slug,
        )
        closed = await _discard(api, new)
        return RoomResult(
            room=room.slug,
            state="failed",
            message=f"the Hubs room was made but could not be stored ({_brief(exc)}); "
            + ("it was closed again" if closed else f"Hubs room {new.hub_id} is left over"),
            hub_id=new.hub_id,
        )
    log.info("provisioned %s/%s as Hubs room %s", event.slug, room.slug, new.hub_id)
    return RoomResult(
        room=room.slug,
        state="created",
        message=_created_message(new, api),
        hub_id=new.hub_id,
        url=new.url,
        name=name,
        scene="default_listing" if new.default_scene else "library",
        owned=new.creator_token is not None or api.settings.account_token is not None,
    )


class _AlreadyLinked(Exception):
    """The room has an open link already (stored by someone else meanwhile)."""

    def __init__(self, link: HubsRoomLink) -> None:
        super().__init__(f"room already has Hubs room {link.hub_id}")
        self.link = link


def _brief(exc: Exception) -> str:
    return (str(exc) or type(exc).__name__).splitlines()[0][:200]


async def _discard(api: HubsApi, new: NewHub) -> bool:
    """Close a Hubs room nobody will link to, if the admin key allows; whether it is closed."""
    if not api.can_close:
        log.warning("Hubs room %s is left over (no admin key to close it)", new.hub_id)
        return False
    try:
        await api.close(new.hub_id)
    except Exception as exc:
        log.warning("left-over Hubs room %s could not be closed: %s", new.hub_id, exc)
        return False
    log.info("left-over Hubs room %s closed", new.hub_id)
    return True


def twin_name(event: Event, room: Room, number: int) -> str:
    """``"<event> – <room title> (2)"``: the room's own name with the twin's number."""
    return hub_name(event.title, room.title, number)


async def provision_twin(
    calendar: CalendarService,
    library: SceneLibrary,
    settings: Settings,
    api: HubsApi,
    event: Event,
    room: Room,
) -> HubsRoomLink:
    """Create one more overflow twin of ``room`` (same scene and size) and store it.

    The caller makes sure only one process does this at a time (``overflow.py``).
    Raises :class:`HubsRequestFailed`.
    """
    name = twin_name(event, room, len(room.twins) + 2)
    new = await _create_owned(calendar, api, _spec(settings, name, room, _scene(library, room)))
    try:
        link = HubsRoomLink(hub_id=new.hub_id, url=new.url, provisioned_at=calendar.now())
        await calendar.change(
            event.slug, lambda current, now: add_twin(current, room.slug, link, now=now)
        )
    except Exception as exc:
        log.exception(
            "twin %s of %s/%s made, but its link was not stored",
            new.hub_id,
            event.slug,
            room.slug,
        )
        await _discard(api, new)
        raise HubsRequestFailed(f"the new twin could not be stored: {_brief(exc)}") from exc
    log.info("provisioned twin of %s/%s as Hubs room %s", event.slug, room.slug, new.hub_id)
    return link
