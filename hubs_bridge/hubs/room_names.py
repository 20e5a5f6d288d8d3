"""Names of the Hubs rooms the bridge creates: at most 64 characters, unique per event. Pure.

Reticulum refuses a room whose name is longer than 64 (``lib/ret/hub.ex``,
``add_attrs_to_changeset`` and ``create_room``: ``validate_length(:name,
max: 64)``; the REST controller answers ``422 invalid hub``). Elixir counts
graphemes there; Python's ``len`` counts code points, never fewer, so a name
that fits here fits there.

A name is ``"<event> – <room>"``; an overflow twin adds ``" (2)"``. When
that is too long, the room title is kept as far as it can be (it is what
tells the rooms apart in the Hubs lobby and in the "my rooms" list) and the
event title is shortened first, each cut at a word boundary with "…".
"""

from __future__ import annotations

from collections.abc import Sequence

MAX_HUB_NAME = 64
SEPARATOR = " – "
ELLIPSIS = "…"
# The room part keeps at most this much when both titles are long, so the
# event's name still shows.
ROOM_SHARE = 40
# An event part shorter than this says nothing: the name is the room's alone.
MIN_EVENT_PART = 8


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters at a word boundary, ending in "…"."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return text[:limit]
    head = text[: limit - len(ELLIPSIS)]
    space = head.rfind(" ")
    if space >= len(head) // 2:  # a word boundary not too far back
        head = head[:space]
    return head.rstrip(" -–,.;:") + ELLIPSIS


def hub_name(event_title: str, room_title: str, twin: int | None = None) -> str:
    """The Hubs name of a room (``twin``: the number of an overflow twin, 2 and up)."""
    suffix = f" ({twin})" if twin is not None else ""
    event, room = " ".join(event_title.split()), " ".join(room_title.split())
    full = f"{event}{SEPARATOR}{room}{suffix}"
    if len(full) <= MAX_HUB_NAME:
        return full
    room = shorten(room, max(ROOM_SHARE, MAX_HUB_NAME - len(SEPARATOR) - len(event)) - len(suffix))
    budget = MAX_HUB_NAME - len(SEPARATOR) - len(room) - len(suffix)
    if budget < MIN_EVENT_PART:
        return shorten(room_title, MAX_HUB_NAME - len(suffix)) + suffix
    return f"{shorten(event, budget)}{SEPARATOR}{room}{suffix}"


def hub_names(event_title: str, rooms: Sequence[tuple[str, str]]) -> dict[str, str]:
    """The Hubs name of each room of an event, by slug, no two alike.

    ``rooms`` is ``(slug, title)`` in event order. Two titles that become
    the same name once shortened get the room's position as a twin-like
    number, which also fits in 64 characters.
    """
    names = {slug: hub_name(event_title, title) for slug, title in rooms}
    seen: dict[str, int] = {}
    for name in names.values():
        seen[name] = seen.get(name, 0) + 1
    taken = {n for n, count in seen.items() if count == 1}
    for position, (slug, title) in enumerate(rooms, start=1):
        if seen[names[slug]] > 1:
            number = position
            while (candidate := hub_name(event_title, title, number)) in taken:
                number += 100
            names[slug] = candidate
            taken.add(candidate)
    return names
