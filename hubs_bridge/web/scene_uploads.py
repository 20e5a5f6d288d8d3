"""Staff manage scenes: upload a version, delete a scene, move a room to another version.

``POST /api/scenes/{slug}`` takes a GLB streamed as ``application/octet-stream``
(titles in the query), or ``multipart/form-data`` with a ``glb`` file, an
optional ``preview`` PNG and optional ``title`` / ``title_en`` fields. It is
received through the checks of ``scene_receive.py``; then the validator runs
on the whole file in a worker thread, and only a scene it accepts is stored
(``SceneCatalog.add_version``). A refused upload leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hubs_bridge.auth import Principal
from hubs_bridge.core.calendar import SLUG_PATTERN, Event, Room, Title
from hubs_bridge.core.event_commands import validation_details
from hubs_bridge.errors import ClientError, Conflict, FieldProblem, NotFound, ValidationFailed
from hubs_bridge.scene_catalog import pin_scene
from hubs_bridge.scenes.glb import GlbCheck, validate_glb
from hubs_bridge.scenes.library import SLUG_PATTERN as PACK_SLUG
from hubs_bridge.web.api import Api, QueryParam
from hubs_bridge.web.keys import CALENDAR, SETTINGS
from hubs_bridge.web.scene_info import SceneVersionInfo
from hubs_bridge.web.scene_receive import Spool, receive
from hubs_bridge.web.scenes import SCENE_CATALOG, base_url

log = logging.getLogger(__name__)

api = Api()
TAG = "scenes"
_SLUG = re.compile(SLUG_PATTERN)


class UploadFields(BaseModel):
    """The titles an upload may give (query or form fields); left out: the latest
    version's, or the slug for a new scene."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    title_en: Title | None = None


