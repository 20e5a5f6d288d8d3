"""HTTP routes of the scene library: the list, one scene, and its files by content hash.

- ``GET /api/scenes`` and ``GET /api/scenes/{slug}``: :class:`SceneInfo` as JSON,
  every version and the rooms using each scene (``scene_info.py``).
- ``GET /scenes/{sha256}.glb`` and ``GET /scenes/{sha256}/preview.png``: the
  files, under URLs named by the SHA-256 of their bytes. A URL therefore
  always means the same bytes, which is what lets browsers and proxies keep
  them for a year (``immutable``) and lets a Hubs client load a scene by URL
  from another origin (CORS) and resume it with byte ranges.
- ``GET /scenes/{sha256}/preview.svg``: the generated preview of the version
  whose GLB has this hash, for versions without an uploaded image.

Uploads and deletions are in ``scene_uploads.py``.

Which status to answer (200/206/304/412/416) is decided by the pure
:func:`hubs_bridge.scenes.delivery.plan_delivery`; this module does the I/O.
A file that changed on disk since the library was loaded is refused rather
than served under a hash it no longer has. A hash this process does not know
yet (uploaded through another process a moment ago) makes it read the catalog
again before it answers 404.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import Callable
from typing import BinaryIO

from aiohttp import hdrs, web
from pydantic import BaseModel

from hubs_bridge.errors import NotFound
from hubs_bridge.scene_catalog import MISS_REFRESH_S, SceneCatalog, SceneUse
from hubs_bridge.scenes.delivery import Delivery, etag_matches, plan_delivery
from hubs_bridge.scenes.library import Scene, StoredFile
from hubs_bridge.scenes.placeholder import CONTENT_TYPE as SVG_CONTENT_TYPE
from hubs_bridge.scenes.placeholder import placeholder_svg
from hubs_bridge.scenes.urls import glb_url
from hubs_bridge.web.api import Operation, json_response, principal_of
from hubs_bridge.web.keys import AUTH, SCENES, SETTINGS
from hubs_bridge.web.scene_info import LocalizedText, SceneInfo, SceneList

__all__ = ["SCENE_CATALOG", "LocalizedText", "SceneInfo", "SceneList", "add_routes", "glb_url"]

log = logging.getLogger(__name__)

# The catalog behind app[SCENES] (app.py); absent in apps made of the read-only library.
SCENE_CATALOG: web.AppKey[SceneCatalog] = web.AppKey("scene_catalog")

GLB_CONTENT_TYPE = "model/gltf-binary"
PNG_CONTENT_TYPE = "image/png"
IMMUTABLE = "public, max-age=31536000, immutable"
# The placeholder names the version its hash belongs to, which is the oldest version
# with that GLB: it may change when that scene is deleted, so it is not immutable.
PLACEHOLDER_CACHE = "public, max-age=86400"
EXPOSED_HEADERS = "Content-Length, Content-Range, ETag, Accept-Ranges"
# Headers a scene loader sends cross-origin that are not CORS-safelisted (Fetch 2.2.2).
ALLOWED_REQUEST_HEADERS = "Range, If-None-Match, If-Range, If-Match"
PREFLIGHT_MAX_AGE_S = 86400
CHUNK_BYTES = 256 * 1024
_SHA256 = "{sha256:[0-9a-f]{64}}"


def add_routes(app: web.Application) -> None:
    """Register the scene routes; needs ``app[SCENES]`` and ``app[SETTINGS]``."""
    routes = (
        ("/api/scenes", list_scenes, "scenes"),
        ("/api/scenes/{slug}", get_scene, "scene"),
        (f"/scenes/{_SHA256}.glb", get_glb, "scene_glb"),
        (f"/scenes/{_SHA256}/preview.png", get_preview, "scene_preview"),
        (f"/scenes/{_SHA256}/preview.svg", get_placeholder, "scene_placeholder"),
    )
    for path, handler, name in routes:
        resource = app.router.add_resource(path, name=name)
        resource.add_route(hdrs.METH_GET, handler)
        resource.add_route(hdrs.METH_HEAD, handler)
        resource.add_route(hdrs.METH_OPTIONS, preflight)


async def list_scenes(request: web.Request) -> web.Response:
    library = request.app[SCENES]
    base, staff = base_url(request), await _is_staff(request)
    uses = await _uses(request, None)
    body = SceneList(
        scenes=[
            SceneInfo.from_scene(
                library.scenes[slug],
                base,
                library.versions_of(slug),
                [use for use in uses if use.scene == slug],
                staff=staff,
            )
            for slug in sorted(library.scenes)
        ]
    )
    return _json(request, body)


async def get_scene(request: web.Request) -> web.Response:
    slug = request.match_info["slug"]
    library = request.app[SCENES]
    scene = await _found(request, lambda: library.get(slug))
    if scene is None:
        raise NotFound(f"there is no scene {slug!r}", code="scene_not_found")
    info = SceneInfo.from_scene(
        scene,
        base_url(request),
        library.versions_of(slug),
        await _uses(request, slug),
        staff=await _is_staff(request),
    )
    return _json(request, info)


async def get_glb(request: web.Request) -> web.StreamResponse:
    sha = request.match_info["sha256"]
    library = request.app[SCENES]
    scene = await _found(request, lambda: library.by_sha256(sha))
    if scene is None:
        raise NotFound("there is no scene file with this hash", code="scene_not_found")
    return await _send_file(request, scene.glb, GLB_CONTENT_TYPE)


async def get_preview(request: web.Request) -> web.StreamResponse:
    sha = request.match_info["sha256"]
    library = request.app[SCENES]
    scene = await _found(request, lambda: library.preview_by_sha256(sha))
    if scene is None or scene.preview is None:
        raise NotFound("there is no preview image with this hash", code="preview_not_found")
    return await _send_file(request, scene.preview, PNG_CONTENT_TYPE)


async def get_placeholder(request: web.Request) -> web.Response:
    """The generated preview of the scene version whose GLB has this hash."""
    sha = request.match_info["sha256"]
    library = request.app[SCENES]
    scene = await _found(request, lambda: library.by_sha256(sha))
    if scene is None:
        raise NotFound("there is no scene file with this hash", code="preview_not_found")
    body = placeholder_svg(scene.manifest.title.de, scene.slug, scene.sha256, scene.version)
    etag = hashlib.sha256(body).hexdigest()
    headers = cors_headers(request)
    headers[hdrs.ETAG] = f'"{etag}"'
    headers[hdrs.CACHE_CONTROL] = PLACEHOLDER_CACHE
    if_none_match = request.headers.get(hdrs.IF_NONE_MATCH)
    if if_none_match is not None and etag_matches(if_none_match, etag, weak=True):
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, headers=headers, content_type=SVG_CONTENT_TYPE)


async def _found(request: web.Request, lookup: Callable[[], Scene | None]) -> Scene | None:
    """``lookup()``, asked again after reading the catalog if it finds nothing: the scene
    may have been uploaded through another process since this one last read it."""
    found = lookup()
    catalog = request.app.get(SCENE_CATALOG)
    if found is None and catalog is not None:
        await catalog.refresh_if_older(MISS_REFRESH_S)
        found = lookup()
    return found


async def _uses(request: web.Request, slug: str | None) -> list[SceneUse]:
    catalog = request.app.get(SCENE_CATALOG)
    return await catalog.uses(slug) if catalog is not None else []


async def _is_staff(request: web.Request) -> bool:
    """Whether the caller sent a staff token: only staff see who uploaded a version.

    The lists are public (they hold nothing else secret); a wrong token is refused,
    as on every route that takes one.
    """
    if hdrs.AUTHORIZATION not in request.headers or AUTH not in request.app:
        return False
    return (await principal_of(request)).is_staff


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


def base_url(request: web.Request) -> str:
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
    Operation(
        "GET",
        "/api/scenes",
        "Every valid scene with its versions and the rooms using it",
        list_scenes,
        TAG,
        response=SceneList,
        auth="optional",
    ),
    Operation(
        "GET",
        "/api/scenes/{slug}",
        "One scene with its versions and the rooms using it",
        get_scene,
        TAG,
        response=SceneInfo,
        auth="optional",
        errors=(404,),
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
    Operation(
        "GET",
        "/scenes/{sha256}/preview.svg",
        "A generated preview naming the scene version whose GLB has this hash",
        get_placeholder,
        TAG,
        produces=(SVG_CONTENT_TYPE,),
        errors=(404,),
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
        log.warning("scene file %s changed or went since it was listed; not served", stored.path)
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
