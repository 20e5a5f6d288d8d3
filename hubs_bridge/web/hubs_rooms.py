"""The event's Hubs rooms for staff and moderators: how the bridge stands, what it may do.

- ``GET /api/events/{event}/hubs``: the links (the room's own Hubs room and
  its overflow twins, open or closed) with the bridge's state from
  :mod:`hubs_bridge.hubs.room_status`, what it may do there (close,
  moderate, change settings) and why not, which scene the room shows, a
  refused close, and the results of the latest mute/kick actions.
  ``not_bridged`` means no bridge has said anything about the room lately:
  the event is not open, the link is closed, or no Hubs server is configured.
- ``POST /api/events/{event}/hubs/people/{session}/{action}`` (moderators):
  mute or kick one person in a Hubs room, named by their presence entry
  (``hubs:<hash>``, as ``/hands`` and the attendance list it). The action is
  written to the moderation log, then published on the event's stream, where
  the process bridging the room carries it out (``hubs/owner_duties.py``)
  and reports the result in the status above. Refused at once (409
  ``hubs_not_owner``) where the bridge does not own the room.
- ``POST /api/events/{event}/hubs/close`` (staff): close the ended event's
  rooms again now, after the Hubs server refused (``hubs/scheduler.py``).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel

from hubs_bridge.auth import Principal
from hubs_bridge.core.overflow import HUB_DETAIL
from hubs_bridge.core.qa import ModerationEntry
from hubs_bridge.core.stream import HubsAction, HubsActionRequested
from hubs_bridge.errors import Conflict, NotFound
from hubs_bridge.hubs.ownership import SceneState
from hubs_bridge.hubs.room_status import read_status
from hubs_bridge.web.api import Api
from hubs_bridge.web.hubs_services import CLOSER
from hubs_bridge.web.keys import BROKER, CALENDAR, REALTIME, STORE

api = Api()
TAG = "hubs"
MAX_PEOPLE = 500  # a console list, not an export


class HubsRoomOut(BaseModel):
    room: str
    kind: Literal["room", "twin"]
    hub_id: str
    url: str
    closed: bool
    bridge: Literal["joining", "joined", "stale", "failed", "not_bridged"]
    reason: str | None = None
    message: str | None = None
    since: datetime | None = None
    may_close: bool = False
    may_moderate: bool = False
    may_change_settings: bool = False
    why_not: str | None = None
    why_not_code: str | None = None  # not_joined, no_account, account_refused, not_owner
    scene: SceneState | None = None
    close_refused: str | None = None  # the Hubs server's refusal of the last close


class HubsActionOut(BaseModel):
    id: str
    action: str
    ok: bool
    message: str
    at: datetime


class HubsRooms(BaseModel):
    event: str
    phase: Literal["scheduled", "open", "ended"]
    status_at: datetime | None  # when the bridge last said how it stands
    rooms: list[HubsRoomOut]
    actions: list[HubsActionOut] = []


class HubsActionAccepted(BaseModel):
    id: str
    action: Literal["mute", "kick"]
    room: str
    state: Literal["sent"]


class HubsPerson(BaseModel):
    session: str  # the presence entry ("hubs:<hash>"), what mute and kick name
    room: str
    name: str | None
    device: str  # "desktop", "mobile" or "vr"
    where: str  # "room", "lobby" or "entering"
    hand_raised: bool
    may_moderate: bool  # the bridge owns this person's Hubs room
    why_not: str | None = None
    why_not_code: str | None = None


class HubsPeople(BaseModel):
    event: str
    people: list[HubsPerson]


class CloseOutcome(BaseModel):
    event: str
    refused: dict[str, str]  # hub id -> the Hubs server's reason


@api.operation(
    "GET",
    "/api/events/{event}/hubs",
    summary="The event's Hubs rooms and twins, with the bridge's state in each (joined, "
    "stale, failed with the server's reason...)",
    tag=TAG,
    response=HubsRooms,
    auth="moderator",
    errors=(404, 503),
)
async def hubs_rooms(request: web.Request, principal: Principal) -> HubsRooms:
    slug = request.match_info["event"]
    principal.require_moderator(slug)
    calendar = request.app[CALENDAR]
    event = await calendar.get(slug)
    status = await read_status(request.app[BROKER], slug)
    known = status.hubs if status is not None else {}
    refused = await request.app[CLOSER].refusals(slug)
    rooms: list[HubsRoomOut] = []
    for room in event.rooms:
        links = ([("room", room.hubs)] if room.hubs is not None else []) + [
            ("twin", twin) for twin in room.twins
        ]
        for kind, link in links:
            seen = None if link.closed else known.get(link.hub_id)
            rooms.append(
                HubsRoomOut(
                    room=room.slug,
                    kind="room" if kind == "room" else "twin",
                    hub_id=link.hub_id,
                    url=link.url,
                    closed=link.closed,
                    bridge=seen.state if seen is not None else "not_bridged",
                    reason=seen.reason if seen is not None else None,
                    message=seen.message if seen is not None else None,
                    since=seen.since if seen is not None else None,
                    may_close=seen.may_close if seen is not None else False,
                    may_moderate=seen.may_moderate if seen is not None else False,
                    may_change_settings=seen.may_change_settings if seen else False,
                    why_not=seen.why_not if seen is not None else None,
                    why_not_code=seen.why_not_code if seen is not None else None,
                    scene=seen.scene if seen is not None else None,
                    close_refused=refused.get(link.hub_id),
                )
            )
    actions = [] if status is None else list(status.actions.values())
    return HubsRooms(
        event=slug,
        phase=event.phase(calendar.now()),
        status_at=status.updated_at if status is not None else None,
        rooms=rooms,
        actions=[HubsActionOut.model_validate(a, from_attributes=True) for a in actions],
    )


@api.operation(
    "GET",
    "/api/events/{event}/hubs/people",
    summary="Everyone in the event's Hubs rooms now, raised hands first (moderator console)",
    tag=TAG,
    response=HubsPeople,
    auth="moderator",
    errors=(404, 503),
)
async def hubs_people(request: web.Request, principal: Principal) -> HubsPeople:
    slug = request.match_info["event"]
    principal.require_moderator(slug)
    event = await request.app[CALENDAR].get(slug)
    entries = await request.app[BROKER].presence_list(event.slug)
    status = await read_status(request.app[BROKER], slug)
    known = status.hubs if status is not None else {}
    people = []
    for entry in entries:
        if entry.source != "hubs" or entry.room is None:
            continue
        details = dict(entry.details)
        seen = known.get(details.get(HUB_DETAIL, ""))
        people.append(
            HubsPerson(
                session=entry.session,
                room=entry.room,
                name=entry.name,
                device=details.get("device", "desktop"),
                where=details.get("presence", "room"),
                hand_raised=details.get("hand_raised") == "1",
                may_moderate=seen is not None and seen.may_moderate,
                why_not=None if seen is None else seen.why_not,
                why_not_code=None if seen is None else seen.why_not_code,
            )
        )
    people.sort(
        key=lambda p: (not p.hand_raised, p.room, p.name is None, (p.name or "").casefold())
    )
    return HubsPeople(event=slug, people=people[:MAX_PEOPLE])


@api.operation(
    "POST",
    "/api/events/{event}/hubs/people/{session}/{action}",
    summary="Mute or kick one person in the event's Hubs rooms (the bridge as the room's owner)",
    tag=TAG,
    response=HubsActionAccepted,
    status=202,
    auth="moderator",
    errors=(404, 409, 503),
)
async def hubs_action(request: web.Request, principal: Principal) -> HubsActionAccepted:
    slug = request.match_info["event"]
    principal.require_moderator(slug)
    asked = request.match_info["action"]
    if asked not in ("mute", "kick"):
        raise NotFound("no such action: mute or kick", code="unknown_action")
    action: HubsAction = "mute" if asked == "mute" else "kick"
    event = await request.app[CALENDAR].get(slug)
    session = request.match_info["session"]
    entries = await request.app[BROKER].presence_list(event.slug)
    person = next((e for e in entries if e.session == session and e.source == "hubs"), None)
    if person is None or person.room is None:
        raise NotFound("nobody with this entry is in a Hubs room now", code="person_not_found")
    hub_id = dict(person.details).get(HUB_DETAIL)
    status = await read_status(request.app[BROKER], slug)
    seen = status.hubs.get(hub_id or "") if status is not None else None
    if seen is None or not seen.may_moderate:
        why = seen.why_not if seen is not None else None
        raise Conflict(
            "the bridge may not mute or kick in this Hubs room"
            + (f": {why}" if why else " (it is not the room's owner)"),
            code="hubs_not_owner",
        )
    ident = secrets.token_urlsafe(9)
    clock = request.app[CALENDAR].now
    # Written first, then acknowledged, then carried out by the bridging process.
    await request.app[STORE].qa_log(
        ModerationEntry(
            event=slug,
            at=clock(),
            actor=principal.token_id or "?",
            role=principal.role,
            action=f"hubs_{action}",
            question=None,
            details=(("id", ident), ("room", person.room), ("person", session)),
        )
    )
    requested = HubsActionRequested(id=ident, action=action, session=session, room=person.room)
    await request.app[REALTIME].publish(slug, requested)
    return HubsActionAccepted(id=ident, action=action, room=person.room, state="sent")


@api.operation(
    "POST",
    "/api/events/{event}/hubs/close",
    summary="Close the ended event's open Hubs rooms now (after the Hubs server refused)",
    tag=TAG,
    response=CloseOutcome,
    auth="staff",
    errors=(404, 409, 503),
)
async def close_rooms(request: web.Request, principal: Principal) -> CloseOutcome:
    principal.require_staff()
    slug = request.match_info["event"]
    calendar = request.app[CALENDAR]
    event = await calendar.get(slug)
    if event.phase(calendar.now()) != "ended":
        raise Conflict("the event has not ended", code="event_not_ended")
    refused = await request.app[CLOSER].retry(slug)
    return CloseOutcome(event=slug, refused=refused)
