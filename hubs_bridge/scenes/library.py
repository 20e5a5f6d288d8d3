"""The scene library: every pack folder under ``room_scenes/``, loaded and validated.

A pack is a folder ``<slug>/`` holding ``scene.toml`` (the manifest),
``scene.glb`` (the scene) and optionally ``preview.png``. Loading is plain
blocking file I/O, meant to run once at start-up in a worker thread
(``asyncio.to_thread(load_library, ...)``). A broken pack never stops
start-up: it is left out of :attr:`SceneLibrary.scenes` and described in
:attr:`SceneLibrary.problems`.

Each file's SHA-256 is taken from the very bytes that were validated, and its
size and mtime are kept, so the web layer can serve a file under a
content-addressed URL and refuse it if it changed on disk since.

A scene may have several versions: a pack folder is version 1 of its slug, and
staff uploads add versions (``hubs_bridge/scene_catalog.py`` merges them in).
:attr:`SceneLibrary.scenes` holds the latest version of each slug, and every
version stays findable by the digest of its GLB, so a Hubs room made with an
older version keeps loading it.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from hubs_bridge.scenes.glb import SceneSummary, validate_glb
from hubs_bridge.scenes.manifest import ManifestError, SceneManifest, parse_manifest
from hubs_bridge.scenes.problems import Problem

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
MANIFEST_NAME = "scene.toml"
GLB_NAME = "scene.glb"
PREVIEW_NAME = "preview.png"
MAX_MANIFEST_BYTES = 64 * 1024
MAX_PREVIEW_BYTES = 4 * 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file of a scene as it was when its hash was taken.

    ``mtime_ns`` is ``None`` for an uploaded blob: it is written once, whole, under
    the name of its digest (``blobs.py``), and may be written again with the same
    bytes by another process, so only its size is compared.
    """

    path: Path
    size: int
    sha256: str
    mtime_ns: int | None

    def unchanged(self, stat: os.stat_result) -> bool:
        """Whether ``stat`` (of the file opened now) still describes the loaded bytes."""
        if stat.st_size != self.size:
            return False
        return self.mtime_ns is None or stat.st_mtime_ns == self.mtime_ns


SceneSource = Literal["folder", "upload"]


@dataclass(frozen=True, slots=True)
class Scene:
    """One valid version of a scene: a pack folder (version 1) or an upload."""

    slug: str
    manifest: SceneManifest
    glb: StoredFile
    preview: StoredFile | None
    summary: SceneSummary
    warnings: tuple[Problem, ...] = ()
    version: int = 1
    # Both None for a pack folder; uploaded_by is the id of the staff token that uploaded
    # it (``env``: HUBS_BRIDGE_STAFF_TOKEN).
    uploaded_at: datetime | None = None
    uploaded_by: str | None = None

    @property
    def source(self) -> SceneSource:
        return "folder" if self.uploaded_at is None else "upload"

    @property
    def glb_path(self) -> Path:
        return self.glb.path

    @property
    def size(self) -> int:
        return self.glb.size

    @property
    def sha256(self) -> str:
        return self.glb.sha256

    @property
    def preview_path(self) -> Path | None:
        return self.preview.path if self.preview else None

    @property
    def preview_sha256(self) -> str | None:
        return self.preview.sha256 if self.preview else None

    @property
    def components(self) -> dict[str, int]:
        return self.summary.components


@dataclass(frozen=True, slots=True)
class ScenePackProblem:
    """A pack left out of the library, and why; ``slug`` is ``None`` for the root itself."""

    slug: str | None
    path: Path
    errors: tuple[Problem, ...]
    warnings: tuple[Problem, ...] = ()

    def __str__(self) -> str:
        return f"{self.slug or self.path}: " + "; ".join(str(p) for p in self.errors)


