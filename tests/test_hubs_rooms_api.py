"""The room API's edges: redirects not followed with the admin key, bodies of any bytes,
room ids and URLs that could not be stored refused."""

from __future__ import annotations

import asyncio
import itertools

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from hubs_bridge.hubs.rooms_api import HubsApi, HubsRefused, HubsRequestFailed, NewHub
from hubs_bridge.settings import HubsSettings

TIMEOUT = aiohttp.ClientTimeout(total=10)


async def close_hub(http: aiohttp.ClientSession, base: str, key: str, hub_id: str) -> None:
    settings = HubsSettings(url=base, admin_access_key=key, create_interval_s=0)
    await HubsApi(settings, lambda: http).close(hub_id)


async def _server(app: web.Application) -> TestServer:
    server = TestServer(app)
    await server.start_server()
    return server


async def test_a_redirect_is_refused_and_the_admin_key_stays_home() -> None:
    seen: list[str | None] = []

    async def elsewhere(request: web.Request) -> web.Response:
        seen.append(request.headers.get("x-ret-admin-access-key"))
        return web.json_response({})

    other_app = web.Application()
    other_app.router.add_route("*", "/{tail:.*}", elsewhere)
    other = await _server(other_app)

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(str(other.make_url("/stolen")))

    hubs_app = web.Application()
    hubs_app.router.add_route("*", "/{tail:.*}", moved)
    hubs = await _server(hubs_app)
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
            base = str(hubs.make_url("")).rstrip("/")
            with pytest.raises(HubsRefused) as info:
                await close_hub(http, base, "secret", "abc123")
            assert info.value.status == 307 and "not followed" in str(info.value)
        assert seen == []
    finally:
        await hubs.close()
        await other.close()


async def test_an_error_body_of_any_bytes_is_a_short_message() -> None:
    async def broken(request: web.Request) -> web.Response:
        return web.Response(
            status=418, body=b"\xff\xfe" * 1000, content_type="text/plain", charset="utf-8"
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", broken)
    hubs = await _server(app)
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
            base = str(hubs.make_url("")).rstrip("/")
            with pytest.raises(HubsRefused) as info:
                await close_hub(http, base, "secret", "abc123")
        assert info.value.status == 418 and len(str(info.value)) < 300
    finally:
        await hubs.close()


async def test_a_hub_id_is_checked_before_it_goes_into_a_path() -> None:
    async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
        with pytest.raises(HubsRequestFailed, match="not a Hubs room id"):
            await close_hub(http, "http://127.0.0.1:9", "secret", "../admin")


@pytest.mark.parametrize(
    ("hub_id", "url"),
    [
        ("a/b", "https://hubs.example/a"),
        ("x" * 65, "https://hubs.example/a"),
        ("", "https://hubs.example/a"),
        ("abc", "https://hubs.example/" + "a" * 500),
        ("abc", "javascript:alert(1)"),
    ],
)
def test_new_hubs_that_could_not_be_stored_are_refused(hub_id: str, url: str) -> None:
    with pytest.raises(HubsRequestFailed):
        NewHub(hub_id, url)
    assert NewHub("aB3_-x", "https://hubs.example/aB3_-x").hub_id == "aB3_-x"


async def _answering(status: int, text: str, seen: list[float]) -> TestServer:
    async def answer(request: web.Request) -> web.Response:
        seen.append(asyncio.get_running_loop().time())
        return web.Response(status=status, text=text)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    return await _server(app)


@pytest.mark.parametrize(
    ("status", "text", "expected"),
    [
        (401, "", "refused the admin key (401)"),  # HeaderAuthorization: CE configures none
        (500, "Internal Server Error", "(500; it answers so for a room it does not know)"),
    ],
)
async def test_refused_closes_say_why(status: int, text: str, expected: str) -> None:
    seen: list[float] = []
    hubs = await _answering(status, text, seen)
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
            with pytest.raises(HubsRequestFailed) as info:
                await close_hub(http, str(hubs.make_url("")).rstrip("/"), "secret", "abc123")
        assert expected in str(info.value)
        assert len(seen) == 1  # refused for good: not tried again
    finally:
        await hubs.close()


async def test_a_403_that_is_not_the_throttle_is_a_refusal() -> None:
    seen: list[float] = []
    hubs = await _answering(403, "You cannot update this hub", seen)
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
            with pytest.raises(HubsRefused):
                await close_hub(http, str(hubs.make_url("")).rstrip("/"), "secret", "abc123")
        assert len(seen) == 1
    finally:
        await hubs.close()


async def test_the_throttle_refusal_is_retried_in_a_later_window() -> None:
    # PlugAttack's block action (lib/ret_web/rate_limit.ex): 403 "Forbidden\n".
    seen: list[float] = []
    calls = 0

    async def answer(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        seen.append(asyncio.get_running_loop().time())
        if calls <= 2:
            return web.Response(status=403, text="Forbidden\n")
        return web.Response(status=200, text="OK")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    hubs = await _server(app)
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
            base = str(hubs.make_url("")).rstrip("/")
            settings = HubsSettings(url=base, admin_access_key="k", create_interval_s=0.05)
            await HubsApi(settings, lambda: http).close("abc123")
        assert calls == 3
        gaps = [b - a for a, b in itertools.pairwise(seen)]
        assert min(gaps) >= 0.05  # each retry waited for the pacer's next turn
    finally:
        await hubs.close()


async def test_without_an_admin_key_nothing_is_sent() -> None:
    api = HubsApi(HubsSettings(url="http://127.0.0.1:9"), aiohttp.ClientSession)
    assert not api.can_close
    with pytest.raises(HubsRequestFailed, match="no admin key"):
        await api.close("abc123")
