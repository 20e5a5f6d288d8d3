"""The scene catalog: pack folders plus uploaded versions, one library for every process.

Pack folders under ``room_scenes/`` are read once at start and never change
(each is version 1 of its slug). Staff uploads add versions: their files go to
the blob store (``scenes/blobs.py``, a volume every process mounts) and their
records to the store (:class:`~hubs_bridge.store.base.SceneStore`, shared by
every process). :class:`SceneCatalog` merges both into one live
:class:`~hubs_bridge.scenes.library.SceneLibrary`, which the calendar (known
scenes), provisioning (scene URLs) and the scene routes hold.

Another process's upload is seen after the next refresh: every ``REFRESH_S``
seconds, and at once (``MISS_REFRESH_S`` at most) when a scene file is asked
for that this process does not know yet. An upload or a delete made here is
seen here at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hubs_bridge.core.calendar import Event, EventUpdate, with_room_scene
from hubs_bridge.core.event_commands import update_event
from hubs_bridge.errors import Conflict, HubsBridgeError, NotFound, StoreUnavailable
from hubs_bridge.scenes.blobs import BlobKind, BlobStore, DirectoryBlobs
from hubs_bridge.scenes.glb import SceneSummary
from hubs_bridge.scenes.intake import Received
from hubs_bridge.scenes.library import Scene, SceneLibrary, StoredFile, load_library
from hubs_bridge.scenes.manifest import SceneManifest, Title
from hubs_bridge.scenes.problems import Problem
from hubs_bridge.settings import Settings
from hubs_bridge.store.base import SceneVersion, Store

log = logging.getLogger(__name__)

REFRESH_S = 2.0
MISS_REFRESH_S = 0.5
# Tries to take the next version number when other uploads to the slug win the race.
ADD_RETRIES = 5
# Said of an uploaded scene that is no new version of a pack folder (which has its own).
UPLOAD_LICENCE = "NOASSERTION"
UPLOAD_ATTRIBUTION = "uploaded by staff"
UPLOAD_CAPACITY = 24


@dataclass(frozen=True, slots=True)
class Spooled:
    """A received file, still in the blob store's spool: its path, size and digest."""

    path: Path
    received: Received


@dataclass(frozen=True, slots=True)
class SceneUse:
    """A room of an event whose scene is this one.

    ``version`` is the version its Hubs rooms are made with (the one it was
    provisioned with, or the one staff moved it to); ``None`` until then, when the
    next provisioning takes the latest.
    """

    event: str
    room: str
    title: str
    scene: str
    version: int | None
    sha256: str | None
    provisioned: bool


