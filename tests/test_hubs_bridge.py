"""The Hubs bridge end to end: simulator rooms -> presence, attendance and Q&A of the app."""

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
from hubs_bridge.hubs.chat_in import question_text
from hubs_bridge.hubs.chat_out import reply_text
from hubs_bridge.hubs.frames import PhxMessage
from hubs_bridge.hubs.sim_state import SimHub
from hubs_bridge.hubs.simulator import HubsSimulator
from hubs_bridge.web.app import build_bridge, create_app
from hubs_bridge.web.keys import BROKER, CALENDAR, HUBS
from tests.conftest import make_settings
from tests.harness.ws_client import WsClient

STAFF = "staff-token-for-hubs-bridge-tests-0123"


async def wait_for(check: Callable[[], bool], timeout: float = 8.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


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

        await wait_for(ready)

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


@asynccontextmanager
async def make_rig(
    tmp_path: Path,
    *,
    chat_interval_s: float = 2.0,
    link_info: bool = False,
    hubs: dict[str, Any] | None = None,
    public_url: str | None = None,
) -> AsyncIterator[Rig]:
    sim = HubsSimulator()
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
        app[HUBS] = rig_bridge(app, chat_interval_s=chat_interval_s)
        server = TestServer(app)
        await server.start_server()
        try:
            async with aiohttp.ClientSession() as http:
                now = datetime.now(UTC)
                event = {
                    "slug": "kirmes",
                    "title": "Digitale Kirmes",
                    "starts_at": (now - timedelta(hours=1)).isoformat(),
                    "ends_at": (now + timedelta(hours=1)).isoformat(),
                    "rooms": [
                        {"slug": "info", "title": "Info", "scene": "foyer"},
                        {"slug": "daten", "title": "Offene Daten", "scene": "kirmes-stand"},
                    ],
                }
                resp = await http.post(
                    server.make_url("/api/events"),
                    json=event,
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
            await server.close()
    finally:
        await sim.stop()


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


def test_question_text_and_replies() -> None:
    assert question_text("/frage Wann kommt das?") == "Wann kommt das?"
    assert question_text("/QUESTION  When? ") == "When?"
    assert question_text("/frage ") is None
    assert question_text("Hallo /frage x") is None
    assert question_text("/fragen x") is None
    assert "3 Fragen" in reply_text(3, []) and "3 questions" in reply_text(3, [])
    assert reply_text(0, ["nein / no"]) == "nein / no"


async def test_presence_questions_and_stale_rooms(tmp_path: Path) -> None:
    async with make_rig(tmp_path) as rig:
        sim, hub, bridge = rig.sim, rig.hub, rig.bridge
        await wait_for(lambda: hub.hub_id in bridge.rooms and bridge.client.connected)

        def fresh_presence() -> bool:
            presence = bridge.client.presence(hub.hub_id)
            return presence is not None and not presence.stale

        await wait_for(fresh_presence)
        page = await WsClient.connect(rig.http, rig.url("/ws"))
        try:
            await page.hello("kirmes")
            attendance = Attendance(page)

            anna = sim.add_avatar(hub.hub_id, "Anna", device="vr")
            bernd = sim.add_avatar(hub.hub_id, "Bernd", device="mobile")
            sim.add_avatar(hub.hub_id, "Clara")
            anna.enter()
            anna.raise_hand()
            bernd.enter()
            counts = await attendance.until(
                "daten", lambda r: r.get("hubs_room") == 2 and r.get("hands") == 1
            )
            assert counts["hubs_lobby"] == 1 and counts["vr"] == 1 and counts["mobile"] == 1
            assert not counts.get("stale")
            live = await rig.get("/api/events/kirmes/live")
            assert live["rooms"]["daten"]["hubs"] == 3
            assert live["rooms"]["daten"]["occupancy"] == 2
            assert live["rooms"]["info"]["hubs"] == 0
            # No Hubs session id in shared presence; the display name only in the live
            # entry (for the list of raised hands), see test_hubs_names_never_reach_the_record.
            entries = await rig.server.app[BROKER].presence_list("kirmes")
            hubs_entries = [e for e in entries if e.source == "hubs"]
            assert len(hubs_entries) == 3
            assert sorted(str(e.name) for e in hubs_entries) == ["Anna", "Bernd", "Clara"]
            for entry in hubs_entries:
                assert entry.room == "daten"
                assert entry.session == "hubs:" + entry.visitor
                assert anna.session_id not in entry.session

            # Questions from the chat, confirmed in the room (coalesced, at most every 2 s).
            chat = ChatRecorder()
            sim.room(hub.hub_id).subscribers["test-recorder"] = chat
            anna.say("/frage Wann kommt das offene Datenportal?")
            await wait_for(lambda: any("Danke" in b for b in chat.bodies))
            assert chat.bodies[-1].startswith("Danke! Deine Frage ist angekommen.")
            sent = len(chat.bodies)
            bernd.say("/Question When will the slides be online?")
            anna.say("Hallo zusammen!")  # ordinary chat: ignored
            anna.say("/frage Gibt es die Folien als PDF?")
            await wait_for(lambda: any("2 Fragen" in b for b in chat.bodies[sent:]))
            listing = await rig.get("/api/events/kirmes/questions?sort=new")
            questions = listing["questions"]
            assert len(questions) == 3
            assert all(q["source"] == "hubs" and q["room"] == "daten" for q in questions)
            by_text = {q["text"]: q for q in questions}
            assert by_text["Wann kommt das offene Datenportal?"]["authors"] == ["Anna"]
            assert by_text["When will the slides be online?"]["authors"] == ["Bernd"]
            assert "Hallo zusammen!" not in by_text

            # The rate limit (3 per minute) turns into a short reply, not into a question.
            for n in range(3):
                anna.say(f"/frage Noch eine Frage Nummer {n}?")
            await wait_for(lambda: any("langsamer" in b for b in chat.bodies))
            listing = await rig.get("/api/events/kirmes/questions")
            assert len(listing["questions"]) == 4

            # Socket lost: counts are marked stale (kept), then fresh after the rejoin.
            dora = sim.add_avatar(hub.hub_id, "Dora")
            await attendance.until("daten", lambda r: r.get("hubs_lobby") == 2)
            await sim.drop_all_sockets()
            dora.leave()
            stale = await attendance.until("daten", lambda r: r.get("stale") is True)
            assert stale["hubs_room"] == 2
            fresh = await attendance.until(
                "daten", lambda r: not r.get("stale") and r.get("hubs_lobby") == 1
            )
            assert fresh["hubs_room"] == 2 and fresh["hands"] == 1
            assert not bridge.stale_rooms.of("kirmes")

            # People leave: their entries go.
            anna.leave()
            await attendance.until("daten", lambda r: r.get("hubs_room") == 1)
        finally:
            await page.close()


async def test_rooms_are_left_when_the_link_goes(tmp_path: Path) -> None:
    async with make_rig(tmp_path) as rig:
        sim, hub, bridge = rig.sim, rig.hub, rig.bridge
        await wait_for(lambda: hub.hub_id in bridge.client.rooms)
        sim.add_avatar(hub.hub_id, "Anna")
        broker = rig.server.app[BROKER]

        async def hubs_entries() -> int:
            return sum(e.source == "hubs" for e in await broker.presence_list("kirmes"))

        deadline = time.monotonic() + 8.0
        while await hubs_entries() != 1:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)

        def unlinked(e: Event, at: datetime) -> Event:
            return set_room_hubs_link(e, "daten", None, now=at)

        await rig.server.app[CALENDAR].change("kirmes", unlinked)
        await bridge.sync()
        assert hub.hub_id not in bridge.client.rooms and not bridge.rooms
        assert await hubs_entries() == 0
