"""Overflow twins are bridged like their room: people in a twin count for the twin."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from hubs_bridge.core.calendar import Event, HubsRoomLink
from hubs_bridge.core.overflow import occupancy
from hubs_bridge.core.room_links import add_twin
from hubs_bridge.web.keys import BROKER, CALENDAR
from tests.harness.hubs_rig import make_rig
from tests.harness.waiting import eventually


async def test_people_in_a_twin_are_counted_for_the_twin(tmp_path: Path) -> None:
    async with make_rig(tmp_path) as rig:
        app = rig.server.app
        twin = rig.sim.create_hub("Offene Daten (2)")
        now = datetime.now(UTC)
        link = HubsRoomLink(
            hub_id=twin.hub_id, url=f"{rig.sim.base_url}/{twin.hub_id}", provisioned_at=now
        )

        def with_twin(e: Event, at: datetime) -> Event:
            return add_twin(e, "daten", link, now=at)

        await app[CALENDAR].change("kirmes", with_twin)
        await eventually(
            lambda: twin.hub_id in rig.bridge.rooms and rig.hub.hub_id in rig.bridge.rooms,
            what="the bridge in the room and its twin",
        )

        in_room = rig.sim.add_avatar(rig.hub.hub_id, "Anna")
        in_room.enter()
        for name in ("Bernd", "Clara"):
            rig.sim.add_avatar(twin.hub_id, name).enter()

        event = await app[CALENDAR].get("kirmes")
        room = event.room("daten")
        assert room is not None

        async def counts() -> dict[str, int]:
            return dict(occupancy(room, await app[BROKER].presence_list("kirmes"), []))

        want = {rig.hub.hub_id: 1, twin.hub_id: 2}

        async def counted() -> bool:
            return await counts() == want

        await eventually(counted, what=f"the occupancy {want}")
        # Attendance counts the room as one: its own Hubs room and its twins together.
        live = await rig.get("/api/events/kirmes/live")
        assert live["rooms"]["daten"]["occupancy"] == 3
