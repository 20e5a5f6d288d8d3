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
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

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
    """A file of a pack as it was when loaded."""

    path: Path
    size: int
    sha256: str
    mtime_ns: int

    def unchanged(self, stat: os.stat_result) -> bool:
        """Whether ``stat`` (of the file opened now) still describes the loaded bytes."""
        return stat.st_size == self.size and stat.st_mtime_ns == self.mtime_ns


@dataclass(frozen=True, slots=True)
class Scene:
    """One valid scene pack."""

    slug: str
    manifest: SceneManifest
    glb: StoredFile
    preview: StoredFile | None
    summary: SceneSummary
    warnings: tuple[Problem, ...] = ()

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
    """The valid scenes by slug, plus the problems of the packs left out."""

    def __init__(
        self, root: Path, scenes: dict[str, Scene], problems: list[ScenePackProblem]
    ) -> None:
        self.root = root
        self.scenes = scenes
        self.problems = problems
        self._by_glb = {scene.sha256: scene for scene in scenes.values()}
        self._by_preview = {s.preview.sha256: s for s in scenes.values() if s.preview}

    def __repr__(self) -> str:
        return f"<SceneLibrary {self.root}: {len(self.scenes)} scenes, {len(self.problems)} broken>"

    def get(self, slug: str) -> Scene | None:
        return self.scenes.get(slug)

    def by_sha256(self, sha256: str) -> Scene | None:
        """The scene whose GLB has this SHA-256 (hex, any case)."""
        return self._by_glb.get(sha256.lower())

    def preview_by_sha256(self, sha256: str) -> Scene | None:
        """The scene whose preview image has this SHA-256 (hex, any case)."""
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
