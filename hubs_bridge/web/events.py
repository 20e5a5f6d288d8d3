"""Staff API for events and their rooms (``/api/events...``)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel

from hubs_bridge.auth import Principal
from hubs_bridge.core import event_commands as cmds
from hubs_bridge.core.calendar import (
    Event,
    EventCreate,
    EventUpdate,
    Room,
    RoomCreate,
    RoomUpdate,
)
from hubs_bridge.errors import NotFound
from hubs_bridge.web.api import Api
from hubs_bridge.web.keys import CALENDAR, REALTIME

api = Api()
TAG = "events"


class EventList(BaseModel):
    events: list[Event]


class RoomList(BaseModel):
    rooms: list[Room]


def _visible(event: Event, principal: Principal) -> Event:
    """Hubs links (rooms' and overflow twins') are for staff and the event's moderators;
    visitors get them through /go, which checks the doors and the occupancy."""
    if principal.may_moderate(event.slug):
        return event
    hidden = {"hubs": None, "twins": ()}
    return event.model_copy(
        update={"rooms": tuple(r.model_copy(update=hidden) for r in event.rooms)}
    )


def _slug(request: web.Request, name: str = "event") -> str:
    return request.match_info[name]


@api.operation(
    "GET", "/api/events", summary="List events", tag=TAG, response=EventList, auth="optional"
)
async def list_events(request: web.Request, principal: Principal) -> EventList:
    events = await request.app[CALENDAR].store.list_events()
    return EventList(events=[_visible(e, principal) for e in events])


@api.operation(
    "POST",
    "/api/events",
    summary="Create an event",
    tag=TAG,
    body=EventCreate,
    response=Event,
    status=201,
    auth="staff",
    errors=(409, 422),
)
async def create_event(request: web.Request, principal: Principal, body: EventCreate) -> Event:
    principal.require_staff()
    return await request.app[CALENDAR].create(body)


@api.operation(
    "GET",
    "/api/events/{event}",
    summary="Read an event",
    tag=TAG,
    response=Event,
    auth="optional",
    errors=(404,),
)
async def get_event(request: web.Request, principal: Principal) -> Event:
    return _visible(await request.app[CALENDAR].get(_slug(request)), principal)


@api.operation(
    "PATCH",
    "/api/events/{event}",
    summary="Change an event",
    tag=TAG,
    body=EventUpdate,
    response=Event,
    auth="staff",
    errors=(404, 409, 422),
)
async def update_event(request: web.Request, principal: Principal, body: EventUpdate) -> Event:
    principal.require_staff()
    event = await request.app[CALENDAR].change(
        _slug(request), lambda event, now: cmds.update_event(event, body, now=now)
    )
    return event


@api.operation(
    "DELETE",
    "/api/events/{event}",
    summary="Delete an event",
    tag=TAG,
    status=204,
    auth="staff",
    errors=(404,),
)
async def delete_event(request: web.Request, principal: Principal) -> None:
    """Deletes the event with its questions and attendance; its pages are closed.

    Moderator tokens for this event alone are revoked, so they cannot moderate
    a new event that takes the same slug.
    """
    principal.require_staff()
    slug = _slug(request)
    calendar = request.app[CALENDAR]
    await calendar.delete(slug)
    for token in await calendar.store.list_tokens():
        if token.role == "moderator" and token.events == (slug,) and not token.revoked:
            await calendar.store.revoke_token(token.token_id)
    await request.app[REALTIME].event_deleted(slug)


@api.operation(
    "GET",
    "/api/events/{event}/rooms",
    summary="List an event's rooms",
    tag=TAG,
    response=RoomList,
    auth="optional",
    errors=(404,),
)
async def list_rooms(request: web.Request, principal: Principal) -> RoomList:
    event = _visible(await request.app[CALENDAR].get(_slug(request)), principal)
    return RoomList(rooms=list(event.rooms))


@api.operation(
    "POST",
    "/api/events/{event}/rooms",
    summary="Add a room to an event",
    tag=TAG,
    body=RoomCreate,
    response=Room,
    status=201,
    auth="staff",
    errors=(404, 409, 422),
)
async def create_room(request: web.Request, principal: Principal, body: RoomCreate) -> Room:
    principal.require_staff()
    calendar = request.app[CALENDAR]
    event = await calendar.change(
        _slug(request),
        lambda event, now: cmds.add_room(
            event, body, now=now, scenes=calendar.scenes, max_rooms=calendar.max_rooms
        ),
    )
    room = event.room(body.slug)
    assert room is not None
    return room


async def _room(request: web.Request, principal: Principal) -> Room:
    event = _visible(await request.app[CALENDAR].get(_slug(request)), principal)
    room = event.room(_slug(request, "room"))
    if room is None:
        raise NotFound(
            f"event {event.slug!r} has no room {_slug(request, 'room')!r}", code="room_not_found"
        )
    return room


@api.operation(
    "GET",
    "/api/events/{event}/rooms/{room}",
    summary="Read a room",
    tag=TAG,
    response=Room,
    auth="optional",
    errors=(404,),
)
async def get_room(request: web.Request, principal: Principal) -> Room:
    return await _room(request, principal)


@api.operation(
    "PATCH",
    "/api/events/{event}/rooms/{room}",
    summary="Change a room",
    tag=TAG,
    body=RoomUpdate,
    response=Room,
    auth="staff",
    errors=(404, 409, 422),
)
async def update_room(request: web.Request, principal: Principal, body: RoomUpdate) -> Room:
    principal.require_staff()
    calendar = request.app[CALENDAR]
    slug = _slug(request, "room")
    event = await calendar.change(
        _slug(request),
        lambda event, now: cmds.update_room(event, slug, body, now=now, scenes=calendar.scenes),
    )
    room = event.room(slug)
    assert room is not None
    return room


@api.operation(
    "DELETE",
    "/api/events/{event}/rooms/{room}",
    summary="Remove a room",
    tag=TAG,
    status=204,
    auth="staff",
    errors=(404,),
)
async def delete_room(request: web.Request, principal: Principal) -> None:
    principal.require_staff()
    slug = _slug(request, "room")
    await request.app[CALENDAR].change(
        _slug(request), lambda event, now: cmds.remove_room(event, slug, now=now)
    )
