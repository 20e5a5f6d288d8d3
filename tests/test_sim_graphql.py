"""The simulator's token GraphQL API executes Reticulum's schema (reticulum.graphql) with
Reticulum's rules (handle_api_token_auth_errors.ex, can_credentials.ex, rooms.ex, hub.ex)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from websockets.asyncio.client import connect

from hubs_bridge.hubs.sim_graphql import add_api_token
from hubs_bridge.hubs.simulator import HubsSimulator
from tests.harness.phx_client import WAIT, Phx

APP = "app-token"


@pytest.fixture
async def sim() -> AsyncIterator[HubsSimulator]:
    async with HubsSimulator(public_api_access=True) as simulator:
        add_api_token(simulator, APP)
        yield simulator


async def gql(
    sim: HubsSimulator,
    query: str,
    token: str | None = APP,
    variables: dict[str, Any] | None = None,
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{sim.base_url}/api/v2_alpha",
            json={"query": query, "variables": variables},
            headers=headers,
        ) as resp,
    ):
        return resp.status, (await resp.json() if resp.status == 200 else await resp.text())


CREATE = 'mutation { createRoom(name: "Saal") { id name creatorAssignmentToken } }'


async def test_public_api_access_off_is_404_with_an_empty_body() -> None:
    sim = HubsSimulator()  # features|public_api_access is off by default
    await sim.start(0)
    try:
        add_api_token(sim, APP)
        assert await gql(sim, CREATE) == (404, "")
    finally:
        await sim.stop()


async def test_missing_token_is_answered_with_200_and_an_error_per_field(
    sim: HubsSimulator,
) -> None:
    status, body = await gql(sim, CREATE, token=None)
    assert status == 200
    assert body["data"] == {"createRoom": None}
    [error] = body["errors"]
    assert error["type"] == "api_access_token_not_found"
    assert error["message"] == (
        "Failed to find api access token when searching for header "
        "'Authorization: Bearer <your_api_access_token>'"
    )
    assert error["path"] == ["createRoom"] and error["locations"] == [{"line": 1, "column": 12}]
    assert not sim.hubs


async def test_unknown_token_is_invalid_token(sim: HubsSimulator) -> None:
    status, body = await gql(sim, CREATE, token="nope")
    assert status == 200 and body["data"] == {"createRoom": None}
    assert body["errors"][0]["type"] == "invalid_token"
    assert body["errors"][0]["message"] == "Invalid token error. Could not find credentials."


async def test_missing_write_scope_is_invalid_credentials(sim: HubsSimulator) -> None:
    add_api_token(sim, "reader", scopes=("read_rooms",))
    status, body = await gql(sim, CREATE, token="reader")
    assert status == 200 and body["data"] == {"createRoom": None}
    assert body["errors"][0]["message"] == "invalid_credentials"
    assert not sim.hubs


async def test_room_has_no_url_field(sim: HubsSimulator) -> None:
    status, body = await gql(sim, 'mutation { createRoom(name: "A") { id url } }')
    assert status == 200 and "data" not in body
    assert "Cannot query field" in body["errors"][0]["message"]
    assert not sim.hubs


async def test_update_room_id_is_a_string_not_an_id(sim: HubsSimulator) -> None:
    query = "mutation U($id: ID!) { updateRoom(id: $id) { id } }"
    status, body = await gql(sim, query, variables={"id": "x"})
    assert status == 200 and "data" not in body and body["errors"]


async def test_app_token_rooms_have_no_creator_and_a_creator_assignment_token(
    sim: HubsSimulator,
) -> None:
    _, body = await gql(sim, CREATE)
    room = body["data"]["createRoom"]
    assert room["name"] == "Saal" and room["creatorAssignmentToken"]
    hub = sim.hubs[room["id"]]
    assert hub.creator_account_id is None
    assert hub.creator_assignment_token == room["creatorAssignmentToken"]
    assert hub.scene is None  # Hub.create_room attaches no default listing


async def test_account_token_makes_its_account_the_creator(sim: HubsSimulator) -> None:
    account = sim.add_account("bridge")
    add_api_token(sim, "acct", account=account.account_id)
    _, body = await gql(sim, CREATE, token="acct")
    room = body["data"]["createRoom"]
    assert room["creatorAssignmentToken"] is None
    assert sim.hubs[room["id"]].creator_account_id == account.account_id
    _, body = await gql(sim, "{ myRooms { totalEntries entries { id } } }", token="acct")
    assert body["data"]["myRooms"] == {"totalEntries": 1, "entries": [{"id": room["id"]}]}
    _, body = await gql(sim, "{ myRooms { totalEntries } }")
    assert body["errors"][0]["type"] == "not_implemented"


async def test_invalid_changeset_gives_an_error_per_field(sim: HubsSimulator) -> None:
    query = 'mutation { createRoom(name: "%s", roomSize: 51) { id } }' % ("x" * 65)
    status, body = await gql(sim, query)
    assert status == 200 and body["data"] == {"createRoom": None}
    assert [e["message"] for e in body["errors"]] == [
        "name: should be at most %{count} character(s)",
        "room_size: must be less than or equal to %{number}",
    ]
    assert not sim.hubs


async def test_scene_url_on_another_host_becomes_the_bundle_url(sim: HubsSimulator) -> None:
    query = """mutation { createRoom(name: "A", sceneUrl: "https://cdn.example/a.glb",
                 userData: "{\\"k\\": 1}") {
        id defaultEnvironmentGltfBundleUrl scene { __typename } userData entryMode
        memberPermissions { voiceChat fly } } }"""
    _, body = await gql(sim, query)
    room = body["data"]["createRoom"]
    assert room["defaultEnvironmentGltfBundleUrl"] == "https://cdn.example/a.glb"
    assert room["scene"] is None and room["userData"] == {"k": 1}
    assert room["entryMode"] == "allow"
    assert room["memberPermissions"] == {"voiceChat": True, "fly": False}
    listing = next(s for s in sim.scenes.values() if s.kind == "scene_listing")
    query = 'mutation U($u: String) {{ updateRoom(id: "{}", sceneUrl: $u) {{ scene {{ __typename ' \
            "... on SceneListing {{ id }} }} }} }}".format(room["id"])  # fmt: skip
    _, body = await gql(sim, query, variables={"u": f"{sim.base_url}/scenes/{listing.scene_id}/x"})
    assert body["data"]["updateRoom"]["scene"] == {
        "__typename": "SceneListing",
        "id": listing.scene_id,
    }


async def test_update_room_broadcasts_hub_refresh_with_stale_fields(sim: HubsSimulator) -> None:
    hub = sim.create_hub("Room", scene_id="s")
    async with connect(sim.socket_url, open_timeout=WAIT) as ws:
        client = Phx(ws)
        await client.join(hub.hub_id)
        await client.tracked()
        query = f'mutation {{ updateRoom(id: "{hub.hub_id}", name: "Neu", roomSize: 10) {{ id }} }}'
        _, body = await gql(sim, query)
        assert body["data"]["updateRoom"] == {"id": hub.hub_id}
        refresh = await client.expect("hub_refresh")
        assert refresh.payload["stale_fields"] == ["name", "room_size"]
        assert refresh.payload["hubs"][0]["name"] == "Neu" and "session_id" not in refresh.payload
    _, body = await gql(sim, 'mutation { updateRoom(id: "nope") { id } }')
    assert body["errors"][0]["message"] == "Cannot find room with id: nope"


async def test_account_token_may_update_only_its_rooms(sim: HubsSimulator) -> None:
    account = sim.add_account("someone")
    add_api_token(sim, "acct", account=account)
    hub = sim.create_hub("Not theirs", scene_id="s")
    _, body = await gql(sim, f'mutation {{ updateRoom(id: "{hub.hub_id}", name: "X") {{ id }} }}',
                        token="acct")  # fmt: skip
    assert body["errors"][0]["message"] == "invalid_credentials" and hub.name == "Not theirs"
