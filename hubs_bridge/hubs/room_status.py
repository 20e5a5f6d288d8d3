"""How the bridge stands with each Hubs room, for staff: joining, joined, stale or failed.

The bridge of the process that leads an event keeps this per room in memory
and puts it into the broker (``value_put``, a few sync intervals long) after
every sync, so ``GET /api/events/{event}/hubs`` answers the same on every
process. A failed join (``not_found``, ``closed``, ``join_denied``,
``oauth_required``) stays listed with its reason until staff change the link:
the bridge does not retry it, so someone has to act.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ValidationError

from hubs_bridge.broker.base import Broker

log = logging.getLogger("hubs_bridge.hubs.status")
STATUS_PREFIX = "hubs-status:"
BridgeState = Literal["joining", "joined", "stale", "failed"]


class HubStatus(BaseModel):
    """The bridge's state in one Hubs room."""

    hub_id: str
    room: str
    state: BridgeState
    reason: str | None = None  # the server's join error, for failed rooms
    message: str | None = None
    since: datetime


class EventHubsStatus(BaseModel):
    """What the event's bridge process last said about its rooms."""

    event: str
    updated_at: datetime
    hubs: dict[str, HubStatus]


class RoomStatuses:
    """The bridge's per-room states of one process, published per event."""

    def __init__(self) -> None:
        self._by_hub: dict[str, tuple[str, HubStatus]] = {}  # hub_id -> (event, status)

    def mark(
        self,
        event: str,
        room: str,
        hub_id: str,
        state: BridgeState,
        now: datetime,
        *,
        reason: str | None = None,
        message: str | None = None,
    ) -> None:
        before = self._by_hub.get(hub_id)
        if before is not None and before[1].state == state and before[1].reason == reason:
            return  # unchanged: keep its `since`
        status = HubStatus(
            hub_id=hub_id, room=room, state=state, reason=reason, message=message, since=now
        )
        self._by_hub[hub_id] = (event, status)

    def forget(self, hub_id: str) -> None:
        self._by_hub.pop(hub_id, None)

    def keep_only(self, hub_ids: set[str]) -> None:
        for hub_id in set(self._by_hub) - hub_ids:
            del self._by_hub[hub_id]

    def of_event(self, event: str, now: datetime) -> EventHubsStatus:
        hubs = {h: s for h, (e, s) in self._by_hub.items() if e == event}
        return EventHubsStatus(event=event, updated_at=now, hubs=hubs)

    async def publish(self, broker: Broker, events: set[str], now: datetime, ttl_s: float) -> None:
        for event in events:
            body = self.of_event(event, now).model_dump_json().encode()
            await broker.value_put(STATUS_PREFIX + event, body, ttl_s)


async def read_status(broker: Broker, event: str) -> EventHubsStatus | None:
    """The last published status of ``event``'s rooms, or ``None`` while no bridge leads it."""
    raw = await broker.value_get(STATUS_PREFIX + event)
    if raw is None:
        return None
    try:
        return EventHubsStatus.model_validate_json(raw)
    except ValidationError:
        # Written by another version during a rolling deploy: as if not said yet.
        log.warning("unreadable Hubs room status of %s", event)
        return None
