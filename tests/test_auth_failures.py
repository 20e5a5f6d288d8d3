"""Wrong tokens are limited per client address, over HTTP and at ``hello``, on both limiters.

Before: about 2,000 wrong-token guesses a second were answered without slowing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from hubs_bridge.auth import FAILURES_PER_MINUTE, VISITOR, Authenticator
from hubs_bridge.errors import RateLimited, Unauthorized
from hubs_bridge.ratelimits import Limiter, MemoryLimiter
from hubs_bridge.store import Store, open_store
from hubs_bridge.web.app import create_app
from tests.conftest import REDIS_URL, make_settings
from tests.harness.ws_app import EVENT
from tests.harness.ws_client import WsClient

STAFF = "staff-token-for-auth-failure-tests-0123"
WRONG = "hbs_not-a-token-of-this-server-at-all"


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await open_store(make_settings(tmp_path))
    yield store
    await store.close()


async def test_failures_block_an_address_before_its_token_is_checked(
    sqlite_store: Store, limiter: Limiter
) -> None:
    auth = Authenticator(sqlite_store, SecretStr(STAFF), failures=limiter)
    for _ in range(3 * FAILURES_PER_MINUTE):  # successes are not counted
        assert (await auth.authenticate(STAFF, address="192.0.2.1")).is_staff
    for _ in range(FAILURES_PER_MINUTE):
        with pytest.raises(Unauthorized):
            await auth.authenticate(WRONG, address="192.0.2.1")
    with pytest.raises(RateLimited) as refused:
        await auth.authenticate(WRONG, address="192.0.2.1")
    assert refused.value.code == "rate_limited" and refused.value.retry_after_s > 0
    assert "Zu viele" in refused.value.message and "Too many" in refused.value.message
    # Blocked means not even looked at: the right token is refused the same way.
    with pytest.raises(RateLimited):
        await auth.authenticate(STAFF, address="192.0.2.1")
    # Visitors (no token) are never limited here; other addresses are not affected.
    assert await auth.authenticate(None, address="192.0.2.1") == VISITOR
    assert (await auth.authenticate(STAFF, address="192.0.2.2")).is_staff
    with pytest.raises(Unauthorized):
        await auth.authenticate(WRONG, address="192.0.2.2")


async def test_the_allowance_comes_back_with_time(sqlite_store: Store) -> None:
    now = [1000.0]
    auth = Authenticator(sqlite_store, None, failures=MemoryLimiter(clock=lambda: now[0]))
    for _ in range(FAILURES_PER_MINUTE):
        with pytest.raises(Unauthorized):
            await auth.authenticate(WRONG, address="192.0.2.1")
    with pytest.raises(RateLimited) as refused:
        await auth.authenticate(WRONG, address="192.0.2.1")
    now[0] += refused.value.retry_after_s
    with pytest.raises(Unauthorized):  # one more guess, then blocked again
        await auth.authenticate(WRONG, address="192.0.2.1")
    with pytest.raises(RateLimited):
        await auth.authenticate(WRONG, address="192.0.2.1")


@asynccontextmanager
async def served(tmp_path: Path, **overrides: Any) -> AsyncIterator[TestServer]:
    settings = make_settings(
        tmp_path, staff_token=STAFF, trusted_proxies=["127.0.0.1/32"], **overrides
    )
    async with TestServer(await create_app(settings)) as server:
        yield server


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """Settings for one process alone (memory limiter) or on Redis (shared limiter)."""
    if request.param == "memory":
        return {}
    prefix = request.getfixturevalue("redis_prefix")
    return {"redis_url": REDIS_URL, "redis_prefix": prefix}


def _from(address: str, token: str) -> dict[str, str]:
    return {"X-Forwarded-For": address, "Authorization": f"Bearer {token}"}


async def test_http_answers_429_past_the_failures_of_an_address(
    tmp_path: Path, backend: dict[str, Any]
) -> None:
    async with served(tmp_path, **backend) as server, aiohttp.ClientSession() as http:
        url = server.make_url("/api/tokens")
        for _ in range(2 * FAILURES_PER_MINUTE):
            async with http.get(url, headers=_from("198.51.100.1", STAFF)) as resp:
                assert resp.status == 200
        for _ in range(FAILURES_PER_MINUTE):
            async with http.get(url, headers=_from("198.51.100.1", WRONG)) as resp:
                assert resp.status == 401
        for token in (WRONG, STAFF):
            async with http.get(url, headers=_from("198.51.100.1", token)) as resp:
                assert resp.status == 429
                assert (await resp.json())["code"] == "rate_limited"
                assert int(resp.headers["Retry-After"]) >= 1
        async with http.get(url, headers=_from("198.51.100.2", STAFF)) as resp:
            assert resp.status == 200
        async with http.get(server.make_url("/api/events")) as resp:  # no token: no limit
            assert resp.status == 200


async def test_failures_are_shared_by_every_process_on_redis(
    tmp_path: Path, redis_prefix: str
) -> None:
    shared = {"redis_url": REDIS_URL, "redis_prefix": redis_prefix}
    async with (
        served(tmp_path / "a", **shared) as one,
        served(tmp_path / "b", **shared) as other,
        aiohttp.ClientSession() as http,
    ):
        for n in range(FAILURES_PER_MINUTE):
            server = one if n % 2 else other
            url = server.make_url("/api/tokens")
            async with http.get(url, headers=_from("198.51.100.1", WRONG)) as resp:
                assert resp.status == 401
        for server in (one, other):
            url = server.make_url("/api/tokens")
            async with http.get(url, headers=_from("198.51.100.1", STAFF)) as resp:
                assert resp.status == 429


async def test_hello_with_a_token_is_refused_past_the_failures_of_an_address(
    tmp_path: Path, backend: dict[str, Any]
) -> None:
    async with served(tmp_path, **backend) as server, aiohttp.ClientSession() as http:
        resp = await http.post(
            server.make_url("/api/events"), json=EVENT, headers=_from("198.51.100.9", STAFF)
        )
        assert resp.status == 201
        ws_url = str(server.make_url("/ws"))
        here = {"X-Forwarded-For": "198.51.100.1"}

        async def hello(token: str | None, headers: dict[str, str]) -> WsClient:
            client = await WsClient.connect(http, ws_url, headers=headers)
            await client.send({"type": "hello", "event": "kirmes", "token": token})
            return client

        for _ in range(FAILURES_PER_MINUTE):
            client = await hello(WRONG, here)
            assert (await client.next("error"))["code"] == "bad_token"
            assert await client.closed() == 4401
        for token in (WRONG, STAFF):
            client = await hello(token, here)
            error = await client.next("error")
            assert error["code"] == "rate_limited" and error["retry_after_ms"] > 0
            assert await client.closed() == 4429
        # A visitor from the same address (a venue's NAT) still comes in.
        visitor = await hello(None, here)
        assert (await visitor.next("welcome"))["role"] == "visitor"
        await visitor.close()
        staff = await hello(STAFF, {"X-Forwarded-For": "198.51.100.2"})
        assert (await staff.next("welcome"))["role"] == "staff"
        await staff.close()
