"""One contract for every rate limiter: in memory (one process) and on Redis (shared)."""

from __future__ import annotations

import asyncio

import pytest

from hubs_bridge.errors import RateLimited
from hubs_bridge.ratelimits import Limiter, check
from tests.harness.waiting import eventually

DEADLINE_S = 10.0


async def test_a_burst_then_a_wait(limiter: Limiter) -> None:
    answers = [await limiter.wait_ms("v1:ask", 6, 3) for _ in range(4)]
    assert answers[:3] == [0, 0, 0]
    # 6 a minute: the next one in about 10 s, never more.
    assert 0 < answers[3] <= 10_000


async def test_refused_requests_are_not_counted(limiter: Limiter) -> None:
    assert await limiter.wait_ms("k", 6, 1) == 0
    first = await limiter.wait_ms("k", 6, 1)
    for _ in range(20):
        await limiter.wait_ms("k", 6, 1)  # hammering does not push the allowance away
    assert 0 < await limiter.wait_ms("k", 6, 1) <= first


async def test_looking_counts_nothing(limiter: Limiter) -> None:
    for _ in range(5):
        assert await limiter.blocked_ms("look", 6, 2) == 0
    assert await limiter.wait_ms("look", 6, 2) == 0
    assert await limiter.wait_ms("look", 6, 2) == 0
    assert await limiter.blocked_ms("look", 6, 2) > 0
    assert await limiter.wait_ms("look", 6, 2) > 0


async def test_keys_are_independent(limiter: Limiter) -> None:
    assert await limiter.wait_ms("a", 1, 1) == 0
    assert await limiter.wait_ms("a", 1, 1) > 0
    assert await limiter.wait_ms("b", 1, 1) == 0


async def test_the_allowance_comes_back(limiter: Limiter) -> None:
    # 6,000 a minute: one every 10 ms. Waits for the condition, not for a time.
    assert await limiter.wait_ms("fast", 6000, 1) == 0

    async def allowed() -> bool:
        wait = await limiter.wait_ms("fast", 6000, 1)
        assert wait <= 10
        return wait == 0

    await eventually(allowed, what="the allowance back", timeout=DEADLINE_S)


async def test_concurrent_requests_never_pass_the_burst(limiter: Limiter) -> None:
    answers = await asyncio.gather(*(limiter.wait_ms("crowd", 1, 5) for _ in range(50)))
    assert sum(1 for a in answers if a == 0) == 5


async def test_check_names_the_limit(limiter: Limiter) -> None:
    await check(limiter, "v:q", 1, 1, "questions")
    with pytest.raises(RateLimited) as refused:
        await check(limiter, "v:q", 1, 1, "questions")
    assert refused.value.code == "rate_limited_questions"
    assert refused.value.context["retry_after_s"] > 0
