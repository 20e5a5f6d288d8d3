"""Doors: ``/go/{event}/{room}`` sends visitors into a Hubs room while the event is open.

- ``GET /go/{event}/{room}?v=<visitor id>``: 302 to a Hubs room between
  doors-open and the end: the room's own, or, once it is full, its least
  full overflow twin, made on demand (``hubs/overflow.py``). 409
  ``doors_closed`` (with ``opens_at``) before, 410 ``event_ended`` after, 409
  ``not_provisioned`` while the room has no open Hubs link, 409 ``room_full``
  when the room and every twin it may have are full.
- Only a request whose ``v`` is a visitor id this server signed, with an
  open page of the event (``realtime/open_pages.py``), counts as someone
  arriving and may make a twin; the visitor page's "Raum betreten" link
  carries it. Without one (a link shared outside, a script) it still
  redirects, to the room or its least full twin, but counts for nothing, so
  GETs from many addresses cannot fake a full room or make twins.
- 429 ``rate_limited`` (with Retry-After) past ``GO_PER_MINUTE`` requests per
  client address.
- ``POST /api/events/{event}/provision`` (staff): starts provisioning in the
  background (``hubs/jobs.py``) and answers 202 with the job's status; while
  a job runs, it answers that job instead of starting another.
- ``GET /api/events/{event}/provision`` (staff): the latest job's status.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from hubs_bridge.auth import Principal
from hubs_bridge.core.calendar import Event, Room, title_in
from hubs_bridge.errors import Conflict, ContextValue, NotFound, RateLimited, error_body
from hubs_bridge.hubs.jobs import JobStatus
from hubs_bridge.realtime.open_pages import OpenPages
from hubs_bridge.web.api import Api, QueryParam, json_response
from hubs_bridge.web.client_address import client_address
from hubs_bridge.web.hubs_services import DOORMAN, GO_LIMITER, PROVISION_JOBS
from hubs_bridge.web.keys import BROKER, CALENDAR, REALTIME, SETTINGS
from hubs_bridge.web.pages.door import door_page, wants_html
from hubs_bridge.web.pages.render import request_lang

api = Api()
TAG = "doors"
# German first, English second, as on every page; the page may show it as is.
ROOM_FULL = (
    "Dieser Raum ist voll, bitte versuche es gleich noch einmal. / "
    "This room is full, please try again in a moment."
)
# /go per client address (a module constant, no setting yet): plenty for a
# person retrying a full room, too few to fake a crowd.
GO_PER_MINUTE = 30
GO_BURST = 15


def _refusal(
    request: web.Request,
    event: Event,
    room: Room,
    status: int,
    code: str,
    message: str,
    context: Mapping[str, ContextValue],
) -> web.Response:
    """JSON for scripts; for a browser following "Raum betreten", a page in its language."""
    if wants_html(request):
        title = title_in(room, request_lang(request))
        return door_page(request, status, code, event, title)
    # The times and counts are top-level context keys: details is only ever field problems.
    return json_response(error_body(code, message, context=context), status=status)


@api.operation(
    "GET",
    "/go/{event}/{room}",
    summary="Enter a room: redirect to its Hubs room (or a twin) while the doors are open",
    tag=TAG,
    status=302,
    errors=(404, 409, 410, 429),
    query=(
        QueryParam(
            "v",
            "The visitor id of the open event page; only then does the visit count towards "
            "a full room and its overflow rooms (without it, the link still leads in)",
        ),
    ),
)
async def go(request: web.Request) -> web.StreamResponse:
    # The visitor's address, also behind a configured reverse proxy (client_address.py).
    client = client_address(request)
    wait_ms = await request.app[GO_LIMITER].wait_ms("go:" + client, GO_PER_MINUTE, GO_BURST)
    if wait_ms > 0:
        raise RateLimited(
            f"too many requests; try again in {-(-wait_ms // 1000)} s",
            retry_after_s=wait_ms / 1000,
            code="rate_limited",
        )
    calendar = request.app[CALENDAR]
    event = await calendar.get(request.match_info["event"])
    room = event.room(request.match_info["room"])
    if room is None:
        raise NotFound(
            f"no room {request.match_info['room']!r} in this event", code="room_not_found"
        )
    now = calendar.now()
    phase = event.phase(now)
    times: dict[str, ContextValue] = {
        "opens_at": event.doors_open_at.isoformat(),
        "ends_at": event.ends_at.isoformat(),
    }
    if phase == "scheduled":
        return _refusal(
            request, event, room, 409, "doors_closed", "the doors are not open yet", times
        )
    if phase == "ended":
        return _refusal(request, event, room, 410, "event_ended", "the event has ended", times)
    ids = request.app[REALTIME].ids
    visitor = await OpenPages(request.app[BROKER], ids).visitor(event.slug, request.query.get("v"))
    if visitor is None:
        door = await request.app[DOORMAN].door(event, room.slug, counted=False)
    else:
        # The arrival is kept under a keyed hash of the visitor, the same on every process.
        pseudonym = ids.record_hash(event.slug, "go:" + visitor)
        door = await request.app[DOORMAN].door(event, room.slug, pseudonym)
    if door.kind == "full":
        details = {**times, "capacity": door.capacity, "rooms": door.rooms}
        return _refusal(request, event, room, 409, "room_full", ROOM_FULL, details)
    if door.link is None:
        return _refusal(
            request, event, room, 409, "not_provisioned", "this room has no Hubs room yet", times
        )
    raise web.HTTPFound(door.link.url, headers={"Cache-Control": "no-store"})


def _check_configured(request: web.Request) -> None:
    settings = request.app[SETTINGS]
    if settings.hubs.url is None:
        raise Conflict("no Hubs server is configured", code="hubs_not_configured")
    if settings.public_url is None:
        raise Conflict(
            "public_url must be set to give Hubs absolute scene URLs",
            code="public_url_not_configured",
        )


@api.operation(
    "POST",
    "/api/events/{event}/provision",
    summary="Start creating the missing Hubs rooms of an event (in the background)",
    tag=TAG,
    response=JobStatus,
    status=202,
    auth="staff",
    errors=(401, 403, 404, 409),
)
async def start_provisioning(request: web.Request, principal: Principal) -> JobStatus:
    principal.require_staff()
    _check_configured(request)
    event = await request.app[CALENDAR].get(request.match_info["event"])
    status, _ = await request.app[PROVISION_JOBS].start(event.slug, len(event.rooms))
    return status


@api.operation(
    "GET",
    "/api/events/{event}/provision",
    summary="The progress of the event's latest provisioning job",
    tag=TAG,
    response=JobStatus,
    auth="staff",
    errors=(401, 403, 404),
)
async def provisioning_status(request: web.Request, principal: Principal) -> JobStatus:
    principal.require_staff()
    event = await request.app[CALENDAR].get(request.match_info["event"])
    status = await request.app[PROVISION_JOBS].status(event.slug)
    if status is None:
        raise NotFound("this event has not been provisioned yet", code="job_not_found")
    return status
