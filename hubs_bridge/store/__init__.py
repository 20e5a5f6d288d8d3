"""Durable storage: pick the backend from the settings."""

from __future__ import annotations

from hubs_bridge.settings import Settings
from hubs_bridge.store.base import Store, TokenRecord

__all__ = ["Store", "TokenRecord", "open_store"]

SQLITE_FILE = "hubs-bridge.sqlite3"


async def open_store(settings: Settings) -> Store:
    """The Redis store when ``redis_url`` is set, else SQLite in ``data_dir``.

    Backends are imported only when used, so a one-process installation never
    needs the Redis client configured.
    """
    if settings.redis_url is not None:
        from hubs_bridge.store.redis import RedisStore

        return await RedisStore.open(settings.redis_url.get_secret_value(), settings.redis_prefix)
    from hubs_bridge.store.sqlite import SqliteStore

    return await SqliteStore.open(settings.data_dir / SQLITE_FILE)
