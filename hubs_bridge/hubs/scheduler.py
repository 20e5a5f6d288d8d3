"""The scheduler: at an event's end its Hubs rooms (and twins) are closed.

Every ``hubs.close_interval_s`` each process looks for ended events with open
Hubs links; for each, the process that takes the event's closing lease
(``broker.lead("hubs-close:<event>")``, apart from the bridge's and the
attendance leader's leases) closes them:

- with ``hubs.admin_access_key`` (and a Hubs server): ``DELETE`` each room
  (PROTOCOL.md §5, entry mode deny, for good), then marks the links closed;
  a room the server could not close stays open here and is tried again on
  the next round;
- without it: only marks the links closed here. People still in the room
  are told by the bridge, which posts a closing notice as it leaves.

Hubs cannot reopen a closed room; provisioning the event again makes fresh
rooms (provisioning skips only open links).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from datetime import datetime

import aiohttp

from hubs_bridge.broker.base import Broker
from hubs_bridge.calendar_service import CalendarService
from hubs_bridge.core.calendar import Event
from hubs_bridge.core.room_links import close_links, open_hub_ids
from hubs_bridge.errors import HubsBridgeError, NotFound
from hubs_bridge.hubs.rooms_api import HubsRequestFailed, close_hub
from hubs_bridge.settings import HubsSettings

log = logging.getLogger(__name__)

LEAD_PREFIX = "hubs-close:"


class RoomCloser:
    """Closes the Hubs rooms of ended events; ``run()`` is the loop, ``sweep()`` one round."""

    def __init__(
        self,
        settings: HubsSettings,
        calendar: CalendarService,
        broker: Broker,
        http: Callable[[], aiohttp.ClientSession],
    ) -> None:
        self._settings = settings
        self._calendar = calendar
        self._broker = broker
        self._http = http
        self.owner = secrets.token_hex(6)

    async def run(self) -> None:
        while True:
            try:
                await self.sweep()
            except HubsBridgeError as exc:  # store or broker away: next round
                log.warning("closing ended events' rooms: %s", exc)
            await asyncio.sleep(self._settings.close_interval_s)

    async def sweep(self) -> list[str]:
        """Close the rooms of every ended event this process leads; their hub ids."""
        now = self._calendar.now()
        closed: list[str] = []
        for event in await self._calendar.store.list_events():
            if event.phase(now) != "ended" or not open_hub_ids(event):
                continue
            ttl = max(3 * self._settings.close_interval_s, 5.0)
            if await self._broker.lead(LEAD_PREFIX + event.slug, self.owner, ttl):
                closed += await self._close(event)
        return closed

    async def _close(self, event: Event) -> list[str]:
        hub_ids = open_hub_ids(event)
        admin_key = self._settings.admin_access_key
        if admin_key is not None and self._settings.url is not None:
            done: list[str] = []
            for hub_id in hub_ids:
                try:
                    await close_hub(
                        self._http(), self._settings.url, admin_key.get_secret_value(), hub_id
                    )
                except HubsRequestFailed as exc:
                    log.warning("Hubs room %s of %s not closed: %s", hub_id, event.slug, exc)
                    continue
                done.append(hub_id)
            hub_ids = done
        if not hub_ids:
            return []
        closing = set(hub_ids)

        def mark(current: Event, now: datetime) -> Event:
            return close_links(current, closing, now=now)

        try:
            await self._calendar.change(event.slug, mark)
        except NotFound:
            return []  # deleted meanwhile: nothing left to mark
        log.info("closed %d Hubs rooms of %s", len(hub_ids), event.slug)
        return hub_ids
