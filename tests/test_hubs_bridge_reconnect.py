"""The bridge's connection troubles and a reopened event, end to end against the simulator.

- The server kicks the bridge's own session: the room's counts are marked
  stale (kept as last known), the bridge reconnects with its session token
  and rejoins, and the counts are right again.
- The server stops answering heartbeats: the bridge closes the socket itself,
  marks the counts stale, opens a new socket, and settles once heartbeats are
  answered again.
- An event that ended (its rooms deleted by the closer) is reopened and
  provisioned again: fresh Hubs rooms, ``/go`` into them, the bridge in them,
  the old ones left closed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from hubs_bridge.hubs import scheduler
from hubs_bridge.hubs.sim_crowd import Avatar
from hubs_bridge.hubs.simulator import HubsSimulator
from hubs_bridge.web.keys import BROKER, CALENDAR
from tests.harness.hubs_rig import Attendance, Rig, event_body, make_rig
from tests.harness.waiting import eventually
from tests.harness.ws_client import WsClient

ADMIN = "admin-key-of-the-simulator-0123"
PUBLIC = "http://127.0.0.1:9"  # only named in the rooms' scene URLs
HEARTBEAT_S = 0.3


async def _heartbeats(sim: HubsSimulator, count: int) -> None:
    """Wait until the simulator has answered ``count`` more heartbeats: that many
    heartbeat intervals of the bridge have passed, measured by the bridge itself."""
    target = sim.heartbeats_answered + count
    await eventually(
        lambda: sim.heartbeats_answered >= target,
        what=f"{count} heartbeats answered",
        timeout=10 + count * HEARTBEAT_S,
    )


async def _two_inside(rig: Rig) -> tuple[Attendance, WsClient, Avatar]:
    """A page watching ``kirmes``, two people inside ``daten``; the page and Bernd."""
    sim, hub = rig.sim, rig.hub
    await rig.joined()
    page = await WsClient.connect(rig.http, rig.url("/ws"))
    await page.hello("kirmes")
    attendance = Attendance(page)
    anna = sim.add_avatar(hub.hub_id, "Anna")
    bernd = sim.add_avatar(hub.hub_id, "Bernd")
    anna.enter()
    bernd.enter()
    counts = await attendance.until(
        "daten", lambda r: r.get("hubs_room") == 2 and not r.get("stale")
    )
    assert counts.get("hubs_lobby", 0) == 0  # the bridge itself is never counted
    return attendance, page, bernd


async def _bridge_states(rig: Rig, slug: str) -> dict[str, str]:
    """``hub_id -> bridge state`` of ``GET /api/events/{slug}/hubs``, freshly published."""
    await rig.bridge.sync()
    body = await rig.send("GET", f"/api/events/{slug}/hubs")
    return {r["hub_id"]: r["bridge"] for r in body["rooms"]}


async def test_kicked_bridge_marks_stale_rejoins_and_counts_right(tmp_path: Path) -> None:
    async with make_rig(tmp_path, chat_interval_s=None, public_url=PUBLIC) as rig:
        sim, hub, bridge = rig.sim, rig.hub, rig.bridge
        attendance, page, bernd = await _two_inside(rig)
        try:
            [bot] = sim.bot_sessions(hub.hub_id)  # the session the server gave the bridge
            opened = sim.sockets_opened

            assert await sim.kick(bot)
            await eventually(lambda: bot not in sim.sessions(hub.hub_id), what="the kick")
            bernd.leave()  # Bernd leaves while the bridge is out

            stale = await attendance.until("daten", lambda r: r.get("stale") is True)
            assert stale["hubs_room"] == 2  # the last known count, marked stale
            assert "daten" in bridge.stale_rooms.of("kirmes")

            fresh = await attendance.until(
                "daten", lambda r: not r.get("stale") and r.get("hubs_room") == 1
            )
            assert fresh.get("hubs_lobby", 0) == 0
            assert not bridge.stale_rooms.of("kirmes")
            # A new socket, the same session (the session token was reused), one bot.
            assert sim.sockets_opened == opened + 1
            assert sim.bot_sessions(hub.hub_id) == [bot]
            assert bridge.client.connected
            assert (await _bridge_states(rig, "kirmes"))[hub.hub_id] == "joined"
            entries = await rig.server.app[BROKER].presence_list("kirmes")
            assert sorted(str(e.name) for e in entries if e.source == "hubs") == ["Anna"]
        finally:
            await page.close()


async def test_unanswered_heartbeats_reconnect_until_answered(tmp_path: Path) -> None:
    options = {"heartbeat_interval": HEARTBEAT_S}
    async with make_rig(
        tmp_path, chat_interval_s=None, public_url=PUBLIC, client_options=options
    ) as rig:
        sim, hub, bridge = rig.sim, rig.hub, rig.bridge
        attendance, page, bernd = await _two_inside(rig)
        try:
            [bot] = sim.bot_sessions(hub.hub_id)
            opened = sim.sockets_opened
            # Heartbeats go on being answered: the socket stays.
            await _heartbeats(sim, 4)
            assert sim.sockets_opened == opened and bridge.client.connected

            sim.answer_heartbeats = False
            # The bridge gives up on the silent socket itself (the server's idle
            # drop is 60 s away: heartbeats still reach it), and leaves the room.
            await eventually(
                lambda: bot not in sim.sessions(hub.hub_id), what="the bridge to leave", timeout=5
            )
            bernd.leave()  # Bernd leaves while the bridge is out
            stale = await attendance.until("daten", lambda r: r.get("stale") is True)
            assert stale["hubs_room"] == 2
            # It comes back on a new socket (and loses it again while unanswered).
            await eventually(lambda: sim.sockets_opened > opened, what="a new socket", timeout=5)

            sim.answer_heartbeats = True
            # A heartbeat sent before the switch may still be declared missed: let it.
            await _heartbeats(sim, 3)

            def settled() -> bool:
                presence = bridge.client.presence(hub.hub_id)
                return bridge.client.connected and presence is not None and not presence.stale

            await eventually(settled, what="the bridge connected with fresh presence")
            fresh = await attendance.until(
                "daten", lambda r: not r.get("stale") and r.get("hubs_room") == 1
            )
            assert fresh.get("hubs_lobby", 0) == 0
            sockets = sim.sockets_opened
            await _heartbeats(sim, 6)  # answered again: no more reconnects
            assert sim.sockets_opened == sockets and settled()
            assert not bridge.stale_rooms.of("kirmes")
            assert sim.bot_sessions(hub.hub_id) == [bot]
            assert (await _bridge_states(rig, "kirmes"))[hub.hub_id] == "joined"
        finally:
            await page.close()


async def _provision(rig: Rig, slug: str) -> dict[str, dict[str, Any]]:
    """Run a provisioning job of the event; its rooms' results by room slug."""
    started = await rig.send("POST", f"/api/events/{slug}/provision")

    async def ended() -> dict[str, Any] | None:
        status: dict[str, Any] = await rig.send("GET", f"/api/events/{slug}/provision")
        return status if status["job"] == started["job"] and status["state"] != "running" else None

    status = await eventually(ended, what=f"the provisioning job of {slug} to end")
    assert status["state"] == "done", status
    return {r["room"]: r for r in status["rooms"]}


