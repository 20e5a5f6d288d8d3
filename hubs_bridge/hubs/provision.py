"""Provisioning: one Hubs room per room of an event, over Reticulum's HTTP API (§5).

``POST /api/v1/hubs`` creates a room whose scene is the library's
content-addressed GLB URL. Reticulum allows one creation per second per
address, so creations are spaced by ``hubs.create_interval_s`` and a 429 is
retried after a growing wait. Each new room's link is stored right after its
creation, so provisioning again creates nothing twice: rooms with an open link
are skipped (``exists``). One room failing does not stop the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Literal

import aiohttp
from pydantic import BaseModel

from hubs_bridge.calendar_service import CalendarService
from hubs_bridge.core.calendar import Event, HubsRoomLink, Room
from hubs_bridge.core.event_commands import set_room_hubs_link
from hubs_bridge.errors import ConfigError
from hubs_bridge.scenes.library import SceneLibrary
from hubs_bridge.settings import Settings
from hubs_bridge.web.scenes import glb_url

log = logging.getLogger(__name__)

RoomState = Literal["created", "exists", "failed"]
Progress = Callable[[str, str, str], None]
RATE_LIMIT_RETRIES = 4
MAX_RETRY_AFTER_S = 30.0
REQUEST_TIMEOUT_S = 15.0


class RoomResult(BaseModel):
    """What provisioning did for one room."""

    room: str
    state: RoomState
    message: str
    hub_id: str | None = None
    url: str | None = None


class ProvisionResults(BaseModel):
    """Per-room results of provisioning one event."""

    event: str
    rooms: list[RoomResult]


class _RoomFailed(Exception):
    """Creating one room failed; the message is for people."""


def _hubs_url(settings: Settings) -> str:
    if settings.hubs.url is None:
        raise ConfigError("hubs.url", "no Hubs server is configured (HUBS_BRIDGE_HUBS__URL)")
    return settings.hubs.url


def _public_url(settings: Settings) -> str:
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
    event_slug: str,
    *,
    progress: Progress | None,
    http: aiohttp.ClientSession | None = None,
) -> list[RoomResult]:
    """Create the missing Hubs rooms of an event; one result per room, in event order."""
    hubs_url = _hubs_url(settings)
    public_url = _public_url(settings)
    event = await calendar.get(event_slug)
    own_session = http is None
    session = http or aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S))
    results: list[RoomResult] = []
    created_any = False
    try:
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
                if created_any:
                    await asyncio.sleep(settings.hubs.create_interval_s)
                created_any = True
                result = await _provision_room(
                    calendar, library, settings, session, hubs_url, public_url, event, room
                )
            results.append(result)
            if progress is not None:
                progress(result.room, result.state, result.message)
    finally:
        if own_session:
            await session.close()
    return results


async def _provision_room(
    calendar: CalendarService,
    library: SceneLibrary,
    settings: Settings,
    session: aiohttp.ClientSession,
    hubs_url: str,
    public_url: str,
    event: Event,
    room: Room,
) -> RoomResult:
    scene = library.scenes.get(room.scene)
    if scene is None:
        return RoomResult(
            room=room.slug, state="failed", message=f"scene {room.scene!r} is not in the library"
        )
    body = {
        "hub": {
            "name": f"{event.title} – {room.title}",
            "default_environment_gltf_bundle_url": glb_url(public_url, scene),
            "room_size": room.capacity,
        }
    }
    try:
        hub_id, url = await _create_hub(session, hubs_url, body, settings.hubs.create_interval_s)
    except _RoomFailed as exc:
        log.warning("provisioning %s/%s failed: %s", event.slug, room.slug, exc)
        return RoomResult(room=room.slug, state="failed", message=str(exc))

    def store_link(current: Event, now: Any) -> Event:
        link = HubsRoomLink(hub_id=hub_id, url=url, provisioned_at=now)
        return set_room_hubs_link(current, room.slug, link, now=now)

    await calendar.change(event.slug, store_link)
    log.info("provisioned %s/%s as Hubs room %s", event.slug, room.slug, hub_id)
    return RoomResult(
        room=room.slug, state="created", message="Hubs room created", hub_id=hub_id, url=url
    )


async def _create_hub(
    session: aiohttp.ClientSession, hubs_url: str, body: dict[str, Any], interval_s: float
) -> tuple[str, str]:
    """POST one room, retrying 429s; the new room's hub id and URL."""
    endpoint = f"{hubs_url}/api/v1/hubs"
    for attempt in range(RATE_LIMIT_RETRIES + 1):
        try:
            async with session.post(endpoint, json=body) as resp:
                if resp.status == 429:
                    if attempt == RATE_LIMIT_RETRIES:
                        raise _RoomFailed(
                            f"rate limited by the Hubs server (429) after {attempt + 1} tries"
                        )
                    await asyncio.sleep(_retry_wait(resp, interval_s, attempt))
                    continue
                if resp.status >= 300:
                    detail = (await resp.text())[:200]
                    raise _RoomFailed(
                        f"the Hubs server refused with status {resp.status}: {detail}"
                    )
                try:
                    data = await resp.json(content_type=None)
                except ValueError:
                    raise _RoomFailed("the Hubs server answered with something not JSON") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _RoomFailed(
                f"the Hubs server at {hubs_url} is unreachable: {exc or type(exc).__name__}"
            ) from None
        hub_id = data.get("hub_id") if isinstance(data, dict) else None
        url = data.get("url") if isinstance(data, dict) else None
        if not isinstance(hub_id, str) or not hub_id or not isinstance(url, str) or not url:
            raise _RoomFailed("the Hubs server's answer has no hub_id and url")
        return hub_id, url
    raise AssertionError("unreachable")


def _retry_wait(resp: aiohttp.ClientResponse, interval_s: float, attempt: int) -> float:
    header = resp.headers.get("Retry-After")
    if header is not None:
        try:
            return min(max(float(header), 0.0), MAX_RETRY_AFTER_S)
        except ValueError:
            pass
    return float(min(max(interval_s, 0.05) * 2 ** (attempt + 1), MAX_RETRY_AFTER_S))
