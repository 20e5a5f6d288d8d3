"""Reading stored event documents: one unreadable record never stops the others.

An event stored by an older version may no longer pass today's rules (times
far outside this century were once accepted, and then every loop that read
the calendar failed for every event). Both stores read event documents here:
an unreadable one is logged once and treated as absent, so the calendar, the
attendance loop, the bridge and the closer go on with the rest.
"""

from __future__ import annotations

import logging

from pydantic import ValidationError

from hubs_bridge.core.calendar import Event

log = logging.getLogger("hubs_bridge.store")
_reported: set[str] = set()
_MAX_REPORTED = 1000


def read_event(slug: str, doc: str | bytes) -> Event | None:
    """The stored event, or ``None`` (logged once per slug) when it cannot be read."""
    try:
        return Event.model_validate_json(doc)
    except (ValidationError, ValueError, OverflowError) as exc:
        if slug not in _reported and len(_reported) < _MAX_REPORTED:
            _reported.add(slug)
            first = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
            log.error("stored event %r cannot be read and is left out: %s", slug[:64], first)
        return None
