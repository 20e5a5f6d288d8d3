"""The scene catalog part of the store contract, on every backend (SQLite and a real Redis)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from hubs_bridge.core import event_commands as cmds
from hubs_bridge.core.calendar import EventCreate
from hubs_bridge.errors import Conflict
from hubs_bridge.scenes.glb import SceneSummary
from hubs_bridge.scenes.problems import Problem
from hubs_bridge.store import Store
from hubs_bridge.store.base import SceneVersion

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
WAIT_S = 60
# Markup, quotes and what means something in Lua, JSON and SQL, in every text kept.
HOSTILE = '<b>"Bühne"</b> \' OR 1=1 -- ]] --[[ \\u0000 👩🏽‍🚀'


def version(
    slug: str = "markt", number: int = 1, sha: str = "a", **changes: object
) -> SceneVersion:
    made = SceneVersion(
        slug=slug,
        number=number,
        sha256=sha * 64,
        size=1234,
        title="Marktplatz",
        title_en="Market square",
        uploaded_at=NOW + timedelta(minutes=number),
        uploaded_by="tok-1",
        preview_sha256="c" * 64,
        preview_size=99,
        summary=SceneSummary(components={"spawn-point": 2, "nav-mesh": 1}, nodes=5, meshes=2),
        warnings=(Problem("no_lights", "the scene has no light"),),
    )
    return replace(made, **changes)  # type: ignore[arg-type]


async def test_versions_round_trip_in_order(store: Store) -> None:
    assert await store.scene_versions() == []
    first = version("markt", 1)
    plain = version(
        "zelt",
        2,
        "b",
        title=HOSTILE,
        title_en=None,
        uploaded_by=None,
        preview_sha256=None,
        preview_size=None,
        summary=SceneSummary(),
        warnings=(),
    )
    await store.scene_add_version(plain, None)  # a folder pack's slug starts at 2
    await store.scene_add_version(first, None)
    second = version("markt", 2, "d")
    await store.scene_add_version(second, 1)
    assert await store.scene_versions() == [first, second, plain]


async def test_a_version_needs_the_latest_it_was_computed_from(store: Store) -> None:
    await store.scene_add_version(version(number=1), None)
    for stale, number in ((None, 2), (2, 2), (0, 2), (1, 1)):
        with pytest.raises(Conflict) as refused:
            await store.scene_add_version(version(number=number, sha="e"), stale)
        assert refused.value.code == "version_conflict"
    assert [v.number for v in await store.scene_versions()] == [1]
    await store.scene_add_version(version(number=5, sha="e"), 1)  # higher is enough
    assert [v.number for v in await store.scene_versions()] == [1, 5]


async def test_two_uploads_at_once_never_lose_a_version(store: Store) -> None:
    """Many writers computing the next number from what they read: each try either
    stores its own number or is refused; a writer that retries always gets in."""

    async def upload(n: int) -> int:
        for _ in range(50):
            stored = [v for v in await store.scene_versions() if v.slug == "markt"]
            latest = stored[-1].number if stored else None
            try:
                await store.scene_add_version(
                    version(number=(latest or 0) + 1, sha=f"{n:x}"), latest
                )
            except Conflict:
                continue
            return (latest or 0) + 1
        raise AssertionError("never stored")

    async with asyncio.timeout(WAIT_S):
        numbers = await asyncio.gather(*(upload(n) for n in range(8)))
    assert sorted(numbers) == list(range(1, 9))
    stored = await store.scene_versions()
    assert [v.number for v in stored] == list(range(1, 9))
    assert {v.sha256 for v in stored} == {f"{n:x}" * 64 for n in range(8)}


async def test_delete_takes_every_version_of_one_slug(store: Store) -> None:
    await store.scene_add_version(version("markt", 2), None)
    await store.scene_add_version(version("markt", 3, "b"), 2)
    await store.scene_add_version(version("zelt", 1, "c"), None)
    deleted = await store.scene_delete("markt")
    assert [(v.slug, v.number) for v in deleted] == [("markt", 2), ("markt", 3)]
    assert [v.slug for v in await store.scene_versions()] == ["zelt"]
    assert await store.scene_delete("markt") == []
    # A slug deleted starts again from nothing.
    await store.scene_add_version(version("markt", 2, "f"), None)
    assert [v.number for v in await store.scene_versions() if v.slug == "markt"] == [2]


async def test_an_event_named_like_the_catalog_keeps_it(store: Store) -> None:
    """Deleting an event removes every key of that event, and nothing of the catalog."""
    await store.scene_add_version(version("markt", 1), None)
    create = EventCreate(
        slug="scenes",
        title="Scenes",
        starts_at=NOW,
        ends_at=NOW + timedelta(hours=1),
        rooms=[],
    )
    await store.create_event(cmds.create_event(create, now=NOW, scenes=(), max_rooms=5))
    assert await store.delete_event("scenes")
    assert [v.slug for v in await store.scene_versions()] == ["markt"]
