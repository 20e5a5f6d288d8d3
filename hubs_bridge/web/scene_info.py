"""What the scene routes answer: each scene with its versions and the rooms that use it.

URLs are absolute (ready for a Hubs server) and content-addressed: a GLB's URL
names its SHA-256, so the URL of version 2 keeps meaning version 2 after
version 3 is uploaded. A version without an uploaded preview has the URL of a
generated placeholder (``scenes/placeholder.py``), never none.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from hubs_bridge.scene_catalog import SceneUse
from hubs_bridge.scenes.library import Scene
from hubs_bridge.scenes.problems import Problem
from hubs_bridge.scenes.urls import glb_url, preview_url


class LocalizedText(BaseModel):
    """A text in German (first) and English."""

    de: str
    en: str


class ProblemInfo(BaseModel):
    """A validator's finding: a stable ``code`` (for a page to say in its language) and
    an English ``message``."""

    code: str
    message: str


class SceneVersionInfo(BaseModel):
    """One version of a scene: 1 is a pack folder's (or the first upload), then one per upload."""

    slug: str
    number: int
    source: Literal["folder", "upload"]
    title: LocalizedText
    sha256: str
    size: int
    glb_url: str
    preview_url: str
    # False: preview_url is the generated placeholder (image/svg+xml), not an upload.
    has_preview: bool
    uploaded_at: datetime | None
    # The id of the staff token that uploaded it (``env``: HUBS_BRIDGE_STAFF_TOKEN); shown
    # to staff only, None to others and for pack folders.
    uploaded_by: str | None
    components: dict[str, int]
    triangles: int
    warnings: list[ProblemInfo]

    @classmethod
    def from_scene(cls, scene: Scene, base_url: str, *, staff: bool) -> SceneVersionInfo:
        title = scene.manifest.title
        return cls(
            slug=scene.slug,
            number=scene.version,
            source=scene.source,
            title=LocalizedText(de=title.de, en=title.en),
            sha256=scene.sha256,
            size=scene.size,
            glb_url=glb_url(base_url, scene),
            preview_url=preview_url(base_url, scene),
            has_preview=scene.preview is not None,
            uploaded_at=scene.uploaded_at,
            uploaded_by=scene.uploaded_by if staff else None,
            components=dict(scene.components),
            triangles=scene.summary.triangles,
            warnings=problem_infos(scene.warnings),
        )


class SceneUseInfo(BaseModel):
    """A room of an event using the scene, and the version its Hubs rooms are made with
    (``None``: not provisioned yet; it will take the latest)."""

    event: str
    room: str
    title: str
    version: int | None
    sha256: str | None
    provisioned: bool

    @classmethod
    def from_use(cls, use: SceneUse) -> SceneUseInfo:
        return cls(
            event=use.event,
            room=use.room,
            title=use.title,
            version=use.version,
            sha256=use.sha256,
            provisioned=use.provisioned,
        )


class SceneInfo(BaseModel):
    """A scene as clients see it: its latest version's facts, every version, its rooms."""

    slug: str
    title: LocalizedText
    description: LocalizedText | None
    licence: str
    attribution: str
    suggested_capacity: int
    tags: list[str]
    glb_url: str
    preview_url: str
    size: int
    sha256: str
    components: dict[str, int]
    nodes: int
    meshes: int
    triangles: int
    version: int
    source: Literal["folder", "upload"]
    versions: list[SceneVersionInfo]
    used_by: list[SceneUseInfo]

    @classmethod
    def from_scene(
        cls,
        scene: Scene,
        base_url: str,
        versions: Sequence[Scene] = (),
        uses: Sequence[SceneUse] = (),
        *,
        staff: bool = False,
    ) -> SceneInfo:
        """Describe ``scene`` (the latest version) with URLs below ``base_url``."""
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
            version=scene.version,
            source=scene.source,
            versions=[
                SceneVersionInfo.from_scene(v, base_url, staff=staff) for v in versions or (scene,)
            ],
            used_by=[SceneUseInfo.from_use(use) for use in uses],
        )


class SceneList(BaseModel):
    """The body of ``GET /api/scenes``: every valid scene, sorted by slug."""

    scenes: list[SceneInfo]


def problem_infos(problems: Sequence[Problem]) -> list[ProblemInfo]:
    return [ProblemInfo(code=p.code, message=p.message) for p in problems]
