"""HTTP routes of the scene library: the list, one scene, and its files by content hash.

- ``GET /api/scenes`` and ``GET /api/scenes/{slug}``: :class:`SceneInfo` as JSON.
- ``GET /scenes/{sha256}.glb`` and ``GET /scenes/{sha256}/preview.png``: the
  files, under URLs named by the SHA-256 of their bytes. A URL therefore
  always means the same bytes, which is what lets browsers and proxies keep
  them for a year (``immutable``) and lets a Hubs client load a scene by URL
  from another origin (CORS) and resume it with byte ranges.

Which status to answer (200/206/304/412/416) is decided by the pure
:func:`hubs_bridge.scenes.delivery.plan_delivery`; this module does the I/O.
A file that changed on disk since the library was loaded is refused rather
than served under a hash it no longer has.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import BinaryIO

from aiohttp import hdrs, web
from pydantic import BaseModel

from hubs_bridge.errors import NotFound
from hubs_bridge.scenes.delivery import Delivery, plan_delivery
from hubs_bridge.scenes.library import Scene, StoredFile
from hubs_bridge.scenes.urls import glb_url, preview_url
from hubs_bridge.web.api import Operation, json_response
from hubs_bridge.web.keys import SCENES, SETTINGS

log = logging.getLogger(__name__)

GLB_CONTENT_TYPE = "model/gltf-binary"
PNG_CONTENT_TYPE = "image/png"
IMMUTABLE = "public, max-age=31536000, immutable"
EXPOSED_HEADERS = "Content-Length, Content-Range, ETag, Accept-Ranges"
# Headers a scene loader sends cross-origin that are not CORS-safelisted (Fetch 2.2.2).
ALLOWED_REQUEST_HEADERS = "Range, If-None-Match, If-Range, If-Match"
PREFLIGHT_MAX_AGE_S = 86400
CHUNK_BYTES = 256 * 1024
_SHA256 = "{sha256:[0-9a-f]{64}}"


class LocalizedText(BaseModel):
    """A text in German (first) and English."""

    de: str
    en: str


class SceneInfo(BaseModel):
    """A scene of the library as clients see it; ``glb_url`` is absolute, ready for Hubs."""

    slug: str
    title: LocalizedText
    description: LocalizedText | None
    licence: str
    attribution: str
    suggested_capacity: int
    tags: list[str]
    glb_url: str
    preview_url: str | None
    size: int
    sha256: str
    components: dict[str, int]
    nodes: int
    meshes: int
    triangles: int

    @classmethod
    def from_scene(cls, scene: Scene, base_url: str) -> SceneInfo:
        """Describe ``scene`` with URLs below ``base_url`` (no trailing slash)."""
        manifest = scene.manifest
        description = manifest.description
        return cls(
            slug=scene.slug,
            title=LocalizedText(de=manifest.title.de, en=manifest.title.en),
            description=(
                LocalizedText(de=description.de, en=description.en) if description else None
            ),
            licence=manifest.licence,
            attribution=manifest.attribution,
            suggested_capacity=manifest.suggested_capacity,
            tags=list(manifest.tags),
            glb_url=glb_url(base_url, scene),
            preview_url=preview_url(base_url, scene),
            size=scene.size,
            sha256=scene.sha256,
            components=dict(scene.components),
            nodes=scene.summary.nodes,
            meshes=scene.summary.meshes,
            triangles=scene.summary.triangles,
        )


class SceneList(BaseModel):
    """The body of ``GET /api/scenes``: every valid scene, sorted by slug."""

    scenes: list[SceneInfo]


def add_routes(app: web.Application) -> None:
    """Register the scene routes; needs ``app[SCENES]`` and ``app[SETTINGS]``."""
    routes = (
        ("/api/scenes", list_scenes, "scenes"),
        ("/api/scenes/{slug}", get_scene, "scene"),
        (f"/scenes/{_SHA256}.glb", get_glb, "scene_glb"),
        (f"/scenes/{_SHA256}/preview.png", get_preview, "scene_preview"),
    )
    for path, handler, name in routes:
        resource = app.router.add_resource(path, name=name)
        resource.add_route(hdrs.METH_GET, handler)
        resource.add_route(hdrs.METH_HEAD, handler)
        resource.add_route(hdrs.METH_OPTIONS, preflight)


async def list_scenes(request: web.Request) -> web.Response:
    library = request.app[SCENES]
    base = _base_url(request)
    body = SceneList(
        scenes=[SceneInfo.from_scene(library.scenes[slug], base) for slug in sorted(library.scenes)]
    )
    return _json(request, body)


async def get_scene(request: web.Request) -> web.Response:
    slug = request.match_info["slug"]
    scene = request.app[SCENES].get(slug)
    if scene is None:
        raise NotFound(f"there is no scene {slug!r}", code="scene_not_found")
    return _json(request, SceneInfo.from_scene(scene, _base_url(request)))


async def get_glb(request: web.Request) -> web.StreamResponse:
    scene = request.app[SCENES].by_sha256(request.match_info["sha256"])
    if scene is None:
        raise NotFound("there is no scene file with this hash", code="scene_not_found")
    return await _send_file(request, scene.glb, GLB_CONTENT_TYPE)


async def get_preview(request: web.Request) -> web.StreamResponse:
    scene = request.app[SCENES].preview_by_sha256(request.match_info["sha256"])
    if scene is None or scene.preview is None:
        raise NotFound("there is no preview image with this hash", code="preview_not_found")
    return await _send_file(request, scene.preview, PNG_CONTENT_TYPE)


async def preflight(request: web.Request) -> web.Response:
    """Answer a CORS preflight (Fetch 3.2.3): GET and HEAD, with Range and conditionals."""
    headers = cors_headers(request)
    if hdrs.ACCESS_CONTROL_ALLOW_ORIGIN in headers:
        headers[hdrs.ACCESS_CONTROL_ALLOW_METHODS] = "GET, HEAD, OPTIONS"
        headers[hdrs.ACCESS_CONTROL_ALLOW_HEADERS] = ALLOWED_REQUEST_HEADERS
        headers[hdrs.ACCESS_CONTROL_MAX_AGE] = str(PREFLIGHT_MAX_AGE_S)
    return web.Response(status=204, headers=headers)


def cors_headers(request: web.Request) -> dict[str, str]:
    """CORS response headers for this request under ``settings.cors_origins``."""
    allowed = request.app[SETTINGS].cors_origins
    if "*" in allowed:
        return {
            hdrs.ACCESS_CONTROL_ALLOW_ORIGIN: "*",
            hdrs.ACCESS_CONTROL_EXPOSE_HEADERS: EXPOSED_HEADERS,
        }
    # The answer depends on Origin, so caches must keep one copy per origin.
    headers: dict[str, str] = {hdrs.VARY: "Origin"}
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is not None and origin.lower() in {o.rstrip("/").lower() for o in allowed}:
        headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = origin
        headers[hdrs.ACCESS_CONTROL_EXPOSE_HEADERS] = EXPOSED_HEADERS
    return headers


def _base_url(request: web.Request) -> str:
    public_url = request.app[SETTINGS].public_url
    return public_url if public_url else str(request.url.origin())


def _json(request: web.Request, body: BaseModel) -> web.Response:
    response = json_response(body)
    response.headers.update(cors_headers(request))
    return response


TAG = "scenes"
# For the OpenAPI document only: these routes are registered by add_routes, and the
# file routes are listed under their plain paths (the real ones constrain {sha256}).
OPERATIONS = [
    Operation("GET", "/api/scenes", "Every valid scene", list_scenes, TAG, response=SceneList),
    Operation(
        "GET", "/api/scenes/{slug}", "One scene", get_scene, TAG, response=SceneInfo, errors=(404,)
    ),
    Operation(
        "GET",
        "/scenes/{sha256}.glb",
        "A scene's GLB by content hash (ranges, ETag, immutable caching)",
        get_glb,
        TAG,
        produces=(GLB_CONTENT_TYPE,),
        errors=(404, 416),
    ),
    Operation(
        "GET",
        "/scenes/{sha256}/preview.png",
        "A scene's preview image by content hash",
        get_preview,
        TAG,
        produces=(PNG_CONTENT_TYPE,),
        errors=(404, 416),
    ),
]


async def _send_file(
    request: web.Request, stored: StoredFile, content_type: str
) -> web.StreamResponse:
    """Send ``stored`` (or the part, or the status, that the request's headers call for)."""
    headers = cors_headers(request)
    headers[hdrs.ETAG] = f'"{stored.sha256}"'
    headers[hdrs.CACHE_CONTROL] = IMMUTABLE
    headers[hdrs.ACCEPT_RANGES] = "bytes"
    plan = plan_delivery(
        method=request.method,
        size=stored.size,
        etag=stored.sha256,
        if_match=request.headers.get(hdrs.IF_MATCH),
        if_none_match=request.headers.get(hdrs.IF_NONE_MATCH),
        if_range=request.headers.get(hdrs.IF_RANGE),
        range_header=request.headers.get(hdrs.RANGE),
    )
    if plan.content_range is not None:
        headers[hdrs.CONTENT_RANGE] = plan.content_range
    if plan.status not in (200, 206):
        return web.Response(status=plan.status, headers=headers)

    fobj = await _open_in_thread(stored)
    if fobj is None:
        log.warning("scene file %s changed on disk since start-up; not served", stored.path)
        raise NotFound(
            "this file changed on the server since it was listed; reload the scene list",
            code="scene_changed",
        )
    try:
        response = web.StreamResponse(status=plan.status, headers=headers)
        response.content_type = content_type
        response.content_length = plan.length
        await response.prepare(request)
        if request.method == hdrs.METH_GET and not await _copy(fobj, plan, response):
            # Headers are out: the only honest end is a cut connection, which the client
            # sees as a short body, never as bytes it could cache under this hash.
            log.error("scene file %s shrank while being sent; connection cut", stored.path)
            if request.transport is not None:
                request.transport.abort()
        return response
    finally:
        # Closed here, not in a thread: an await in this finally could be cancelled
        # (the client went away) before the close ran, leaking the file. A read still
        # running in a thread holds the file's lock for at most one chunk.
        fobj.close()


async def _open_in_thread(stored: StoredFile) -> BinaryIO | None:
    """:func:`_open_unchanged` in a worker thread, closing the file if we are cancelled."""
    opening = asyncio.ensure_future(asyncio.to_thread(_open_unchanged, stored))
    try:
        return await asyncio.shield(opening)
    except asyncio.CancelledError:
        opening.add_done_callback(_close_opened)
        raise


def _close_opened(opening: asyncio.Future[BinaryIO | None]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        fobj = opening.result()
        if fobj is not None:
            fobj.close()


def _open_unchanged(stored: StoredFile) -> BinaryIO | None:
    """Open the file if it still has the size and mtime it had when its hash was taken."""
    try:
        fobj = stored.path.open("rb")
    except OSError:
        return None
    try:
        unchanged = stored.unchanged(os.fstat(fobj.fileno()))
    except OSError:
        unchanged = False
    if not unchanged:
        fobj.close()
        return None
    return fobj


def _read_at(fobj: BinaryIO, offset: int, size: int) -> bytes:
    fobj.seek(offset)
    return fobj.read(size)


async def _copy(fobj: BinaryIO, plan: Delivery, response: web.StreamResponse) -> bool:
    """Stream the planned bytes, reading in a worker thread; ``False`` if the file ran short."""
    offset, end = plan.start, plan.start + plan.length
    while offset < end:
        chunk = await asyncio.to_thread(_read_at, fobj, offset, min(CHUNK_BYTES, end - offset))
        if not chunk:
            return False
        await response.write(chunk)
        offset += len(chunk)
    return True
