"""Two real server processes on one Redis and one blob folder: a scene uploaded to one is
listed and served by the other, and deleted from both."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import REDIS_URL
from tests.harness.process_rig import STAFF, redis_env
from tests.harness.scene_uploads import bearer, json_of, stored_files, upload, variant
from tests.harness.server_process import ServerProcess, running_server
from tests.harness.waiting import eventually

pytestmark = pytest.mark.slow
GLB = variant("shared")
SHA = hashlib.sha256(GLB).hexdigest()


def test_a_scene_uploaded_to_one_process_is_served_by_the_other(
    tmp_path: Path, redis_prefix: str
) -> None:
    # One data folder for both, as one volume mounted in two containers: the blobs are
    # in <data>/scene-blobs, the catalog in Redis.
    env = redis_env(tmp_path, REDIS_URL, redis_prefix)
    with running_server(env, log_dir=tmp_path) as a, running_server(env, log_dir=tmp_path) as b:
        asyncio.run(_across(a, b, tmp_path / "data" / "scene-blobs"))


async def _listed(http: aiohttp.ClientSession, server: ServerProcess) -> list[int] | None:
    async with http.get(server.url + "/api/scenes") as resp:
        body: dict[str, Any] = await json_of(resp, 200)
    for scene in body["scenes"]:
        if scene["slug"] == "markt":
            return [v["number"] for v in scene["versions"]]
    return None


async def _glb(http: aiohttp.ClientSession, server: ServerProcess, sha: str) -> bytes | None:
    async with http.get(f"{server.url}/scenes/{sha}.glb") as resp:
        body = await resp.read()
        return body if resp.status == 200 else None


async def _across(a: ServerProcess, b: ServerProcess, blobs: Path) -> None:
    async with aiohttp.ClientSession() as http:
        await json_of(await upload(http, a.url, "markt", GLB, token=STAFF), 201)
        # Served by the other within half a second: it reads the catalog again for a hash
        # it does not know (at most twice a second), the lists within REFRESH_S.
        served = await eventually(lambda: _glb(http, b, SHA), what="process B to serve it")
        assert served == GLB
        await eventually(lambda: _listed(http, b), what="process B to list the new scene")
        assert await _listed(http, b) == [1]

        second = variant("shared, second")
        await json_of(await upload(http, b.url, "markt", second, token=STAFF), 201)
        sha2 = hashlib.sha256(second).hexdigest()
        assert await eventually(lambda: _glb(http, a, sha2), what="A to serve it") == second
        assert await _glb(http, a, SHA) == GLB  # version 1 stays

        async def listed_twice() -> bool:
            return await _listed(http, a) == [1, 2]

        await eventually(listed_twice, what="process A to list both versions")

        resp = await http.delete(f"{a.url}/api/scenes/markt", headers=bearer(STAFF))
        assert await json_of(resp, 204) is None
        assert stored_files(blobs) == []

        async def gone_from_b() -> bool:
            return await _listed(http, b) is None and await _glb(http, b, sha2) is None

        await eventually(gone_from_b, what="process B to forget the deleted scene")
