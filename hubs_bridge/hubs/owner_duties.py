"""The bridge's duties as owner of its Hubs rooms: scene, settings, closing, mute and kick.

:class:`OwnerDuties` keeps, per bridged room, the room as Reticulum last
described it and the bridge's rights there (:mod:`~hubs_bridge.hubs.perms`),
and pushes owner actions through the client (:mod:`~hubs_bridge.hubs.ownership`
decides which). It is driven by :class:`~hubs_bridge.hubs.bridge.HubsBridge`
from its one worker task, so its state needs no lock.

Reticulum answers none of the owner actions (``hub_channel.ex``); what
confirms them is what follows: a ``hub_refresh`` for ``update_scene``,
``update_hub`` and ``close_hub`` (``broadcast_hub_refresh!``, to the sender
too), the target's presence leaving for ``kick``. ``mute`` is
``broadcast_from!`` to the others and confirms nothing: it is reported sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hubs_bridge.core.calendar import Event
from hubs_bridge.core.stream import HubsActionRequested
from hubs_bridge.hubs import ownership
from hubs_bridge.hubs.client import NotAllowed, NotJoined, OwnerAction, ReticulumClient
from hubs_bridge.hubs.errors import HubsError
from hubs_bridge.hubs.frames import Hub
from hubs_bridge.hubs.perms import HubPerms
from hubs_bridge.hubs.room_status import ActionResult, RoomStatuses
from hubs_bridge.identity import VisitorIds
from hubs_bridge.settings import HubsSettings

log = logging.getLogger("hubs_bridge.hubs.owner")

CLOSE_CONFIRM_S = 5.0  # how long to wait for the hub_refresh that confirms a close_hub


SceneUrl = Callable[[str, str | None], str | None]
"""A scene's absolute GLB URL by (slug, pinned digest or None), None if unknown."""


@dataclass(slots=True)
class _Room:
    event: str
    room: str
    hub: Hub | None = None
    perms: HubPerms | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)


