"""A real server process is stopped and started again: what it acknowledged is still there."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REDIS_URL
from tests.harness.server_process import running_server, server_env

STAFF = "durability-staff-token-0123456789"


def _call(url: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {STAFF}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_event_survives_restart(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    extra = {"HUBS_BRIDGE_STAFF_TOKEN": STAFF}
    if backend == "redis":
        prefix = request.getfixturevalue("redis_prefix")
        extra |= {"HUBS_BRIDGE_REDIS_URL": REDIS_URL, "HUBS_BRIDGE_REDIS_PREFIX": prefix}
    env = server_env(tmp_path / "data", **extra)
    event = {
        "slug": "netzwerk",
        "title": "Netzwerktreffen",
        "starts_at": "2026-12-10T10:00:00+01:00",
        "ends_at": "2026-12-10T16:00:00+01:00",
        "rooms": [{"slug": "plenum", "title": "Plenum", "scene": "auditorium", "capacity": 50}],
    }
    with running_server(env, log_dir=tmp_path) as server:
        status, created = _call(server.url + "/api/events", "POST", event)
        assert status == 201, created
    with running_server(env, log_dir=tmp_path) as server:
        status, stored = _call(server.url + "/api/events/netzwerk")
        assert status == 200
        assert stored == created
        # The seeded examples must not have come back twice either.
        status, listed = _call(server.url + "/api/events")
        assert [e["slug"] for e in listed["events"]].count("netzwerk") == 1
