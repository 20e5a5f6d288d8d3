"""Provisioning Hubs rooms over HTTP against the simulator, and the /go doors."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from hubs_bridge.hubs.provision import provision_event
from hubs_bridge.hubs.rooms_api import HubsApi
from hubs_bridge.hubs.simulator import HubsSimulator
from hubs_bridge.web.app import create_app
from hubs_bridge.web.hubs_services import HUBS_API
from hubs_bridge.web.keys import CALENDAR, SCENES, SETTINGS
from hubs_bridge.web.scenes import glb_url
from tests.conftest import free_port, make_settings
from tests.harness.provision import (
    AUTH,
    LATER,
    OPEN,
    PUBLIC,
    STAFF,
    TIMEOUT,
    Harness,
    event_body,
    harness,
    now_whole_seconds,
    simulator,
)


async def test_provision_creates_one_hub_per_room_once(tmp_path: Path) -> None:
    async with simulator() as sim, harness(tmp_path, sim.base_url) as h:
        rooms = await asyncio.wait_for(h.provision("open"), 15)
        assert [(r["room"], r["state"]) for r in rooms] == [
            ("info", "created"),
            ("daten", "created"),
        ]
        assert len(sim.hubs) == 2
        library = h.server.app[SCENES]
        by_name = {hub.name: hub for hub in sim.hubs.values()}
        info = by_name["Digitale Kirmes – Info"]
        # POST /api/v1/hubs: the bundle URL is kept, but Reticulum attaches a default
        # scene listing (Hub.create_new_room), which the result reports.
        assert info.gltf_bundle_url == glb_url(PUBLIC, library.scenes["foyer"])
        assert info.scene is not None
        assert info.room_size == 20
        daten = by_name["Digitale Kirmes – Offene Daten"]
        assert daten.gltf_bundle_url == glb_url(PUBLIC, library.scenes["kirmes-stand"])
        assert [r["scene"] for r in rooms] == ["default_listing", "default_listing"]

        event = await h.server.app[CALENDAR].get("open")
        links = {room.slug: room.hubs for room in event.rooms}
        assert links["info"] is not None and links["info"].hub_id == info.hub_id
        assert links["info"].url == rooms[0]["url"]

        again = await asyncio.wait_for(h.provision("open"), 15)
        assert [r["state"] for r in again] == ["exists", "exists"]
        assert [r["hub_id"] for r in again] == [r["hub_id"] for r in rooms]
        assert len(sim.hubs) == 2


async def test_provision_needs_staff(tmp_path: Path) -> None:
    async with simulator() as sim, harness(tmp_path, sim.base_url) as h:
        resp = await h.http.post(h.url("/api/events/open/provision"))
        assert resp.status == 401
        resp = await h.http.post(h.url("/api/events/nope/provision"), headers=AUTH)
        assert resp.status == 404
        assert len(sim.hubs) == 0


async def test_rate_limit_is_retried(tmp_path: Path) -> None:
    # The simulator's window is 0.3 s; the bridge's pacer asks every 0.05 s: refused
    # with 403 Forbidden, retried in a later window.
    async with simulator(create_interval_s=0.3) as sim, harness(tmp_path, sim.base_url) as h:
        rooms = await asyncio.wait_for(h.provision("open"), 15)
        assert [r["state"] for r in rooms] == ["created", "created"]
        assert len(sim.hubs) == 2


async def test_rate_limit_that_persists_fails_that_room_only(tmp_path: Path) -> None:
    async with simulator(create_interval_s=60) as sim, harness(tmp_path, sim.base_url) as h:
        app = h.server.app
        seen: list[tuple[str, str, str]] = []
        rooms = await asyncio.wait_for(
            provision_event(
                app[CALENDAR],
                app[SCENES],
                app[SETTINGS],
                _api(app),
                "open",
                progress=lambda *args: seen.append(args),
            ),
            15,
        )
        assert [r.state for r in rooms] == ["created", "failed"]
        assert "throttled by the Hubs server (403 Forbidden)" in rooms[1].message
        assert [(room, state) for room, state, _ in seen] == [
            ("info", "created"),
            ("daten", "failed"),
        ]
        assert len(sim.hubs) == 1
        event = await app[CALENDAR].get("open")
        assert event.rooms[1].hubs is None


async def test_hubs_down_is_a_clear_error_per_room(tmp_path: Path) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    async with harness(tmp_path, down) as h:
        rooms = await asyncio.wait_for(h.provision("open"), 15)
        assert [r["state"] for r in rooms] == ["failed", "failed"]
        for room in rooms:
            assert "unreachable" in room["message"] and down in room["message"]
        resp = await h.go("open", "info")
        assert resp.status == 409
        assert (await resp.json())["code"] == "not_provisioned"


async def test_doors(tmp_path: Path) -> None:
    async with simulator() as sim, harness(tmp_path, sim.base_url) as h:
        resp = await h.go("open", "info")
        assert resp.status == 409 and (await resp.json())["code"] == "not_provisioned"

        rooms = {r["room"]: r for r in await asyncio.wait_for(h.provision("open"), 15)}
        resp = await h.go("open", "info")
        assert resp.status == 302
        assert resp.headers["Location"] == rooms["info"]["url"]
        assert rooms["info"]["url"].startswith(sim.base_url)

        await asyncio.wait_for(h.provision("later"), 15)
        resp = await h.go("later", "info")
        assert resp.status == 409
        body = await resp.json()
        assert body["code"] == "doors_closed"
        opens_at = datetime.fromisoformat(body["opens_at"])
        assert opens_at == LATER[1] - timedelta(minutes=15)

        await asyncio.wait_for(h.provision("past"), 15)
        resp = await h.go("past", "info")
        assert resp.status == 410 and (await resp.json())["code"] == "event_ended"

        resp = await h.go("open", "nope")
        assert resp.status == 404
        resp = await h.go("nope", "info")
        assert resp.status == 404


async def test_public_url_is_required(tmp_path: Path) -> None:
    async with simulator() as sim:
        settings = make_settings(tmp_path, staff_token=STAFF, hubs={"url": sim.base_url})
        app = await create_app(settings)
        server = TestServer(app)
        await server.start_server()
        try:
            async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
                await http.post(
                    server.make_url("/api/events"), json=event_body(*OPEN), headers=AUTH
                )
                resp = await http.post(server.make_url("/api/events/open/provision"), headers=AUTH)
                assert resp.status == 409
                assert (await resp.json())["code"] == "public_url_not_configured"
        finally:
            await asyncio.wait_for(server.close(), 10)
        assert len(sim.hubs) == 0


async def test_provision_command_shows_progress(tmp_path: Path) -> None:
    import sys

    from hubs_bridge.hubs.simulator import HubsSimulator
    from tests.conftest import REPO
    from tests.harness.server_process import server_env

    sim = HubsSimulator(create_interval_s=0.0)
    await sim.start()
    try:
        env = server_env(
            tmp_path / "cli-data",
            HUBS_BRIDGE_HUBS__URL=sim.base_url,
            HUBS_BRIDGE_PUBLIC_URL="http://127.0.0.1:9",
            HUBS_BRIDGE_HUBS__CREATE_INTERVAL_S="0.05",
        )
        # The example events, as a first `hubs-bridge serve` would have seeded them.
        from hubs_bridge.calendar_service import CalendarService
        from hubs_bridge.scenes.library import load_library
        from hubs_bridge.seed import seed_events
        from hubs_bridge.settings import LimitSettings, Settings
        from hubs_bridge.store import open_store

        seeded = Settings(data_dir=tmp_path / "cli-data", seed_dir=REPO / "config" / "events")
        store = await open_store(seeded)
        library = load_library(REPO / "room_scenes", max_bytes=LimitSettings().max_scene_bytes)
        await seed_events(
            CalendarService(store, lambda: library.scenes.keys(), LimitSettings()),
            REPO / "config" / "events",
        )
        await store.close()
        for expected in ("created", "exists"):
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "hubs_bridge",
                "provision",
                "offene-sprechstunde",
                env=env,
                cwd=REPO,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            assert proc.returncode == 0, err.decode()
            assert out.decode().startswith(f"sprechstunde: {expected}")
            assert "1 of 1 rooms ready" in err.decode()
        assert len(sim.hubs) == 1
    finally:
        await sim.stop()


ADMIN = "admin-key-of-the-simulator"


def _api(app: web.Application) -> HubsApi:
    api = app[HUBS_API]
    assert api is not None
    return api


async def _provision_direct(h: Harness, slug: str) -> list[Any]:
    app = h.server.app
    return await asyncio.wait_for(
        provision_event(app[CALENDAR], app[SCENES], app[SETTINGS], _api(app), slug, progress=None),
        15,
    )


async def test_a_link_that_cannot_be_stored_closes_its_room_and_spares_the_others(
    tmp_path: Path, monkeypatch: Any
) -> None:
    from hubs_bridge.errors import StoreUnavailable

    sim = HubsSimulator(admin_key=ADMIN, create_interval_s=0.0)
    await sim.start()
    try:
        async with harness(tmp_path, sim.base_url, admin_access_key=ADMIN) as h:
            calendar = h.server.app[CALENDAR]
            change = calendar.change
            calls = 0

            async def flaky(slug: str, fn: Any) -> Any:
                nonlocal calls
                calls += 1
                if calls == 1:
                    raise StoreUnavailable("the store is away")
                return await change(slug, fn)

            monkeypatch.setattr(calendar, "change", flaky)
            info, daten = await _provision_direct(h, "open")
            assert info.state == "failed" and "could not be stored" in info.message
            assert "closed again" in info.message
            assert info.hub_id is not None and sim.hubs[info.hub_id].entry_mode == "deny"
            assert daten.state == "created"
            event = await calendar.get("open")
            assert event.rooms[0].hubs is None and event.rooms[1].hubs is not None
    finally:
        await sim.stop()


async def test_a_link_stored_meanwhile_is_kept(tmp_path: Path, monkeypatch: Any) -> None:
    from hubs_bridge.core.calendar import HubsRoomLink
    from hubs_bridge.core.event_commands import set_room_hubs_link

    sim = HubsSimulator(admin_key=ADMIN, create_interval_s=0.0)
    await sim.start()
    try:
        async with harness(tmp_path, sim.base_url, admin_access_key=ADMIN) as h:
            calendar = h.server.app[CALENDAR]
            change = calendar.change
            theirs = HubsRoomLink(
                hub_id="theirs", url=f"{sim.base_url}/theirs", provisioned_at=now_whole_seconds()
            )

            async def racing(slug: str, fn: Any) -> Any:
                # Another provisioner (the command) stored the room's link first.
                event = await calendar.get(slug)
                if event.rooms[0].hubs is None:
                    await change(
                        slug,
                        lambda e, now: set_room_hubs_link(e, "info", theirs, now=now),
                    )
                return await change(slug, fn)

            monkeypatch.setattr(calendar, "change", racing)
            info, daten = await _provision_direct(h, "open")
            assert (info.state, info.hub_id, info.url) == ("exists", "theirs", theirs.url)
            assert daten.state == "created"
            event = await calendar.get("open")
            assert event.rooms[0].hubs == theirs
            # The Hubs room made in vain is closed again.
            spare = [hub for hub in sim.hubs.values() if hub.hub_id != daten.hub_id]
            assert [hub.entry_mode for hub in spare] == ["deny"]
    finally:
        await sim.stop()
