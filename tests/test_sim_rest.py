"""The simulator's HTTP API is as strict as Reticulum's (hub_controller.ex, rate_limit.ex,
header_authorization.ex, meta.ex), against a real server on port 0."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from hubs_bridge.hubs.simulator import HubsSimulator

ADMIN = "ADMIN-KEY"


class Clock:
    """A wall clock the test moves: the throttle's windows are ``int(now / period)``."""

    def __init__(self) -> None:
        self.now = 1_000_000.25

    def __call__(self) -> float:
        return self.now

    def next_window(self, period: float = 1.0) -> None:
        self.now = (int(self.now / period) + 1) * period + 0.01


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def sim(clock: Clock) -> AsyncIterator[HubsSimulator]:
    async with HubsSimulator(admin_key=ADMIN, clock=clock) as simulator:
        yield simulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call(
    http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
) -> tuple[int, str, str]:
    async with http.request(method, url, **kwargs) as resp:
        return resp.status, await resp.text(), resp.content_type


def hubs_url(sim: HubsSimulator, hub_id: str = "") -> str:
    return f"{sim.base_url}/api/v1/hubs" + (f"/{hub_id}" if hub_id else "")


def room(name: str = "Stand", **extra: Any) -> dict[str, Any]:
    return {"hub": {"name": name, **extra}}


async def test_meta_reports_the_internal_phx_port(http: aiohttp.ClientSession) -> None:
    sim = HubsSimulator(phx_port=4000)
    await sim.start(0)
    try:
        async with http.get(f"{sim.base_url}/api/v1/meta") as resp:
            body = await resp.json()
        assert body["phx_port"] == "4000" != str(sim.port)
        assert body["phx_host"] == "127.0.0.1"
    finally:
        await sim.stop()


async def test_throttle_is_one_request_per_window_shared_by_every_action(
    sim: HubsSimulator, http: aiohttp.ClientSession, clock: Clock
) -> None:
    status, _, _ = await call(http, "POST", hubs_url(sim), json=room())
    assert status == 200
    # A DELETE in the same window, from the same address: refused by PlugAttack.
    headers = {"x-ret-admin-access-key": ADMIN}
    status, text, ctype = await call(http, "DELETE", hubs_url(sim, "x"), headers=headers)
    assert (status, text, ctype) == (403, "Forbidden\n", "text/plain")
    status, text, _ = await call(http, "POST", hubs_url(sim), json=room())
    assert (status, text) == (403, "Forbidden\n")
    assert len(sim.hubs) == 1
    clock.next_window()
    status, _, _ = await call(http, "POST", hubs_url(sim), json=room())
    assert status == 200
    assert len(sim.hubs) == 2


async def test_graphql_is_not_throttled(sim: HubsSimulator, http: aiohttp.ClientSession) -> None:
    from hubs_bridge.hubs.sim_graphql import add_api_token

    sim.public_api_access = True
    add_api_token(sim, "T")
    auth = {"Authorization": "Bearer T"}
    for _ in range(3):
        async with http.post(
            f"{sim.base_url}/api/v2_alpha",
            json={"query": 'mutation { createRoom(name: "A") { id } }'},
            headers=auth,
        ) as resp:
            assert resp.status == 200
            assert (await resp.json())["data"]["createRoom"]["id"]


@pytest.mark.parametrize(
    ("hub", "status", "text"),
    [
        ({"name": "x" * 65}, 422, "invalid hub"),
        ({"name": "x" * 64}, 200, None),
        ({"name": "Saal", "room_size": 51}, 422, "invalid hub"),
        ({"name": "Saal", "room_size": 50}, 200, None),
        ({"name": "Saal", "room_size": -1}, 422, "invalid hub"),
        ({"name": ""}, 422, "invalid hub"),
        ({"name": 12}, 422, "invalid hub"),
    ],
)
async def test_create_validates_like_the_changeset(
    sim: HubsSimulator, http: aiohttp.ClientSession, hub: dict[str, Any], status: int,
    text: str | None,
) -> None:  # fmt: skip
    got, body, _ = await call(http, "POST", hubs_url(sim), json={"hub": hub})
    assert got == status
    if text is not None:
        assert body == text and not sim.hubs
    else:
        assert len(sim.hubs) == 1


async def test_create_without_hub_or_name_crashes_the_controller(
    sim: HubsSimulator, http: aiohttp.ClientSession, clock: Clock
) -> None:
    assert (await call(http, "POST", hubs_url(sim), json={"name": "x"}))[0] == 400
    clock.next_window()
    assert (await call(http, "POST", hubs_url(sim), json={"hub": {"room_size": 3}}))[0] == 500
    assert not sim.hubs


async def test_default_listing_without_scene_id_wins_over_the_bundle_url(
    sim: HubsSimulator, http: aiohttp.ClientSession
) -> None:
    body = room("Foyer", default_environment_gltf_bundle_url="https://cdn.example/foyer.glb")
    async with http.post(hubs_url(sim), json=body) as resp:
        created = await resp.json()
    assert set(created) == {"status", "hub_id", "url", "creator_assignment_token", "embed_token"}
    assert created["status"] == "ok" and created["creator_assignment_token"]
    hub = sim.hubs[created["hub_id"]]
    assert hub.creator_account_id is None
    assert hub.scene is not None and hub.scene.kind == "scene_listing" and hub.scene.default
    assert hub.gltf_bundle_url == "https://cdn.example/foyer.glb"
    wire = sim.hub_wire(hub.hub_id)
    assert wire["scene"]["type"] == "scene_listing" and "topics" not in wire
    assert hub.room_size == 24 and created["url"] == sim.hub_url(hub)


