"""Pure commands on events and rooms: an event and a command in, a new event out.

Nothing here touches the store or the clock; the caller passes ``now`` and the
set of scene slugs the library holds, and writes the result (with optimistic
concurrency on ``Event.version``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from hubs_bridge.core.calendar import (
    Event,
    EventCreate,
    EventUpdate,
    HubsRoomLink,
    Room,
    RoomCreate,
    RoomUpdate,
)
from hubs_bridge.errors import Conflict, FieldProblem, NotFound, ValidationFailed


def validation_details(exc: ValidationError, whole: str = "body") -> list[FieldProblem]:
    """Pydantic errors as a stable list of ``{field, message, type}`` for API clients.

    ``field`` is never empty: an error of the whole input (a model validator)
    is named ``whole``; checks across fields name their field themselves.
    """
    details: list[FieldProblem] = []
    for err in exc.errors(include_url=False, include_input=False):
        # Pydantic marks a bad dict key with a "[key]" part; the key itself names the field.
        field = ".".join(str(p) for p in err["loc"] if p != "[key]")
        details.append({"field": field or whole, "message": err["msg"], "type": err["type"]})
    return details


def _revalidate(data: Mapping[str, Any]) -> Event:
    try:
        return Event.model_validate(dict(data))
    except ValidationError as exc:
        raise ValidationFailed(
            "the event is not valid", code="invalid_event", details=validation_details(exc)
        ) from None


def _check_scenes(wanted: Mapping[str, str], scenes: Collection[str]) -> None:
    """Refuse scene slugs the library does not hold; ``wanted`` maps field path to slug."""
    known = ", ".join(sorted(scenes)) or "none"
    unknown: list[FieldProblem] = [
        {
            "field": field,
            "message": f"unknown scene {slug!r}; known: {known}",
            "type": "unknown_scene",
        }
        for field, slug in wanted.items()
        if slug not in scenes
    ]
    if unknown:
        raise ValidationFailed("unknown scene", code="unknown_scene", details=unknown)


def _check_room_count(count: int, max_rooms: int) -> None:
    if count > max_rooms:
        raise ValidationFailed(
            f"an event may have at most {max_rooms} rooms",
            code="too_many_rooms",
            details=[{"field": "rooms", "message": f"at most {max_rooms}", "type": "too_long"}],
        )


def create_event(
    cmd: EventCreate, *, now: datetime, scenes: Collection[str], max_rooms: int
) -> Event:
    """A new event (version 1) from a create command."""
    _check_scenes({f"rooms.{i}.scene": r.scene for i, r in enumerate(cmd.rooms)}, scenes)
    _check_room_count(len(cmd.rooms), max_rooms)
    data = cmd.model_dump()
    data["rooms"] = [Room.model_validate(r) for r in data["rooms"]]
    return _revalidate({**data, "version": 1, "created_at": now, "updated_at": now})


def _next(event: Event, now: datetime, **changes: Any) -> Event:
    data = event.model_dump()
    data.update(changes)
    data["version"] = event.version + 1
    data["updated_at"] = now
    return _revalidate(data)


def update_event(event: Event, cmd: EventUpdate, *, now: datetime) -> Event:
    """The event with the fields given in ``cmd`` changed."""
    changes = cmd.model_dump(exclude_unset=True)
    if "qa" in changes:
        # Only the Q&A settings named change; the rest keep their values.
        qa_changes = {k: v for k, v in (changes["qa"] or {}).items() if v is not None}
        changes["qa"] = {**event.qa.model_dump(), **qa_changes}
    return _next(event, now, **changes)


def add_room(
    event: Event, cmd: RoomCreate, *, now: datetime, scenes: Collection[str], max_rooms: int
) -> Event:
    if event.room(cmd.slug) is not None:
        raise Conflict(f"event {event.slug!r} already has a room {cmd.slug!r}", code="room_exists")
    _check_scenes({"scene": cmd.scene}, scenes)
    _check_room_count(len(event.rooms) + 1, max_rooms)
    room = Room.model_validate(cmd.model_dump())
    return _next(event, now, rooms=[*event.rooms, room])


def _require_room(event: Event, slug: str) -> Room:
    room = event.room(slug)
    if room is None:
        raise NotFound(f"event {event.slug!r} has no room {slug!r}", code="room_not_found")
    return room


def update_room(
    event: Event, slug: str, cmd: RoomUpdate, *, now: datetime, scenes: Collection[str]
) -> Event:
    room = _require_room(event, slug)
    changes = cmd.model_dump(exclude_unset=True)
    if cmd.scene is not None:
        _check_scenes({"scene": cmd.scene}, scenes)
    try:
        new_room = Room.model_validate({**room.model_dump(), **changes})
    except ValidationError as exc:
        raise ValidationFailed(
            "the room is not valid", code="invalid_room", details=validation_details(exc)
        ) from None
    rooms = [new_room if r.slug == slug else r for r in event.rooms]
    return _next(event, now, rooms=rooms)


def set_room_hubs_link(
    event: Event, slug: str, link: HubsRoomLink | None, *, now: datetime
) -> Event:
    """The event with one room's Hubs link set (or cleared with ``None``)."""
    room = _require_room(event, slug)
    new_room = room.model_copy(update={"hubs": link})
    return _next(event, now, rooms=[new_room if r.slug == slug else r for r in event.rooms])


def remove_room(event: Event, slug: str, *, now: datetime) -> Event:
    _require_room(event, slug)
    return _next(event, now, rooms=[r for r in event.rooms if r.slug != slug])
