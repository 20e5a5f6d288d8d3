"""Overflow twins, the driver: ``/go`` picks a Hubs room and makes twins on demand.

The choice itself is pure (``core/overflow.py``). Around it:

- Arrivals in flight are shared by every process as presence entries of a
  separate key (``go:<event>``, never read as attendance), one per redirect,
  expiring after ``hubs.arrival_window_s``.
- A new twin is made by one process only: it takes a broker lease whose key
  names how many twins the room has (``overflow-twin:<event>:<room>:<n>``),
  reads the event fresh from the store, and makes twin n + 1 only if it is
  still missing. The others wait for it to appear and then choose again.
- A twin that cannot be made (Hubs down, no ``public_url``) does not lock
  people out: they go to the least full Hubs room there is.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from hubs_bridge.broker.base import Broker, PresenceEntry
from hubs_bridge.calendar_service import CalendarService
from hubs_bridge.core.calendar import Event, HubsRoomLink, Room
from hubs_bridge.core.overflow import HUB_DETAIL, Choice, choose, least_full, occupancy
from hubs_bridge.errors import HubsBridgeError, NotFound
from hubs_bridge.hubs.rooms_api import HubsRequestFailed

log = logging.getLogger(__name__)

ARRIVALS_PREFIX = "go:"
LEAD_PREFIX = "overflow-twin:"
LEASE_S = 60.0
TWIN_WAIT_S = 20.0
POLL_S = 0.2

MakeTwin = Callable[[Event, Room], Awaitable[HubsRoomLink]]


@dataclass(frozen=True, slots=True)
class Door:
    """Where ``/go`` sends someone: a Hubs room, or nowhere (``full``/``not_provisioned``)."""

    kind: str
    link: HubsRoomLink | None = None
    capacity: int = 0
    rooms: int = 0


class Doorman:
    """Chooses rooms for ``/go`` and makes overflow twins; one per process."""

    def __init__(
        self,
        calendar: CalendarService,
        broker: Broker,
        make_twin: MakeTwin | None,
        arrival_window_s: float,
    ) -> None:
        self._calendar = calendar
        self._broker = broker
        self._make_twin = make_twin  # None: no Hubs server to make twins on
        self._window = arrival_window_s

    async def door(self, event: Event, room_slug: str) -> Door:
        """The Hubs room for the next person entering ``room_slug``; counted as arriving."""
        deadline = time.monotonic() + TWIN_WAIT_S
        fresh = False
        while True:
            room = _room(event, room_slug)
            counts = await self._counts(event.slug, room)
            choice = choose(room, counts)
            if choice.kind == "new_twin" and self._make_twin is None:
                choice = Choice("enter", least_full(room, counts))
            if choice.kind == "enter" and choice.link is not None:
                await self._arriving(event.slug, room, choice.link)
                return Door("enter", choice.link)
            if choice.kind != "new_twin":
                return Door(choice.kind, capacity=room.capacity, rooms=len(room.hubs_links()))
            if not fresh:
                # The calendar's cache may not show a twin another process just made.
                event, fresh = await self._fresh(event.slug), True
                continue
            key = f"{LEAD_PREFIX}{event.slug}:{room.slug}:{len(room.twins)}"
            # A lease held by this very request: two requests of one process
            # must not both count as its holder.
            if await self._broker.lead(key, secrets.token_hex(8), LEASE_S):
                made = await self._twin(event, room)
                if made is None:
                    return await self._least_full(event.slug, room, counts)
                await self._arriving(event.slug, room, made)
                return Door("enter", made)
            if time.monotonic() > deadline:
                return await self._least_full(event.slug, room, counts)
            await asyncio.sleep(POLL_S)
            event = await self._fresh(event.slug)

    async def _twin(self, event: Event, room: Room) -> HubsRoomLink | None:
        assert self._make_twin is not None
        try:
            return await self._make_twin(event, room)
        except (HubsRequestFailed, HubsBridgeError) as exc:
            log.warning("no overflow twin for %s/%s: %s", event.slug, room.slug, exc)
            return None

    async def _least_full(self, event: str, room: Room, counts: dict[str, int]) -> Door:
        link = least_full(room, counts)
        if link is None:
            return Door("not_provisioned")
        await self._arriving(event, room, link)
        return Door("enter", link)

    async def _fresh(self, slug: str) -> Event:
        event = await self._calendar.store.get_event(slug)
        if event is None:
            raise NotFound(f"no event {slug!r}", code="event_not_found")
        return event

    async def _counts(self, event: str, room: Room) -> dict[str, int]:
        present = await self._broker.presence_list(event)
        # Expired arrivals are dropped on the way (Redis keeps them until swept).
        await self._broker.presence_sweep(ARRIVALS_PREFIX + event)
        arriving = await self._broker.presence_list(ARRIVALS_PREFIX + event)
        return dict(occupancy(room, present, arriving))

    async def _arriving(self, event: str, room: Room, link: HubsRoomLink) -> None:
        if self._window <= 0:
            return
        entry = PresenceEntry(
            session="go:" + secrets.token_hex(8),
            visitor="-",  # nobody in particular: only the count matters
            room=room.slug,
            details=((HUB_DETAIL, link.hub_id),),
        )
        await self._broker.presence_put(ARRIVALS_PREFIX + event, [entry], self._window)


def _room(event: Event, slug: str) -> Room:
    room = event.room(slug)
    if room is None:
        raise NotFound(f"no room {slug!r} in this event", code="room_not_found")
    return room