async def test_without_default_listings_the_bundle_url_is_shown(
    http: aiohttp.ClientSession,
) -> None:
    sim = HubsSimulator(default_listings=False)
    await sim.start(0)
    try:
        body = room("Foyer", default_environment_gltf_bundle_url="https://cdn.example/f.glb")
        async with http.post(hubs_url(sim), json=body) as resp:
            hub = sim.hubs[(await resp.json())["hub_id"]]
        wire = sim.hub_wire(hub.hub_id)
        assert "scene" not in wire and "embed_token" not in wire
        assert wire["topics"][0]["assets"][0]["src"] == "https://cdn.example/f.glb"
    finally:
        await sim.stop()


async def test_bearer_account_becomes_creator_and_bad_tokens_are_refused(
    sim: HubsSimulator, http: aiohttp.ClientSession, clock: Clock
) -> None:
    account = sim.add_account("bridge")
    auth = {"Authorization": f"bearer {account.token}"}
    async with http.post(hubs_url(sim), json=room(), headers=auth) as resp:
        created = await resp.json()
    assert created["creator_assignment_token"] is None
    assert sim.hubs[created["hub_id"]].creator_account_id == account.account_id
    clock.next_window()
    status, text, _ = await call(
        http, "POST", hubs_url(sim), json=room(), headers={"Authorization": "Bearer nope"}
    )
    assert (status, text) == (401, '{"error":"invalid_token"}')


async def test_disable_room_creation_lets_only_admins_create(
    http: aiohttp.ClientSession, clock: Clock
) -> None:
    sim = HubsSimulator(disable_room_creation=True, clock=clock)
    await sim.start(0)
    try:
        assert (await call(http, "POST", hubs_url(sim), json=room()))[:2] == (401, "unauthorized")
        clock.next_window()
        user = sim.add_account("user")
        headers = {"Authorization": f"bearer {user.token}"}
        status, text, _ = await call(http, "POST", hubs_url(sim), json=room(), headers=headers)
        assert (status, text) == (401, "unauthorized")
        clock.next_window()
        admin = sim.add_account("admin", admin=True)
        headers = {"Authorization": f"bearer {admin.token}"}
        assert (await call(http, "POST", hubs_url(sim), json=room(), headers=headers))[0] == 200
    finally:
        await sim.stop()


async def test_patch_needs_the_owner_and_validates(
    sim: HubsSimulator, http: aiohttp.ClientSession, clock: Clock
) -> None:
    owner, other = sim.add_account("owner"), sim.add_account("other")
    hub = sim.create_hub("Room", scene_id="s", creator=owner)
    url = hubs_url(sim, hub.hub_id)

    async def patch(body: dict[str, Any], token: str | None, hub_url: str = url) -> tuple[int, str]:
        clock.next_window()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        status, text, _ = await call(http, "PATCH", hub_url, json=body, headers=headers)
        return status, text

    assert await patch({"hub": {"name": "N"}}, None) == (401, '{"error":"unauthenticated"}')
    assert await patch({"hub": {"name": "N"}}, owner.token, hubs_url(sim, "nope")) == (
        404,
        "not found",
    )
    assert await patch({"hub": {"name": "N"}}, other.token) == (401, "You cannot update this hub")
    assert (await patch({"hub": {"name": "x" * 65}}, owner.token))[0] == 422
    assert (await patch({"hub": {"room_size": 51}}, owner.token))[0] == 422
    assert await patch({"hub": {"scene_id": "unknown"}}, owner.token) == (422, "scene not found")
    assert hub.name == "Room" and hub.room_size == 24
    status, _ = await patch({"hub": {"name": "Neu", "room_size": 30}}, owner.token)
    assert status == 200 and (hub.name, hub.room_size) == ("Neu", 30)


async def test_delete_without_a_configured_key_is_always_401(
    http: aiohttp.ClientSession, clock: Clock
) -> None:
    sim = HubsSimulator(clock=clock)  # stock CE: no header_value configured
    await sim.start(0)
    try:
        hub = sim.create_hub("Room", scene_id="s")
        for key in (None, "", "anything"):
            clock.next_window()
            headers = {} if key is None else {"x-ret-admin-access-key": key}
            status, text, _ = await call(http, "DELETE", hubs_url(sim, hub.hub_id), headers=headers)
            assert (status, text) == (401, "")
        assert hub.entry_mode == "allow"
    finally:
        await sim.stop()


async def test_delete_with_the_key_closes_silently_and_unknown_is_500(
    sim: HubsSimulator, http: aiohttp.ClientSession, clock: Clock
) -> None:
    hub = sim.create_hub("Room", scene_id="s")
    headers = {"x-ret-admin-access-key": ADMIN}
    assert (await call(http, "DELETE", hubs_url(sim, "nope123"), headers=headers))[0] == 500
    clock.next_window()
    wrong = {"x-ret-admin-access-key": "wrong"}
    assert (await call(http, "DELETE", hubs_url(sim, hub.hub_id), headers=wrong))[:2] == (401, "")
    clock.next_window()
    status, text, _ = await call(http, "DELETE", hubs_url(sim, hub.hub_id), headers=headers)
    assert (status, text) == (200, "OK") and hub.entry_mode == "deny"
