"""Attendance over HTTP: statistics and CSV for staff and moderators, live counts for everyone."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from hubs_bridge.auth import Principal
from hubs_bridge.core.attendance import EVENT_ROOM, count, statistics_of
from hubs_bridge.core.calendar import Event
from hubs_bridge.errors import HubsBridgeError
from hubs_bridge.web.api import Api
from hubs_bridge.web.downloads import csv_download
from hubs_bridge.web.keys import BROKER, CALENDAR, REALTIME, STORE

api = Api()
TAG = "attendance"
LIVE_CACHE_S = 1.0
# Key for the event page as a whole in statistics (rooms have slugs, never this).
EVENT_KEY = "_event"


class RoomStatsOut(BaseModel):
    current: int
    peak: int
    peak_at: datetime | None
    unique_visitors: int
    dwell_median_s: float | None
    dwell_mean_s: float | None


class AttendanceReport(BaseModel):
    event: str
    generated_at: datetime
    current: dict[str, Any]
    stats: dict[str, RoomStatsOut]


class LiveRoom(BaseModel):
    web: int = Field(description="Visitors with the event page open who chose this room.")
    hubs: int = Field(
        description="People in the Hubs room itself (inside, entering or in its lobby), "
        "as the bridge sees them in Reticulum's presence; they need not have the page open."
    )
    occupancy: int = Field(description="Places taken as Hubs counts them (inside plus entering).")
    capacity: int
    stale: bool = Field(
        default=False, description="Hubs counts are from before the bridge lost the room's channel."
    )


class LiveCounts(BaseModel):
    event: str
    online: int = Field(
        description="Distinct visitors with the event page (/e/{event}) open. People who are "
        "only in a Hubs room are not counted here but in rooms.*.hubs."
    )
    rooms: dict[str, LiveRoom]


async def _event_for(request: web.Request, principal: Principal) -> Event:
    slug = request.match_info["event"]
    principal.require_moderator(slug)
    return await request.app[CALENDAR].get(slug)


async def _current(request: web.Request, event: Event) -> dict[str, Any]:
    return await request.app[REALTIME].attendance_of(event.slug)


async def _report(request: web.Request, event: Event) -> AttendanceReport:
    now = request.app[CALENDAR].now()
    marks = await request.app[STORE].attendance_marks(event.slug)
    stats = {
        (EVENT_KEY if room == EVENT_ROOM else room): RoomStatsOut(**s.as_dict())
        for room, s in statistics_of(marks, now).items()
    }
    for room in event.rooms:  # rooms nobody entered still appear, with zeros
        stats.setdefault(
            room.slug,
            RoomStatsOut(
                current=0,
                peak=0,
                peak_at=None,
                unique_visitors=0,
                dwell_median_s=None,
                dwell_mean_s=None,
            ),
        )
    return AttendanceReport(
        event=event.slug, generated_at=now, current=await _current(request, event), stats=stats
    )


@api.operation(
    "GET",
    "/api/events/{event}/attendance",
    summary="Attendance statistics: current, peak with time, unique visitors, dwell time",
    tag=TAG,
    response=AttendanceReport,
    auth="moderator",
    errors=(404,),
)
async def attendance(request: web.Request, principal: Principal) -> AttendanceReport:
    return await _report(request, await _event_for(request, principal))


@api.operation(
    "GET",
    "/api/events/{event}/attendance.csv",
    summary="Attendance per room as CSV (one row per room, plus the event page)",
    tag=TAG,
    auth="moderator",
    produces=("text/csv",),
    errors=(404,),
)
async def attendance_csv(request: web.Request, principal: Principal) -> web.Response:
    event = await _event_for(request, principal)
    report = await _report(request, event)
    titles = {r.slug: r.title for r in event.rooms} | {EVENT_KEY: event.title}
    header = [
        "room",
        "title",
        "current",
        "peak",
        "peak_at",
        "unique_visitors",
        "dwell_median_s",
        "dwell_mean_s",
    ]
    rows: list[list[Any]] = []
    for room, s in report.stats.items():
        rows.append(
            [
                room,
                titles.get(room, ""),
                s.current,
                s.peak,
                s.peak_at.isoformat() if s.peak_at else "",
                s.unique_visitors,
                "" if s.dwell_median_s is None else s.dwell_median_s,
                "" if s.dwell_mean_s is None else s.dwell_mean_s,
            ]
        )
    return csv_download(header, rows, f"{event.slug}-attendance.csv")


@api.operation(
    "GET",
    "/api/events/{event}/attendance-minutes.csv",
    summary="Attendance over time as CSV: one row per room and minute (web and Hubs)",
    tag=TAG,
    auth="moderator",
    produces=("text/csv",),
    errors=(404,),
)
async def attendance_minutes_csv(request: web.Request, principal: Principal) -> web.Response:
    event = await _event_for(request, principal)
    samples = await request.app[STORE].attendance_samples(event.slug)
    rows = ([s.minute.isoformat(), s.room, s.web, s.hubs] for s in samples)
    return csv_download(
        ["minute", "room", "web", "hubs"], rows, f"{event.slug}-attendance-minutes.csv"
    )


@api.operation(
    "GET",
    "/api/events/{event}/live",
    summary="Live counts per room, public (for landing pages)",
    tag=TAG,
    response=LiveCounts,
    errors=(404,),
)
async def live(request: web.Request) -> LiveCounts:
    slug = request.match_info["event"]
    cache: dict[str, tuple[float, Any]] = request.app[REALTIME].live_cache
    cached = cache.get(slug)
    if cached is not None and time.monotonic() - cached[0] < LIVE_CACHE_S:
        hit: LiveCounts = cached[1]
        return hit
    event = await request.app[CALENDAR].get(slug)
    try:
        entries = await request.app[BROKER].presence_list(slug)
    except HubsBridgeError:
        entries = []
    stale = request.app[REALTIME].leader.stale_rooms.of(slug)
    counts = count(entries, [r.slug for r in event.rooms], stale)
    capacity = {r.slug: r.capacity for r in event.rooms}
    result = LiveCounts(
        event=slug,
        online=counts.online,
        rooms={
            slug: LiveRoom(
                web=c.web,
                hubs=c.hubs_room + c.hubs_entering + c.hubs_lobby,
                occupancy=c.occupancy,
                capacity=capacity[slug],
                stale=c.stale,
            )
            for slug, c in counts.rooms.items()
        },
    )
    cache[slug] = (time.monotonic(), result)
    return result


class RaisedHand(BaseModel):
    room: str
    name: str | None
    device: str  # "desktop", "mobile" or "vr"
    where: str  # "room", "lobby" or "entering"


class RaisedHands(BaseModel):
    event: str
    hands: list[RaisedHand]


@api.operation(
    "GET",
    "/api/events/{event}/hands",
    summary="Raised hands in the event's Hubs rooms, by room then name (moderator console)",
    tag=TAG,
    response=RaisedHands,
    auth="moderator",
    errors=(404, 503),
)
async def hands(request: web.Request, principal: Principal) -> RaisedHands:
    event = await _event_for(request, principal)
    # Shared presence, so every process answers alike whichever one bridges the rooms.
    # Unlike the public counts, a moderator is told (503) when the broker is away.
    entries = await request.app[BROKER].presence_list(event.slug)
    raised = [
        RaisedHand(
            room=entry.room,
            name=entry.name,
            device=details.get("device", "desktop"),
            where=details.get("presence", "room"),
        )
        for entry in entries
        if entry.source == "hubs" and entry.room is not None
        for details in (dict(entry.details),)
        if details.get("hand_raised") == "1"
    ]
    raised.sort(key=lambda h: (h.room, h.name is None, (h.name or "").casefold()))
    return RaisedHands(event=event.slug, hands=raised)
