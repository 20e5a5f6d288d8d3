"""The room API's edges: redirects not followed with the admin key, bodies of any bytes,
room ids and URLs that could not be stored refused."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from hubs_bridge.hubs.rooms_api import HubsRefused, HubsRequestFailed, NewHub, close_hub

TIMEOUT = aiohttp.ClientTimeout(total=10)


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
            status=500, body=b"\xff\xfe" * 1000, content_type="text/plain", charset="utf-8"
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", broken)
    hubs = await _server(app)
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
            base = str(hubs.make_url("")).rstrip("/")
            with pytest.raises(HubsRefused) as info:
                await close_hub(http, base, "secret", "abc123")
        assert info.value.status == 500 and len(str(info.value)) < 300
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
