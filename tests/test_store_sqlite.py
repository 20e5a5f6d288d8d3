"""SQLite-only behaviour of the store that the contract suite cannot reach."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiosqlite
import pytest

from hubs_bridge.store.sqlite import SqliteStore


async def test_a_cancelled_commit_stays_a_cancellation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A COMMIT whose await is cancelled still runs in aiosqlite's thread; the ROLLBACK
    that follows then finds no transaction. The cancellation must come through as such
    (a loop that retries store errors would otherwise never stop)."""
    store = await SqliteStore.open(tmp_path / "db.sqlite")
    try:
        with pytest.raises(asyncio.CancelledError):
            async with store._transaction() as tx:
                await tx.execute("COMMIT")  # what the thread did after the await was cancelled
                # The connection still looks in a transaction when the handler checks.
                monkeypatch.setattr(
                    aiosqlite.Connection, "in_transaction", property(lambda _: True)
                )
                raise asyncio.CancelledError
        monkeypatch.undo()
        assert await store.schema_version() > 0  # the store is still usable
    finally:
        await store.close()
