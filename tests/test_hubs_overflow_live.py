"""Overflow end to end: people the bridge sees in a Hubs room send newcomers to a twin."""

from __future__ import annotations

from pathlib import Path

from hubs_bridge.web.hubs_services import DOORMAN
from hubs_bridge.web.keys import CALENDAR
from tests.harness.go_visitors import open_page
from tests.harness.hubs_rig import make_rig
from tests.harness.waiting import eventually


async def test_a_room_full_of_hubs_people_sends_newcomers_to_a_twin(tmp_path: Path) -> None:
    async with make_rig(
        tmp_path, hubs={"create_interval_s": 0}, public_url="http://127.0.0.1:8080"
    ) as rig:
        room = {"capacity": 2, "overflow_allowed": True, "overflow_max_twins": 1}
        await rig.send("PATCH", "/api/events/kirmes/rooms/daten", room)
        await rig.joined()
        for name in ("Anna", "Bernd"):
            rig.sim.add_avatar(rig.hub.hub_id, name).enter()

        async def both_counted() -> bool:
            live = await rig.get("/api/events/kirmes/live")
            return bool(live["rooms"]["daten"]["occupancy"] >= 2)

        await eventually(both_counted, what="Anna and Bernd counted in daten")

        # A visitor with the event page open: its link carries its visitor id.
        page = await open_page(rig.server.app, rig.http, rig.url("/ws"), "kirmes")

        async def go() -> tuple[int, str]:
            async with rig.http.get(
                rig.url(page.go("kirmes", "daten")), allow_redirects=False
            ) as resp:
                return resp.status, resp.headers.get("Location", "")

        status, first = await go()
        assert status == 302 and rig.hub.hub_id not in first  # the room itself is full
        twins = [h for h in rig.sim.hubs if h != rig.hub.hub_id]
        assert len(twins) == 1 and twins[0] in first  # one twin, made on demand
        status, second = await go()
        assert (status, second) == (302, first)  # asking again counts once: one place left
        # Other clients: one more fits, then the room and its one twin are full
        # (counting arrivals in flight).
        event = await rig.server.app[CALENDAR].get("kirmes")
        doorman = rig.server.app[DOORMAN]
        door = await doorman.door(event, "daten", "10.0.0.2")
        assert door.kind == "enter" and door.link is not None and door.link.url == first
        assert (await doorman.door(event, "daten", "10.0.0.3")).kind == "full"
        stored = await rig.send("GET", "/api/events/kirmes")
        daten = next(r for r in stored["rooms"] if r["slug"] == "daten")
        assert [t["hub_id"] for t in daten["twins"]] == twins
