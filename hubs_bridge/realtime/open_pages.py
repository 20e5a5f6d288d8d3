"""Whether a visitor id belongs to an open page of an event: the proof ``/go`` asks for.

``/go`` counts someone as arriving, and makes overflow twins for them, only when
its link carries a visitor id this server signed (``identity.py``) whose page of
that event is open: a ``web`` presence entry of that visitor in the event's
shared presence (every process's sessions; a dead process's expire on their
own), or a page of it that closed less than :data:`RECENT_S` ago (a page in the
middle of a reconnect, or a phone that put the tab to sleep on the way to Hubs).

A script cannot mint such ids: each one costs a websocket session that says
``hello`` and stays open, and new ids per address are limited
(``new_visitors_per_minute``). A forged or stale id is not an error: ``/go``
still redirects, it just does not count (``web/doors.py``).
"""

from __future__ import annotations

from collections.abc import Iterable

from hubs_bridge.broker.base import Broker
from hubs_bridge.core.presence import PresenceEntry
from hubs_bridge.identity import VisitorIds

RECENT_PREFIX = "page-closed:"
RECENT_S = 120.0
# A signed id is about 40 characters; anything much longer is not one of ours.
MAX_TOKEN_CHARS = 200


def has_open_page(present: Iterable[PresenceEntry], visitor: str) -> bool:
    """Whether ``visitor`` has a web page among the event's presence entries."""
    return any(entry.source == "web" and entry.visitor == visitor for entry in present)


class OpenPages:
    """Open (or just closed) pages per event and visitor, as every process sees them."""

    def __init__(self, broker: Broker, ids: VisitorIds) -> None:
        self._broker = broker
        self._ids = ids

    async def visitor(self, event: str, token: str | None) -> str | None:
        """The visitor id in ``token`` if it was signed here and its page of ``event`` is open."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            return None
        visitor = self._ids.verify(token)
        if visitor is None:
            return None
        if has_open_page(await self._broker.presence_list(event), visitor):
            return visitor
        if await self._broker.value_get(self._recent_key(event, visitor)) is not None:
            return visitor
        return None

    async def closed(self, event: str, visitor: str) -> None:
        """A page of ``visitor`` closed: it still counts as open for :data:`RECENT_S`."""
        await self._broker.value_put(self._recent_key(event, visitor), b"1", RECENT_S)

    def _recent_key(self, event: str, visitor: str) -> str:
        # Keyed like the attendance record: the broker holds no visitor id here.
        return f"{RECENT_PREFIX}{event}:{self._ids.record_hash(event, 'page:' + visitor)}"