class OwnerDuties:
    """Per bridged room: its last known state and rights; the owner actions."""

    def __init__(
        self,
        settings: HubsSettings,
        client: ReticulumClient,
        statuses: RoomStatuses,
        ids: VisitorIds,
        now: Callable[[], datetime],
        scene_url: SceneUrl | None,
    ) -> None:
        self._settings = settings
        self._client = client
        self._statuses = statuses
        self._ids = ids
        self._now = now
        self._scene_url = scene_url
        self._rooms: dict[str, _Room] = {}

    # --- facts from the client ------------------------------------------------

    def track(self, hub_sid: str, event: str, room: str) -> None:
        self._rooms.setdefault(hub_sid, _Room(event, room))
        self._publish_abilities(hub_sid)

    def forget(self, hub_sid: str) -> None:
        self._rooms.pop(hub_sid, None)

    def joined(self, hub_sid: str, hub: Hub, perms: HubPerms, event: Event | None) -> None:
        state = self._rooms.get(hub_sid)
        if state is None:
            return
        state.hub, state.perms = hub, perms
        self._keep(hub_sid, state, event)

    def signed_in(self, hub_sid: str, perms: HubPerms, error: str | None, ev: Event | None) -> None:
        state = self._rooms.get(hub_sid)
        if state is None:
            return
        state.perms = perms
        if error is not None:
            log.warning("sign in to hubs room %s refused: %s", hub_sid, error)
        self._keep(hub_sid, state, ev)

    def refreshed(self, hub_sid: str, hub: Hub) -> None:
        state = self._rooms.get(hub_sid)
        if state is None:
            return
        state.hub = hub
        if hub.entry_mode == "deny":
            state.closed.set()
        self._publish_abilities(hub_sid)

    def lost(self, hub_sid: str) -> None:
        state = self._rooms.get(hub_sid)
        if state is not None:
            state.perms = None
            self._publish_abilities(hub_sid)

    def keep_all(self, events: Mapping[str, Event]) -> None:
        """Staff may have changed rooms: bring the Hubs rooms the bridge owns in line."""
        for hub_sid, state in self._rooms.items():
            self._keep(hub_sid, state, events.get(state.event))

    # --- owner actions -------------------------------------------------------

    def _keep(self, hub_sid: str, state: _Room, event: Event | None) -> None:
        """Scene and settings as staff defined them, where the bridge owns the room."""
        self._publish_abilities(hub_sid)
        if state.hub is None or state.perms is None or event is None:
            return
        room = event.room(state.room)
        if room is None:
            return
        # The version the room was provisioned with (its pinned digest), not the latest.
        url = self._scene_url(room.scene, room.scene_sha256) if self._scene_url else None
        scene = ownership.scene_push(state.hub, state.perms, url, self._settings.url)
        if scene is not None:
            self._push(hub_sid, "update_scene", scene)
        change = ownership.settings_push(state.hub, state.perms, room, self._settings.max_room_size)
        if change is not None:
            self._push(hub_sid, "update_hub", change)

    async def close(self, hub_sids: list[str]) -> list[str]:
        """``close_hub`` in each room the bridge may close; the ones Hubs confirmed closed."""
        waiting: list[tuple[str, asyncio.Event]] = []
        for hub_sid in hub_sids:
            state = self._rooms.get(hub_sid)
            if state is None or state.perms is None or not state.perms.close_hub:
                continue
            if self._push(hub_sid, "close_hub", {}):
                waiting.append((hub_sid, state.closed))
        if not waiting:
            return []
        await asyncio.wait(
            [asyncio.create_task(done.wait()) for _, done in waiting], timeout=CLOSE_CONFIRM_S
        )
        return [hub_sid for hub_sid, done in waiting if done.is_set()]

    def moderate(self, event: str, request: HubsActionRequested) -> ActionResult | None:
        """Carry out a moderator's mute or kick of one person.

        The request names the person by their presence entry (``hubs:<hash>``,
        the hash the presence mirror made of their Hubs session id); the
        result is recorded for the console. ``None`` when the person's room
        is not bridged by this process.
        """
        action, target, ident = request.action, request.session, request.id
        for hub_sid, state in self._rooms.items():
            if state.event != event:
                continue
            presence = self._client.presence(hub_sid)
            if presence is None:
                continue
            for person in presence.people():
                if "hubs:" + self._ids.record_hash(event, person.session_id) != target:
                    continue
                ok, message = self._try(hub_sid, action, person.session_id)
                result = ActionResult(
                    id=ident, action=action, ok=ok, message=message, at=self._now()
                )
                self._statuses.record_action(event, result)
                return result
        result = ActionResult(
            id=ident,
            action=action,
            ok=False,
            message="the person is no longer in a bridged Hubs room",
            at=self._now(),
        )
        self._statuses.record_action(event, result)
        return result

    def _try(self, hub_sid: str, action: str, session_id: str) -> tuple[bool, str]:
        owner_action: OwnerAction = "mute" if action == "mute" else "kick"
        try:
            self._client.push_owner_action(hub_sid, owner_action, {"session_id": session_id})
        except NotAllowed:
            state = self._rooms.get(hub_sid)
            why = self._abilities(hub_sid, state).why_not if state is not None else None
            return False, why or "the bridge is not the owner of this Hubs room"
        except NotJoined:
            return False, "the bridge is not connected to this Hubs room right now"
        return True, "sent to the Hubs room"

    def _push(self, hub_sid: str, action: OwnerAction, payload: dict[str, Any]) -> bool:
        try:
            self._client.push_owner_action(hub_sid, action, payload)
        except HubsError as exc:
            log.info("%s in hubs room %s not sent: %s", action, hub_sid, exc)
            return False
        log.info("%s sent to hubs room %s", action, hub_sid)
        return True

    # --- what staff see -----------------------------------------------------------

    def _abilities(self, hub_sid: str, state: _Room) -> ownership.Capabilities:
        return ownership.capabilities(
            state.perms,
            joined=state.perms is not None,
            failed_reason=None,
            account_configured=self._settings.account_token is not None,
            admin_key_configured=self._settings.admin_access_key is not None,
        )

    def _publish_abilities(self, hub_sid: str) -> None:
        state = self._rooms.get(hub_sid)
        if state is None:
            return
        caps = self._abilities(hub_sid, state)
        self._statuses.set_abilities(
            hub_sid,
            may_close=caps.close,
            may_moderate=caps.moderate,
            may_change_settings=caps.settings,
            why_not=caps.why_not,
            why_not_code=caps.why_not_code,
            scene=None if state.hub is None else ownership.scene_state(state.hub),
        )
