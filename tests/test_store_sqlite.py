"""SQLite-only behaviour of the store that the contract suite cannot reach."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
import pytest

from hubs_bridge.core import qa
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


async def test_a_read_after_a_write_sees_it_while_other_reads_run(tmp_path: Path) -> None:
    """Reads and writes use two connections (issue 11). A read must still see every
    write that returned before it, even while other coroutines' reads keep the
    reading connection busy (a statement left open between two calls to its thread
    would hold an older snapshot for the statements run beside it)."""
    store = await SqliteStore.open(tmp_path / "db.sqlite")
    question = qa.new_question(
        question_id="q1",
        event="kirmes",
        room=None,
        text="Wann beginnt die Führung?",
        author=qa.Author(visitor="v-anna", name=None),
        source="web",
        premoderation=False,
        held_for=(),
        client_msg_id="m-1",
        now=datetime(2026, 11, 26, 9, 0, tzinfo=UTC),
    )
    await store.qa_save("kirmes", [question], {"q1": None})
    stop = asyncio.Event()

    async def reader() -> None:
        while not stop.is_set():
            await store.qa_questions("kirmes")
            await store.qa_voted_by("kirmes", "v-anna")

    readers = [asyncio.create_task(reader()) for _ in range(8)]
    try:
        for n in range(150):
            assert await store.qa_vote("kirmes", "q1", f"v-{n}", up=True)
            assert await store.qa_vote_count("kirmes", "q1") == n + 1
            assert await store.qa_vote_counts("kirmes") == {"q1": n + 1}
    finally:
        stop.set()
        await asyncio.gather(*readers)
        await store.close()
