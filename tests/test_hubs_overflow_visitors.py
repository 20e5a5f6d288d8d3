"""/go counts only visitors with an open page: GETs from many addresses fake no crowd.

Before: 57 addresses with one GET each made a room report full (409
``room_full`` to real visitors) and created every overflow twin it may have.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from hubs_bridge.realtime.open_pages import has_open_page
from hubs_bridge.web.keys import BROKER, REALTIME
from tests.conftest import REDIS_URL
from tests.harness.go_visitors import Page, open_page
from tests.harness.provision import Harness, harness, simulator
from tests.harness.waiting import eventually

ROOM = {"slug": "saal", "title": "Saal", "scene": "foyer", "capacity": 2}
PROXY = {"trusted_proxies": ["127.0.0.1/32"]}  # X-Forwarded-For names the client


async def _arrivals(h: Harness) -> int:
    """Arrivals in flight that /go counted (``hubs/overflow.py``)."""
    return len(await h.server.app[BROKER].presence_list("go:open"))


async def _go(h: Harness, path: str, address: str = "198.51.100.1") -> tuple[int, str]:
    headers = {"X-Forwarded-For": address}
    async with h.http.get(h.url(path), headers=headers, allow_redirects=False) as resp:
        return resp.status, resp.headers.get("Location", "")


async def _page(h: Harness) -> Page:
    return await open_page(h.server.app, h.http, h.url("/ws"), "open")


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> dict[str, Any]:
    """One process alone, or on Redis (presence and arrivals shared by every process)."""
    if request.param == "memory":
        return PROXY
    prefix = request.getfixturevalue("redis_prefix")
    return {**PROXY, "redis_url": REDIS_URL, "redis_prefix": prefix}


async def test_sixty_addresses_without_a_visitor_id_neither_fill_a_room_nor_make_twins(
    tmp_path: Path, backend: dict[str, Any]
) -> None:
    rooms = [{**ROOM, "overflow_allowed": True, "overflow_max_twins": 2}]
    async with (
        simulator(create_interval_s=0.0) as sim,
        harness(tmp_path, sim.base_url, rooms=rooms, arrival_window_s=30, extra=backend) as h,
    ):
        [own] = await h.provision("open")
        answers = await asyncio.gather(
            *(_go(h, "/go/open/saal", f"198.51.100.{n}") for n in range(1, 61))
        )
        # Every one still gets in (a link shared outside works), but none counts.
        assert answers == [(302, own["url"])] * 60
        assert len(sim.hubs) == 1 and await _arrivals(h) == 0

        # Real visitors count as before: two fill the room, the third gets a twin.
        pages = [await _page(h) for _ in range(3)]
        assert await _go(h, pages[0].go("open", "saal")) == (302, own["url"])
        assert await _go(h, pages[1].go("open", "saal")) == (302, own["url"])
        status, third = await _go(h, pages[2].go("open", "saal"))
        assert status == 302 and third != own["url"] and third.startswith(sim.base_url)
        assert len(sim.hubs) == 2 and await _arrivals(h) == 3

        # Now the room is full: anyone without an id goes to the least full room, the
        # twin, still without making another one.
        assert await _go(h, "/go/open/saal", "203.0.113.7") == (302, third)
        assert len(sim.hubs) == 2 and await _arrivals(h) == 3


async def test_only_ids_signed_here_with_an_open_page_count(tmp_path: Path) -> None:
    async with (
        simulator(create_interval_s=0.0) as sim,
        harness(tmp_path, sim.base_url, rooms=[ROOM], arrival_window_s=30, extra=PROXY) as h,
    ):
        [own] = await h.provision("open")
        ids = h.server.app[REALTIME].ids
        _, minted = ids.issue()  # signed here, but no page was ever open with it
        forged = "v1.someone.AAAAAAAAAAAAAAAA"
        for token in (minted, forged, "x" * 5000, ""):
            assert await _go(h, f"/go/open/saal?v={quote(token)}") == (302, own["url"])
        assert await _arrivals(h) == 0

        # A page of another event does not count for this one.
        elsewhere = await open_page(h.server.app, h.http, h.url("/ws"), "later")
        assert await _go(h, elsewhere.go("open", "saal")) == (302, own["url"])
        assert await _arrivals(h) == 0

        page = await _page(h)
        assert await _go(h, page.go("open", "saal")) == (302, own["url"])
        assert await _arrivals(h) == 1
        # The same visitor again, from another address: still one arrival.
        assert await _go(h, page.go("open", "saal"), "192.0.2.9") == (302, own["url"])
        assert await _arrivals(h) == 1


async def test_a_page_that_just_closed_still_counts(tmp_path: Path) -> None:
    async with (
        simulator(create_interval_s=0.0) as sim,
        harness(tmp_path, sim.base_url, rooms=[ROOM], arrival_window_s=30, extra=PROXY) as h,
    ):
        [own] = await h.provision("open")
        page = await _page(h)
        await page.close()  # reconnecting, or a phone that put the tab to sleep
        visitor = h.server.app[REALTIME].ids.verify(page.visitor)
        assert visitor is not None

        async def gone() -> bool:
            return not has_open_page(await h.server.app[BROKER].presence_list("open"), visitor)

        await eventually(gone, what="the closed page gone from the presence")

        # Gone from the presence for good; the closed page is remembered just after.
        async def counted() -> bool:
            assert await _go(h, page.go("open", "saal")) == (302, own["url"])
            return await _arrivals(h) > 0

        await eventually(counted, what="a page closed a moment ago to count")
