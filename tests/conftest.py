"""Shared fixtures: real backends (a real Redis, SQLite files in tmp dirs).

Outside CI a missing Redis skips the tests that need it; under ``CI=true`` it
fails them, because a suite that passes by skipping is not passing.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis
from redis.asyncio import Redis as AsyncRedis

from hubs_bridge.ratelimits import Limiter, MemoryLimiter, RedisLimiter
from hubs_bridge.settings import Settings
from hubs_bridge.store import Store, open_store

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
REDIS_URL = os.environ.get("HUBS_BRIDGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REPO = Path(__file__).resolve().parent.parent


def need_service(name: str, problem: str | None) -> None:
    """Fail under CI, skip elsewhere, when a service a test needs is missing."""
    if problem is None:
        return
    message = f"{name} is not available: {problem}"
    if IN_CI:
        pytest.fail(message + " (CI=true: services must run)")
    pytest.skip(message)


def _redis_problem() -> str | None:
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        client.ping()
        client.close()
    except redis.RedisError as exc:
        return f"{REDIS_URL}: {exc}"
    return None


@pytest.fixture(scope="session")
def redis_available() -> str | None:
    return _redis_problem()


@pytest.fixture
def redis_prefix(redis_available: str | None) -> Iterator[str]:
    """A fresh key prefix on the shared test Redis, deleted afterwards."""
    need_service("Redis", redis_available)
    prefix = f"hbtest-{secrets.token_hex(6)}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Settings for a test: its own data dir, the repo's scenes, no seeding."""
    values: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "scenes_dir": REPO / "room_scenes",
        "seed_dir": None,
        "log_level": "warning",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Every backend of the store, for the contract suite."""
    if request.param == "redis":
        prefix = request.getfixturevalue("redis_prefix")
        settings = make_settings(tmp_path, redis_url=REDIS_URL, redis_prefix=prefix)
    else:
        settings = make_settings(tmp_path)
    backend = await open_store(settings)
    yield backend
    await backend.close()


@pytest.fixture(params=["memory", "redis"])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[Limiter]:
    """Every backend of the rate limiter, for its contract suite and the limits built on it."""
    if request.param == "memory":
        yield MemoryLimiter()
        return
    prefix = request.getfixturevalue("redis_prefix")
    client = AsyncRedis.from_url(REDIS_URL)
    try:
        yield RedisLimiter(client, prefix)
    finally:
        await client.aclose()
