"""What pages get of stream events meant for someone else, or unreadable: the position only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hubs_bridge.core.stream import AttendanceCounted, HubsActionRequested
from hubs_bridge.web.keys import BROKER, REALTIME
from tests.harness.ws_app import Harness, make_harness


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with make_harness(tmp_path) as harness:
        yield harness


async def _next_stream_frame(client: Any) -> dict[str, Any]:
    while True:
        frame = await client.recv()
        assert frame is not None
        if frame["type"] != "attendance" or frame["online"] >= 1000:
            return dict(frame)


async def test_a_hubs_action_and_an_unreadable_entry_are_skips(h: Harness) -> None:
    page = await h.visitor()
    realtime = h.server.app[REALTIME]
    await realtime.publish("kirmes", AttendanceCounted(online=1000, rooms={}))
    first = await _next_stream_frame(page)
    await realtime.publish(
        "kirmes", HubsActionRequested(id="a1", action="kick", session="hubs:secret", room="info")
    )
    # Another version's entry, or a bug: the stream goes on, the page takes the position.
    await h.server.app[BROKER].publish("kirmes", b'{"type": "from-a-newer-version"}')
    await realtime.publish("kirmes", AttendanceCounted(online=1001, rooms={}))
    frames = [await _next_stream_frame(page) for _ in range(3)]
    seq = first["seq"]
    assert frames[0] == {"type": "skip", "epoch": first["epoch"], "seq": seq + 1}
    assert frames[1] == {"type": "skip", "epoch": first["epoch"], "seq": seq + 2}
    assert frames[2]["online"] == 1001 and frames[2]["seq"] == seq + 3
    # ... and a page resuming from before them gets them again as skips.
    back = await h.client()
    welcome = await back.hello(
        "kirmes", visitor=page.welcome["visitor"], resume={"epoch": first["epoch"], "seq": seq}
    )
    assert welcome["recovered"] is True
    replayed = [await _next_stream_frame(back) for _ in range(3)]
    assert [f["type"] for f in replayed] == ["skip", "skip", "attendance"]
