"""Rate limits per visitor, shared by every process (GCRA: one number per key).

The generic cell rate algorithm keeps, per key, the "theoretical arrival
time" of the next request; a request is allowed when that time is no more
than ``burst`` intervals ahead of now. One key per visitor and kind, one
atomic step per request: a Lua script on Redis, a dict in one process.

:meth:`Limiter.blocked_ms` looks without counting. A limit on *failures* (wrong
tokens, ``auth.py``) needs both: the address is refused while it is blocked,
before its token is even checked, and only a failure is counted afterwards, so
successes never use up the allowance.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hubs_bridge.broker.redis_scripts import client as redis_client
from hubs_bridge.errors import RateLimited
from hubs_bridge.settings import Settings, scheme_of

# KEYS[1] the key; ARGV: interval ms, burst, count (1) or only look (0).
# Returns ms to wait (0: allowed, and counted unless only looking).
_GCRA = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
local allowed_at = new_tat - burst * interval
if allowed_at > now then return allowed_at - now end
if ARGV[3] == '0' then return 0 end
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now + 1000)
return 0
"""


class Limiter(Protocol):
    async def wait_ms(self, key: str, per_minute: int, burst: int) -> int:
        """0 and counted if allowed now; else milliseconds until it would be (not counted)."""

    async def blocked_ms(self, key: str, per_minute: int, burst: int) -> int:
        """Like :meth:`wait_ms`, but counts nothing: 0 if a request would be allowed now."""


class MemoryLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tat: dict[str, float] = {}

    async def wait_ms(self, key: str, per_minute: int, burst: int) -> int:
        return self._step(key, per_minute, burst, count=True)

    async def blocked_ms(self, key: str, per_minute: int, burst: int) -> int:
        return self._step(key, per_minute, burst, count=False)

    def _step(self, key: str, per_minute: int, burst: int, *, count: bool) -> int:
        now = self._clock() * 1000
        interval = 60_000 / per_minute
        tat = max(self._tat.get(key, 0.0), now)
        allowed_at = tat + interval - burst * interval
        if allowed_at > now:
            return math.ceil(allowed_at - now)
        if not count:
            return 0
        self._tat[key] = tat + interval
        if len(self._tat) > 100_000:  # forget keys whose allowance is whole again
            self._tat = {k: v for k, v in self._tat.items() if v > now}
        return 0


class RedisLimiter:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._prefix = prefix
        self._script = redis.register_script(_GCRA)

    async def wait_ms(self, key: str, per_minute: int, burst: int) -> int:
        return await self._step(key, per_minute, burst, count=True)

    async def blocked_ms(self, key: str, per_minute: int, burst: int) -> int:
        return await self._step(key, per_minute, burst, count=False)

    async def _step(self, key: str, per_minute: int, burst: int, *, count: bool) -> int:
        interval = math.ceil(60_000 / per_minute)
        args = [interval, burst, 1 if count else 0]
        try:
            result = await self._script(keys=[f"{self._prefix}:rl:{key}"], args=args)
        except RedisError:
            return 0  # a limiter that cannot count lets people through rather than lock them out
        return int(result)


async def check(limiter: Limiter, key: str, per_minute: int, burst: int, what: str) -> None:
    """Raise :class:`RateLimited` with a code like ``rate_limited_questions``."""
    wait = await limiter.wait_ms(key, per_minute, burst)
    if wait > 0:
        raise RateLimited(
            f"too many {what}; try again in {math.ceil(wait / 1000)} s",
            retry_after_s=wait / 1000,
            code=f"rate_limited_{what}",
        )


def open_limiter(settings: Settings) -> tuple[Limiter, Callable[[], Awaitable[None]]]:
    """Beside the broker: on Redis (shared by every process) when the broker is, else in memory."""
    url = settings.broker_target()
    if scheme_of(url) == "memory":

        async def nothing() -> None:
            return None

        return MemoryLimiter(), nothing
    # A bounded pool of its own (a vote storm waits for a connection instead of failing
    # with "Too many connections" and so letting every request through), closed with it.
    redis = redis_client(url, max_connections=32, wait_s=2.0, name="hubs-bridge-limiter")
    return RedisLimiter(redis, settings.redis_prefix), redis.aclose
