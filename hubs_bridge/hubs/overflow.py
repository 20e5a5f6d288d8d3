"""Overflow twins, the driver: ``/go`` picks a Hubs room and makes twins on demand.

The choice itself is pure (``core/overflow.py``). Around it:

- Arrivals in flight are shared by every process as presence entries of a
  separate key (``go:<event>``, never read as attendance), one per client
  and room (a keyed hash of the visitor: asking again replaces the entry,
  it does not add one), expiring after ``hubs.arrival_window_s``.
- Only demand counts: arrivals of visitors with an open page of the event
  (``realtime/open_pages.py``). Anyone else (a link shared outside, a script)
  is sent to a room without being counted and never makes a twin
  (``counted=False``): otherwise a few dozen GETs from as many addresses
  made a room report full and created every twin it may have.
- A new twin is made by one process only: it takes a broker lease whose key
  names how many twins the room has (``overflow-twin:<event>:<room>:<n>``),
  reads the event fresh from the store, and makes twin n + 1 only if it is
  still missing. The others wait for it to appear and then choose again.
- A twin that cannot be made (Hubs down, no ``public_url``) does not lock
  people out: they go to the least full Hubs room there is. The failure is
  put in the broker for ``FAILED_S`` (``overflow-failed:<event>:<room>``) and
  the lease is given up, so those waiting for the twin, and those coming
  in the next seconds, go to the least full room at once instead of waiting.
- Waiting for another process's twin polls the broker (cheap), not the
  store: the maker says ``overflow-made:...`` and only then is the event read.
"""

from __future__ import annotations

import asyncio
import contextlib
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
FAILED_PREFIX = "overflow-failed:"
MADE_PREFIX = "overflow-made:"
FAILED_S = 10.0  # after a twin failed, nobody tries again (or waits) this long
RELEASE_S = 0.05  # a lease given up: renewed by its holder to expire right away

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

    async def door(
        self, event: Event, room_slug: str, client: str = "", *, counted: bool = True
    ) -> Door:
        """The Hubs room for the next person entering ``room_slug``; counted as arriving.

        ``client`` (a pseudonym of the visitor) keys the arrival: one client counts once.
        Not ``counted``: the room with space, else the least full one there is,
        neither counted nor making a twin (see the module docstring).
        """
        if not counted:
            return await self._uncounted(event, room_slug)
        deadline = time.monotonic() + TWIN_WAIT_S
        fresh = False
        arrival = _arrival_key(event.slug, room_slug, client)
        while True:
            room = _room(event, room_slug)
            counts = await self._counts(event.slug, room)
            choice = choose(room, counts)
            if choice.kind == "new_twin" and self._make_twin is None:
                choice = Choice("enter", least_full(room, counts))
            if choice.kind == "enter" and choice.link is not None:
                await self._arriving(event.slug, room, choice.link, arrival)
                return Door("enter", choice.link)
            if choice.kind != "new_twin":
                return Door(choice.kind, capacity=room.capacity, rooms=len(room.hubs_links()))
            if not fresh:
                # The calendar's cache may not show a twin another process just made.
                event, fresh = await self._fresh(event.slug), True
                continue
            failed_key = f"{FAILED_PREFIX}{event.slug}:{room.slug}"
            if await self._broker.value_get(failed_key) is not None:
                return await self._least_full(event.slug, room, counts, arrival)
            suffix = f"{event.slug}:{room.slug}:{len(room.twins)}"
            key = LEAD_PREFIX + suffix
            # A lease held by this very request: two requests of one process
            # must not both count as its holder.
            token = secrets.token_hex(8)
            if await self._broker.lead(key, token, LEASE_S):
                made = await self._twin(event, room)
                if made is None:
                    await self._failed(key, token, failed_key)
                    return await self._least_full(event.slug, room, counts, arrival)
                with contextlib.suppress(Exception):  # the waiters also find it at their deadline
                    await self._broker.value_put(MADE_PREFIX + suffix, b"1", LEASE_S)
                await self._arriving(event.slug, room, made, arrival)
                return Door("enter", made)
            if not await self._wait_for_twin(suffix, failed_key, deadline):
                return await self._least_full(event.slug, room, counts, arrival)
            event = await self._fresh(event.slug)

    async def _uncounted(self, event: Event, room_slug: str) -> Door:
        room = _room(event, room_slug)
        counts = await self._counts(event.slug, room)
        choice = choose(room, counts)
        if choice.kind == "new_twin":
            choice = Choice("enter", least_full(room, counts))
        if choice.kind == "enter" and choice.link is not None:
            return Door("enter", choice.link)
        if choice.kind == "full":
            return Door("full", capacity=room.capacity, rooms=len(room.hubs_links()))
        return Door("not_provisioned")

    async def _wait_for_twin(self, suffix: str, failed_key: str, deadline: float) -> bool:
        """Wait for another request's twin: ``True`` once made, ``False`` if failed or late."""
        while time.monotonic() < deadline:
            await asyncio.sleep(POLL_S)
            if await self._broker.value_get(failed_key) is not None:
                return False
            if await self._broker.value_get(MADE_PREFIX + suffix) is not None:
                return True
        return False

    async def _failed(self, key: str, token: str, failed_key: str) -> None:
        """Tell the others the twin failed, and give up the lease so a later try may lead."""
        try:
            await self._broker.value_put(failed_key, b"1", FAILED_S)
            await self._broker.lead(key, token, RELEASE_S)
        except Exception as exc:  # the broker away: the waiters find out at their deadline
            log.warning("overflow twin failure not shared: %s", exc)

    async def _twin(self, event: Event, room: Room) -> HubsRoomLink | None:
        assert self._make_twin is not None
        try:
            return await self._make_twin(event, room)
        except (HubsRequestFailed, HubsBridgeError) as exc:  # Hubs or the store away
            log.warning("no overflow twin for %s/%s: %s", event.slug, room.slug, exc)
            return None
        except Exception:  # whatever it was, people go to the least full room instead
            log.exception("no overflow twin for %s/%s", event.slug, room.slug)
            return None

    async def _least_full(
        self, event: str, room: Room, counts: dict[str, int], arrival: str
    ) -> Door:
        link = least_full(room, counts)
        if link is None:
            return Door("not_provisioned")
        await self._arriving(event, room, link, arrival)
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

    async def _arriving(self, event: str, room: Room, link: HubsRoomLink, arrival: str) -> None:
        if self._window <= 0:
            return
        entry = PresenceEntry(
            session=arrival,
            visitor="-",  # nobody in particular: only the count matters
            room=room.slug,
            details=((HUB_DETAIL, link.hub_id),),
        )
        await self._broker.presence_put(ARRIVALS_PREFIX + event, [entry], self._window)


def _arrival_key(event: str, room: str, client: str) -> str:
    """One arrival entry per client and room: asking again replaces it. ``client`` is a
    pseudonym already (``doors.py`` keys the visitor id with the server's secret, the
    same on every process), so the broker never holds the id itself."""
    return f"go:{room}:{client}"


def _room(event: Event, slug: str) -> Room:
    room = event.room(slug)
    if room is None:
        raise NotFound(f"no room {slug!r} in this event", code="room_not_found")
    return room
