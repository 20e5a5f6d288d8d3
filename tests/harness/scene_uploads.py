"""Uploading scenes to a running server as staff, and looking into its blob folder.

:func:`upload` sends a GLB the two ways the API takes it (a streamed
``application/octet-stream`` body, or a ``multipart/form-data`` form with a
preview); :func:`stored_files` lists what the blob folder holds, spooled
uploads included, so a test can say "nothing was left behind".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp

from tests.harness.scene_files import glb_bytes, scene_gltf


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


async def upload(
    http: aiohttp.ClientSession,
    base: str,
    slug: str,
    glb: bytes,
    *,
    token: str | None,
    form: bool = False,
    preview: bytes | None = None,
    title: str | None = None,
    title_en: str | None = None,
) -> aiohttp.ClientResponse:
    """``POST /api/scenes/{slug}``: the GLB as the body, or as a form with ``form``; its
    body is read, so the connection is free again."""
    url = f"{base}/api/scenes/{slug}"
    texts = {k: v for k, v in (("title", title), ("title_en", title_en)) if v is not None}
    if not form and preview is None:
        headers = {**bearer(token), "Content-Type": "application/octet-stream"}
        response = await http.post(url, data=glb, params=texts, headers=headers)
        await response.read()
        return response
    data = aiohttp.FormData()
    data.add_field("glb", glb, filename="scene.glb", content_type="model/gltf-binary")
    if preview is not None:
        data.add_field("preview", preview, filename="preview.png", content_type="image/png")
    for name, value in texts.items():
        data.add_field(name, value)
    response = await http.post(url, data=data, headers=bearer(token))
    await response.read()
    return response


async def json_of(response: aiohttp.ClientResponse, status: int) -> Any:
    """The JSON body of ``response``, which must have ``status``."""
    text = await response.text()
    assert response.status == status, f"{response.status}: {text}"
    return json.loads(text) if text else None


def stored_files(blobs: Path) -> list[str]:
    """Every file under the blob folder (spooled uploads too), relative, sorted."""
    if not blobs.exists():
        return []
    return sorted(str(p.relative_to(blobs)) for p in blobs.rglob("*") if p.is_file())


def variant(marker: str) -> bytes:
    """A valid scene GLB whose bytes (and so digest) depend on ``marker``."""
    doc = scene_gltf()
    doc["asset"]["generator"] = f"hubs-bridge tests: {marker}"
    return glb_bytes(doc)


def with_external_image() -> bytes:
    """A GLB whose image points at a file on another server (refused by the validator)."""
    doc = scene_gltf()
    doc["images"] = [{"uri": "https://cdn.example.org/texture.png"}]
    return glb_bytes(doc)