class SceneLibrary:
    """The valid scenes by slug (their latest versions), plus the problems of packs left out.

    One instance may be kept alive and refreshed with :meth:`replace_with` (the
    scene catalog does so every few seconds), so everything holding it sees new
    versions. Each refresh swaps whole new dicts in, never changes one in place:
    a reader that took ``library.scenes`` keeps a consistent snapshot.
    """

    def __init__(
        self,
        root: Path,
        scenes: dict[str, Scene],
        problems: list[ScenePackProblem],
        versions: Mapping[str, Sequence[Scene]] | None = None,
    ) -> None:
        self.root = root
        self.problems = problems
        self._index(scenes, versions)

    def _index(
        self, scenes: dict[str, Scene], versions: Mapping[str, Sequence[Scene]] | None
    ) -> None:
        if versions is None:
            versions = {slug: (scene,) for slug, scene in scenes.items()}
        by_slug = {
            slug: tuple(sorted(found, key=lambda s: s.version))
            for slug, found in versions.items()
            if found
        }
        every = [scene for found in by_slug.values() for scene in found]
        self.versions: dict[str, tuple[Scene, ...]] = by_slug
        self.scenes: dict[str, Scene] = {slug: found[-1] for slug, found in by_slug.items()}
        # The oldest version wins a digest two versions share (the same file uploaded
        # again): its URL was handed out first.
        self._by_glb: dict[str, Scene] = {}
        self._by_preview: dict[str, Scene] = {}
        for scene in every:
            self._by_glb.setdefault(scene.sha256, scene)
            if scene.preview is not None:
                self._by_preview.setdefault(scene.preview.sha256, scene)

    @classmethod
    def from_versions(
        cls, root: Path, versions: Mapping[str, Sequence[Scene]], problems: list[ScenePackProblem]
    ) -> SceneLibrary:
        """A library of several versions per slug; ``scenes`` gets the highest of each."""
        return cls(root, {}, problems, versions)

    def replace_with(self, other: SceneLibrary) -> None:
        """Take ``other``'s scenes and problems (a refresh of a library others hold)."""
        self.root, self.problems = other.root, other.problems
        self.versions, self.scenes = other.versions, other.scenes
        self._by_glb, self._by_preview = other._by_glb, other._by_preview

    def __repr__(self) -> str:
        return f"<SceneLibrary {self.root}: {len(self.scenes)} scenes, {len(self.problems)} broken>"

    def get(self, slug: str) -> Scene | None:
        return self.scenes.get(slug)

    def versions_of(self, slug: str) -> tuple[Scene, ...]:
        """Every version of the scene, oldest first (empty for an unknown slug)."""
        return self.versions.get(slug, ())

    def pinned(self, slug: str, sha256: str | None) -> Scene | None:
        """The version of ``slug`` whose GLB has ``sha256``; the latest when none has it.

        A room remembers the digest of the version it was provisioned with; a
        digest that is no version of its scene (the room's scene was changed
        since) means nothing, and the room gets the latest version.
        """
        if sha256 is not None:
            for scene in self.versions_of(slug):
                if scene.sha256 == sha256.lower():
                    return scene
        return self.scenes.get(slug)

    def by_sha256(self, sha256: str) -> Scene | None:
        """The scene version whose GLB has this SHA-256 (hex, any case)."""
        return self._by_glb.get(sha256.lower())

    def preview_by_sha256(self, sha256: str) -> Scene | None:
        """The scene version whose preview image has this SHA-256 (hex, any case)."""
        return self._by_preview.get(sha256.lower())


def is_pack(folder: Path) -> bool:
    """Whether ``folder`` looks like a scene pack (has a manifest or a GLB)."""
    return (folder / MANIFEST_NAME).exists() or (folder / GLB_NAME).exists()


