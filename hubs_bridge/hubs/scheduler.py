"""The scheduler: at an event's end its Hubs rooms (and twins) are closed.

Every ``hubs.close_interval_s`` each process looks for ended events with open
Hubs links; for each, the process that takes the event's closing lease
(``broker.lead("hubs-close:<event>")``, apart from the bridge's and the
attendance leader's leases) closes them. Three ways, best first:

- the bridge, as the room's owner, has already sent ``close_hub`` on the
  room's channel when it saw the event end (``hub_channel.ex``
  ``handle_entry_mode_change``: entry mode deny and a ``hub_refresh`` that
  tells the people inside) and marked the link closed itself;
- with ``hubs.admin_access_key``: ``DELETE`` each remaining room through the
  process's paced room API (PROTOCOL.md §5; entry mode deny, for good,
  telling nobody), then the links are marked closed;
- without either: the links are only marked closed here (``/go`` has sent
  nobody there since the end anyway) and the log says the rooms stay open on
  the Hubs server.

A refused ``DELETE`` (stock Hubs CE configures no admin key, so it answers
401; an unknown room 500) is recorded once per room with its reason, in the
broker where every process and the dashboard read it, and not tried again
until staff ask (:meth:`RoomCloser.retry`, ``POST /api/events/{event}/hubs/close``):
no loop knocks on a door that said no.

Closing waits until ``CLOSE_GRACE_S`` after the end, so that the bridge's
closing notice (posted when it sees the event end) reaches the room before
the room goes. The lease outlasts the worst case of closing one room and is
renewed before each room. One event failing does not stop the others, and
nothing ends the loop but cancelling it.

Hubs cannot reopen a closed room; provisioning the event again makes fresh
rooms (provisioning skips only open links).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import datetime, timedelta

import orjson

from hubs_bridge.broker.base import Broker
from hubs_bridge.calendar_service import CalendarService
from hubs_bridge.core.calendar import Event
from hubs_bridge.core.room_links import close_links, open_hub_ids
from hubs_bridge.errors import HubsBridgeError, NotFound
from hubs_bridge.hubs.rooms_api import (
    MAX_RETRY_AFTER_S,
    RATE_LIMIT_RETRIES,
    REQUEST_TIMEOUT_S,
    THROTTLE_RETRIES,
    HubsApi,
    HubsRequestFailed,
)
from hubs_bridge.periodic import every
from hubs_bridge.settings import HubsSettings

log = logging.getLogger(__name__)

LEAD_PREFIX = "hubs-close:"
REFUSED_PREFIX = "hubs-close-refused:"
# Refusals are kept long enough for the report after the event; staff clear them.
REFUSED_TTL_S = 90 * 24 * 3600.0
# After the end, time for the bridge to see it (two syncs of 5 s) and post its
# closing notice (a chat interval of 2 s), with a margin; only then are rooms closed.
CLOSE_GRACE_S = 20.0
# The longest one DELETE can take (every try timing out, the longest waits between).
ONE_CLOSE_S = (
    RATE_LIMIT_RETRIES + THROTTLE_RETRIES + 1
) * REQUEST_TIMEOUT_S + RATE_LIMIT_RETRIES * MAX_RETRY_AFTER_S


class RoomCloser:
    """Closes the Hubs rooms of ended events; ``run()`` is the loop, ``sweep()`` one round."""

    def __init__(
        self,
        settings: HubsSettings,
        calendar: CalendarService,
        broker: Broker,
        api: HubsApi | None,
    ) -> None:
        self._settings = settings
        self._calendar = calendar
        self._broker = broker
        self._api = api
        self.owner = secrets.token_hex(6)
        # The loop and a staff retry never close the same event's rooms at once.
        self._locks: dict[str, asyncio.Lock] = {}

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

    async def refusals(self, event: str) -> dict[str, str]:
        """Rooms of ``event`` whose closing the Hubs server refused: hub id -> reason."""
        raw = await self._broker.value_get(REFUSED_PREFIX + event)
        if raw is None:
            return {}
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return {}
        if not isinstance(data, dict):
            return {}
        return {str(k): str(v)[:300] for k, v in data.items()}

    async def retry(self, event_slug: str) -> dict[str, str]:
        """Staff asked: forget the refusals and close the event's open rooms now.

        Returns the refusals that remain (empty when every room closed).
        Raises :class:`~hubs_bridge.errors.NotFound` for an unknown event.
        """
        event = await self._calendar.get(event_slug)
        await self._broker.value_put(REFUSED_PREFIX + event_slug, b"{}", 1.0)
        if open_hub_ids(event) and await self._lead(event_slug):
            await self._close(event)
        return await self.refusals(event_slug)

    async def _close(self, event: Event) -> list[str]:
        lock = self._locks.setdefault(event.slug, asyncio.Lock())
        async with lock:
            return await self._close_now(event)

    async def _close_now(self, event: Event) -> list[str]:
        # Read again under the lock: another round may have closed or been refused meanwhile.
        try:
            event = await self._calendar.get(event.slug)
        except NotFound:
            return []
        refused = await self.refusals(event.slug)
        hub_ids = [h for h in open_hub_ids(event) if h not in refused]
        if not hub_ids:
            return []
        api = self._api
        if api is not None and api.can_close:
            done: list[str] = []
            newly_refused: dict[str, str] = {}
            for i, hub_id in enumerate(hub_ids):
                if i > 0 and not await self._lead(event.slug):
                    break  # another process leads now (we were too slow): it goes on
                try:
                    await api.close(hub_id)
                except HubsRequestFailed as exc:
                    log.warning("Hubs room %s of %s not closed: %s", hub_id, event.slug, exc)
                    newly_refused[hub_id] = str(exc)
                    continue
                done.append(hub_id)
            if newly_refused:
                body = orjson.dumps({**refused, **newly_refused})
                await self._broker.value_put(REFUSED_PREFIX + event.slug, body, REFUSED_TTL_S)
            hub_ids = done
        else:
            log.warning(
                "%d Hubs rooms of %s stay open on the Hubs server (no admin key, and the "
                "bridge did not close them as their owner); marked closed here",
                len(hub_ids),
                event.slug,
            )
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
