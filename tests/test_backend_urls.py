"""Store, broker and rate limiters are each chosen by their own URL; redis_url sets both."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from hubs_bridge.broker import open_broker
from hubs_bridge.broker.memory import MemoryBroker
from hubs_bridge.broker.redis import RedisBroker
from hubs_bridge.cli import _backend
from hubs_bridge.ratelimits import MemoryLimiter, RedisLimiter, open_limiter
from hubs_bridge.store import open_store
from hubs_bridge.store.redis import RedisStore
from hubs_bridge.store.sqlite import SqliteStore
from tests.conftest import REDIS_URL, make_settings


async def _backends(tmp_path: Path, **urls: object) -> tuple[object, object, object]:
    settings = make_settings(tmp_path, **urls)
    store = await open_store(settings)
    broker = open_broker(settings)
    limiter, close_limiter = open_limiter(settings)
    await store.close()
    await broker.close()
    await close_limiter()
    return store, broker, limiter


async def test_without_urls_one_process_needs_nothing(tmp_path: Path) -> None:
    store, broker, limiter = await _backends(tmp_path)
    assert isinstance(store, SqliteStore) and isinstance(broker, MemoryBroker)
    assert isinstance(limiter, MemoryLimiter)
    assert (tmp_path / "data" / "hubs-bridge.sqlite3").is_file()


async def test_redis_url_is_the_short_form_for_both(tmp_path: Path, redis_prefix: str) -> None:
    store, broker, limiter = await _backends(
        tmp_path, redis_url=REDIS_URL, redis_prefix=redis_prefix
    )
    assert isinstance(store, RedisStore) and isinstance(broker, RedisBroker)
    assert isinstance(limiter, RedisLimiter)


async def test_each_backend_by_its_own_url(tmp_path: Path, redis_prefix: str) -> None:
    # Data on this machine's disk, fan-out and limits shared through Redis ...
    store, broker, limiter = await _backends(
        tmp_path,
        store_url=f"sqlite://{tmp_path}/own.sqlite3",
        broker_url=REDIS_URL,
        redis_prefix=redis_prefix,
    )
    assert isinstance(store, SqliteStore) and (tmp_path / "own.sqlite3").is_file()
    assert isinstance(broker, RedisBroker) and isinstance(limiter, RedisLimiter)
    # ... or the other way round; and an own URL wins over redis_url.
    store, broker, limiter = await _backends(
        tmp_path,
        redis_url="redis://127.0.0.1:1/0",
        store_url=REDIS_URL,
        broker_url="memory://",
        redis_prefix=redis_prefix,
    )
    assert isinstance(store, RedisStore) and isinstance(broker, MemoryBroker)
    assert isinstance(limiter, MemoryLimiter)


@pytest.mark.parametrize(
    ("field", "url"),
    [
        ("store_url", "postgres://db/hubs"),
        ("store_url", "memory://"),
        ("broker_url", "sqlite:///tmp/x.sqlite3"),
        ("broker_url", "127.0.0.1:6379"),
    ],
)
def test_a_url_of_the_wrong_kind_is_refused(tmp_path: Path, field: str, url: str) -> None:
    with pytest.raises(ValidationError, match=field):
        make_settings(tmp_path, **{field: url})


def test_blank_urls_are_unset_and_the_start_line_shows_no_secret(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, store_url=" ", broker_url="")
    assert settings.store_url is None and settings.broker_url is None
    assert _backend("redis://:hunter2@10.0.0.5:6379/0") == "redis"
    assert _backend(settings.store_target()).startswith("sqlite in ")
