"""Provisioning through the token GraphQL API (PROTOCOL.md §5), against the simulator."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from hubs_bridge.hubs.sim_graphql import add_api_token
from hubs_bridge.scenes.urls import glb_url
from hubs_bridge.web.keys import SCENES
from tests.harness.provision import PUBLIC, TIMEOUT, harness, simulator

TOKEN = "api-token-with-write-rooms"


async def test_rooms_are_created_with_the_token_api_once(tmp_path: Path) -> None:
    # The REST creation limit is 60 s: a room made over POST /api/v1/hubs would fail.
    async with (
        simulator(create_interval_s=60, public_api_access=True) as sim,
        harness(tmp_path, sim.base_url, api_token=TOKEN) as h,
    ):
        add_api_token(sim, TOKEN)
        rooms = await asyncio.wait_for(h.provision("open"), 15)
        assert [(r["room"], r["state"]) for r in rooms] == [
            ("info", "created"),
            ("daten", "created"),
        ]
        assert len(sim.hubs) == 2
        info = sim.hubs[rooms[0]["hub_id"]]
        assert info.name == "Digitale Kirmes – Info"
        assert info.room_size == 20
        assert info.scene_url == glb_url(PUBLIC, h.server.app[SCENES].scenes["foyer"])
        # room_types.ex has no Room.url: the link is the server URL and the room id.
        assert rooms[0]["url"] == f"{sim.base_url}/{info.hub_id}"

        again = await asyncio.wait_for(h.provision("open"), 15)
        assert [r["state"] for r in again] == ["exists", "exists"]
        assert len(sim.hubs) == 2


async def test_a_wrong_token_or_scope_is_a_clear_refusal(tmp_path: Path) -> None:
    async with (
        simulator(public_api_access=True) as sim,
        harness(tmp_path, sim.base_url, api_token="not-a-token") as h,
    ):
        # A token Reticulum does not know: HTTP 200 with errors (add_absinthe_context.ex).
        rooms = await asyncio.wait_for(h.provision("open"), 15)
        assert [r["state"] for r in rooms] == ["failed", "failed"]
        assert "refused the API token (invalid_token)" in rooms[0]["message"]

        add_api_token(sim, "not-a-token", scopes=("read_rooms",))
        rooms = await asyncio.wait_for(h.provision("open"), 15)
        assert "invalid_credentials" in rooms[0]["message"]
        assert len(sim.hubs) == 0


async def test_the_token_api_switched_off_is_a_clear_refusal(tmp_path: Path) -> None:
    # RetWeb.Plugs.RequirePublicApiAccess: features|public_api_access off (the default): 404.
    async with simulator() as sim, harness(tmp_path, sim.base_url, api_token=TOKEN) as h:
        add_api_token(sim, TOKEN)
        rooms = await asyncio.wait_for(h.provision("open"), 15)
        assert [r["state"] for r in rooms] == ["failed", "failed"]
        assert "public_api_access is off" in rooms[0]["message"]


async def test_simulator_speaks_graphql(tmp_path: Path) -> None:
    async with simulator() as sim, aiohttp.ClientSession(timeout=TIMEOUT) as http:
        url = f"{sim.base_url}/api/v2_alpha"
        add_api_token(sim, TOKEN)
        # features|public_api_access is off until an admin switches it on: 404, empty body.
        resp = await http.post(url, json={"query": "mutation { createRoom { id } }"})
        assert (resp.status, await resp.text()) == (404, "")
        sim.public_api_access = True
        resp = await http.post(url, json={"query": "mutation { createRoom { id } }"})
        body = await resp.json()
        assert resp.status == 200 and body["data"] == {"createRoom": None}
        assert body["errors"][0]["type"] == "api_access_token_not_found"
        auth = {"Authorization": f"Bearer {TOKEN}"}
        query = 'mutation { r: createRoom(name: "Saal", roomSize: 50) { id name roomSize } }'
        resp = await http.post(url, json={"query": query}, headers=auth)
        room = (await resp.json())["data"]["r"]
        assert room["name"] == "Saal" and room["roomSize"] == 50
        query = 'mutation { createRoom(name: "Saal", roomSize: 99) { id } }'
        body = await (await http.post(url, json={"query": query}, headers=auth)).json()
        assert body["data"] == {"createRoom": None}  # not clamped: refused
        assert body["errors"][0]["message"].startswith("room_size: ")
        update = (
            'mutation Up($id: String!) { updateRoom(id: $id, sceneUrl: "https://x/s.glb") { id } }'
        )
        resp = await http.post(
            url, json={"query": update, "variables": {"id": room["id"]}}, headers=auth
        )
        assert (await resp.json())["data"]["updateRoom"] == {"id": room["id"]}
        assert sim.hubs[room["id"]].scene_url == "https://x/s.glb"
        resp = await http.post(
            url, json={"query": update, "variables": {"id": "nope"}}, headers=auth
        )
        body = await resp.json()
        assert body["data"]["updateRoom"] is None
        assert body["errors"][0]["message"] == "Cannot find room with id: nope"