async def _go(rig: Rig, slug: str, room: str) -> aiohttp.ClientResponse:
    async with rig.http.get(rig.url(f"/go/{slug}/{room}"), allow_redirects=False) as resp:
        await resp.read()
        return resp


async def test_reopened_event_gets_fresh_rooms_and_the_bridge_joins_them(
    tmp_path: Path, monkeypatch: Any
) -> None:
    # The closer waits a grace after the end (for the bridge's goodbye); shorter here.
    monkeypatch.setattr(scheduler, "CLOSE_GRACE_S", 1.0)
    async with make_rig(
        tmp_path,
        chat_interval_s=None,
        public_url=PUBLIC,
        sim_options={"admin_key": ADMIN, "create_interval_s": 0.0},
        hubs={"admin_access_key": ADMIN, "close_interval_s": 0.1, "create_interval_s": 0.05},
    ) as rig:
        sim, bridge = rig.sim, rig.bridge
        now = datetime.now(UTC)
        await rig.send("POST", "/api/events", event_body("fest", now))

        first = await _provision(rig, "fest")
        assert {r["state"] for r in first.values()} == {"created"}
        old = {room: r["hub_id"] for room, r in first.items()}
        await eventually(
            lambda: all(bridge.client.presence(h) is not None for h in old.values()),
            what="presence of the first rooms",
        )
        await eventually(
            lambda: all(len(sim.bot_sessions(h)) == 1 for h in old.values()),
            what="the bridge in the first rooms",
        )
        resp = await _go(rig, "fest", "daten")
        assert resp.status == 302 and resp.headers["Location"] == first["daten"]["url"]
        goodbye = rig.chat(sim.hubs[old["daten"]])

        # The event ends: the bridge says goodbye and leaves, the closer deletes the rooms.
        await rig.send("PATCH", "/api/events/fest", {"ends_at": now.isoformat()})
        await eventually(
            lambda: all(sim.hubs[h].entry_mode == "deny" for h in old.values()),
            what="the first rooms closed",
        )
        await eventually(
            lambda: not set(old.values()) & set(bridge.rooms), what="the bridge out of them"
        )
        await eventually(
            lambda: not any(sim.bot_sessions(h) for h in old.values()),
            what="no bot session left in them",
        )
        assert any("beendet" in b for b in goodbye.bodies), goodbye.bodies
        event = await rig.server.app[CALENDAR].store.get_event("fest")
        assert event is not None and all(r.hubs and r.hubs.closed for r in event.rooms)
        assert (await _go(rig, "fest", "daten")).status == 410

        # Reopened: the closed links stay closed (Hubs cannot reopen a room) ...
        later = datetime.now(UTC) + timedelta(hours=1)
        await rig.send("PATCH", "/api/events/fest", {"ends_at": later.isoformat()})
        resp = await _go(rig, "fest", "daten")
        assert resp.status == 409
        await bridge.sync()
        assert not set(old.values()) & set(bridge.rooms)

        # ... and provisioning again makes fresh rooms, which /go and the bridge use.
        again = await _provision(rig, "fest")
        assert {r["state"] for r in again.values()} == {"created"}
        new = {room: r["hub_id"] for room, r in again.items()}
        assert not set(new.values()) & set(old.values())
        resp = await _go(rig, "fest", "daten")
        assert resp.status == 302 and resp.headers["Location"] == again["daten"]["url"]
        assert new["daten"] in resp.headers["Location"]

        def in_new_rooms() -> bool:
            for hub_id in new.values():
                presence = bridge.client.presence(hub_id)
                if hub_id not in bridge.rooms or presence is None or presence.stale:
                    return False
            return True

        await eventually(in_new_rooms, what="the bridge in the new rooms with fresh presence")
        assert all(len(sim.bot_sessions(h)) == 1 for h in new.values())
        states = await _bridge_states(rig, "fest")
        assert {states[h] for h in new.values()} == {"joined"}
        assert set(states) == set(new.values())  # the fresh links took the closed ones' place
        # The old rooms stay closed on the server, and nobody (not even the bridge) is in them.
        assert {sim.hubs[h].entry_mode for h in old.values()} == {"deny"}
        assert not any(sim.sessions(h) for h in old.values())
        assert {sim.hubs[h].entry_mode for h in new.values()} == {"allow"}
        # People in the new room are counted for the room.
        page = await WsClient.connect(rig.http, rig.url("/ws"))
        try:
            await page.hello("fest")
            attendance = Attendance(page)
            sim.add_avatar(new["daten"], "Anna").enter()
            counts = await attendance.until("daten", lambda r: r.get("hubs_room") == 1)
            assert not counts.get("stale")
        finally:
            await page.close()
