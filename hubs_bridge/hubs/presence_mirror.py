"""The people of bridged Hubs rooms as entries of the shared presence.

Each person becomes a ``source="hubs"`` :class:`PresenceEntry`: the session
id hashed per event (``VisitorIds.record_hash``), the room, and as details
where they are (lobby, room, entering), their device, a raised hand and the
Hubs room (a room's own or one of its overflow twins, for ``/go``). The
Hubs display name goes into the entry's ``name``: presence is live state
with a time to live, read by the moderator console's list of raised hands.
The attendance *record* never sees it: a mark keeps only the hashed visitor
(``PresenceKeeper`` and ``AttendanceMark``), so the record stays pseudonymous.

Entries are put again every ``ttl / 3`` while people stay, so the entries of
a process that dies expire on their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from hubs_bridge.broker.base import PresenceBroker, PresenceEntry
from hubs_bridge.core.overflow import HUB_DETAIL
from hubs_bridge.hubs.presence import HubsPerson
from hubs_bridge.identity import VisitorIds

SESSION_PREFIX = "hubs:"
MAX_NAME_CHARS = 64  # Hubs keeps display names short; a longer one is cut, not refused


@dataclass(slots=True)
class _Room:
    event: str
    entries: dict[str, PresenceEntry]  # session -> entry


class PresenceMirror:
    """Shared presence entries of the bridged rooms, keyed by Hubs room id."""

    def __init__(self, broker: PresenceBroker, ids: VisitorIds, ttl_s: float) -> None:
        self._broker = broker
        self._ids = ids
        self._ttl = ttl_s
        self._rooms: dict[str, _Room] = {}

    def entry(self, hub_sid: str, event: str, room: str, person: HubsPerson) -> PresenceEntry:
        hashed = self._ids.record_hash(event, person.session_id)
        name = person.display_name.strip()[:MAX_NAME_CHARS] or None
        return PresenceEntry(
            session=SESSION_PREFIX + hashed,
            visitor=hashed,
            room=room,
            source="hubs",
            name=name,
            details=(
                ("presence", person.where),
                ("device", person.device),
                ("hand_raised", "1" if person.hand_raised else "0"),
                (HUB_DETAIL, hub_sid),
            ),
        )

    async def update(
        self, hub_sid: str, event: str, room: str, people: tuple[HubsPerson, ...]
    ) -> None:
        """The room's people now: new and changed entries put, those who left removed."""
        entries = {e.session: e for e in (self.entry(hub_sid, event, room, p) for p in people)}
        before = self._rooms.get(hub_sid)
        gone = [s for s in (before.entries if before else ()) if s not in entries]
        self._rooms[hub_sid] = _Room(event, entries)
        if entries:
            await self._broker.presence_put(event, list(entries.values()), self._ttl)
        if gone:
            await self._broker.presence_remove(event, gone)

    async def forget(self, hub_sid: str) -> None:
        """The room is no longer bridged: its entries leave presence."""
        room = self._rooms.pop(hub_sid, None)
        if room is not None and room.entries:
            await self._broker.presence_remove(room.event, list(room.entries))

    async def refresh(self) -> None:
        """Put every entry again so that people who stay do not expire."""
        by_event: dict[str, list[PresenceEntry]] = {}
        for room in self._rooms.values():
            by_event.setdefault(room.event, []).extend(room.entries.values())
        for event, batch in by_event.items():
            if batch:
                await self._broker.presence_put(event, batch, self._ttl)
