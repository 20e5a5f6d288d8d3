"""The app with its Hubs bridge on the simulator: event ``kirmes``, room ``daten`` linked to a
simulated Hubs room (``info`` too, if asked), and what tests need to watch both sides.

:func:`make_rig` starts the simulator and the app with a bridge that syncs quickly and
reconnects slowly (about 1 s), so tests see rooms joined at once and the stale window
after a loss; :class:`ChatRecorder` hears a simulated room's chat; :class:`Attendance`
follows one page's attendance frames.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from hubs_bridge.core.calendar import Event, HubsRoomLink
from hubs_bridge.core.event_commands import set_room_hubs_link
from hubs_bridge.hubs.bridge import HubsBridge
from hubs_bridge.hubs.frames import PhxMessage
from hubs_bridge.hubs.sim_state import SimHub
from hubs_bridge.hubs.simulator import HubsSimulator
from hubs_bridge.web.app import build_bridge, create_app
from hubs_bridge.web.keys import CALENDAR, HUBS
from tests.conftest import make_settings
from tests.harness.waiting import eventually
from tests.harness.ws_client import WsClient

STAFF = "staff-token-for-hubs-bridge-tests-0123"
TIMEOUT = aiohttp.ClientTimeout(total=20)


class ChatRecorder:
    """Listens to a simulator room's broadcasts like a joined channel would."""

    def __init__(self) -> None:
        self.bodies: list[str] = []
        self.times: list[float] = []

    def deliver(self, frame: PhxMessage) -> None:
        if frame.event == "message" and frame.payload.get("type") == "chat":
            self.bodies.append(str(frame.payload.get("body")))
            self.times.append(time.monotonic())

    def said(self, marker: str) -> list[str]:
        """Every line with ``marker``: notices coalesced into one message are counted apart."""
        return [line for b in self.bodies for line in b.split("\n") if marker in line]


@dataclass
class Rig:
    sim: HubsSimulator
    hub: SimHub
    server: TestServer
    http: aiohttp.ClientSession
    bridge: HubsBridge
    info: SimHub | None = None

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    def chat(self, hub: SimHub) -> ChatRecorder:
        """Record what is said in a simulated room from now on."""
        recorder = ChatRecorder()
        self.sim.room(hub.hub_id).subscribers[f"recorder-{id(recorder)}"] = recorder
        return recorder

    async def send(self, method: str, path: str, body: Any = None, token: str = STAFF) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.request(method, self.url(path), json=body, headers=headers) as resp:
            assert resp.status < 300, await resp.text()
            return await resp.json() if resp.status != 204 else None

    async def joined(self) -> None:
        """Wait until the bridge is in every linked room with fresh presence."""
        hubs = [h for h in (self.hub, self.info) if h is not None]

        def ready() -> bool:
            for hub in hubs:
                presence = self.bridge.client.presence(hub.hub_id)
                if hub.hub_id not in self.bridge.rooms or presence is None or presence.stale:
                    return False
            return True

        await eventually(ready, what="the bridge in every linked room with fresh presence")

    async def get(self, path: str) -> Any:
        async with self.http.get(self.url(path)) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()


def rig_bridge(
    app: web.Application,
    *,
    chat_interval_s: float | None = None,
    client_options: dict[str, Any] | None = None,
) -> HubsBridge:
    """The app's own bridge, but quick to sync and slow to reconnect (about 1 s), so that
    tests see rooms joined at once and the stale window after a loss."""
    return build_bridge(
        app,
        sync_interval_s=0.5,
        chat_interval_s=chat_interval_s,
        client_options={"backoff_scale": 100.0, **(client_options or {})},
    )


def event_body(slug: str, now: datetime) -> dict[str, Any]:
    """An event open from an hour ago to an hour from ``now``, rooms ``info`` and ``daten``."""
    return {
        "slug": slug,
        "title": "Digitale Kirmes",
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(hours=1)).isoformat(),
        "rooms": [
            {"slug": "info", "title": "Info", "scene": "foyer"},
            {"slug": "daten", "title": "Offene Daten", "scene": "kirmes-stand"},
        ],
    }


@asynccontextmanager
async def make_rig(
    tmp_path: Path,
    *,
    chat_interval_s: float | None = 2.0,
    link_info: bool = False,
    hubs: dict[str, Any] | None = None,
    public_url: str | None = None,
    client_options: dict[str, Any] | None = None,
    sim_options: dict[str, Any] | None = None,
) -> AsyncIterator[Rig]:
    """Event ``kirmes`` with ``daten`` (and ``info``, with ``link_info``) linked to simulated
    rooms; the Hubs settings, the client's options and the simulator's as the test chooses
    (``chat_interval_s=None``: the settings' own)."""
    sim = HubsSimulator(**(sim_options or {}))
    await sim.start()
    try:
        hub = sim.create_hub("Offene Daten")
        info = sim.create_hub("Info") if link_info else None
        settings = make_settings(
            tmp_path,
            staff_token=STAFF,
            realtime={"attendance_interval_s": 0.2},
            hubs={"url": sim.base_url, **(hubs or {})},
            public_url=public_url,
        )
        app = await create_app(settings)
        app[HUBS] = rig_bridge(app, chat_interval_s=chat_interval_s, client_options=client_options)
        server = TestServer(app)
        await server.start_server()
        try:
            async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
                now = datetime.now(UTC)
                resp = await http.post(
                    server.make_url("/api/events"),
                    json=event_body("kirmes", now),
                    headers={"Authorization": f"Bearer {STAFF}"},
                )
                assert resp.status == 201, await resp.text()
                link = HubsRoomLink(
                    hub_id=hub.hub_id, url=f"{sim.base_url}/{hub.hub_id}", provisioned_at=now
                )

                def linked(e: Event, at: datetime) -> Event:
                    return set_room_hubs_link(e, "daten", link, now=at)

                await app[CALENDAR].change("kirmes", linked)
                if info is not None:
                    info_link = link.model_copy(
                        update={"hub_id": info.hub_id, "url": f"{sim.base_url}/{info.hub_id}"}
                    )

                    def info_linked(e: Event, at: datetime) -> Event:
                        return set_room_hubs_link(e, "info", info_link, now=at)

                    await app[CALENDAR].change("kirmes", info_linked)
                yield Rig(sim, hub, server, http, app[HUBS], info)
        finally:
            await asyncio.wait_for(server.close(), 10)
    finally:
        await asyncio.wait_for(sim.stop(), 10)


class Attendance:
    """The attendance frames of one page, merged into the current counts per room."""

    def __init__(self, client: WsClient) -> None:
        self.client = client
        assert client.welcome is not None
        self.rooms: dict[str, dict[str, Any]] = dict(
            client.welcome["snapshot"]["attendance"]["rooms"]
        )

    async def until(self, room: str, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        deadline = time.monotonic() + 8.0
        while not check(self.rooms.get(room, {})):
            left = deadline - time.monotonic()
            assert left > 0, f"attendance of {room} never matched: {self.rooms.get(room)}"
            frame = await self.client.next("attendance", timeout=left)
            if frame.get("full"):
                self.rooms = dict(frame["rooms"])
            else:
                self.rooms.update(frame["rooms"])
        return self.rooms[room]
