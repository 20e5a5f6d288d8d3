"""The whole app in this process on port 0 with one event, ``kirmes``, and websocket pages on it.

For the tests of the websocket gateway, the live Q&A and the stream pages:
:func:`make_harness` starts the app (``realtime`` settings overridable), creates
the event and closes every page it opened when the test ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from hubs_bridge.core.stream import StreamEvent
from hubs_bridge.web.app import create_app
from hubs_bridge.web.keys import REALTIME
from tests.conftest import make_settings
from tests.harness.ws_client import WsClient

STAFF = "staff-token-for-ws-tests-0123456789"
EVENT = {
    "slug": "kirmes",
    "title": "Digitale Kirmes",
    "starts_at": "2026-01-01T10:00:00",
    "ends_at": "2026-01-01T18:00:00",
    "rooms": [
        {"slug": "info", "title": "Info", "scene": "foyer"},
        {"slug": "daten", "title": "Offene Daten", "scene": "kirmes-stand"},
    ],
}


class Harness:
    def __init__(self, server: TestServer, http: aiohttp.ClientSession) -> None:
        self.server = server
        self.http = http
        self.clients: list[WsClient] = []

    @property
    def ws_url(self) -> str:
        return str(self.server.make_url("/ws"))

    async def client(self, **kw: Any) -> WsClient:
        client = await WsClient.connect(self.http, self.ws_url, **kw)
        self.clients.append(client)
        return client

    async def visitor(self, **hello: Any) -> WsClient:
        client = await self.client()
        await client.hello("kirmes", **hello)
        return client

    async def publish(self, happened: StreamEvent) -> None:
        await self.server.app[REALTIME].publish("kirmes", happened)


@asynccontextmanager
async def make_harness(tmp_path: Path, **realtime: Any) -> AsyncIterator[Harness]:
    settings = make_settings(
        tmp_path,
        staff_token=STAFF,
        realtime={"attendance_interval_s": 0.2, "hello_timeout_s": 2.0, **realtime},
    )
    app = await create_app(settings)
    server = TestServer(app)
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        resp = await http.post(
            server.make_url("/api/events"),
            json=EVENT,
            headers={"Authorization": f"Bearer {STAFF}"},
        )
        assert resp.status == 201
        harness = Harness(server, http)
        try:
            yield harness
        finally:
            for client in harness.clients:
                await client.close()
            await server.close()
