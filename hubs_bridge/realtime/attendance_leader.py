"""Once a second, one process per event turns shared presence into an ``attendance`` frame.

Leadership is a lease in the broker, so with several processes exactly one
publishes an event's attendance, and another takes over within a few seconds
when it dies. Whatever the number of arrivals, each page gets at most one
attendance frame per interval. The leader also sweeps expired presence (the
sessions of a dead process) into the record as leaves, and writes the
per-minute samples that the charts draw.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from hubs_bridge.broker.base import Broker
from hubs_bridge.core.attendance import (
    AttendanceSample,
    EventCounts,
    changes,
    count,
    minute_of,
)
from hubs_bridge.core.calendar import Event
from hubs_bridge.core.stream import StreamEvent
from hubs_bridge.errors import HubsBridgeError
from hubs_bridge.realtime.presence import PresenceKeeper
from hubs_bridge.realtime.stale_rooms import StaleRooms
from hubs_bridge.store.base import Store

log = logging.getLogger("hubs_bridge.attendance")

Publish = Callable[[str, StreamEvent], Awaitable[None]]
# Events are led from a little before the doors open until a little after the end.
LEAD_MARGIN = timedelta(hours=1)
EVENTS_REFRESH_S = 10.0
UNKNOWN_REFRESH_S = 1.0
FULL_EVERY_TICKS = 30


class AttendanceLeader:
    def __init__(
        self,
        broker: Broker,
        store: Store,
        presence: PresenceKeeper,
        publish: Publish,
        interval_s: float,
        local_events: Callable[[], set[str]],
    ) -> None:
        self._broker = broker
        self._store = store
        self._presence = presence
        self._publish = publish
        self.interval_s = interval_s
        self._local_events = local_events
        self.owner = secrets.token_hex(8)
        self._last: dict[str, EventCounts] = {}
        self._failing: set[str] = set()  # events whose tick failed (logged once)
        self._sampled: dict[str, datetime] = {}
        self._ticks: dict[str, int] = {}
        self._events: dict[str, Event] = {}
        self._events_loaded_at: datetime | None = None
        self._unknown_at_load: set[str] = set()
        # Rooms whose Hubs counts are stale (the bridge lost their channel); set by the bridge.
        self.stale_rooms = StaleRooms()

    async def _candidates(self, now: datetime) -> list[Event]:
        local = self._local_events()
        age = (
            None
            if self._events_loaded_at is None
            else (now - self._events_loaded_at).total_seconds()
        )
        # A page open for an event created since the last load must not wait the whole
        # refresh for its first counts (but a deleted one must not reload every tick).
        # Slugs already unknown at the last load (a deleted event whose pages are still
        # open) do not count: they would reload the calendar every second.
        unknown = bool(local - self._events.keys() - self._unknown_at_load)
        if age is None or age > EVENTS_REFRESH_S or (unknown and age > UNKNOWN_REFRESH_S):
            self._events = {e.slug: e for e in await self._store.list_events()}
            self._events_loaded_at = now
            self._unknown_at_load = local - self._events.keys()
            for per_event in (self._last, self._sampled, self._ticks):
                for slug in set(per_event) - self._events.keys():
                    del per_event[slug]  # deleted events leave nothing behind
        return [
            e
            for e in self._events.values()
            if e.slug in local or e.doors_open_at - LEAD_MARGIN <= now <= e.ends_at + LEAD_MARGIN
        ]

    def forget_events(self) -> None:
        """Reload the calendar at the next tick (an event or its rooms changed)."""
        self._events_loaded_at = None

    async def tick(self, now: datetime) -> None:
        try:
            events = await self._candidates(now)
        except HubsBridgeError as exc:
            log.warning("attendance tick skipped: %s", exc)
            return
        for event in events:
            try:
                await self._tick_event(event, now)
            except HubsBridgeError as exc:
                self._last.pop(event.slug, None)  # publish in full once it works again
                log.warning("attendance of %s not published: %s", event.slug, exc)
            except Exception:
                # One event's bad record must not stop the others, nor fill the log
                # every second: said once, tried again every tick.
                self._last.pop(event.slug, None)
                if event.slug not in self._failing:
                    self._failing.add(event.slug)
                    log.exception("attendance of %s failed", event.slug)
            else:
                self._failing.discard(event.slug)

    async def _tick_event(self, event: Event, now: datetime) -> None:
        ttl = max(3 * self.interval_s, 2.0)
        if not await self._broker.lead(event.slug, self.owner, ttl):
            self._last.pop(event.slug, None)
            return
        expired = await self._broker.presence_sweep(event.slug)
        if expired:
            self._presence.record_expired(event.slug, expired)
        entries = await self._broker.presence_list(event.slug)
        current = count(entries, [r.slug for r in event.rooms], self.stale_rooms.of(event.slug))
        # Now and then everything, not only what changed: a page whose starting
        # counts came from elsewhere (a new process, a reset) is right again.
        ticks = self._ticks.get(event.slug, 0) + 1
        self._ticks[event.slug] = ticks
        previous = None if ticks % FULL_EVERY_TICKS == 0 else self._last.get(event.slug)
        changed = changes(previous, current)
        if changed is not None:
            await self._publish(event.slug, changed)
            self._last[event.slug] = current
        minute = minute_of(now)
        if self._sampled.get(event.slug) != minute:
            self._sampled[event.slug] = minute
            samples = [
                AttendanceSample(
                    event=event.slug,
                    room=slug,
                    minute=minute,
                    web=counts.web,
                    hubs=counts.hubs_room + counts.hubs_entering + counts.hubs_lobby,
                )
                for slug, counts in current.rooms.items()
            ]
            await self._store.add_attendance([], samples)
