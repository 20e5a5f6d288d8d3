"""Pure changes of a room's Hubs links: overflow twins added, every link closed.

Like the event commands, each returns the event one version on, validated
again, so the calendar's optimistic ``change()`` can retry them on a race.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from hubs_bridge.core.calendar import Event, HubsRoomLink, Room
from hubs_bridge.errors import NotFound


def _next(event: Event, now: datetime, rooms: list[Room]) -> Event:
    data = event.model_dump()
    data.update(rooms=[r.model_dump() for r in rooms], version=event.version + 1, updated_at=now)
    return Event.model_validate(data)


def change_room(event: Event, slug: str, change: Callable[[Room], Room], now: datetime) -> Event:
    if event.room(slug) is None:
        raise NotFound(f"no room {slug!r} in this event", code="room_not_found")
    return _next(event, now, [change(r) if r.slug == slug else r for r in event.rooms])


def add_twin(event: Event, slug: str, link: HubsRoomLink, *, now: datetime) -> Event:
    """The event with one more overflow twin of room ``slug``."""
    return change_room(event, slug, lambda r: r.model_copy(update={"twins": (*r.twins, link)}), now)


def open_hub_ids(event: Event) -> list[str]:
    """The hub ids of every open link of the event (rooms and twins)."""
    return [link.hub_id for room in event.rooms for link in room.hubs_links()]


def close_links(event: Event, hub_ids: set[str], *, now: datetime) -> Event:
    """The event with the links of ``hub_ids`` marked closed (rooms and twins)."""

    def closed(link: HubsRoomLink) -> HubsRoomLink:
        return link.model_copy(update={"closed": True}) if link.hub_id in hub_ids else link

    rooms = [
        r.model_copy(
            update={
                "hubs": closed(r.hubs) if r.hubs is not None else None,
                "twins": tuple(closed(t) for t in r.twins),
            }
        )
        for r in event.rooms
    ]
    return _next(event, now, rooms)
