"""A hubs-bridge on the Hubs simulator with three events (open, later, past), for the
tests of provisioning, the ``/go`` doors, overflow twins, jobs and the room closer.

:func:`harness` starts the app with a staff token and a public URL that is not the
Hubs host (Reticulum would look up ``/scenes/`` there); :func:`simulator` starts a
strict simulator whose throttle window is shortened for speed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from hubs_bridge.hubs.simulator import HubsSimulator
from hubs_bridge.web.app import create_app
from tests.conftest import make_settings
from tests.harness.waiting import eventually

STAFF = "staff-token-for-provision-tests-0123"
AUTH = {"Authorization": f"Bearer {STAFF}"}
PUBLIC = "http://bridge.test:9"  # not the Hubs host: Reticulum would look up /scenes/ there
TIMEOUT = aiohttp.ClientTimeout(total=20)


def event_body(slug: str, starts: datetime, ends: datetime) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": "Digitale Kirmes",
        "starts_at": starts.isoformat(),
        "ends_at": ends.isoformat(),
        "rooms": [
            {"slug": "info", "title": "Info", "scene": "foyer", "capacity": 20},
            {"slug": "daten", "title": "Offene Daten", "scene": "kirmes-stand"},
        ],
    }


def now_whole_seconds() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


OPEN = (
    "open",
    now_whole_seconds() + timedelta(minutes=5),
    now_whole_seconds() + timedelta(hours=3),
)
LATER = (
    "later",
    now_whole_seconds() + timedelta(days=2),
    now_whole_seconds() + timedelta(days=2, hours=3),
)
PAST = ("past", now_whole_seconds() - timedelta(hours=3), now_whole_seconds() - timedelta(hours=1))


class Harness:
    def __init__(self, server: TestServer, http: aiohttp.ClientSession) -> None:
        self.server = server
        self.http = http

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def start(self, slug: str) -> dict[str, Any]:
        resp = await self.http.post(self.url(f"/api/events/{slug}/provision"), headers=AUTH)
        assert resp.status == 202, await resp.text()
        body: dict[str, Any] = await resp.json()
        assert body["event"] == slug
        return body

    async def job(self, slug: str) -> dict[str, Any]:
        resp = await self.http.get(self.url(f"/api/events/{slug}/provision"), headers=AUTH)
        assert resp.status == 200, await resp.text()
        body: dict[str, Any] = await resp.json()
        return body

    async def finished(self, slug: str) -> dict[str, Any]:
        """Wait for the event's latest job to end; its status."""

        async def ended() -> dict[str, Any] | None:
            status = await self.job(slug)
            return status if status["state"] != "running" else None

        return await eventually(ended, what=f"the provisioning job of {slug} to end", timeout=15)

    async def provision(self, slug: str) -> list[dict[str, Any]]:
        """Start a job and wait for it: the per-room results."""
        started = await self.start(slug)
        status = await self.finished(slug)
        assert status["job"] == started["job"]
        assert status["done"] == status["total"] == len(status["rooms"])
        rooms: list[dict[str, Any]] = status["rooms"]
        return rooms

    async def go(self, slug: str, room: str) -> aiohttp.ClientResponse:
        return await self.http.get(self.url(f"/go/{slug}/{room}"), allow_redirects=False)


@asynccontextmanager
async def harness(
    tmp_path: Path,
    hubs_url: str,
    *,
    rooms: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
    **hubs: Any,
) -> AsyncIterator[Harness]:
    """A hubs-bridge on the simulator with three events (open, later, past)."""
    settings = make_settings(
        tmp_path,
        staff_token=STAFF,
        public_url=PUBLIC,
        hubs={"url": hubs_url, "create_interval_s": 0.05, **hubs},
        **(extra or {}),
    )
    server = TestServer(await create_app(settings))
    await server.start_server()
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
            for slug, starts, ends in (OPEN, LATER, PAST):
                event = event_body(slug, starts, ends)
                if rooms is not None:
                    event["rooms"] = rooms
                resp = await http.post(server.make_url("/api/events"), json=event, headers=AUTH)
                assert resp.status == 201, await resp.text()
            yield Harness(server, http)
    finally:
        await asyncio.wait_for(server.close(), 10)


@asynccontextmanager
async def simulator(
    create_interval_s: float = 0.01, **options: Any
) -> AsyncIterator[HubsSimulator]:
    """A strict simulator; its throttle window shortened to ``create_interval_s`` for speed."""
    sim = HubsSimulator(throttle_period_s=create_interval_s, **options)
    await sim.start()
    try:
        yield sim
    finally:
        await asyncio.wait_for(sim.stop(), 10)
