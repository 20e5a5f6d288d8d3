"""Overflow twins: /go into a twin once a room is full, twins made once and up to the limit.

Demand is what visitors with an open event page ask for (their links carry their
visitor id, ``tests/go_visitors.py``); ``test_hubs_overflow_visitors.py`` shows
that requests without one make no twins.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from hubs_bridge.broker.base import PresenceEntry
from hubs_bridge.core.calendar import HubsRoomLink, Room
from hubs_bridge.core.overflow import choose, occupancy
from hubs_bridge.core.room_links import close_links, open_hub_ids
from hubs_bridge.hubs.overflow import Door, Doorman
from hubs_bridge.web.doors import GO_BURST
from hubs_bridge.web.hubs_services import DOORMAN
from hubs_bridge.web.keys import BROKER, CALENDAR
from tests.harness.go_visitors import Page, open_page
from tests.harness.provision import Harness, harness, simulator

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def _room(**fields: Any) -> dict[str, Any]:
    return {"slug": "saal", "title": "Saal", "scene": "foyer", "capacity": 2, **fields}


def _person(n: int, where: str, hub: str | None = None) -> PresenceEntry:
    details = (("presence", where),) + ((("hub", hub),) if hub else ())
    return PresenceEntry(f"hubs:{n}", f"v{n}", "saal", source="hubs", details=details)


async def _fill(h: Harness, *people: PresenceEntry) -> None:
    await h.server.app[BROKER].presence_put("open", list(people), 60)


async def _page(h: Harness) -> Page:
    return await open_page(h.server.app, h.http, h.url("/ws"), "open")


async def _go(h: Harness, page: Page) -> aiohttp.ClientResponse:
    return await h.http.get(h.url(page.go("open", "saal")), allow_redirects=False)


async def _location(h: Harness, page: Page) -> str:
    resp = await _go(h, page)
    assert resp.status == 302, await resp.text()
    return resp.headers["Location"]


async def test_full_room_sends_to_one_twin_made_once(tmp_path: Path) -> None:
    rooms = [_room(overflow_allowed=True, overflow_max_twins=1)]
    async with (
        simulator(create_interval_s=0.0) as sim,
        harness(tmp_path, sim.base_url, rooms=rooms, arrival_window_s=0) as h,
    ):
        [own] = await h.provision("open")
        pages = [await _page(h) for _ in range(6)]
        assert await _location(h, pages[0]) == own["url"]
        # Two people take the room (in it, entering); the lobby takes no place.
        await _fill(h, _person(1, "room"), _person(2, "entering"), _person(3, "lobby"))

        answers = await asyncio.gather(*(_go(h, page) for page in pages))
        assert [a.status for a in answers] == [302] * 6
        targets = {a.headers["Location"] for a in answers}
        assert len(targets) == 1 and own["url"] not in targets
        assert len(sim.hubs) == 2  # the room and one twin, however many asked at once
        event = await h.server.app[CALENDAR].store.get_event("open")
        assert event is not None
        [twin] = event.rooms[0].twins
        assert targets == {twin.url}
        assert sim.hubs[twin.hub_id].name == "Digitale Kirmes – Saal (2)"
        # The same GLB sent (POST: Reticulum shows one of its default listings meanwhile).
        assert sim.hubs[twin.hub_id].gltf_bundle_url == sim.hubs[own["hub_id"]].gltf_bundle_url

        # The twin fills up too; the limit is one twin: full.
        await _fill(h, _person(4, "room", twin.hub_id), _person(5, "room", twin.hub_id))
        resp = await _go(h, pages[0])
        assert resp.status == 409
        body = await resp.json()
        assert body["code"] == "room_full" and "voll" in body["message"]
        assert "full" in body["message"] and body["capacity"] == 2
        assert len(sim.hubs) == 2

        # Someone leaves the room: newcomers go there again.
        await h.server.app[BROKER].presence_remove("open", ["hubs:1"])
        assert await _location(h, pages[1]) == own["url"]


async def test_arrivals_in_flight_count_once_per_client(tmp_path: Path) -> None:
    rooms = [_room(overflow_allowed=True)]
    async with (
        simulator(create_interval_s=0.0) as sim,
        harness(tmp_path, sim.base_url, rooms=rooms, arrival_window_s=30) as h,
    ):
        [own] = await h.provision("open")
        page = await _page(h)
        # One visitor asking again and again is one arrival, not a crowd.
        assert [await _location(h, page) for _ in range(4)] == [own["url"]] * 4
        assert len(sim.hubs) == 1
        # Nobody is seen in Hubs yet, but two were sent in: the third goes elsewhere.
        doorman, event = h.server.app[DOORMAN], await h.server.app[CALENDAR].get("open")
        assert _hub(await doorman.door(event, "saal", "10.0.0.2")) == own["hub_id"]
        third = await doorman.door(event, "saal", "10.0.0.3")
        assert third.link is not None and third.link.url != own["url"]
        assert third.link.url.startswith(sim.base_url)
        assert len(sim.hubs) == 2


def _hub(door: Door) -> str | None:
    return door.link.hub_id if door.link is not None else None


async def test_go_is_rate_limited_per_address(tmp_path: Path) -> None:
    async with (
        simulator(create_interval_s=0.0) as sim,
        harness(tmp_path, sim.base_url, rooms=[_room()], arrival_window_s=30) as h,
    ):
        answers = [await h.go("open", "saal") for _ in range(GO_BURST)]
        assert all(a.status == 409 for a in answers)  # not provisioned, but answered
        resp = await h.go("open", "saal")
        assert resp.status == 429
        assert (await resp.json())["code"] == "rate_limited"
        assert int(resp.headers["Retry-After"]) >= 1


async def test_a_failed_twin_sends_everyone_to_the_least_full_room_at_once(
    tmp_path: Path,
) -> None:
    rooms = [_room(overflow_allowed=True)]
    async with (
        simulator(create_interval_s=0.0) as sim,
        harness(tmp_path, sim.base_url, rooms=rooms, arrival_window_s=0) as h,
    ):
        [own] = await h.provision("open")
        await _fill(h, _person(1, "room"), _person(2, "room"))
        tries = 0

        async def broken_twin(event: Any, room: Any) -> HubsRoomLink:
            nonlocal tries
            tries += 1
            await asyncio.sleep(0.3)  # a slow Hubs: the others are waiting for it meanwhile
            raise RuntimeError("not a HubsRequestFailed")

        app = h.server.app
        doorman = Doorman(app[CALENDAR], app[BROKER], broken_twin, 0)
        event = await app[CALENDAR].get("open")
        # Nobody waited for the twin that failed (that wait lasts TWIN_WAIT_S, 20 s): a
        # deadline, not a measured time.
        async with asyncio.timeout(3):
            doors = await asyncio.gather(
                *(doorman.door(event, "saal", f"10.0.0.{n}") for n in range(4))
            )
        assert [(d.kind, _hub(d)) for d in doors] == [("enter", own["hub_id"])] * 4
        assert tries == 1
        # For a while, nobody tries (or waits) again.
        assert _hub(await doorman.door(event, "saal", "10.0.0.9")) == own["hub_id"]
        assert tries == 1


async def test_without_overflow_a_full_room_still_lets_people_try(tmp_path: Path) -> None:
    async with (
        simulator(create_interval_s=0.0) as sim,
        harness(tmp_path, sim.base_url, rooms=[_room()], arrival_window_s=0) as h,
    ):
        [own] = await h.provision("open")
        await _fill(h, _person(1, "room"), _person(2, "room"), _person(3, "room"))
        assert await _location(h, await _page(h)) == own["url"]
        assert len(sim.hubs) == 1


def _link(hub_id: str, closed: bool = False) -> HubsRoomLink:
    return HubsRoomLink(
        hub_id=hub_id, url=f"https://hubs/{hub_id}", provisioned_at=NOW, closed=closed
    )


def test_choice_rules() -> None:
    room = Room.model_validate(
        {
            **_room(overflow_allowed=True, overflow_max_twins=2),
            "hubs": _link("own"),
            "twins": (_link("old", closed=True), _link("t1")),
        }
    )
    assert [link.hub_id for link in room.hubs_links()] == ["own", "t1"]
    assert choose(room, {}).link == _link("own")
    assert choose(room, {"own": 2, "t1": 1}).link == _link("t1")
    # The closed twin does not count towards the limit of two.
    assert choose(room, {"own": 2, "t1": 2}).kind == "new_twin"
    counts = occupancy(room, [_person(1, "room", "t1"), _person(2, "entering")], [])
    assert counts == {"t1": 1, "own": 1}
    closed = Room.model_validate({**room.model_dump(), "hubs": _link("own", closed=True)})
    assert choose(closed, {}).kind == "not_provisioned"


def test_close_links_closes_rooms_and_twins() -> None:
    from hubs_bridge.core.calendar import Event

    event = Event.model_validate(
        {
            "slug": "e",
            "title": "E",
            "starts_at": NOW,
            "ends_at": NOW.replace(hour=3),
            "created_at": NOW,
            "updated_at": NOW,
            "rooms": [{**_room(), "hubs": _link("own"), "twins": [_link("t1")]}],
        }
    )
    assert open_hub_ids(event) == ["own", "t1"]
    closed = close_links(event, {"own", "t1"}, now=NOW)
    assert open_hub_ids(closed) == [] and closed.version == event.version + 1
    assert closed.rooms[0].twins[0].closed