class SceneCatalog:
    """Pack folders and stored versions as one live library (see the module docstring)."""

    def __init__(
        self,
        folders: SceneLibrary,
        store: Store,
        blobs: BlobStore,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.folders = folders
        self.store = store
        self.blobs = blobs
        self.library = SceneLibrary(folders.root, dict(folders.scenes), list(folders.problems))
        self._clock = clock
        self._stored: list[SceneVersion] = []
        self._refreshed_at = float("-inf")
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        """Read the stored versions and rebuild the library if they changed."""
        async with self._lock:
            stored = await self.store.scene_versions()
            self._refreshed_at = self._clock()
            if stored != self._stored:
                self._stored = stored
                self.library.replace_with(merged(self.folders, stored, self.blobs))

    async def refresh_if_older(self, age_s: float) -> None:
        """Refresh unless the last refresh is younger than ``age_s`` seconds."""
        if self._clock() - self._refreshed_at >= age_s:
            await self.refresh()

    async def run(self) -> None:
        """Refresh every ``REFRESH_S`` until cancelled; a failed refresh keeps the last one."""
        while True:
            await asyncio.sleep(REFRESH_S)
            try:
                await self.refresh()
            except HubsBridgeError as exc:
                log.warning("scene catalog not refreshed: %s", exc)
            except Exception:
                # A record this version cannot read must not end the refreshing for good.
                log.exception("scene catalog not refreshed")

    def stored_latest(self, slug: str) -> int | None:
        """The highest stored version number of ``slug`` as last read (``None``: none)."""
        numbers = [v.number for v in self._stored if v.slug == slug]
        return max(numbers) if numbers else None

    async def add_version(
        self,
        slug: str,
        glb: Spooled,
        preview: Spooled | None,
        *,
        title: str | None,
        title_en: str | None,
        by: str | None,
        now: datetime,
        summary: SceneSummary,
        warnings: tuple[Problem, ...] = (),
    ) -> Scene:
        """Keep a validated upload as the next version of ``slug``; the new version.

        The files are put first: a catalog entry must never name a missing file.
        If no version can be stored, the files put here go again (unless another
        version has the same bytes).
        """
        try:
            await asyncio.to_thread(self.blobs.put, glb.path, glb.received.sha256, "glb")
            if preview is not None:
                await asyncio.to_thread(
                    self.blobs.put, preview.path, preview.received.sha256, "png"
                )
        except OSError as exc:
            for spooled in (glb, preview):
                if spooled is not None:
                    spooled.path.unlink(missing_ok=True)
            raise files_unavailable(exc) from exc
        # Titles not given are the latest version's; a new German title alone drops the
        # old English one (it would no longer match).
        current = self.library.get(slug)
        if current is not None and title is None:
            title = current.manifest.title.de
            title_en = title_en or current.manifest.title.en
        try:
            for _ in range(ADD_RETRIES):
                await self.refresh()
                latest = self.stored_latest(slug)
                base = latest if latest is not None else (1 if slug in self.folders.scenes else 0)
                version = SceneVersion(
                    slug=slug,
                    number=base + 1,
                    sha256=glb.received.sha256,
                    size=glb.received.size,
                    title=title or slug,
                    title_en=title_en,
                    uploaded_at=now,
                    uploaded_by=by,
                    preview_sha256=preview.received.sha256 if preview else None,
                    preview_size=preview.received.size if preview else None,
                    summary=summary,
                    warnings=warnings,
                )
                try:
                    await self.store.scene_add_version(version, latest)
                except Conflict as exc:
                    if exc.code == "version_conflict":
                        continue
                    raise
                await self.refresh()
                return uploaded_scene(version, self.folders.scenes.get(slug), self.blobs)
            raise Conflict(
                f"scene {slug!r} got other new versions meanwhile; try again",
                code="version_conflict",
            )
        except BaseException:
            kept: list[tuple[str, BlobKind]] = [(glb.received.sha256, "glb")]
            if preview is not None:
                kept.append((preview.received.sha256, "png"))
            with contextlib.suppress(Exception):
                await self._collect(kept)
            raise
        finally:
            # Put moved them, unless it failed: nothing spooled is left either way.
            for spooled in (glb, preview):
                if spooled is not None:
                    spooled.path.unlink(missing_ok=True)

    async def delete(self, slug: str) -> list[SceneVersion]:
        """Delete every uploaded version of ``slug`` and the files no other version uses.

        A pack folder cannot be deleted here (``scene_from_folder``); the caller
        checks that no room uses the scene first.
        """
        if slug in self.folders.scenes:
            raise Conflict(
                f"scene {slug!r} comes from the scene folder on the server; remove it there",
                code="scene_from_folder",
            )
        deleted = await self.store.scene_delete(slug)
        if not deleted:
            raise NotFound(f"there is no scene {slug!r}", code="scene_not_found")
        await self.refresh()
        files: list[tuple[str, BlobKind]] = [(v.sha256, "glb") for v in deleted]
        files += [(v.preview_sha256, "png") for v in deleted if v.preview_sha256]
        await self._collect(files)
        return deleted

    async def _collect(self, files: Iterable[tuple[str, BlobKind]]) -> None:
        """Delete these blobs unless a stored version still names them."""
        await self.refresh()
        used = {v.sha256 for v in self._stored} | {
            v.preview_sha256 for v in self._stored if v.preview_sha256
        }
        for sha256, kind in set(files):
            if sha256 not in used:
                await asyncio.to_thread(self.blobs.delete, sha256, kind)

    async def uses(self, slug: str | None = None) -> list[SceneUse]:
        """The rooms of every event that use ``slug`` (every scene: ``None``), from the store."""
        found = []
        for event in await self.store.list_events():
            for room in event.rooms:
                if slug is not None and room.scene != slug:
                    continue
                pinned = self.library.pinned(room.scene, room.scene_sha256)
                exact = pinned is not None and pinned.sha256 == room.scene_sha256
                found.append(
                    SceneUse(
                        event=event.slug,
                        room=room.slug,
                        title=room.title,
                        scene=room.scene,
                        version=pinned.version if exact and pinned else None,
                        sha256=room.scene_sha256 if exact else None,
                        provisioned=bool(room.hubs_links()),
                    )
                )
        return found


async def open_catalog(settings: Settings, store: Store) -> SceneCatalog:
    """Load the pack folders, open the blob folder and read the stored versions."""
    folders = await asyncio.to_thread(
        load_library, settings.scenes_dir, max_bytes=settings.limits.max_scene_bytes
    )
    for problem in folders.problems:
        log.warning("scene pack left out: %s", problem)
    log.info("scene library: %d scenes from %s", len(folders.scenes), settings.scenes_dir)
    blobs = await asyncio.to_thread(DirectoryBlobs.open, settings.scene_blobs_path())
    catalog = SceneCatalog(folders, store, blobs)
    await catalog.refresh()
    return catalog


def files_unavailable(exc: OSError) -> StoreUnavailable:
    """The scene file folder cannot be written (a missing or read-only volume): 503."""
    log.error("scene files cannot be written: %s", exc)
    return StoreUnavailable(f"the scene file folder cannot be written: {exc.strerror or exc}")


def merged(folders: SceneLibrary, stored: list[SceneVersion], blobs: BlobStore) -> SceneLibrary:
    """The pack folders with the stored versions added to their slugs (pure, no I/O)."""
    versions: dict[str, list[Scene]] = {slug: [scene] for slug, scene in folders.scenes.items()}
    for version in stored:
        base = folders.scenes.get(version.slug)
        versions.setdefault(version.slug, []).append(uploaded_scene(version, base, blobs))
    return SceneLibrary.from_versions(folders.root, versions, list(folders.problems))


def uploaded_scene(version: SceneVersion, folder: Scene | None, blobs: BlobStore) -> Scene:
    """A stored version as a :class:`Scene`; a pack folder of its slug lends its manifest."""
    title = Title(de=version.title, en=version.title_en or version.title)
    if folder is not None:
        manifest = folder.manifest.model_copy(update={"title": title})
    else:
        manifest = SceneManifest(
            licence=UPLOAD_LICENCE,
            attribution=UPLOAD_ATTRIBUTION,
            suggested_capacity=UPLOAD_CAPACITY,
            title=title,
        )
    glb = StoredFile(blobs.path(version.sha256, "glb"), version.size, version.sha256, None)
    preview = None
    if version.preview_sha256 is not None and version.preview_size is not None:
        path = blobs.path(version.preview_sha256, "png")
        preview = StoredFile(path, version.preview_size, version.preview_sha256, None)
    return Scene(
        slug=version.slug,
        manifest=manifest,
        glb=glb,
        preview=preview,
        summary=version.summary,
        warnings=version.warnings,
        version=version.number,
        uploaded_at=version.uploaded_at,
        uploaded_by=version.uploaded_by,
    )


def pin_scene(event: Event, room: str, sha256: str, now: datetime) -> Event:
    """A new version of the event with one room's scene version set (a staff move)."""
    if event.room(room) is None:
        raise NotFound(f"event {event.slug!r} has no room {room!r}", code="room_not_found")
    return update_event(with_room_scene(event, room, sha256), EventUpdate(), now=now)
