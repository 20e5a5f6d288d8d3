"""Who is at an event: one entry per session present, as every backend stores it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True, slots=True)
class PresenceEntry:
    """One session present at an event (web page or Hubs), pseudonymous.

    ``visitor`` is a pseudonymous id (never an IP address or a real name);
    ``name`` is a display name only if the person chose to give one.
    ``details`` carries source-specific facts (for Hubs: lobby/room/entering,
    device kind, hand raised) as short string values.
    """

    session: str
    visitor: str
    room: str | None
    source: Literal["web", "hubs"] = "web"
    role: str = "visitor"
    name: str | None = None
    details: tuple[tuple[str, str], ...] = field(default=())