def load_library(root: Path, *, max_bytes: int) -> SceneLibrary:
    """Load every pack under ``root``; never raises (problems are collected instead)."""
    try:
        entries = sorted(p for p in root.iterdir() if not p.name.startswith("."))
    except OSError as exc:
        problem = Problem("no_scene_dir", f"cannot list the scene folder {root}: {_reason(exc)}")
        return SceneLibrary(root, {}, [ScenePackProblem(None, root, (problem,))])
    scenes: dict[str, Scene] = {}
    problems: list[ScenePackProblem] = []
    for folder in entries:
        try:
            if not (folder.is_dir() and is_pack(folder)):
                continue
        except OSError as exc:  # e.g. a folder without search permission
            problem = Problem("unreadable", f"cannot look into {folder.name}: {_reason(exc)}")
            problems.append(ScenePackProblem(folder.name, folder, (problem,)))
            continue
        loaded = load_pack(folder, max_bytes=max_bytes)
        if isinstance(loaded, Scene):
            scenes[loaded.slug] = loaded
        else:
            problems.append(loaded)
    return SceneLibrary(root, scenes, problems)


def load_pack(folder: Path, *, max_bytes: int) -> Scene | ScenePackProblem:
    """Load and validate one pack folder; its slug is the folder's name."""
    slug = folder.name
    errors: list[Problem] = []
    warnings: list[Problem] = []
    if not SLUG_PATTERN.fullmatch(slug):
        errors.append(
            Problem(
                "bad_slug",
                f"folder name {slug!r} is not a slug: lowercase letters, digits and '-', "
                "starting with a letter or digit, at most 63 characters",
            )
        )

    manifest: SceneManifest | None = None
    manifest_bytes = _read(folder / MANIFEST_NAME, MAX_MANIFEST_BYTES, "manifest", errors)
    if manifest_bytes is not None:
        try:
            manifest = parse_manifest(manifest_bytes[0])
        except ManifestError as exc:
            errors.extend(exc.problems)

    summary = SceneSummary()
    glb: StoredFile | None = None
    glb_bytes = _read(folder / GLB_NAME, max_bytes, "glb", errors)
    if glb_bytes is not None:
        check = validate_glb(glb_bytes[0], max_bytes=max_bytes)
        errors.extend(check.errors)
        warnings.extend(check.warnings)
        summary = check.summary
        glb = _stored(folder / GLB_NAME, *glb_bytes)

    preview: StoredFile | None = None
    if (folder / PREVIEW_NAME).exists():
        preview_bytes = _read(folder / PREVIEW_NAME, MAX_PREVIEW_BYTES, "preview", errors)
        if preview_bytes is not None and not preview_bytes[0].startswith(PNG_SIGNATURE):
            errors.append(Problem("bad_preview", f"{PREVIEW_NAME} is not a PNG image"))
        elif preview_bytes is not None:
            preview = _stored(folder / PREVIEW_NAME, *preview_bytes)

    if errors or manifest is None or glb is None:
        return ScenePackProblem(slug, folder, tuple(errors), tuple(warnings))
    return Scene(slug, manifest, glb, preview, summary, tuple(warnings))


def _read(
    path: Path, limit: int, kind: str, errors: list[Problem]
) -> tuple[bytes, os.stat_result] | None:
    """Read a whole file of at most ``limit`` bytes, with the stat of the open file."""
    try:
        with path.open("rb") as f:
            stat = os.fstat(f.fileno())
            if stat.st_size > limit:
                # Checked before reading, so an oversized file is never held in memory.
                errors.append(
                    Problem(
                        f"{kind}_too_large" if kind != "glb" else "too_large",
                        f"{path.name} has {stat.st_size} bytes; the limit is {limit}",
                    )
                )
                return None
            data = f.read(limit + 1)
    except FileNotFoundError:
        errors.append(Problem(f"{kind}_missing", f"{path.name} is missing"))
        return None
    except OSError as exc:
        errors.append(Problem("unreadable", f"cannot read {path.name}: {_reason(exc)}"))
        return None
    if len(data) != stat.st_size:
        errors.append(Problem("unreadable", f"{path.name} changed while it was read"))
        return None
    return data, stat


def _stored(path: Path, data: bytes, stat: os.stat_result) -> StoredFile:
    return StoredFile(path, len(data), hashlib.sha256(data).hexdigest(), stat.st_mtime_ns)


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__
