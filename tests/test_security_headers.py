"""Every answer carries the security headers: pages, JSON, errors, and files streamed
piece by piece (a scene's 200 was sent without them while its 304 and 416 had them)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hubs_bridge.web.app import create_app
from hubs_bridge.web.pages.security import HEADERS
from tests.conftest import make_settings


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    app = await create_app(make_settings(tmp_path))
    async with TestClient(TestServer(app)) as client:
        yield client


def _assert_secured(headers: Any, what: str) -> None:
    missing = [name for name, value in HEADERS.items() if headers.get(name) != value]
    assert not missing, f"{what} lacks {missing}"


async def test_every_kind_of_answer_has_the_security_headers(client: TestClient[Any, Any]) -> None:
    scenes = await (await client.get("/api/scenes")).json()
    glb = "/scenes/" + scenes["scenes"][0]["glb_url"].rsplit("/scenes/", 1)[1]
    first = await client.get(glb)
    assert first.status == 200
    await first.read()
    _assert_secured(first.headers, "a scene's 200 (streamed)")
    etag = first.headers["ETag"]
    answers = {
        "a scene's 206": await client.get(glb, headers={"Range": "bytes=0-9"}),
        "a scene's 304": await client.get(glb, headers={"If-None-Match": etag}),
        "a scene's 416": await client.get(glb, headers={"Range": "bytes=999999999-"}),
        "JSON": await client.get("/api/events"),
        "a JSON error": await client.get("/api/events/no-such-event"),
        "a page": await client.get("/"),
        "a static file": await client.get("/static/js/live.js"),
    }
    assert answers["a scene's 206"].status == 206
    assert answers["a scene's 304"].status == 304
    assert answers["a scene's 416"].status == 416
    assert answers["a JSON error"].status == 404
    for what, response in answers.items():
        await response.read()
        _assert_secured(response.headers, what)
    assert answers["a static file"].headers["Cache-Control"] == "no-cache"
