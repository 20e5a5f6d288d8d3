"""Background loops survive whatever a round runs into, and stop only when cancelled."""

from __future__ import annotations

import asyncio

import pytest

from hubs_bridge.errors import StoreUnavailable
from hubs_bridge.periodic import every
from tests.harness.waiting import eventually


async def test_a_failing_round_is_logged_and_the_next_one_comes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rounds: list[int] = []

    async def work() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise RuntimeError("a bug")
        if len(rounds) == 2:
            raise StoreUnavailable("store away")

    task = asyncio.create_task(every(0.01, work, first_delay=0.0))
    await eventually(lambda: len(rounds) >= 4, what="four rounds", timeout=5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert "crashed" in caplog.text and "store away" in caplog.text
