"""The scene routes on a real aiohttp server (port 0): listing, files, caching, ranges, CORS."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hubs_bridge.scenes.library import SceneLibrary, load_library
from hubs_bridge.web import scenes
from hubs_bridge.web.errors import error_middleware
from hubs_bridge.web.keys import SCENES, SETTINGS
from hubs_bridge.web.openapi import build_openapi
from tests.conftest import make_settings
from tests.harness.scene_files import FLOOR_BIN, glb_bytes, png_bytes, scene_gltf, write_pack

GLB = glb_bytes()
SHA = hashlib.sha256(GLB).hexdigest()
PNG = png_bytes()
PNG_SHA = hashlib.sha256(PNG).hexdigest()
EXPOSED = "Content-Length, Content-Range, ETag, Accept-Ranges"

ClientFactory = Callable[..., Any]


@pytest.fixture
def library(tmp_path: Path) -> SceneLibrary:
    write_pack(tmp_path / "scenes", "foyer", glb=GLB, preview=PNG)
    doc = scene_gltf()
    doc["asset"]["generator"] = "second scene"
    write_pack(tmp_path / "scenes", "auditorium", glb=glb_bytes(doc))
    return load_library(tmp_path / "scenes", max_bytes=1024 * 1024)


@pytest.fixture
async def make_client(tmp_path: Path, library: SceneLibrary) -> AsyncIterator[Callable[..., Any]]:
    clients: list[TestClient[web.Request, web.Application]] = []

    async def start(
        scene_library: SceneLibrary | None = None, **settings: object
    ) -> TestClient[web.Request, web.Application]:
        app = web.Application(middlewares=[error_middleware])
        app[SETTINGS] = make_settings(tmp_path, **settings)
        app[SCENES] = scene_library or library
        scenes.add_routes(app)
        client = TestClient(TestServer(app, port=0))
        await client.start_server()
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()


@pytest.fixture
async def client(
    make_client: ClientFactory,
) -> TestClient[web.Request, web.Application]:
    result: TestClient[web.Request, web.Application] = await make_client()
    return result


# -- JSON --------------------------------------------------------------------------------------


async def test_list_scenes(client: TestClient[web.Request, web.Application]) -> None:
    response = await client.get("/api/scenes")
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = await response.json()
    assert [s["slug"] for s in body["scenes"]] == ["auditorium", "foyer"]
    foyer = body["scenes"][1]
    origin = f"http://{client.host}:{client.port}"
    assert foyer["glb_url"] == f"{origin}/scenes/{SHA}.glb"
    assert foyer["preview_url"] == f"{origin}/scenes/{PNG_SHA}/preview.png"
    # No preview.png: the generated placeholder, never a missing image (issue 15).
    auditorium = body["scenes"][0]
    assert auditorium["preview_url"] == f"{origin}/scenes/{auditorium['sha256']}/preview.svg"
    assert foyer["title"] == {"de": "Foyer", "en": "Lobby"}
    assert foyer["description"]["en"] == "A bright room to arrive in."
    assert foyer["licence"] == "CC0-1.0"
    assert foyer["suggested_capacity"] == 24
    assert foyer["tags"] == ["foyer", "info"]
    assert (foyer["size"], foyer["sha256"]) == (len(GLB), SHA)
    assert foyer["components"]["spawn-point"] == 1
    assert (foyer["nodes"], foyer["meshes"], foyer["triangles"]) == (5, 1, 4)


async def test_public_url_makes_the_links(make_client: ClientFactory) -> None:
    client = await make_client(public_url="https://scenes.example.org/hubs/")
    body = await (await client.get("/api/scenes/foyer")).json()
    assert body["glb_url"] == f"https://scenes.example.org/hubs/scenes/{SHA}.glb"


async def test_one_scene_and_an_unknown_one(
    client: TestClient[web.Request, web.Application],
) -> None:
    response = await client.get("/api/scenes/foyer")
    assert response.status == 200
    assert (await response.json())["slug"] == "foyer"
    response = await client.get("/api/scenes/nope")
    assert response.status == 404
    assert (await response.json())["code"] == "scene_not_found"


def test_operations_fit_the_openapi_document() -> None:
    document = build_openapi(scenes.OPERATIONS)
    assert "/api/scenes/{slug}" in document["paths"]
    assert "/scenes/{sha256}.glb" in document["paths"]
    assert "SceneInfo" in document["components"]["schemas"]


# -- files -------------------------------------------------------------------------------------


async def test_glb_with_its_headers(client: TestClient[web.Request, web.Application]) -> None:
    response = await client.get(f"/scenes/{SHA}.glb")
    assert response.status == 200
    assert await response.read() == GLB
    headers = response.headers
    assert headers["Content-Type"] == "model/gltf-binary"
    assert headers["Content-Length"] == str(len(GLB))
    assert headers["ETag"] == f'"{SHA}"'
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert headers["Accept-Ranges"] == "bytes"
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers["Access-Control-Expose-Headers"] == EXPOSED
    assert "Content-Encoding" not in headers


async def test_preview(client: TestClient[web.Request, web.Application]) -> None:
    response = await client.get(f"/scenes/{PNG_SHA}/preview.png")
    assert response.status == 200
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["ETag"] == f'"{PNG_SHA}"'
    assert await response.read() == PNG
    # A GLB hash is not a preview hash, and the other way round.
    assert (await client.get(f"/scenes/{SHA}/preview.png")).status == 404
    assert (await client.get(f"/scenes/{PNG_SHA}.glb")).status == 404


@pytest.mark.parametrize("if_none_match", [f'"{SHA}"', f'"other", "{SHA}"', f'W/"{SHA}"', "*"])
async def test_not_modified(
    client: TestClient[web.Request, web.Application], if_none_match: str
) -> None:
    response = await client.get(f"/scenes/{SHA}.glb", headers={"If-None-Match": if_none_match})
    assert response.status == 304
    assert await response.read() == b""
    assert response.headers["ETag"] == f'"{SHA}"'
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


async def test_other_etag_gets_the_file(
    client: TestClient[web.Request, web.Application],
) -> None:
    response = await client.get(f"/scenes/{SHA}.glb", headers={"If-None-Match": '"old"'})
    assert response.status == 200
    assert await response.read() == GLB


@pytest.mark.parametrize(
    ("range_header", "start", "end"),
    [
        ("bytes=0-99", 0, 100),
        ("bytes=-500", len(GLB) - 500, len(GLB)),
        ("bytes=100-", 100, len(GLB)),
    ],
)
async def test_ranges(
    client: TestClient[web.Request, web.Application], range_header: str, start: int, end: int
) -> None:
    response = await client.get(f"/scenes/{SHA}.glb", headers={"Range": range_header})
    assert response.status == 206
    assert await response.read() == GLB[start:end]
    assert response.headers["Content-Range"] == f"bytes {start}-{end - 1}/{len(GLB)}"
    assert response.headers["Content-Length"] == str(end - start)
    assert response.headers["ETag"] == f'"{SHA}"'


async def test_unsatisfiable_range(client: TestClient[web.Request, web.Application]) -> None:
    response = await client.get(f"/scenes/{SHA}.glb", headers={"Range": f"bytes={len(GLB)}-"})
    assert response.status == 416
    assert response.headers["Content-Range"] == f"bytes */{len(GLB)}"


async def test_range_with_stale_if_range_gets_everything(
    client: TestClient[web.Request, web.Application],
) -> None:
    headers = {"Range": "bytes=0-9", "If-Range": '"old"'}
    response = await client.get(f"/scenes/{SHA}.glb", headers=headers)
    assert response.status == 200
    assert await response.read() == GLB


async def test_head(client: TestClient[web.Request, web.Application]) -> None:
    response = await client.head(f"/scenes/{SHA}.glb")
    assert response.status == 200
    assert response.headers["Content-Length"] == str(len(GLB))
    assert response.headers["ETag"] == f'"{SHA}"'
    assert await response.read() == b""


async def test_unknown_hash_is_404(client: TestClient[web.Request, web.Application]) -> None:
    response = await client.get(f"/scenes/{'0' * 64}.glb")
    assert response.status == 404
    assert (await response.json())["code"] == "scene_not_found"
    assert (await client.get("/scenes/not-a-hash.glb")).status == 404
    assert (await client.get(f"/scenes/{SHA.upper()}.glb")).status == 404


async def test_file_changed_on_disk_is_not_served(
    client: TestClient[web.Request, web.Application], library: SceneLibrary
) -> None:
    path = library.scenes["foyer"].glb_path
    stat = path.stat()
    path.write_bytes(GLB[:-4] + b"    ")  # same size, other bytes, other mtime
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    response = await client.get(f"/scenes/{SHA}.glb")
    assert response.status == 404
    assert (await response.json())["code"] == "scene_changed"
    # A client that already holds the bytes is still told they are current.
    response = await client.get(f"/scenes/{SHA}.glb", headers={"If-None-Match": f'"{SHA}"'})
    assert response.status == 304


# -- CORS --------------------------------------------------------------------------------------


async def test_preflight(client: TestClient[web.Request, web.Application]) -> None:
    headers = {
        "Origin": "https://hubs.example.org",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "range",
    }
    response = await client.options(f"/scenes/{SHA}.glb", headers=headers)
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    methods = {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")}
    assert {"GET", "HEAD"} <= methods
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "range" in {h.strip() for h in allowed.split(",")}
    response = await client.options("/api/scenes", headers=headers)
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"


async def test_listed_origins_are_echoed(make_client: ClientFactory) -> None:
    client = await make_client(cors_origins=["https://hubs.example.org", "https://other.example"])
    allowed = {"Origin": "https://hubs.example.org"}
    for path in (f"/scenes/{SHA}.glb", "/api/scenes"):
        response = await client.get(path, headers=allowed)
        assert response.headers["Access-Control-Allow-Origin"] == "https://hubs.example.org"
        assert response.headers["Access-Control-Expose-Headers"] == EXPOSED
        assert response.headers["Vary"] == "Origin"
    response = await client.get(f"/scenes/{SHA}.glb", headers={"Origin": "https://evil.example"})
    assert response.status == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.headers["Vary"] == "Origin"
    response = await client.options(
        "/api/scenes",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Methods" not in response.headers


async def test_big_file_in_several_chunks(make_client: ClientFactory, tmp_path: Path) -> None:
    padding = bytes(range(256)) * 2400  # about 600 KB, more than two read chunks
    doc = scene_gltf()
    doc["buffers"][0]["byteLength"] += len(padding)
    big = glb_bytes(doc, bin_data=FLOOR_BIN + padding)
    library = load_library(_pack_root(tmp_path, big), max_bytes=2 * 1024 * 1024)
    assert library.problems == []
    client = await make_client(library)
    sha = hashlib.sha256(big).hexdigest()
    response = await client.get(f"/scenes/{sha}.glb")
    assert await response.read() == big
    start, end = 262_000, 525_000  # crosses both chunk boundaries
    response = await client.get(f"/scenes/{sha}.glb", headers={"Range": f"bytes={start}-{end}"})
    assert response.status == 206
    assert await response.read() == big[start : end + 1]


def _pack_root(tmp_path: Path, glb: bytes) -> Path:
    root = tmp_path / "big-scenes"
    write_pack(root, "big", glb=glb)
    return root


async def test_file_that_shrinks_while_sent_cuts_the_connection(
    client: TestClient[web.Request, web.Application],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(scenes, "_read_at", lambda fobj, offset, size: b"")
    response = await client.get(f"/scenes/{SHA}.glb")
    assert response.status == 200
    with pytest.raises(aiohttp.ClientPayloadError):
        await response.read()
    assert "shrank while being sent" in caplog.text
