"""The stored form of a scene version (JSON), shared by both backends so they agree."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from hubs_bridge.errors import Conflict
from hubs_bridge.scenes.glb import SceneSummary
from hubs_bridge.scenes.problems import Problem
from hubs_bridge.store.base import SceneVersion


def dump_version(version: SceneVersion) -> str:
    summary = version.summary
    return orjson.dumps(
        {
            "slug": version.slug,
            "number": version.number,
            "sha256": version.sha256,
            "size": version.size,
            "title": version.title,
            "title_en": version.title_en,
            "uploaded_at": version.uploaded_at.isoformat(),
            "uploaded_by": version.uploaded_by,
            "preview_sha256": version.preview_sha256,
            "preview_size": version.preview_size,
            "summary": {
                "components": summary.components,
                "nodes": summary.nodes,
                "meshes": summary.meshes,
                "triangles": summary.triangles,
            },
            "warnings": [[p.code, p.message] for p in version.warnings],
        }
    ).decode()


def load_version(doc: str | bytes) -> SceneVersion:
    data: dict[str, Any] = orjson.loads(doc)
    summary = data["summary"]
    return SceneVersion(
        slug=data["slug"],
        number=int(data["number"]),
        sha256=data["sha256"],
        size=int(data["size"]),
        title=data["title"],
        title_en=data["title_en"],
        uploaded_at=datetime.fromisoformat(data["uploaded_at"]),
        uploaded_by=data["uploaded_by"],
        preview_sha256=data["preview_sha256"],
        preview_size=data["preview_size"],
        summary=SceneSummary(
            components={str(k): int(v) for k, v in summary["components"].items()},
            nodes=int(summary["nodes"]),
            meshes=int(summary["meshes"]),
            triangles=int(summary["triangles"]),
        ),
        warnings=tuple(Problem(code, message) for code, message in data["warnings"]),
    )


def check_number(version: SceneVersion, latest: int | None, expected: int | None) -> None:
    """The version check both backends make (in their atomic step): see ``scene_add_version``."""
    if latest != expected or version.number <= (latest or 0):
        raise version_conflict(version.slug)


def version_conflict(slug: str) -> Conflict:
    return Conflict(
        f"another version of scene {slug!r} was stored meanwhile; try again",
        code="version_conflict",
    )
