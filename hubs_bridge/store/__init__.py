"""Durable storage: the backend is chosen by the scheme of the store's URL."""

from __future__ import annotations

from pathlib import Path

from hubs_bridge.settings import SQLITE_FILE, Settings, scheme_of
from hubs_bridge.store.base import Store, TokenRecord

__all__ = ["SQLITE_FILE", "Store", "TokenRecord", "open_store"]


async def open_store(settings: Settings) -> Store:
    """``sqlite://<path>`` (``sqlite:///abs/file`` or ``sqlite://relative/file``) or
    ``redis://...`` (``Settings.store_target``).

    Backends are imported only when used, so a one-process installation never
    needs the Redis client configured.
    """
    url = settings.store_target()
    if scheme_of(url) == "sqlite":
        from hubs_bridge.store.sqlite import SqliteStore

        return await SqliteStore.open(Path(url.partition("://")[2]))
    from hubs_bridge.store.redis import RedisStore

    return await RedisStore.open(url, settings.redis_prefix)
