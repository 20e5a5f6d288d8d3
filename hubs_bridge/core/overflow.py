"""Overflow, pure: which Hubs room of a room a newcomer should enter.

Occupancy of one Hubs room = people in it or entering, as the bridge sees
them (``source="hubs"`` presence), plus the redirects ``/go`` handed out to
it in the last moments (people on their way, not yet seen). Hubs enforces
``room_size`` only in the browser and lets simultaneous entries exceed it
(PROTOCOL.md §6), so counting those in flight is what keeps a room from
overfilling when many arrive at once.

Rules, in order:

1. The room's own Hubs room while it has space.
2. Else its least full open twin with space (the earliest on a tie).
3. Else, with ``overflow_allowed`` and fewer open twins than
   ``overflow_max_twins``: a new twin is needed.
4. Else, without ``overflow_allowed``: the room itself anyway (Hubs turns
   people away in its own lobby, as it always did).
5. Else (overflow allowed but every twin made and full): full.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from hubs_bridge.core.calendar import HubsRoomLink, Room
from hubs_bridge.core.presence import PresenceEntry

# Presence entries may name the Hubs room they are in (``details`` key "hub");
# entries without it belong to the room's own Hubs room.
HUB_DETAIL = "hub"
OCCUPYING = frozenset({"room", "entering"})


@dataclass(frozen=True, slots=True)
class Choice:
    kind: Literal["enter", "new_twin", "full", "not_provisioned"]
    link: HubsRoomLink | None = None


def occupancy(
    room: Room, present: Iterable[PresenceEntry], arriving: Iterable[PresenceEntry]
) -> Counter[str]:
    """People per hub id of ``room``: in the room or entering, plus arrivals in flight."""
    links = room.hubs_links()
    if not links:
        return Counter()
    default = links[0].hub_id
    counts: Counter[str] = Counter()
    for entry in present:
        details = dict(entry.details)
        if (
            entry.source == "hubs"
            and entry.room == room.slug
            and details.get("presence") in OCCUPYING
        ):
            counts[details.get(HUB_DETAIL, default)] += 1
    for entry in arriving:
        if entry.room == room.slug:
            counts[dict(entry.details).get(HUB_DETAIL, default)] += 1
    return counts


def choose(room: Room, counts: Mapping[str, int]) -> Choice:
    """Where the next newcomer goes (the rules in the module docstring)."""
    if room.hubs is None or room.hubs.closed:
        return Choice("not_provisioned")
    links = room.hubs_links()
    own, twins = links[0], links[1:]
    if counts.get(own.hub_id, 0) < room.capacity:
        return Choice("enter", own)
    with_space = [t for t in twins if counts.get(t.hub_id, 0) < room.capacity]
    if with_space:
        return Choice("enter", min(with_space, key=lambda t: counts.get(t.hub_id, 0)))
    if not room.overflow_allowed:
        return Choice("enter", own)
    if len(twins) < room.overflow_max_twins:
        return Choice("new_twin")
    return Choice("full")


def least_full(room: Room, counts: Mapping[str, int]) -> HubsRoomLink | None:
    """The open Hubs room of ``room`` with the fewest people (the room's own on a tie)."""
    links = room.hubs_links()
    return min(links, key=lambda link: counts.get(link.hub_id, 0)) if links else None
