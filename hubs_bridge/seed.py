"""Seed the example events from ``config/events/*.toml`` on first start.

Idempotent: each seed file is applied once per installation (a marker in the
store's meta), so restarting never duplicates an event and an example that
staff deleted does not come back.

A seed file may give absolute times (``starts_at``/``ends_at``) or times
relative to the first start, so a fresh installation always shows an
upcoming event and one that is open now::

    [when]
    days_from_now = 7        # the local day, Europe/Berlin
    start = "17:00"
    end = "21:00"

    [when]                   # or: relative to the current time
    minutes_from_now = -30
    duration_minutes = 240
"""

from __future__ import annotations

import asyncio
import logging
import tomllib
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hubs_bridge.calendar_service import CalendarService
from hubs_bridge.core.calendar import BERLIN, EventCreate
from hubs_bridge.errors import Conflict, HubsBridgeError

log = logging.getLogger("hubs_bridge.seed")


class RelativeTimes(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days_from_now: int | None = Field(default=None, ge=-365, le=365)
    start: time | None = None
    end: time | None = None
    minutes_from_now: int | None = None
    duration_minutes: int | None = Field(default=None, ge=1)

    def resolve(self, now: datetime) -> tuple[datetime, datetime]:
        if self.minutes_from_now is not None and self.duration_minutes is not None:
            # Rounded to the quarter hour so the example looks like a real booking.
            base = now.astimezone(BERLIN).replace(second=0, microsecond=0)
            base -= timedelta(minutes=base.minute % 15)
            starts = base + timedelta(minutes=self.minutes_from_now)
            return starts, starts + timedelta(minutes=self.duration_minutes)
        if self.days_from_now is not None and self.start is not None and self.end is not None:
            day = (now.astimezone(BERLIN) + timedelta(days=self.days_from_now)).date()
            starts = datetime.combine(day, self.start, BERLIN)
            ends = datetime.combine(day, self.end, BERLIN)
            if ends <= starts:
                ends += timedelta(days=1)
            return starts, ends
        raise ValueError(
            "[when] needs days_from_now, start and end, or minutes_from_now and duration_minutes"
        )


def parse_seed(data: dict[str, Any], now: datetime) -> EventCreate:
    """A seed file's content as a create command, with relative times resolved."""
    data = dict(data)
    when = data.pop("when", None)
    if when is not None:
        starts, ends = RelativeTimes.model_validate(when).resolve(now)
        data["starts_at"], data["ends_at"] = starts, ends
    return EventCreate.model_validate(data)


def read_seed_files(seed_dir: Path) -> list[tuple[str, str]]:
    """``(file name, text)`` of every seed file, in name order."""
    if not seed_dir.is_dir():
        log.info("no seed directory %s; nothing seeded", seed_dir)
        return []
    return [(p.name, p.read_text("utf-8")) for p in sorted(seed_dir.glob("*.toml"))]


async def seed_events(calendar: CalendarService, seed_dir: Path) -> list[str]:
    """Create the events of ``seed_dir`` not yet seeded; returns the slugs created."""
    created: list[str] = []
    for name, text in await asyncio.to_thread(read_seed_files, seed_dir):
        marker = f"seeded:{name}"
        if await calendar.store.get_meta(marker) is not None:
            continue
        try:
            cmd = parse_seed(tomllib.loads(text), calendar.now())
            await calendar.create(cmd)
            created.append(cmd.slug)
        except Conflict:
            pass  # staff made an event with this slug: theirs wins
        except (tomllib.TOMLDecodeError, ValidationError, ValueError, HubsBridgeError) as exc:
            log.error("seed file %s is not valid and was skipped: %s", name, exc)
            continue
        await calendar.store.set_meta_if_absent(marker, calendar.now().isoformat())
    if created:
        log.info("seeded example events: %s", ", ".join(created))
    return created