class SceneVersionChoice(BaseModel):
    """Body of ``PUT .../rooms/{room}/scene``: a version number, or ``null`` for the latest."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(default=None, ge=1)


@api.operation(
    "POST",
    "/api/scenes/{slug}",
    summary="Upload a new version of a scene (a new slug makes a new scene): the GLB as "
    "application/octet-stream, or multipart/form-data with glb, preview (PNG), title, title_en",
    tag=TAG,
    response=SceneVersionInfo,
    status=201,
    auth="staff",
    errors=(409, 413, 422, 503),
    query=(
        QueryParam("title", "The German title (else the latest version's, or the slug)"),
        QueryParam("title_en", "The English title"),
    ),
)
async def upload_scene(request: web.Request, principal: Principal) -> SceneVersionInfo:
    principal.require_staff()
    slug = _new_slug(request.match_info["slug"])
    catalog = request.app[SCENE_CATALOG]
    max_bytes = request.app[SETTINGS].limits.max_scene_bytes
    _fields(dict(request.query))  # before the body: a wrong title costs no upload
    spool = Spool(catalog.blobs)
    try:
        upload = await receive(request, spool, max_bytes)
        if upload.glb is None:
            raise ValidationFailed(
                "the upload has no scene file",
                code="glb_missing",
                details=[{"field": "glb", "message": "a .glb file is required", "type": "missing"}],
            )
        fields = _fields({**request.query, **upload.fields})
        check = await asyncio.to_thread(_validate, upload.glb.path, max_bytes)
        if not check.ok:
            raise ValidationFailed(
                "the scene cannot be used in Hubs; see details",
                code="scene_invalid",
                details=[_problem(p.code, p.message) for p in check.errors],
            )
        adding = asyncio.ensure_future(
            catalog.add_version(
                slug,
                upload.glb,
                upload.preview,
                title=fields.title,
                title_en=fields.title_en,
                by=principal.token_id,
                now=request.app[CALENDAR].now(),
                summary=check.summary,
                warnings=check.warnings,
            )
        )
        # From here the catalog owns the files: a client gone now does not undo an
        # upload that was received whole and valid.
        spool.hand_over()
        adding.add_done_callback(_log_orphaned_failure)
        scene = await asyncio.shield(adding)
    finally:
        spool.discard()
    log.info("scene %s version %d uploaded (%d bytes)", slug, scene.version, scene.size)
    return SceneVersionInfo.from_scene(scene, base_url(request), staff=True)


@api.operation(
    "DELETE",
    "/api/scenes/{slug}",
    summary="Delete an uploaded scene with all its versions (not while a room uses it)",
    tag=TAG,
    status=204,
    auth="staff",
    errors=(404, 409),
)
async def delete_scene(request: web.Request, principal: Principal) -> None:
    principal.require_staff()
    slug = request.match_info["slug"]
    catalog = request.app[SCENE_CATALOG]
    await catalog.refresh()
    if slug in catalog.folders.scenes:
        raise Conflict(
            f"scene {slug!r} comes from the scene folder on the server; remove it there",
            code="scene_from_folder",
        )
    if catalog.library.get(slug) is None:
        raise NotFound(f"there is no scene {slug!r}", code="scene_not_found")
    uses = await catalog.uses(slug)
    if uses:
        rooms = ", ".join(f"{use.event}/{use.room}" for use in uses)
        raise Conflict(
            f"scene {slug!r} is used by the rooms {rooms}; give them another scene first",
            code="scene_in_use",
        )
    await catalog.delete(slug)
    log.info("scene %s deleted", slug)


@api.operation(
    "PUT",
    "/api/events/{event}/rooms/{room}/scene",
    summary="Move a room to a version of its scene (null: the latest) for the Hubs rooms "
    "made from now on",
    tag=TAG,
    body=SceneVersionChoice,
    response=Room,
    auth="staff",
    errors=(404, 409),
)
async def move_room_scene(
    request: web.Request, principal: Principal, body: SceneVersionChoice
) -> Room:
    principal.require_staff()
    event_slug, room_slug = request.match_info["event"], request.match_info["room"]
    calendar, catalog = request.app[CALENDAR], request.app[SCENE_CATALOG]
    room = (await calendar.get(event_slug)).room(room_slug)
    if room is None:
        raise NotFound(f"event {event_slug!r} has no room {room_slug!r}", code="room_not_found")
    await catalog.refresh()
    versions = catalog.library.versions_of(room.scene)
    chosen = [v for v in versions if body.version in (None, v.version)]
    if not chosen:
        raise NotFound(
            f"scene {room.scene!r} has no version {body.version}",
            code="scene_version_not_found",
        )
    target, scene = chosen[-1], room.scene

    def move(current: Event, now: Any) -> Event:
        there = current.room(room_slug)
        if there is not None and there.scene != scene:
            raise Conflict(
                "the room's scene was changed meanwhile; reload and try again",
                code="version_conflict",
            )
        return pin_scene(current, room_slug, target.sha256, now)

    updated = await calendar.change(event_slug, move)
    moved = updated.room(room_slug)
    assert moved is not None
    return moved


def _new_slug(slug: str) -> str:
    """A slug both a pack folder and a room's scene may have."""
    if not (_SLUG.fullmatch(slug) and PACK_SLUG.fullmatch(slug)):
        raise ValidationFailed(
            "the scene's name is not a slug",
            code="invalid_request",
            details=[
                {
                    "field": "slug",
                    "message": "lowercase letters, digits and '-', at most 63 characters, "
                    "starting and ending with a letter or digit",
                    "type": "bad_slug",
                }
            ],
        )
    return slug


def _fields(raw: dict[str, str]) -> UploadFields:
    known = {k: v for k, v in raw.items() if k in UploadFields.model_fields}
    try:
        return UploadFields.model_validate(known)
    except ValidationError as exc:
        raise ValidationFailed(
            "the upload's fields are not valid",
            code="invalid_request",
            details=validation_details(exc),
        ) from None


def _problem(code: str, message: str) -> FieldProblem:
    return {"field": "glb", "message": message, "type": code}


def _validate(path: Path, max_bytes: int) -> GlbCheck:
    """The validator on the whole spooled file (in a worker thread: it takes a while)."""
    return validate_glb(path.read_bytes(), max_bytes=max_bytes)


def _log_orphaned_failure(adding: asyncio.Future[Any]) -> None:
    # The request may be gone (shield), so an outage must still be seen somewhere; a
    # refusal (a lost race) is the client's to hear, and nobody else's.
    error = None if adding.cancelled() else adding.exception()
    if error is not None and not isinstance(error, ClientError):
        log.warning("storing an uploaded scene failed: %s", error)
