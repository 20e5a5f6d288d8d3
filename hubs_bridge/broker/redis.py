"""Redis broker: shared by every hubs-bridge process pointed at one Redis."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hubs_bridge.errors import BrokerUnavailable


class RedisBroker:
    backend = "redis"

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._r = redis
        self.prefix = prefix

    @classmethod
    def connect(cls, url: str, prefix: str) -> RedisBroker:
        # No ping here: a broker that cannot reach Redis at start still starts,
        # reports itself in /readyz and recovers when Redis is back.
        return cls(Redis.from_url(url, health_check_interval=10, socket_timeout=5), prefix)

    async def ping(self) -> None:
        try:
            await self._r.ping()
        except RedisError as exc:
            raise BrokerUnavailable(f"Redis broker: {exc}") from exc

    async def close(self) -> None:
        await self._r.aclose()
