"""The scheduler closes an ended event's Hubs rooms; provisioning again makes fresh ones."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from hubs_bridge.core.room_links import open_hub_ids
from hubs_bridge.errors import Conflict
from hubs_bridge.hubs.scheduler import CLOSE_GRACE_S
from hubs_bridge.hubs.simulator import HubsSimulator
from hubs_bridge.web.hubs_services import CLOSER
from hubs_bridge.web.keys import CALENDAR
from tests.harness.provision import AUTH, PAST, Harness, event_body, harness
from tests.harness.waiting import eventually

ADMIN = "admin-key-of-the-simulator"


async def _all_closed(h: Harness, slug: str) -> list[str]:
    """Wait until the event has no open Hubs link; the hub ids it had."""
    store = h.server.app[CALENDAR].store

    async def closed() -> list[str] | None:
        event = await store.get_event(slug)
        assert event is not None
        links = [r.hubs for r in event.rooms if r.hubs is not None]
        return [link.hub_id for link in links] if links and not open_hub_ids(event) else None

    return await eventually(closed, what=f"every room of {slug} closed")


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
            [open_room, _] = await asyncio.wait_for(h.provision("open"), 15)
            again = await asyncio.wait_for(h.provision("past"), 15)
            assert [r["state"] for r in again] == ["created", "created"]
            assert not {r["hub_id"] for r in again} & set(closed)
            assert len(sim.hubs) == 6
            # An open event is left alone: a round of the closer that came after its
            # rooms were made (it closed past's fresh ones) did not touch them.
            assert sorted(await _all_closed(h, "past")) == sorted(r["hub_id"] for r in again)
            assert sim.hubs[open_room["hub_id"]].entry_mode == "allow"
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


async def test_rooms_are_closed_only_after_the_grace(tmp_path: Path) -> None:
    from datetime import timedelta

    sim = HubsSimulator(admin_key=ADMIN, create_interval_s=0.0)
    await sim.start()
    try:
        # The loop sleeps long: the test does the rounds itself.
        async with harness(tmp_path, sim.base_url, admin_access_key=ADMIN) as h:
            app = h.server.app
            calendar = app[CALENDAR]
            ends = calendar.now() - timedelta(seconds=CLOSE_GRACE_S / 2)
            body = event_body("just", ends - timedelta(hours=1), ends)
            resp = await h.http.post(h.url("/api/events"), json=body, headers=AUTH)
            assert resp.status == 201, await resp.text()
            just = await asyncio.wait_for(h.provision("just"), 15)
            past = await asyncio.wait_for(h.provision("past"), 15)
            closer = app[CLOSER]
            # Ended, but the bridge's closing notice may not be in the room yet.
            closed = await closer.sweep()
            assert sorted(closed) == sorted(r["hub_id"] for r in past)
            assert {sim.hubs[r["hub_id"]].entry_mode for r in just} == {"allow"}
            calendar.now = lambda: ends + timedelta(seconds=CLOSE_GRACE_S + 1)  # type: ignore[method-assign]
            closed = await closer.sweep()
            assert sorted(closed) == sorted(r["hub_id"] for r in just)
    finally:
        await sim.stop()


async def test_one_event_failing_does_not_keep_the_others_open(
    tmp_path: Path, monkeypatch: Any
) -> None:
    sim = HubsSimulator(admin_key=ADMIN, create_interval_s=0.0)
    await sim.start()
    try:
        async with harness(tmp_path, sim.base_url, admin_access_key=ADMIN) as h:
            body = event_body("past2", PAST[1], PAST[2])
            resp = await h.http.post(h.url("/api/events"), json=body, headers=AUTH)
            assert resp.status == 201, await resp.text()
            for slug in ("past", "past2"):
                await asyncio.wait_for(h.provision(slug), 15)
            closer = h.server.app[CLOSER]
            close = closer._close

            async def failing(event: Any) -> list[str]:
                if event.slug == "past":
                    raise Conflict("changed meanwhile", code="version_conflict")
                return await close(event)

            monkeypatch.setattr(closer, "_close", failing)
            closed = await closer.sweep()
            event = await h.server.app[CALENDAR].store.get_event("past2")
            assert event is not None and sorted(closed) == sorted(
                r.hubs.hub_id for r in event.rooms if r.hubs is not None
            )
            assert not open_hub_ids(event)
    finally:
        await sim.stop()


async def test_the_loop_outlives_any_error(tmp_path: Path, monkeypatch: Any) -> None:
    async with harness(tmp_path, "http://127.0.0.1:9", close_interval_s=0.01) as h:
        closer = h.server.app[CLOSER]
        rounds = 0

        async def sweep() -> list[str]:
            nonlocal rounds
            rounds += 1
            raise RuntimeError("a bug")

        monkeypatch.setattr(closer, "sweep", sweep)
        task = asyncio.create_task(closer.run())
        try:

            def three_rounds() -> bool:
                assert not task.done(), "the loop ended"
                return rounds >= 3

            await eventually(three_rounds, what="three rounds of the loop", timeout=5)
        finally:
            task.cancel()
