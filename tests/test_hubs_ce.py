"""The bridge against the strict simulator on each point where stock Hubs CE differs from
what the first bridge assumed (issue 10): the throttle, names, the default scene listing,
GraphQL without Room.url, closing without an admin key, and ownership (close, mute, kick)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from hubs_bridge.hubs import creator_tokens
from hubs_bridge.hubs.sim_graphql import add_api_token
from hubs_bridge.hubs.simulator import HubsSimulator
from hubs_bridge.scenes.urls import glb_url
from hubs_bridge.web.app import create_app
from hubs_bridge.web.hubs_services import CLOSER
from hubs_bridge.web.keys import CALENDAR, HUBS, SCENES, STORE
from tests.conftest import make_settings
from tests.harness.hubs_rig import rig_bridge
from tests.harness.waiting import eventually

STAFF = "staff-token-for-hubs-ce-tests-0123"
AUTH = {"Authorization": f"Bearer {STAFF}"}
PUBLIC = "http://bridge.test:9"  # not the Hubs host: Reticulum would look up /scenes/ there
TOKEN = "api-token-with-write-rooms"
LONG_EVENT = "Digitale Kirmes der Innovationslabore mittelgroßer Städte in Westfalen 2026"
TIMEOUT = aiohttp.ClientTimeout(total=30)


class Site:
    def __init__(self, server: TestServer, http: aiohttp.ClientSession, sim: HubsSimulator):
        self.server, self.http, self.sim = server, http, sim

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def call(self, method: str, path: str, status: int = 200, **kw: Any) -> Any:
        async with self.http.request(method, self.url(path), headers=AUTH, **kw) as resp:
            assert resp.status == status, await resp.text()
            return await resp.json()

    async def event(self, slug: str, rooms: list[dict[str, Any]], *, open_now: bool) -> None:
        now = datetime.now(UTC)
        starts = now - timedelta(hours=1) if open_now else now + timedelta(days=1)
        body = {
            "slug": slug,
            "title": LONG_EVENT,
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=3)).isoformat(),
            "rooms": rooms,
        }
        await self.call("POST", "/api/events", 201, json=body)

    async def provision(self, slug: str) -> list[dict[str, Any]]:
        await self.call("POST", f"/api/events/{slug}/provision", 202)

        async def done() -> Any:
            status = await self.call("GET", f"/api/events/{slug}/provision")
            return status if status["state"] != "running" else None

        status = await eventually(done, what="the provisioning job to end", timeout=60)
        rooms: list[dict[str, Any]] = status["rooms"]
        return rooms

    async def end(self, slug: str) -> None:
        now = datetime.now(UTC)
        body = {
            "starts_at": (now - timedelta(hours=2)).isoformat(),
            "ends_at": (now - timedelta(seconds=1)).isoformat(),
        }
        await self.call("PATCH", f"/api/events/{slug}", json=body)


def _rooms(n: int) -> list[dict[str, Any]]:
    scenes = ["foyer", "kirmes-stand"]
    return [
        {
            "slug": f"stand-{i}",
            "title": f"Stand {i}: Offene Daten, Bürgerbeteiligung und Stadtentwicklung",
            "scene": scenes[i % 2],
            "capacity": 20,
        }
        for i in range(1, n + 1)
    ]


@asynccontextmanager
async def site(
    tmp_path: Path, sim: HubsSimulator, *, bridge: bool = False, **hubs: Any
) -> AsyncIterator[Site]:
    settings = make_settings(
        tmp_path,
        staff_token=STAFF,
        public_url=PUBLIC,
        hubs={"url": sim.base_url, "close_interval_s": 0.2, **hubs},
    )
    app = await create_app(settings)
    if bridge:
        app[HUBS] = rig_bridge(app)
    server = TestServer(app)
    await server.start_server()
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
            yield Site(server, http, sim)
    finally:
        await server.close()


@asynccontextmanager
async def simulator(**options: Any) -> AsyncIterator[HubsSimulator]:
    sim = HubsSimulator(**options)
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


async def test_five_long_rooms_through_the_token_api_get_the_library_scenes(
    tmp_path: Path,
) -> None:
    async with (
        simulator(public_api_access=True) as sim,
        site(tmp_path, sim, api_token=TOKEN) as s,
    ):
        add_api_token(sim, TOKEN)
        await s.event("kirmes", _rooms(5), open_now=False)
        rooms = await s.provision("kirmes")
        assert [r["state"] for r in rooms] == ["created"] * 5, rooms
        library = s.server.app[SCENES].scenes
        names = set()
        for i, room in enumerate(rooms, start=1):
            hub = sim.hubs[room["hub_id"]]
            assert len(hub.name) <= 64 and "…" in hub.name  # lib/ret/hub.ex: max 64
            names.add(hub.name)
            assert hub.scene is None  # createRoom(sceneUrl:) on another host: no listing
            want = glb_url(PUBLIC, library[["foyer", "kirmes-stand"][i % 2]])
            assert hub.scene_url == want
            assert room["scene"] == "library"
            assert room["url"] == f"{sim.base_url}/{hub.hub_id}"  # built: Room has no url
            # An app token's rooms come with a creator token, kept as a secret.
            token = await creator_tokens.find(s.server.app[STORE], hub.hub_id)
            assert token is not None and token == hub.creator_assignment_token
        assert len(names) == 5
        event_json = await s.call("GET", "/api/events/kirmes")
        assert "creator" not in str(event_json)


async def test_rest_creation_through_the_throttle_reports_the_default_listing(
    tmp_path: Path,
) -> None:
    # The real window: 1 request per second per address on every HubController action.
    async with simulator() as sim, site(tmp_path, sim) as s:
        await s.event("kirmes", _rooms(3), open_now=False)
        rooms = await s.provision("kirmes")
        assert [r["state"] for r in rooms] == ["created"] * 3, rooms
        # Paced, not refused: one request a room, each in a window of its own (a request
        # over the limit would have been refused and sent again).
        assert sim.requests("POST") == 3
        for room in rooms:
            assert room["scene"] == "default_listing"
            assert "default scenes" in room["message"]
            assert sim.hubs[room["hub_id"]].scene is not None  # what Hubs shows


async def test_two_processes_provisioning_at_once_both_finish(tmp_path: Path) -> None:
    async with (
        simulator() as sim,
        site(tmp_path / "a", sim) as a,
        site(tmp_path / "b", sim) as b,
    ):
        await a.event("kirmes", _rooms(3), open_now=False)
        await b.event("forum", _rooms(3), open_now=False)
        first, second = await asyncio.gather(a.provision("kirmes"), b.provision("forum"))
        assert [r["state"] for r in first + second] == ["created"] * 6, (first, second)
        assert len(sim.hubs) == 6


async def test_closing_with_the_admin_key_goes_through_the_throttle(tmp_path: Path) -> None:
    async with (
        simulator(admin_key="the-admin-key") as sim,
        site(tmp_path, sim, admin_access_key="the-admin-key") as s,
    ):
        await s.event("kirmes", _rooms(3), open_now=False)
        rooms = await s.provision("kirmes")
        await s.end("kirmes")

        async def closed() -> bool:
            event = await s.server.app[CALENDAR].get("kirmes")
            return all(r.hubs is not None and r.hubs.closed for r in event.rooms)

        await eventually(closed, what="every room closed", timeout=30)
        assert {sim.hubs[r["hub_id"]].entry_mode for r in rooms} == {"deny"}


async def test_a_refused_close_is_reported_once_and_retried_only_when_asked(
    tmp_path: Path,
) -> None:
    # Stock CE: no HeaderAuthorization value, every DELETE 401.
    async with simulator() as sim, site(tmp_path, sim, admin_access_key="guessed") as s:
        await s.event("kirmes", _rooms(2), open_now=False)
        rooms = await s.provision("kirmes")
        await s.end("kirmes")

        async def refused() -> Any:
            data = await s.call("GET", "/api/events/kirmes/hubs")
            return all(r["close_refused"] for r in data["rooms"]) and data

        data = await eventually(refused, what="every close refused", timeout=30)
        assert "401" in data["rooms"][0]["close_refused"]
        deletes = sim.requests("DELETE")
        for _ in range(3):  # more rounds of the closer: the refusal is not knocked on again
            await s.server.app[CLOSER].sweep()
        again = await s.call("GET", "/api/events/kirmes/hubs")
        assert again["rooms"][0]["close_refused"]
        assert sim.requests("DELETE") == deletes == 2
        outcome = await s.call("POST", "/api/events/kirmes/hubs/close")
        assert set(outcome["refused"]) == {r["hub_id"] for r in rooms}
        assert sim.requests("DELETE") == 4


async def test_the_owner_fixes_the_scene_closes_the_room_and_mutes_and_kicks(
    tmp_path: Path,
) -> None:
    async with simulator() as sim:
        account = sim.add_account("hubs-bridge@stadt.example")
        async with site(tmp_path, sim, bridge=True, account_token=account.token) as s:
            await s.event("kirmes", _rooms(1), open_now=True)
            [room] = await s.provision("kirmes")
            hub = sim.hubs[room["hub_id"]]
            assert room["owned"] is True
            # Made over POST with the account: its creator; Reticulum attached a listing,
            # the bridge as owner puts the library's scene in (update_scene).
            want = glb_url(PUBLIC, s.server.app[SCENES].scenes["kirmes-stand"])
            await eventually(
                lambda: hub.scene is None and hub.scene_url == want,
                what="the library's scene in the room",
                timeout=15,
            )

            async def status() -> Any:
                data = await s.call("GET", "/api/events/kirmes/hubs")
                [r] = data["rooms"]
                return r if r["may_moderate"] and r["scene"] == "library" else None

            seen = await eventually(
                status, what="the bridge an owner with the library scene", timeout=15
            )
            assert seen["may_close"] and seen["may_change_settings"] and seen["why_not"] is None

            anna = sim.add_avatar(hub.hub_id, "Anna")
            people = await eventually(lambda: _people(s), what="Anna among the people", timeout=15)
            [person] = people
            assert person["name"] == "Anna" and person["may_moderate"]
            path = f"/api/events/kirmes/hubs/people/{person['session']}"
            muted = await s.call("POST", f"{path}/mute", 202)
            await eventually(
                lambda: [m for m in sim.muted if m[2] == anna.session_id],
                what="Anna muted",
                timeout=15,
            )
            await eventually(lambda: _action_ok(s, muted["id"]), what="the mute done", timeout=15)
            log = await s.call("GET", "/api/events/kirmes/moderation-log")
            assert "hubs_mute" in str(log) and "Anna" not in str(log)

            kicked = await s.call("POST", f"{path}/kick", 202)
            await eventually(
                lambda: anna.session_id not in sim.sessions(hub.hub_id),
                what="Anna kicked",
                timeout=15,
            )
            await eventually(lambda: _action_ok(s, kicked["id"]), what="the kick done", timeout=15)

            # The end: the closing notice, then close_hub; the link is marked closed.
            await s.end("kirmes")
            await eventually(lambda: hub.entry_mode == "deny", what="the room closed", timeout=20)
            assert sim.closed and sim.closed[0][0] == hub.hub_id

            async def link_closed() -> bool:
                event = await s.server.app[CALENDAR].get("kirmes")
                return bool(event.rooms[0].hubs and event.rooms[0].hubs.closed)

            await eventually(link_closed, what="the link marked closed", timeout=15)
            assert sim.requests("DELETE") == 0


async def test_without_an_account_the_console_is_told_why_and_hubs_hears_nothing(
    tmp_path: Path,
) -> None:
    async with simulator() as sim, site(tmp_path, sim, bridge=True) as s:
        await s.event("kirmes", _rooms(1), open_now=True)
        [room] = await s.provision("kirmes")
        hub = sim.hubs[room["hub_id"]]
        sim.add_avatar(hub.hub_id, "Bernd")

        async def told() -> Any:
            people = await _people(s)
            return people if people and "ACCOUNT_TOKEN" in (people[0]["why_not"] or "") else None

        [person] = await eventually(told, what="the missing account token named", timeout=15)
        assert not person["may_moderate"]
        path = f"/api/events/kirmes/hubs/people/{person['session']}/kick"
        body = await s.call("POST", path, 409)
        assert body["code"] == "hubs_not_owner"
        assert sim.kicked == [] and sim.muted == []


async def _people(s: Site) -> list[dict[str, Any]] | None:
    data = await s.call("GET", "/api/events/kirmes/hubs/people")
    people: list[dict[str, Any]] = data["people"]
    return people or None


async def _action_ok(s: Site, ident: str) -> bool:
    data = await s.call("GET", "/api/events/kirmes/hubs")
    return any(a["id"] == ident and a["ok"] for a in data["actions"])


async def test_rooms_made_with_an_app_token_are_claimed_with_the_creator_token(
    tmp_path: Path,
) -> None:
    # createRoom with an app token: no creator, a creatorAssignmentToken (room_types.ex).
    # The bridge joins signed in and sends sign_in with it: the account becomes creator.
    async with simulator(public_api_access=True) as sim:
        add_api_token(sim, TOKEN)
        account = sim.add_account("hubs-bridge@stadt.example")
        async with site(
            tmp_path, sim, bridge=True, api_token=TOKEN, account_token=account.token
        ) as s:
            await s.event("kirmes", _rooms(1), open_now=True)
            [room] = await s.provision("kirmes")
            hub = sim.hubs[room["hub_id"]]
            assert hub.creator_account_id is None and hub.creator_assignment_token
            await eventually(
                lambda: hub.creator_account_id == account.account_id,
                what="the room assigned to the account",
                timeout=15,
            )
            assert hub.creator_assignment_token is None  # Reticulum forgets it once used

            # Staff change the room: the owner brings the Hubs room in line (update_hub).
            patch = {"capacity": 12, "member_permissions": {"fly": True}}
            await s.call("PATCH", "/api/events/kirmes/rooms/stand-1", json=patch)
            await eventually(
                lambda: hub.room_size == 12 and hub.member_permissions["fly"],
                what="the room changed in Hubs",
                timeout=15,
            )
            assert hub.name == room["name"]  # the whole room was sent, nothing blanked
