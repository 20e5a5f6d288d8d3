"""Doors: ``/go/{event}/{room}`` sends visitors into the Hubs room while the event is open.

- ``GET /go/{event}/{room}``: 302 to the room's Hubs URL between doors-open and
  the end; 409 ``doors_closed`` (with ``opens_at``) before, 410 ``event_ended``
  after, 409 ``not_provisioned`` while the room has no open Hubs link.
- ``POST /api/events/{event}/provision`` (staff): creates the missing Hubs rooms
  and answers the per-room results.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hubs_bridge.auth import Principal
from hubs_bridge.errors import Conflict, NotFound
from hubs_bridge.hubs.provision import ProvisionResults, provision_event
from hubs_bridge.web.api import Api, json_response
from hubs_bridge.web.keys import CALENDAR, SCENES, SETTINGS

api = Api()
TAG = "doors"


def _refusal(status: int, code: str, message: str, details: dict[str, Any]) -> web.Response:
    return json_response({"code": code, "message": message, "details": details}, status=status)


@api.operation(
    "GET",
    "/go/{event}/{room}",
    summary="Enter a room: redirect to its Hubs room while the doors are open",
    tag=TAG,
    errors=(404, 409, 410),
)
async def go(request: web.Request) -> web.StreamResponse:
    calendar = request.app[CALENDAR]
    event = await calendar.get(request.match_info["event"])
    room = event.room(request.match_info["room"])
    if room is None:
        raise NotFound(
            f"no room {request.match_info['room']!r} in this event", code="room_not_found"
        )
    now = calendar.now()
    phase = event.phase(now)
    times = {"opens_at": event.doors_open_at.isoformat(), "ends_at": event.ends_at.isoformat()}
    if phase == "scheduled":
        return _refusal(409, "doors_closed", "the doors are not open yet", times)
    if phase == "ended":
        return _refusal(410, "event_ended", "the event has ended", times)
    if room.hubs is None or room.hubs.closed:
        return _refusal(409, "not_provisioned", "this room has no Hubs room yet", times)
    raise web.HTTPFound(room.hubs.url, headers={"Cache-Control": "no-store"})


@api.operation(
    "POST",
    "/api/events/{event}/provision",
    summary="Create the missing Hubs rooms of an event",
    tag=TAG,
    response=ProvisionResults,
    auth="staff",
    errors=(401, 403, 404, 409),
)
async def provision(request: web.Request, principal: Principal) -> ProvisionResults:
    principal.require_staff()
    settings = request.app[SETTINGS]
    if settings.hubs.url is None:
        raise Conflict("no Hubs server is configured", code="hubs_not_configured")
    if settings.public_url is None:
        raise Conflict(
            "public_url must be set to give Hubs absolute scene URLs",
            code="public_url_not_configured",
        )
    slug = request.match_info["event"]
    results = await provision_event(
        request.app[CALENDAR], request.app[SCENES], settings, slug, progress=None
    )
    return ProvisionResults(event=slug, rooms=results)
