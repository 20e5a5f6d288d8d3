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

Closing waits until ``CLOSE_GRACE_S`` after the end, so that the bridge's
closing notice (posted when it sees the event end) reaches the room before
the room goes. The lease outlasts the worst case of closing one room and is
renewed before each room. One event failing does not stop the others, and
nothing ends the loop but cancelling it.

Hubs cannot reopen a closed room; provisioning the event again makes fresh
rooms (provisioning skips only open links).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

import aiohttp

from hubs_bridge.broker.base import Broker
from hubs_bridge.calendar_service import CalendarService
from hubs_bridge.core.calendar import Event
from hubs_bridge.core.room_links import close_links, open_hub_ids
from hubs_bridge.errors import HubsBridgeError, NotFound
from hubs_bridge.hubs.rooms_api import (
    MAX_RETRY_AFTER_S,
    RATE_LIMIT_RETRIES,
    REQUEST_TIMEOUT_S,
    HubsRequestFailed,
    close_hub,
)
from hubs_bridge.periodic import every
from hubs_bridge.settings import HubsSettings

log = logging.getLogger(__name__)

LEAD_PREFIX = "hubs-close:"
# After the end, time for the bridge to see it (two syncs of 5 s) and post its
# closing notice (a chat interval of 2 s), with a margin; only then are rooms closed.
CLOSE_GRACE_S = 20.0
# The longest one DELETE can take (every try timing out, the longest waits between).
ONE_CLOSE_S = (RATE_LIMIT_RETRIES + 1) * REQUEST_TIMEOUT_S + RATE_LIMIT_RETRIES * MAX_RETRY_AFTER_S


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
        # Whatever a round runs into (store or broker away, a bug), the next one comes.
        await every(self._settings.close_interval_s, self.sweep, first_delay=0.0, logger=log)

    def _lease_s(self) -> float:
        return max(3 * self._settings.close_interval_s, ONE_CLOSE_S + 5.0)

    async def _lead(self, event: str) -> bool:
        return await self._broker.lead(LEAD_PREFIX + event, self.owner, self._lease_s())

    async def sweep(self) -> list[str]:
        """Close the rooms of every event ended (and past the grace) this process leads."""
        due = self._calendar.now() - timedelta(seconds=CLOSE_GRACE_S)
        closed: list[str] = []
        for event in await self._calendar.store.list_events():
            if event.phase(due) != "ended" or not open_hub_ids(event):
                continue
            try:
                if await self._lead(event.slug):
                    closed += await self._close(event)
            except HubsBridgeError as exc:
                log.warning("closing the rooms of %s: %s", event.slug, exc)
            except Exception:  # one event's trouble must not keep the others open
                log.exception("closing the rooms of %s failed", event.slug)
        return closed

    async def _close(self, event: Event) -> list[str]:
        hub_ids = open_hub_ids(event)
        admin_key = self._settings.admin_access_key
        if admin_key is not None and self._settings.url is not None:
            done: list[str] = []
            for i, hub_id in enumerate(hub_ids):
                if i > 0 and not await self._lead(event.slug):
                    break  # another process leads now (we were too slow): it goes on
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
