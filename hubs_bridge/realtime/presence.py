"""This process's sessions in the shared presence, and their joins and leaves in the record.

Entries are put into the broker with a time to live and put again every third
of it, so the sessions of a process that dies leave the counts on their own,
and a broker that lost everything (Redis restarted empty) gets them back at
the next refresh. Joins and leaves are written to the store in batches once a
second: one transaction instead of one per arrival when 2,000 people come at
once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from hubs_bridge.broker.base import PresenceBroker, PresenceEntry
from hubs_bridge.core.attendance import EVENT_ROOM, AttendanceMark
from hubs_bridge.errors import HubsBridgeError
from hubs_bridge.identity import VisitorIds
from hubs_bridge.store.base import AttendanceStore

log = logging.getLogger("hubs_bridge.presence")


class PresenceKeeper:
    def __init__(
        self,
        broker: PresenceBroker,
        store: AttendanceStore,
        ids: VisitorIds,
        ttl_s: float,
        clock: Callable[[], datetime],
    ) -> None:
        self._broker = broker
        self._store = store
        self._ids = ids
        self.ttl_s = ttl_s
        self._clock = clock
        self._local: dict[str, tuple[str, PresenceEntry]] = {}
        self._marks: list[AttendanceMark] = []
        self._broker_down = False

    def _mark(self, event: str, entry: PresenceEntry, room: str | None, kind: str) -> None:
        self._marks.append(
            AttendanceMark(
                event=event,
                room=room or EVENT_ROOM,
                visitor=self._ids.record_hash(event, entry.visitor),
                source=entry.source,
                kind="join" if kind == "join" else "leave",
                at=self._clock(),
            )
        )

    async def _put(self, event: str, entries: list[PresenceEntry]) -> list[str]:
        """Share entries; returns the sessions the broker did not hold (see ``refresh``)."""
        try:
            new = await self._broker.presence_put(event, entries, self.ttl_s)
        except HubsBridgeError as exc:
            # Kept locally; the next refresh puts it again once the broker is back.
            if not self._broker_down:
                log.warning("presence not shared while the broker is unavailable: %s", exc)
            self._broker_down = True
            return []
        self._broker_down = False
        return new

    async def arrive(self, event: str, entry: PresenceEntry) -> None:
        """A session said hello: it is on the event page (and maybe in a room)."""
        self._local[entry.session] = (event, entry)
        self._mark(event, entry, None, "join")
        if entry.room:
            self._mark(event, entry, entry.room, "join")
        await self._put(event, [entry])

    async def move(self, session: str, room: str | None) -> None:
        """A session entered a room (or left its room with ``None``)."""
        current = self._local.get(session)
        if current is None:
            return
        event, entry = current
        if entry.room == room:
            return
        if entry.room:
            self._mark(event, entry, entry.room, "leave")
        if room:
            self._mark(event, entry, room, "join")
        moved = replace(entry, room=room)
        self._local[session] = (event, moved)
        await self._put(event, [moved])

    async def depart(self, session: str) -> None:
        current = self._local.pop(session, None)
        if current is None:
            return
        event, entry = current
        if entry.room:
            self._mark(event, entry, entry.room, "leave")
        self._mark(event, entry, None, "leave")
        with contextlib.suppress(HubsBridgeError):  # else the entry expires on its own
            await self._broker.presence_remove(event, [session])

    def record_expired(self, event: str, entries: list[PresenceEntry]) -> None:
        """Leaves for entries that expired (their process died), as found by the leader."""
        for entry in entries:
            if entry.room:
                self._mark(event, entry, entry.room, "leave")
            self._mark(event, entry, None, "leave")

    async def refresh(self) -> None:
        """Put every local entry again, extending its life (and restoring it after an outage)."""
        by_event: dict[str, list[PresenceEntry]] = {}
        for event, entry in self._local.values():
            by_event.setdefault(event, []).append(entry)
        for event, entries in by_event.items():
            back = set(await self._put(event, entries))
            # Entries the broker lost (an outage longer than their life: the leader swept
            # them and recorded leaves) are joins again, so stays are not cut short.
            for entry in entries:
                if entry.session in back:
                    self._mark(event, entry, None, "join")
                    if entry.room:
                        self._mark(event, entry, entry.room, "join")

    async def flush(self) -> None:
        """Write the buffered joins and leaves; on failure they wait for the next flush."""
        if not self._marks:
            return
        batch, self._marks = self._marks, []
        try:
            await self._store.add_attendance(batch, [])
        except HubsBridgeError as exc:
            log.warning("attendance record not written yet (%d marks kept): %s", len(batch), exc)
            self._marks[:0] = batch

    def local_count(self) -> int:
        return len(self._local)
