"""Visitors with an open event page, for ``/go``: the id their "Raum betreten" link carries."""

from __future__ import annotations

from urllib.parse import quote

import aiohttp
from aiohttp import web

from hubs_bridge.realtime.open_pages import has_open_page
from hubs_bridge.web.keys import BROKER, REALTIME
from tests.harness.waiting import eventually
from tests.harness.ws_client import WsClient


class Page:
    """One visitor's open event page: its websocket session and its signed visitor id."""

    def __init__(self, client: WsClient, visitor: str) -> None:
        self.client = client
        self.visitor = visitor

    def go(self, event: str, room: str) -> str:
        return f"/go/{event}/{room}?v={quote(self.visitor)}"

    async def close(self) -> None:
        await self.client.close()


async def open_page(
    app: web.Application, http: aiohttp.ClientSession, ws_url: str, event: str
) -> Page:
    """Say hello on the event page as a new visitor; return once every process can see it."""
    client = await WsClient.connect(http, ws_url)
    welcome = await client.hello(event)
    page = Page(client, welcome["visitor"])
    visitor = app[REALTIME].ids.verify(page.visitor)
    assert visitor is not None
    # The welcome is sent before the presence entry is shared: wait for the entry.

    async def shown() -> bool:
        return has_open_page(await app[BROKER].presence_list(event), visitor)

    await eventually(shown, what="the page in the presence")
    return page
