"""Staff see how the bridge stands in each Hubs room: joined, or failed with the server's reason."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hubs_bridge.core.calendar import Event, HubsRoomLink
from hubs_bridge.core.event_commands import set_room_hubs_link
from hubs_bridge.web.keys import CALENDAR
from tests.harness.hubs_rig import make_rig
from tests.harness.waiting import eventually


async def test_joined_and_failed_rooms_are_shown(tmp_path: Path) -> None:
    async with make_rig(tmp_path) as rig:
        await rig.joined()
        now = datetime.now(UTC)
        gone = HubsRoomLink(hub_id="gone123", url=f"{rig.sim.base_url}/gone123", provisioned_at=now)

        def dead_link(e: Event, at: datetime) -> Event:
            return set_room_hubs_link(e, "info", gone, now=at)

        await rig.server.app[CALENDAR].change("kirmes", dead_link)
        seen: dict[str, Any] = {}

        async def states() -> dict[str, str]:
            nonlocal seen
            seen = await rig.send("GET", "/api/events/kirmes/hubs")
            return {r["room"]: r["bridge"] for r in seen["rooms"]}

        async def shown() -> bool:
            if await states() == {"daten": "joined", "info": "failed"}:
                return True
            await rig.bridge.sync()  # publish the status now, not at the next interval
            return False

        await eventually(shown, what="daten joined and info failed")
        info = next(r for r in seen["rooms"] if r["room"] == "info")
        assert info["reason"] == "not_found" and info["hub_id"] == "gone123"
        assert seen["phase"] == "open" and seen["status_at"] is not None
        # The bridge does not retry a refused room: it stays failed until the link changes.
        await rig.bridge.sync()
        assert (await states())["info"] == "failed"

        async with rig.http.get(rig.url("/api/events/kirmes/hubs")) as resp:
            assert resp.status == 401
            assert (await resp.json())["code"] == "token_required"


async def test_rooms_without_a_bridge_are_not_bridged(tmp_path: Path) -> None:
    async with make_rig(tmp_path) as rig:
        await rig.joined()
        await rig.bridge.sync()  # publishes the status now rather than at the next interval
        body = await rig.send("GET", "/api/events/kirmes/hubs")
        assert [r["bridge"] for r in body["rooms"] if r["room"] == "daten"] == ["joined"]
        await rig.bridge.close()  # the process that bridged the event stopped
        # Its last word is held for a few sync intervals (2 s here), then it is gone.
        latest: dict[str, Any] = {}

        async def daten_not_bridged() -> dict[str, Any] | None:
            latest.update(await rig.send("GET", "/api/events/kirmes/hubs"))
            daten = next(r for r in latest["rooms"] if r["room"] == "daten")
            return daten if daten["bridge"] == "not_bridged" else None

        daten = await eventually(daten_not_bridged, what="the stopped bridge's status gone")
        assert daten["kind"] == "room" and daten["closed"] is False
        assert daten["bridge"] == "not_bridged" and latest["status_at"] is None
