"""Uploaded scenes in Hubs rooms: provisioning against the simulator hands Reticulum the
uploaded version's content-addressed URL, and a room keeps that version until staff move it."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

from hubs_bridge.hubs.provision import provision_twin
from hubs_bridge.hubs.simulator import HubsSimulator
from hubs_bridge.web.hubs_services import HUBS_API
from hubs_bridge.web.keys import CALENDAR, SCENES, SETTINGS
from tests.harness.provision import AUTH, PUBLIC, STAFF, Harness, harness, simulator
from tests.harness.scene_uploads import json_of, upload, variant


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def _upload(h: Harness, slug: str, glb: bytes) -> dict[str, Any]:
    body: dict[str, Any] = await json_of(
        await upload(h.http, h.url("").rstrip("/"), slug, glb, token=STAFF), 201
    )
    return body


async def _twin_url(h: Harness, sim: HubsSimulator, room: str) -> str | None:
    """Make one more overflow twin of the room of event ``open``: its scene URL in Hubs."""
    app = h.server.app
    event = await app[CALENDAR].get("open")
    found = event.room(room)
    assert found is not None
    api = app[HUBS_API]
    assert api is not None
    link = await provision_twin(app[CALENDAR], app[SCENES], app[SETTINGS], api, event, found)
    return sim.hubs[link.hub_id].gltf_bundle_url


async def test_provisioning_uses_the_uploaded_versions_url(tmp_path: Path) -> None:
    async with simulator() as sim, harness(tmp_path, sim.base_url) as h:
        foyer_v2, markt = variant("foyer v2"), variant("markt")
        assert (await _upload(h, "foyer", foyer_v2))["number"] == 2
        assert (await _upload(h, "markt", markt))["number"] == 1
        room = {"slug": "markt", "title": "Markt", "scene": "markt"}
        resp = await h.http.post(h.url("/api/events/open/rooms"), json=room, headers=AUTH)
        await json_of(resp, 201)

        rooms = await asyncio.wait_for(h.provision("open"), 15)
        assert [r["state"] for r in rooms] == ["created"] * 3
        hubs = {r["room"]: sim.hubs[r["hub_id"]] for r in rooms}
        assert hubs["info"].gltf_bundle_url == f"{PUBLIC}/scenes/{digest(foyer_v2)}.glb"
        assert hubs["markt"].gltf_bundle_url == f"{PUBLIC}/scenes/{digest(markt)}.glb"
        # The URL serves exactly those bytes (Reticulum hands it to every Hubs client).
        resp = await h.http.get(h.url(f"/scenes/{digest(markt)}.glb"))
        assert resp.status == 200 and await resp.read() == markt

        # The rooms remember their version: a newer upload does not change them.
        foyer_v3 = variant("foyer v3")
        await _upload(h, "foyer", foyer_v3)
        event = await h.server.app[CALENDAR].get("open")
        info = event.room("info")
        assert info is not None and info.scene_sha256 == digest(foyer_v2)
        scene = await json_of(await h.http.get(h.url("/api/scenes/foyer")), 200)
        uses = {(u["event"], u["room"]): u for u in scene["used_by"]}
        assert uses[("open", "info")]["version"] == 2
        assert uses[("open", "info")]["provisioned"] is True
        assert uses[("later", "info")]["version"] is None  # not provisioned: takes the latest
        assert await _twin_url(h, sim, "info") == f"{PUBLIC}/scenes/{digest(foyer_v2)}.glb"

        # Staff move the room to the latest version: the Hubs rooms made from now on get it.
        moved = await json_of(
            await h.http.put(
                h.url("/api/events/open/rooms/info/scene"), json={"version": None}, headers=AUTH
            ),
            200,
        )
        assert moved["scene_sha256"] == digest(foyer_v3)
        assert await _twin_url(h, sim, "info") == f"{PUBLIC}/scenes/{digest(foyer_v3)}.glb"
        # Version 2 stays servable: the room's first Hubs room still shows it.
        resp = await h.http.get(h.url(f"/scenes/{digest(foyer_v2)}.glb"))
        assert resp.status == 200
        await resp.read()
