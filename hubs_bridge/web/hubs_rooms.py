"""``GET /api/events/{event}/hubs``: each Hubs room of an event and how the bridge stands in it.

For staff and the event's moderators: the links (the room's own Hubs room and
its overflow twins, open or closed) with the bridge's state from
:mod:`hubs_bridge.hubs.room_status`. ``not_bridged`` means no bridge has said
anything about the room lately: the event is not open, the link is closed, or
no Hubs server is configured.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel

from hubs_bridge.auth import Principal
from hubs_bridge.hubs.room_status import read_status
from hubs_bridge.web.api import Api
from hubs_bridge.web.keys import BROKER, CALENDAR

api = Api()
TAG = "hubs"


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


class HubsRooms(BaseModel):
    event: str
    phase: Literal["scheduled", "open", "ended"]
    status_at: datetime | None  # when the bridge last said how it stands
    rooms: list[HubsRoomOut]


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
                )
            )
    return HubsRooms(
        event=slug,
        phase=event.phase(calendar.now()),
        status_at=status.updated_at if status is not None else None,
        rooms=rooms,
    )
