"""Driver around the pure event commands: reads the clock, the library and the store.

Changes use optimistic concurrency: load, apply a pure command, write if the
version is still the one loaded, and retry a few times when another process
(or request) won the race.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, datetime

from hubs_bridge.core import event_commands as cmds
from hubs_bridge.core.calendar import Event, EventCreate
from hubs_bridge.errors import Conflict, NotFound, ValidationFailed
from hubs_bridge.settings import LimitSettings
from hubs_bridge.store.base import Store

Clock = Callable[[], datetime]
Change = Callable[[Event, datetime], Event]
RETRIES = 5
CACHE_S = 2.0

log = logging.getLogger("hubs_bridge.calendar")


def utc_now() -> datetime:
    return datetime.now(UTC)


class CalendarService:
    def __init__(
        self,
        store: Store,
        scene_slugs: Callable[[], Collection[str]],
        limits: LimitSettings,
        clock: Clock = utc_now,
    ) -> None:
        self.store = store
        self._scenes = scene_slugs
        self._limits = limits
        self._clock = clock
        self._cache: dict[str, tuple[float, Event]] = {}
        # Told of every stored change (staff edits, provisioning, twins, closing), so that
        # open pages hear of it whichever part of the program made it.
        self.changed: list[Callable[[Event], Awaitable[None]]] = []

    @property
    def scenes(self) -> Collection[str]:
        return self._scenes()

    @property
    def max_rooms(self) -> int:
        return self._limits.max_rooms_per_event

    def now(self) -> datetime:
        return self._clock()

    async def get(self, slug: str) -> Event:
        """The event, from a short-lived cache: every ``hello`` reads it, thousands at once
        after a restart. Changes made here replace the cached copy at once; changes made
        by another process are seen within ``CACHE_S``."""
        cached = self._cache.get(slug)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        event = await self.store.get_event(slug)
        if event is None:
            self._cache.pop(slug, None)
            raise NotFound(f"no event {slug!r}", code="event_not_found")
        self._cache[slug] = (now + CACHE_S, event)
        return event

    def _remember(self, event: Event) -> Event:
        self._cache[event.slug] = (time.monotonic() + CACHE_S, event)
        return event

    async def create(self, cmd: EventCreate) -> Event:
        if len(await self.store.list_events()) >= self._limits.max_events:
            raise ValidationFailed(
                f"at most {self._limits.max_events} events may be stored", code="too_many_events"
            )
        event = cmds.create_event(cmd, now=self.now(), scenes=self.scenes, max_rooms=self.max_rooms)
        await self.store.create_event(event)
        return self._remember(event)

    async def change(self, slug: str, change: Change) -> Event:
        """Apply a pure change to the stored event, retrying lost races."""
        for attempt in range(RETRIES):
            event = await self.get(slug)
            updated = change(event, self.now())
            try:
                await self.store.replace_event(updated)
            except NotFound:
                self._cache.pop(slug, None)  # deleted meanwhile (by another process)
                raise
            except Conflict as exc:
                self._cache.pop(slug, None)  # someone else changed it: read it fresh
                if exc.code != "version_conflict" or attempt == RETRIES - 1:
                    raise
                continue
            remembered = self._remember(updated)
            for listener in self.changed:
                # The change is stored: a listener's failure must not make it look failed
                # to the caller, nor keep the other listeners from hearing of it.
                try:
                    await listener(remembered)
                except Exception:
                    log.exception("listener of event changes failed for %s", slug)
            return remembered
        raise AssertionError("unreachable")

    async def delete(self, slug: str) -> None:
        self._cache.pop(slug, None)
        if not await self.store.delete_event(slug):
            raise NotFound(f"no event {slug!r}", code="event_not_found")
