"""The scene catalog half of the Redis store: uploaded scene versions.

Mixed into :class:`~hubs_bridge.store.redis.RedisStore`. Key layout (``P`` is
the prefix)::

    P:{_scenes}:latest          hash slug -> highest version number stored
    P:{_scenes}:v:<slug>        hash number -> JSON of the version (scene_docs.py)

Every key carries the hash tag ``{_scenes}``, so the scripts touching several of
them run on a Redis Cluster, and it can never be an event's tag (an event slug
has no ``_``): deleting an event named ``scenes`` leaves the catalog alone.
Adding a version checks and raises ``latest`` in the same script that writes
the version, so two uploads to one slug cannot both take one number.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis

from hubs_bridge.store.base import SceneVersion
from hubs_bridge.store.scene_docs import dump_version, load_version, version_conflict

TAG = "{_scenes}"

# KEYS: latest, the slug's versions. ARGV: slug, expected latest ("" = none), number,
# JSON. Returns 1 stored, 0 conflict (nothing written).
_ADD = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if (current or '') ~= ARGV[2] then return 0 end
if current and tonumber(ARGV[3]) <= tonumber(current) then return 0 end
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
"""

# KEYS: latest, the slug's versions. ARGV: slug. Returns the JSON of every version deleted.
_DELETE = """
local docs = redis.call('HVALS', KEYS[2])
redis.call('DEL', KEYS[2])
redis.call('HDEL', KEYS[1], ARGV[1])
return docs
"""


class RedisScenes:
    """Scene catalog methods of the Redis store (see the module docstring)."""

    # Provided by RedisStore.
    _r: Redis
    _p: str
    _call: Callable[[Awaitable[Any]], Awaitable[Any]]

    def _register_scene_scripts(self) -> None:
        self._scene_add_script = self._r.register_script(_ADD)
        self._scene_delete_script = self._r.register_script(_DELETE)

    def _scene_keys(self, slug: str) -> list[str]:
        return [f"{self._p}:{TAG}:latest", f"{self._p}:{TAG}:v:{slug}"]

    async def scene_versions(self) -> list[SceneVersion]:
        slugs = sorted(await self._call(self._r.hkeys(f"{self._p}:{TAG}:latest")))
        if not slugs:
            return []
        pipe = self._r.pipeline(transaction=False)
        for slug in slugs:
            pipe.hvals(self._scene_keys(slug)[1])
        found = await self._call(pipe.execute())
        versions = [load_version(doc) for docs in found for doc in docs]
        versions.sort(key=lambda v: (v.slug, v.number))
        return versions

    async def scene_add_version(self, version: SceneVersion, expected_latest: int | None) -> None:
        expected = "" if expected_latest is None else str(expected_latest)
        stored = await self._call(
            self._scene_add_script(
                keys=self._scene_keys(version.slug),
                args=[version.slug, expected, version.number, dump_version(version)],
            )
        )
        if not stored:
            raise version_conflict(version.slug)

    async def scene_delete(self, slug: str) -> list[SceneVersion]:
        docs = await self._call(self._scene_delete_script(keys=self._scene_keys(slug), args=[slug]))
        return sorted((load_version(doc) for doc in docs), key=lambda v: v.number)
