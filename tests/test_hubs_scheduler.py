"""The scheduler closes an ended event's Hubs rooms; provisioning again makes fresh ones."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from hubs_bridge.core.room_links import open_hub_ids
from hubs_bridge.hubs.simulator import HubsSimulator
from hubs_bridge.web.keys import CALENDAR
from tests.test_hubs_provision import Harness, harness

ADMIN = "admin-key-of-the-simulator"


async def _all_closed(h: Harness, slug: str) -> list[str]:
    """Wait until the event has no open Hubs link; the hub ids it had."""
    store = h.server.app[CALENDAR].store
    deadline = time.monotonic() + 10
    while True:
        event = await store.get_event(slug)
        assert event is not None
        links = [r.hubs for r in event.rooms if r.hubs is not None]
        if links and not open_hub_ids(event):
            return [link.hub_id for link in links]
        assert time.monotonic() < deadline, "rooms not closed"
        await asyncio.sleep(0.05)


async def test_rooms_deleted_with_the_admin_key_and_made_fresh_again(tmp_path: Path) -> None:
    sim = HubsSimulator(admin_key=ADMIN, create_interval_s=0.0)
    await sim.start()
    try:
        async with harness(
            tmp_path, sim.base_url, admin_access_key=ADMIN, close_interval_s=0.05
        ) as h:
            first = await asyncio.wait_for(h.provision("past"), 15)
            assert [r["state"] for r in first] == ["created", "created"]
            closed = await _all_closed(h, "past")
            assert sorted(closed) == sorted(r["hub_id"] for r in first)
            assert {sim.hubs[hub_id].entry_mode for hub_id in closed} == {"deny"}
            # An open event is left alone.
            [open_room, _] = await asyncio.wait_for(h.provision("open"), 15)
            await asyncio.sleep(0.2)
            assert sim.hubs[open_room["hub_id"]].entry_mode == "allow"

            again = await asyncio.wait_for(h.provision("past"), 15)
            assert [r["state"] for r in again] == ["created", "created"]
            assert not {r["hub_id"] for r in again} & set(closed)
            assert len(sim.hubs) == 6
    finally:
        await sim.stop()


async def test_without_the_admin_key_rooms_are_only_marked_closed(tmp_path: Path) -> None:
    sim = HubsSimulator(admin_key=ADMIN, create_interval_s=0.0)
    await sim.start()
    try:
        async with harness(tmp_path, sim.base_url, close_interval_s=0.05) as h:
            first = await asyncio.wait_for(h.provision("past"), 15)
            closed = await _all_closed(h, "past")
            assert sorted(closed) == sorted(r["hub_id"] for r in first)
            assert {sim.hubs[hub_id].entry_mode for hub_id in closed} == {"allow"}
            resp = await h.go("past", "info")
            assert resp.status == 410
    finally:
        await sim.stop()
