"""Scene uploads on a real server (port 0): versions, refusals, nothing left behind, deletes."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from hubs_bridge.settings import LimitSettings
from hubs_bridge.web.app import create_app
from tests.conftest import REDIS_URL, REPO, make_settings
from tests.harness.scene_files import glb_bytes, png_bytes
from tests.harness.scene_uploads import (
    bearer,
    json_of,
    stored_files,
    upload,
    variant,
    with_external_image,
)
from tests.harness.waiting import eventually

STAFF = "staff-token-for-scene-upload-tests-01"
# Small, so a test can go past it; room_scenes/ packs (about 95 kB) still fit.
MAX_BYTES = 128 * 1024
GLB = variant("one")
SHA = hashlib.sha256(GLB).hexdigest()


@dataclass
class Served:
    base: str
    http: aiohttp.ClientSession
    blobs: Path
    server: TestServer

    async def get(self, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        """A GET whose body is read (so its connection goes back to the pool)."""
        response = await self.http.get(self.base + path, **kwargs)
        await response.read()
        return response

    async def scene(self, slug: str) -> dict[str, Any]:
        body: dict[str, Any] = await json_of(await self.get(f"/api/scenes/{slug}"), 200)
        return body

    async def staff(self, method: str, path: str, body: Any = None) -> aiohttp.ClientResponse:
        return await self.http.request(method, self.base + path, json=body, headers=bearer(STAFF))


@pytest.fixture(params=["sqlite", "redis"])
async def served(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Served]:
    extra: dict[str, Any] = {}
    if request.param == "redis":
        extra = {"redis_url": REDIS_URL, "redis_prefix": request.getfixturevalue("redis_prefix")}
    blobs = tmp_path / "blobs"
    settings = make_settings(
        tmp_path,
        staff_token=STAFF,
        scene_blobs_dir=blobs,
        limits={"max_scene_bytes": MAX_BYTES},
        **extra,
    )
    server = TestServer(await create_app(settings))
    await server.start_server()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as http:
            yield Served(str(server.make_url("")).rstrip("/"), http, blobs, server)
    finally:
        await asyncio.wait_for(server.close(), 10)


def spooled(blobs: Path) -> list[str]:
    return [name for name in stored_files(blobs) if name.startswith(".incoming")]


# -- accepted ----------------------------------------------------------------------------------


async def test_a_streamed_upload_is_listed_and_served_by_digest(served: Served) -> None:
    resp = await upload(served.http, served.base, "markt", GLB, token=STAFF, title="Marktplatz")
    version = await json_of(resp, 201)
    assert version["slug"] == "markt" and version["number"] == 1
    assert version["sha256"] == SHA and version["size"] == len(GLB)
    assert version["source"] == "upload" and version["uploaded_by"] == "env"  # its token
    assert version["glb_url"] == f"{served.base}/scenes/{SHA}.glb"
    assert version["title"] == {"de": "Marktplatz", "en": "Marktplatz"}
    assert not version["has_preview"]

    listed = await json_of(await served.get("/api/scenes"), 200)
    markt = next(s for s in listed["scenes"] if s["slug"] == "markt")
    assert markt["version"] == 1 and [v["number"] for v in markt["versions"]] == [1]
    assert markt["licence"] == "NOASSERTION" and markt["used_by"] == []

    resp = await served.get(f"/scenes/{SHA}.glb")
    assert resp.status == 200 and await resp.read() == GLB
    assert resp.headers["ETag"] == f'"{SHA}"'
    assert resp.headers["Content-Type"] == "model/gltf-binary"
    assert "immutable" in resp.headers["Cache-Control"]
    again = await served.get(f"/scenes/{SHA}.glb", headers={"If-None-Match": f'"{SHA}"'})
    assert again.status == 304
    part = await served.get(f"/scenes/{SHA}.glb", headers={"Range": "bytes=0-11"})
    assert part.status == 206 and await part.read() == GLB[:12]
    assert stored_files(served.blobs) == [f"{SHA[:2]}/{SHA}.glb"]


async def test_a_form_upload_with_a_preview_and_titles(served: Served) -> None:
    png = png_bytes()
    resp = await upload(
        served.http,
        served.base,
        "werkhof",
        GLB,
        token=STAFF,
        preview=png,
        title="Werkhof",
        title_en="Works yard",
    )
    version = await json_of(resp, 201)
    assert version["title"] == {"de": "Werkhof", "en": "Works yard"}
    png_sha = hashlib.sha256(png).hexdigest()
    assert version["has_preview"]
    assert version["preview_url"] == f"{served.base}/scenes/{png_sha}/preview.png"
    preview = await served.get(f"/scenes/{png_sha}/preview.png")
    assert preview.status == 200 and await preview.read() == png
    assert preview.headers["Content-Type"] == "image/png"
    assert preview.headers["ETag"] == f'"{png_sha}"'
    assert (await served.scene("werkhof"))["preview_url"] == version["preview_url"]


async def test_a_second_upload_is_version_2_and_version_1_stays_served(served: Served) -> None:
    await json_of(await upload(served.http, served.base, "markt", GLB, token=STAFF), 201)
    second = variant("two")
    resp = await upload(served.http, served.base, "markt", second, token=STAFF, title="Markt 2")
    v2 = await json_of(resp, 201)
    assert v2["number"] == 2
    scene = await served.scene("markt")
    assert scene["version"] == 2 and scene["sha256"] == v2["sha256"]
    assert [(v["number"], v["sha256"]) for v in scene["versions"]] == [(1, SHA), (2, v2["sha256"])]
    assert scene["title"]["de"] == "Markt 2"
    old = await served.get(f"/scenes/{SHA}.glb")
    assert old.status == 200 and await old.read() == GLB
    new = await served.get(f"/scenes/{v2['sha256']}.glb")
    assert await new.read() == second


async def test_an_upload_to_a_folder_pack_is_its_version_2(served: Served) -> None:
    before = await served.scene("foyer")
    resp = await upload(served.http, served.base, "foyer", GLB, token=STAFF)
    version = await json_of(resp, 201)
    assert version["number"] == 2
    scene = await served.scene("foyer")
    assert [v["source"] for v in scene["versions"]] == ["folder", "upload"]
    # The pack's manifest stays (licence, capacity), its titles too when none are given.
    assert scene["licence"] == before["licence"] and scene["title"] == before["title"]
    assert (await served.get(f"/scenes/{before['sha256']}.glb")).status == 200


async def test_uploads_at_once_to_one_slug_each_get_their_own_version(served: Served) -> None:
    files = [variant(f"race-{n}") for n in range(4)]
    responses = await asyncio.gather(
        *(upload(served.http, served.base, "markt", glb, token=STAFF) for glb in files)
    )
    numbers = sorted([(await json_of(r, 201))["number"] for r in responses])
    assert numbers == [1, 2, 3, 4]
    scene = await served.scene("markt")
    assert {v["sha256"] for v in scene["versions"]} == {
        hashlib.sha256(glb).hexdigest() for glb in files
    }


async def test_the_placeholder_preview_is_an_svg_naming_the_scene(served: Served) -> None:
    title = '<Markt & "Bühne">'
    resp = await upload(served.http, served.base, "markt", GLB, token=STAFF, title=title)
    version = await json_of(resp, 201)
    assert version["preview_url"] == f"{served.base}/scenes/{SHA}/preview.svg"
    svg = await served.get(f"/scenes/{SHA}/preview.svg")
    assert svg.status == 200
    assert svg.headers["Content-Type"] == "image/svg+xml"
    text = await svg.text()
    ElementTree.fromstring(text)  # well-formed: an image, never a broken one
    assert text.startswith("<svg") and '&lt;Markt &amp; "Bühne"&gt;' in text
    assert "markt" in text and "<script" not in text and title not in text
    etag = svg.headers["ETag"]
    assert (
        await served.get(f"/scenes/{SHA}/preview.svg", headers={"If-None-Match": etag})
    ).status == 304
    # Deterministic: the same version gets the same picture.
    assert await (await served.get(f"/scenes/{SHA}/preview.svg")).text() == text
    # A folder pack without an image gets one as well; an unknown hash a 404.
    assert (await served.get(f"/scenes/{'0' * 64}/preview.svg")).status == 404


# -- refused, nothing stored -------------------------------------------------------------------


async def test_a_truncated_file_is_refused_and_nothing_is_stored(served: Served) -> None:
    for form in (False, True):
        resp = await upload(served.http, served.base, "markt", GLB[:-100], token=STAFF, form=form)
        body = await json_of(resp, 422)
        assert body["code"] == "glb_truncated", body
    assert stored_files(served.blobs) == []
    assert (await served.get("/api/scenes/markt")).status == 404


async def test_a_file_that_is_not_a_glb_is_refused(served: Served) -> None:
    for junk in (b'{"asset": {"version": "2.0"}}', png_bytes(), b"", b"glT"):
        body = await json_of(
            await upload(served.http, served.base, "markt", junk, token=STAFF), 422
        )
        expected = "glb_truncated" if junk == b"glT" else "not_glb"
        assert body["code"] == expected, (junk, body)
    assert stored_files(served.blobs) == []


async def test_a_file_past_the_limit_is_cut_off_with_413(served: Served) -> None:
    big = glb_bytes(bin_data=b"\x00" * (MAX_BYTES + 4))
    body = await json_of(await upload(served.http, served.base, "markt", big, token=STAFF), 413)
    assert body["code"] == "scene_too_large"

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
        for start in range(0, len(big), 4096):
            yield big[start : start + 4096]

    resp = await served.http.post(
        f"{served.base}/api/scenes/markt",
        data=chunked(),
        headers={**bearer(STAFF), "Content-Type": "application/octet-stream"},
    )
    assert (await json_of(resp, 413))["code"] == "scene_too_large"
    resp = await upload(served.http, served.base, "markt", big, token=STAFF, form=True)
    assert (await json_of(resp, 413))["code"] == "scene_too_large"
    assert stored_files(served.blobs) == []


async def test_an_invalid_scene_is_refused_with_its_problems(served: Served) -> None:
    resp = await upload(served.http, served.base, "markt", with_external_image(), token=STAFF)
    body = await json_of(resp, 422)
    assert body["code"] == "scene_invalid"
    problems = {(p["field"], p["type"]) for p in body["details"]}
    assert ("glb", "external_resource") in problems
    assert all(p["message"] for p in body["details"])
    assert stored_files(served.blobs) == []


async def test_a_preview_that_is_not_a_png_is_refused(served: Served) -> None:
    resp = await upload(served.http, served.base, "markt", GLB, token=STAFF, preview=b"GIF89a..")
    assert (await json_of(resp, 422))["code"] == "preview_not_png"
    assert stored_files(served.blobs) == []


async def test_bad_slugs_fields_and_media_types(served: Served) -> None:
    for slug in ("Markt", "markt-", "-markt", "m" * 64):
        resp = await upload(served.http, served.base, slug, GLB, token=STAFF)
        assert (await json_of(resp, 422))["details"][0]["field"] == "slug"
    resp = await upload(served.http, served.base, "markt", GLB, token=STAFF, title="x" * 121)
    assert (await json_of(resp, 422))["code"] == "invalid_request"
    resp = await served.http.post(
        f"{served.base}/api/scenes/markt", json={"glb": "no"}, headers=bearer(STAFF)
    )
    assert (await json_of(resp, 400))["code"] == "unsupported_media_type"
    form = aiohttp.FormData()
    form.add_field("model", GLB, filename="scene.glb")
    resp = await served.http.post(
        f"{served.base}/api/scenes/markt", data=form, headers=bearer(STAFF)
    )
    assert (await json_of(resp, 400))["code"] == "unexpected_field"
    assert stored_files(served.blobs) == []


async def test_only_staff_may_upload_or_delete(served: Served) -> None:
    resp = await upload(served.http, served.base, "markt", GLB, token=None)
    assert (await json_of(resp, 401))["code"]
    await json_of(await served.staff("POST", "/api/events", event_with("foyer")), 201)
    created = await json_of(
        await served.staff("POST", "/api/tokens", {"role": "moderator", "events": ["markttag"]}),
        201,
    )
    moderator = created["token"]
    resp = await upload(served.http, served.base, "markt", GLB, token=moderator)
    assert (await json_of(resp, 403))["code"]
    resp = await served.http.delete(f"{served.base}/api/scenes/markt", headers=bearer(moderator))
    assert (await json_of(resp, 403))["code"] == "staff_only"
    assert stored_files(served.blobs) == []
    # Who uploaded is for staff: a staff token's id is shown to staff, to nobody else.
    staff = await json_of(
        await served.staff("POST", "/api/tokens", {"role": "staff", "label": "upload"}), 201
    )
    await json_of(await upload(served.http, served.base, "markt", GLB, token=staff["token"]), 201)
    seen = await json_of(await served.get("/api/scenes/markt", headers=bearer(STAFF)), 200)
    assert seen["versions"][0]["uploaded_by"] == staff["token_id"]
    assert (await served.scene("markt"))["versions"][0]["uploaded_by"] is None


async def test_a_client_gone_mid_upload_leaves_nothing(served: Served) -> None:
    host, port = served.server.host, served.server.port
    assert port is not None
    _, writer = await asyncio.open_connection(host, port)
    writer.write(
        (
            f"POST /api/scenes/markt HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: Bearer {STAFF}\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Length: {len(GLB)}\r\n\r\n"
        ).encode()
        + GLB[:1000]
    )
    await writer.drain()
    # The server is receiving: its spooled file exists. Then the client goes away.
    await eventually(lambda: spooled(served.blobs), what="the upload to be spooled")
    writer.close()
    await writer.wait_closed()
    await eventually(lambda: not spooled(served.blobs), what="the spooled file to be removed")
    assert stored_files(served.blobs) == []
    assert (await served.get("/api/scenes/markt")).status == 404


# -- delete ------------------------------------------------------------------------------------


def event_with(scene: str) -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    return {
        "slug": "markttag",
        "title": "Markttag",
        "starts_at": (now + timedelta(days=1)).isoformat(),
        "ends_at": (now + timedelta(days=1, hours=2)).isoformat(),
        "rooms": [{"slug": "stand", "title": "Stand", "scene": scene}],
    }


async def test_delete_is_refused_while_a_room_uses_the_scene(served: Served) -> None:
    v1 = await json_of(await upload(served.http, served.base, "markt", GLB, token=STAFF), 201)
    second = variant("two")
    await json_of(await upload(served.http, served.base, "markt", second, token=STAFF), 201)
    await json_of(await served.staff("POST", "/api/events", event_with("markt")), 201)
    scene = await served.scene("markt")
    assert scene["used_by"] == [
        {
            "event": "markttag",
            "room": "stand",
            "title": "Stand",
            "version": None,
            "sha256": None,
            "provisioned": False,
        }
    ]
    refused = await json_of(await served.staff("DELETE", "/api/scenes/markt"), 409)
    assert refused["code"] == "scene_in_use" and "markttag/stand" in refused["message"]

    # Staff move the room to version 1; it says so, and the scene lists it.
    room = await json_of(
        await served.staff("PUT", "/api/events/markttag/rooms/stand/scene", {"version": 1}), 200
    )
    assert room["scene_sha256"] == v1["sha256"]
    assert (await served.scene("markt"))["used_by"][0]["version"] == 1
    missing = await served.staff("PUT", "/api/events/markttag/rooms/stand/scene", {"version": 9})
    assert (await json_of(missing, 404))["code"] == "scene_version_not_found"

    patch = {"scene": "foyer"}
    await json_of(await served.staff("PATCH", "/api/events/markttag/rooms/stand", patch), 200)
    assert await json_of(await served.staff("DELETE", "/api/scenes/markt"), 204) is None
    assert (await served.get("/api/scenes/markt")).status == 404
    assert (await served.get(f"/scenes/{SHA}.glb")).status == 404
    assert stored_files(served.blobs) == []


async def test_folder_packs_and_unknown_scenes_cannot_be_deleted(served: Served) -> None:
    assert (await json_of(await served.staff("DELETE", "/api/scenes/foyer"), 409))[
        "code"
    ] == "scene_from_folder"
    await json_of(await upload(served.http, served.base, "foyer", GLB, token=STAFF), 201)
    assert (await json_of(await served.staff("DELETE", "/api/scenes/foyer"), 409))[
        "code"
    ] == "scene_from_folder"
    assert (await json_of(await served.staff("DELETE", "/api/scenes/nope"), 404))[
        "code"
    ] == "scene_not_found"


async def test_a_blob_two_scenes_share_stays_until_the_last_goes(served: Served) -> None:
    await json_of(await upload(served.http, served.base, "markt", GLB, token=STAFF), 201)
    await json_of(await upload(served.http, served.base, "zelt", GLB, token=STAFF), 201)
    assert stored_files(served.blobs) == [f"{SHA[:2]}/{SHA}.glb"]
    await json_of(await served.staff("DELETE", "/api/scenes/markt"), 204)
    assert (await served.get(f"/scenes/{SHA}.glb")).status == 200
    await json_of(await served.staff("DELETE", "/api/scenes/zelt"), 204)
    assert stored_files(served.blobs) == []


async def test_an_empty_preview_field_means_no_preview(served: Served) -> None:
    form = aiohttp.FormData()
    form.add_field("glb", GLB, filename="scene.glb", content_type="model/gltf-binary")
    form.add_field("preview", b"", filename="", content_type="application/octet-stream")
    resp = await served.http.post(
        f"{served.base}/api/scenes/markt", data=form, headers=bearer(STAFF)
    )
    assert not (await json_of(resp, 201))["has_preview"]
    assert stored_files(served.blobs) == [f"{SHA[:2]}/{SHA}.glb"]


async def test_an_unwritable_blob_folder_fails_uploads_not_the_server(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("a file where the volume should be")
    settings = make_settings(
        tmp_path, staff_token=STAFF, scene_blobs_dir=tmp_path / "not-a-folder" / "blobs"
    )
    server = TestServer(await create_app(settings))
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            base = str(server.make_url("")).rstrip("/")
            body = await json_of(await upload(http, base, "markt", GLB, token=STAFF), 503)
            assert body["code"] == "unavailable"
            async with http.get(base + "/api/scenes/foyer") as resp:
                assert resp.status == 200  # the rest serves on
    finally:
        await asyncio.wait_for(server.close(), 10)


async def test_the_same_file_again_is_a_new_version_with_its_own_title(served: Served) -> None:
    await json_of(await upload(served.http, served.base, "markt", GLB, token=STAFF), 201)
    resp = await upload(served.http, served.base, "markt", GLB, token=STAFF, title="Neu")
    again = await json_of(resp, 201)
    assert (again["number"], again["sha256"], again["title"]["de"]) == (2, SHA, "Neu")
    scene = await served.scene("markt")
    assert [v["number"] for v in scene["versions"]] == [1, 2]
    assert scene["title"]["de"] == "Neu"
    assert stored_files(served.blobs) == [f"{SHA[:2]}/{SHA}.glb"]


async def test_the_json_body_limit_does_not_apply_to_uploads(served: Served) -> None:
    big = (REPO / "room_scenes" / "werkstatt" / "scene.glb").read_bytes()
    assert len(big) > LimitSettings().max_body_bytes  # 64 KiB for JSON bodies
    for form in (False, True):
        resp = await upload(served.http, served.base, "werkstatt-2", big, token=STAFF, form=form)
        assert (await json_of(resp, 201))["size"] == len(big)
