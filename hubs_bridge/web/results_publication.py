"""Whether an event's results page (``/r/{event}``) is published, kept in the store's meta values.

The store's :class:`~hubs_bridge.store.base.MetaStore` only adds values, never
changes one (``set_meta_if_absent``), and that is enough: every publication
change appends the next entry of a numbered series,
``results:{event}:1``, ``results:{event}:2``... The newest entry is the state.
Two staff members changing it at once both try to write the same next number;
the store keeps one, the other sees a value that is not its own and tries again
on top of it. No backend had to change for this, and both behave alike.

Each process remembers the newest entry it has seen per event, so reading the
state costs one lookup (is there a next entry?) while nothing changes; another
process's change is seen at the next read.

An entry names the event's ``created_at``: an event deleted and made again under
the same slug is a new event, and is not published by its predecessor's entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson

from hubs_bridge.core.calendar import Event
from hubs_bridge.errors import Conflict
from hubs_bridge.store.base import MetaStore

RETRIES = 5


def meta_key(event: str, number: int) -> str:
    return f"results:{event}:{number}"


@dataclass(frozen=True, slots=True)
class Publication:
    """One entry of the series: published or withdrawn, when, by whom, for which event."""

    number: int
    published: bool
    at: datetime
    by: str  # the staff token's id ("env" for the token from the environment)
    event_created_at: datetime

    def shows(self, event: Event) -> bool:
        """Whether this entry publishes ``event`` (the very event, not an earlier namesake)."""
        return self.published and self.event_created_at == event.created_at

    def encode(self) -> str:
        return orjson.dumps(
            {
                "published": self.published,
                "at": self.at.isoformat(),
                "by": self.by,
                "event_created_at": self.event_created_at.isoformat(),
            }
        ).decode()

    @classmethod
    def decode(cls, number: int, text: str) -> Publication:
        data = orjson.loads(text)
        return cls(
            number=number,
            published=bool(data["published"]),
            at=datetime.fromisoformat(data["at"]),
            by=str(data["by"]),
            event_created_at=datetime.fromisoformat(data["event_created_at"]),
        )


class Publications:
    """Reads and changes the publication state of events' results pages."""

    def __init__(self, store: MetaStore) -> None:
        self._store = store
        # The newest entry seen per event; entries are never changed, so this stays
        # true, only possibly not the newest any more (hence the lookup of the next).
        self._newest: dict[str, Publication] = {}

    async def current(self, event: str) -> Publication | None:
        """The newest entry for ``event``'s slug; ``None`` if it was never published."""
        newest = self._newest.get(event)
        number = newest.number if newest is not None else 0
        while (text := await self._store.get_meta(meta_key(event, number + 1))) is not None:
            number += 1
            newest = Publication.decode(number, text)
        if newest is not None:
            self._newest[event] = newest
        return newest

    async def change(
        self, event: Event, *, published: bool, by: str, now: datetime
    ) -> Publication | None:
        """Publish or withdraw; unchanged (and nothing written) when it already is so.

        Returns the entry now in force (``None``: never published, nothing to withdraw).
        """
        for _ in range(RETRIES):
            current = await self.current(event.slug)
            if published == (current is not None and current.shows(event)):
                return current
            number = current.number + 1 if current is not None else 1
            entry = Publication(number, published, now, by, event.created_at)
            stored = await self._store.set_meta_if_absent(
                meta_key(event.slug, number), entry.encode()
            )
            if stored == entry.encode():
                self._newest[event.slug] = entry
                return entry
            # Someone else wrote this number first: read theirs and decide again.
        raise Conflict(
            "the publication changed several times at once; try again", code="version_conflict"
        )
