"""A write whose page went away leaves the store writable (found by the ws state machine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubs_bridge.store import open_store
from tests.conftest import REDIS_URL, make_settings
from tests.harness.cancelled_write import cancel_a_write_then_write


# SqliteStore._transaction awaited BEGIN IMMEDIATE outside its try: a cancellation there
# (aiohttp cancels the handler of a websocket whose client dropped) left BEGIN to run in
# aiosqlite's thread with nobody to end it, and every later write of the process failed
# "cannot start a transaction within a transaction" (unavailable/503).
@pytest.mark.parametrize("backend", ["sqlite", "redis"])
async def test_a_cancelled_write_does_not_block_later_writes(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "redis":
        prefix = request.getfixturevalue("redis_prefix")
        settings = make_settings(tmp_path, redis_url=REDIS_URL, redis_prefix=prefix)
    else:
        settings = make_settings(tmp_path)
    store = await open_store(settings)
    try:
        assert await cancel_a_write_then_write(store) == 1
    finally:
        await store.close()
