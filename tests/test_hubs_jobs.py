"""Provisioning in the background: progress while it runs, one job at a time, any process."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from hubs_bridge.web.app import create_app
from hubs_bridge.web.keys import BROKER, SETTINGS
from tests.conftest import REDIS_URL
from tests.harness.provision import AUTH, TIMEOUT, harness, simulator
from tests.harness.waiting import eventually


async def test_progress_while_running_and_a_second_post_joins_the_job(tmp_path: Path) -> None:
    # Rooms are created 0.4 s apart, so the job is seen half done.
    async with (
        simulator(create_interval_s=0.0) as sim,
        harness(tmp_path, sim.base_url, create_interval_s=0.4) as h,
    ):
        resp = await h.http.get(h.url("/api/events/open/provision"), headers=AUTH)
        assert resp.status == 404 and (await resp.json())["code"] == "job_not_found"

        started = await h.start("open")
        assert started["state"] == "running"
        assert (started["total"], started["done"], started["rooms"]) == (2, 0, [])
        assert started["finished_at"] is None
        again = await h.start("open")
        assert again["job"] == started["job"]

        seen: list[tuple[str, int]] = []

        async def ended() -> dict[str, Any] | None:
            status = await h.job("open")
            if status["state"] == "running":
                seen.append((status["state"], status["done"]))
                return None
            return status

        status = await eventually(ended, what="the job to end")
        assert ("running", 1) in seen
        assert status["job"] == started["job"]
        assert status["state"] == "done" and status["done"] == 2
        assert [r["state"] for r in status["rooms"]] == ["created", "created"]
        assert all(r["hub_id"] in sim.hubs and r["url"] for r in status["rooms"])
        assert status["finished_at"] is not None and status["message"] == "2 of 2 rooms ready"
        assert len(sim.hubs) == 2

        third = await h.start("open")
        assert third["job"] != started["job"]
        final = await h.finished("open")
        assert [r["state"] for r in final["rooms"]] == ["exists", "exists"]
        assert len(sim.hubs) == 2


async def test_a_failed_room_fails_the_job_with_a_clear_message(tmp_path: Path) -> None:
    async with simulator(create_interval_s=60) as sim, harness(tmp_path, sim.base_url) as h:
        rooms = await asyncio.wait_for(h.provision("open"), 15)
        status = await h.job("open")
        assert status["state"] == "failed"
        assert status["message"] == "1 of 2 rooms ready; 1 failed"
        assert [r["state"] for r in rooms] == ["created", "failed"]
        assert "throttled by the Hubs server" in rooms[1]["message"]


async def test_status_is_shared_by_two_processes(tmp_path: Path, redis_prefix: str) -> None:
    shared = {"redis_url": REDIS_URL, "redis_prefix": redis_prefix}
    async with (
        simulator(create_interval_s=0.0) as sim,
        harness(tmp_path, sim.base_url, extra=shared, create_interval_s=0.3) as h,
    ):
        other = TestServer(await create_app(h.server.app[SETTINGS]))
        await other.start_server()
        try:
            async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
                started = await h.start("open")
                resp = await http.post(other.make_url("/api/events/open/provision"), headers=AUTH)
                assert resp.status == 202
                assert (await resp.json())["job"] == started["job"]  # no second job

                async def ended() -> dict[str, Any] | None:
                    url = other.make_url("/api/events/open/provision")
                    async with http.get(url, headers=AUTH) as resp:
                        status: dict[str, Any] = await resp.json()
                    return status if status["state"] != "running" else None

                status = await eventually(ended, what="the job to end, seen by the other")
                assert status["job"] == started["job"] and status["state"] == "done"
                assert len(sim.hubs) == 2
        finally:
            await asyncio.wait_for(other.close(), 10)


async def test_a_start_that_never_shows_is_a_clear_409(tmp_path: Path, monkeypatch: Any) -> None:
    from hubs_bridge.hubs import jobs

    monkeypatch.setattr(jobs, "START_WAIT_S", 0.2)
    async with simulator(create_interval_s=0.0) as sim, harness(tmp_path, sim.base_url) as h:
        broker = h.server.app[BROKER]

        async def lost(key: str, owner: str, ttl_s: float) -> bool:
            return False  # another process won the start, and died before its status

        monkeypatch.setattr(broker, "lead", lost)
        resp = await h.http.post(h.url("/api/events/open/provision"), headers=AUTH)
        assert resp.status == 409
        assert (await resp.json())["code"] == "provisioning_starting"
        assert len(sim.hubs) == 0


async def test_a_job_whose_status_cannot_be_saved_is_stopped(monkeypatch: Any) -> None:
    from datetime import UTC, datetime

    from hubs_bridge.broker.memory import MemoryBroker
    from hubs_bridge.errors import BrokerUnavailable
    from hubs_bridge.hubs import jobs

    monkeypatch.setattr(jobs, "HEARTBEAT_S", 0.01)
    monkeypatch.setattr(jobs, "ALIVE_S", 0.1)
    broker = MemoryBroker()
    stopped = asyncio.Event()

    async def forever(event: str, on_result: Any) -> list[Any]:
        try:
            await asyncio.Event().wait()  # a job that never ends by itself
        finally:
            stopped.set()
        return []

    clock = time.time
    job_runner = jobs.ProvisionJobs(broker, forever, lambda: datetime.now(UTC), clock)
    await job_runner.start("e", 1)

    async def away(key: str, value: bytes, ttl_s: float) -> None:
        raise BrokerUnavailable("the broker is away")

    monkeypatch.setattr(broker, "value_put", away)
    # By now every process reads the job as failed: it must not go on unseen.
    await asyncio.wait_for(stopped.wait(), 5)
    await job_runner.close()
