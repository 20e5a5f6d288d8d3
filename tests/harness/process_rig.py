"""Real server processes (one, or several on one Redis) with one event, ``netz``, and pages on it.

``FAST`` makes a process count attendance every 0.3 s and let presence live 6 s,
so kills and restarts show in the counts within a test's patience.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from tests.harness.server_process import ServerProcess, server_env
from tests.harness.ws_client import WsClient

STAFF = "process-staff-token-0123456789abcd"
EVENT = {
    "slug": "netz",
    "title": "Netzwerktreffen",
    "starts_at": "2026-01-01T10:00:00",
    "ends_at": "2026-01-01T18:00:00",
    "rooms": [
        {"slug": "plenum", "title": "Plenum", "scene": "auditorium"},
        {"slug": "ag", "title": "AG", "scene": "werkstatt"},
    ],
}
FAST = {
    "HUBS_BRIDGE_STAFF_TOKEN": STAFF,
    "HUBS_BRIDGE_SEED_DIR": "",
    "HUBS_BRIDGE_REALTIME__ATTENDANCE_INTERVAL_S": "0.3",
    "HUBS_BRIDGE_REALTIME__PRESENCE_TTL_S": "6",
}


def redis_env(tmp_path: Path, url: str, prefix: str) -> dict[str, str]:
    return server_env(
        tmp_path / "data", HUBS_BRIDGE_REDIS_URL=url, HUBS_BRIDGE_REDIS_PREFIX=prefix, **FAST
    )


async def create_event(http: aiohttp.ClientSession, server: ServerProcess) -> None:
    resp = await http.post(
        server.url + "/api/events", json=EVENT, headers={"Authorization": f"Bearer {STAFF}"}
    )
    assert resp.status == 201, await resp.text()


async def visitor(http: aiohttp.ClientSession, server: ServerProcess, **hello: Any) -> WsClient:
    client = await WsClient.connect(http, server.url.replace("http", "ws") + "/ws")
    await client.hello("netz", **hello)
    return client
