"""The scene catalog half of the SQLite store: uploaded scene versions.

Mixed into :class:`~hubs_bridge.store.sqlite.SqliteStore`, which owns the
connections and the schema (migration 5 creates ``scene_versions``). A version
is kept as the JSON of ``scene_docs.py`` beside its slug and number. Adding
one reads the slug's highest number and inserts in one ``BEGIN IMMEDIATE``
transaction, so two uploads cannot both pass the same check.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager

import aiosqlite

from hubs_bridge.store.base import SceneVersion
from hubs_bridge.store.scene_docs import check_number, dump_version, load_version
from hubs_bridge.store.sqlite_qa import _guarded


class SqliteScenes:
    """Scene catalog methods of the SQLite store (see the module docstring)."""

    # Provided by SqliteStore (see SqliteStore._transaction).
    _db: aiosqlite.Connection
    _transaction: Callable[[], AbstractAsyncContextManager[aiosqlite.Connection]]

    async def _scene_rows(self, sql: str, params: Sequence[object]) -> list[sqlite3.Row]:
        # One call to the reader's thread, as SqliteQa._rows explains.
        return list(await self._db.execute_fetchall(sql, params))

    @_guarded
    async def scene_versions(self) -> list[SceneVersion]:
        rows = await self._scene_rows("SELECT doc FROM scene_versions ORDER BY slug, number", ())
        return [load_version(str(row[0])) for row in rows]

    @_guarded
    async def scene_add_version(self, version: SceneVersion, expected_latest: int | None) -> None:
        async with self._transaction() as tx:
            async with tx.execute(
                "SELECT MAX(number) FROM scene_versions WHERE slug = ?", (version.slug,)
            ) as cur:
                row = await cur.fetchone()
            latest = int(row[0]) if row is not None and row[0] is not None else None
            check_number(version, latest, expected_latest)
            await tx.execute(
                "INSERT INTO scene_versions (slug, number, sha256, doc) VALUES (?, ?, ?, ?)",
                (version.slug, version.number, version.sha256, dump_version(version)),
            )

    @_guarded
    async def scene_delete(self, slug: str) -> list[SceneVersion]:
        async with self._transaction() as tx:
            async with tx.execute(
                "SELECT doc FROM scene_versions WHERE slug = ? ORDER BY number", (slug,)
            ) as cur:
                rows = list(await cur.fetchall())
            await tx.execute("DELETE FROM scene_versions WHERE slug = ?", (slug,))
        return [load_version(str(row[0])) for row in rows]
