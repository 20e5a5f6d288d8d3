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

from hubs_bridge.broker.base import SharedValues
from hubs_bridge.hubs.ownership import SceneState

log = logging.getLogger("hubs_bridge.hubs.status")
STATUS_PREFIX = "hubs-status:"
MAX_ACTIONS = 20  # results of in-room actions kept per event, newest last
BridgeState = Literal["joining", "joined", "stale", "failed"]


class HubStatus(BaseModel):
    """The bridge's state in one Hubs room."""

    hub_id: str
    room: str
    state: BridgeState
    reason: str | None = None  # the server's join error, for failed rooms
    message: str | None = None
    since: datetime
    # What the bridge may do there (ownership.capabilities) and why not.
    may_close: bool = False
    may_moderate: bool = False
    may_change_settings: bool = False
    why_not: str | None = None
    why_not_code: str | None = None  # ownership.WhyNot, for pages to translate
    scene: SceneState | None = None  # "hubs_scene": one of the Hubs server's own


class ActionResult(BaseModel):
    """The outcome of an in-room moderation action (mute, kick) asked for by a moderator."""

    id: str
    action: str
    ok: bool
    message: str
    at: datetime


class EventHubsStatus(BaseModel):
    """What the event's bridge process last said about its rooms."""

    event: str
    updated_at: datetime
    hubs: dict[str, HubStatus]
    actions: dict[str, ActionResult] = {}


class RoomStatuses:
    """The bridge's per-room states of one process, published per event."""

    def __init__(self) -> None:
        self._by_hub: dict[str, tuple[str, HubStatus]] = {}  # hub_id -> (event, status)
        self._actions: dict[str, list[ActionResult]] = {}  # event -> the latest results

    def record_action(self, event: str, result: ActionResult) -> None:
        kept = [a for a in self._actions.get(event, []) if a.id != result.id]
        self._actions[event] = [*kept, result][-MAX_ACTIONS:]

    def set_abilities(
        self,
        hub_id: str,
        *,
        may_close: bool,
        may_moderate: bool,
        may_change_settings: bool,
        why_not: str | None,
        why_not_code: str | None,
        scene: SceneState | None,
    ) -> None:
        found = self._by_hub.get(hub_id)
        if found is None:
            return
        event, status = found
        self._by_hub[hub_id] = (
            event,
            status.model_copy(
                update={
                    "may_close": may_close,
                    "may_moderate": may_moderate,
                    "may_change_settings": may_change_settings,
                    "why_not": why_not,
                    "why_not_code": why_not_code,
                    "scene": scene,
                }
            ),
        )

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
        keep = (
            {}
            if before is None
            else before[1].model_dump(
                include={
                    "may_close",
                    "may_moderate",
                    "may_change_settings",
                    "why_not",
                    "why_not_code",
                    "scene",
                }
            )
        )
        status = HubStatus(
            hub_id=hub_id,
            room=room,
            state=state,
            reason=reason,
            message=message,
            since=now,
            **keep,
        )
        self._by_hub[hub_id] = (event, status)

    def forget(self, hub_id: str) -> None:
        self._by_hub.pop(hub_id, None)

    def keep_only(self, hub_ids: set[str]) -> None:
        for hub_id in set(self._by_hub) - hub_ids:
            del self._by_hub[hub_id]

    def of_event(self, event: str, now: datetime) -> EventHubsStatus:
        hubs = {h: s for h, (e, s) in self._by_hub.items() if e == event}
        actions = {a.id: a for a in self._actions.get(event, [])}
        return EventHubsStatus(event=event, updated_at=now, hubs=hubs, actions=actions)

    async def publish(
        self, broker: SharedValues, events: set[str], now: datetime, ttl_s: float
    ) -> None:
        for event in events:
            body = self.of_event(event, now).model_dump_json().encode()
            await broker.value_put(STATUS_PREFIX + event, body, ttl_s)


async def read_status(broker: SharedValues, event: str) -> EventHubsStatus | None:
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
