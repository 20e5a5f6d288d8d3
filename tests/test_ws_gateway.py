"""The websocket gateway in one process: hello, limits, hostile frames, attendance, resume."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from hubs_bridge.core.stream import AttendanceCounted
from hubs_bridge.web.keys import REALTIME
from tests.harness.waiting import eventually
from tests.harness.ws_app import EVENT, STAFF, Harness, make_harness
from tests.harness.ws_client import WsClient


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with make_harness(tmp_path) as harness:
        yield harness


async def test_hello_and_welcome(h: Harness) -> None:
    client = await h.client()
    welcome = await client.hello("kirmes", name="Anna")
    assert welcome["role"] == "visitor" and welcome["recovered"] is False
    assert welcome["snapshot"]["event"]["slug"] == "kirmes"
    assert "hubs" not in welcome["snapshot"]["event"]["rooms"][0]
    assert set(welcome["snapshot"]["attendance"]["rooms"]) == {"info", "daten"}
    assert welcome["visitor"].startswith("v1.")
    # The same signed visitor id comes back on the next visit.
    again = await h.client()
    second = await again.hello("kirmes", visitor=welcome["visitor"])
    assert second["visitor"] == welcome["visitor"] and second["session"] != welcome["session"]
    # A forged id is replaced by a fresh one.
    forged = await h.client()
    third = await forged.hello("kirmes", visitor="v1.someone-else.AAAAAAAAAAAAAAAA")
    assert third["visitor"] != "v1.someone-else.AAAAAAAAAAAAAAAA"


async def test_staff_and_bad_token(h: Harness) -> None:
    staff = await h.client()
    assert (await staff.hello("kirmes", token=STAFF))["role"] == "staff"
    bad = await h.client()
    await bad.send({"type": "hello", "event": "kirmes", "token": "nope"})
    error = await bad.next("error")
    assert error["code"] == "bad_token"
    assert await bad.closed() == 4401


@pytest.mark.parametrize(
    ("first", "code", "close"),
    [
        ({"type": "enter", "room": "info"}, "hello_required", 4400),
        ({"type": "hello", "event": "nope"}, "unknown_event", 4404),
        ({"type": "hello", "event": "kirmes", "room": "keller"}, "unknown_room", 4400),
        ({"type": "hello"}, "invalid_frame", 4400),
        ({"type": "launch"}, "unknown_type", 4400),
    ],
)
async def test_bad_first_frames(h: Harness, first: dict[str, Any], code: str, close: int) -> None:
    client = await h.client()
    await client.send(first)
    assert (await client.next("error"))["code"] == code
    assert await client.closed() == close


async def test_hello_timeout(h: Harness) -> None:
    client = await h.client()
    assert (await client.next("error", timeout=5))["code"] == "hello_timeout"


async def test_hostile_frames_never_hurt_others(h: Harness) -> None:
    watcher = await h.visitor()
    hostile = await h.visitor()
    await hostile.ws.send_str("{not json")
    assert (await hostile.next("error"))["code"] == "bad_frame"
    await hostile.ws.send_bytes(b"\x00\x01binary")
    assert (await hostile.next("error"))["code"] == "binary_not_supported"
    await hostile.send({"type": "self-destruct"})
    assert (await hostile.next("error"))["code"] == "unknown_type"
    await hostile.send({"type": "ping", "t": "x" * 20_000})
    assert (await hostile.next("error"))["code"] == "frame_too_large"
    await hostile.send({"type": "hello", "event": "kirmes"})
    assert (await hostile.next("error"))["code"] == "hello_twice"
    # The watcher is served all along.
    await watcher.send({"type": "ping", "t": 1.5})
    assert (await watcher.next("pong"))["t"] == 1.5
    # The sixth bad frame is one too many (max_violations=5): the hostile session is closed.
    await hostile.send({"type": "enter", "room": "keller"})
    assert (await hostile.next("error"))["code"] == "unknown_room"
    assert (await hostile.next("bye"))["reason"] == "too_many_errors"
    assert await hostile.closed() == 1008
    await watcher.send({"type": "ping"})
    await watcher.next("pong")


async def test_ten_megabyte_frame_is_refused(h: Harness) -> None:
    watcher = await h.visitor()
    hostile = await h.visitor()
    try:
        await hostile.ws.send_str("x" * (10 * 1024 * 1024))
    except ConnectionError:
        pass  # the server refused it before the client finished writing: also a refusal
    else:
        assert await hostile.closed() == 1009  # message too big, refused by the reader
    fresh = await h.visitor()
    assert fresh.welcome is not None
    await watcher.send({"type": "ping"})
    await watcher.next("pong")


async def test_rate_limit(tmp_path: Path) -> None:
    async with make_harness(tmp_path, frames_per_second=2, frames_burst=3, max_violations=100) as h:
        client = await h.visitor()
        for _ in range(6):
            await client.send({"type": "ping"})
        errors = []
        for _ in range(6):
            frame = await client.recv()
            assert frame is not None
            if frame["type"] == "error":
                errors.append(frame)
        assert errors and errors[0]["code"] == "rate_limited" and errors[0]["retry_after_ms"] > 0


async def test_sessions_per_visitor(tmp_path: Path) -> None:
    async with make_harness(tmp_path, sessions_per_visitor=2) as h:
        first = await h.visitor()
        assert first.welcome is not None
        await h.visitor(visitor=first.welcome["visitor"])
        third = await h.client()
        await third.send({"type": "hello", "event": "kirmes", "visitor": first.welcome["visitor"]})
        assert (await third.next("error"))["code"] == "too_many_sessions"
        assert await third.closed() == 4429


async def test_origin_check(h: Harness) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await h.client(headers={"Origin": "https://evil.example"})
    assert info.value.status == 403
    own = f"http://{h.server.host}:{h.server.port}"
    client = await h.client(headers={"Origin": own})
    await client.hello("kirmes")


async def test_attendance_frames(h: Harness) -> None:
    watcher = await h.visitor()
    first = await watcher.next("attendance", timeout=3)  # the leader's first, full frame
    assert first["online"] == 1
    visitor = await h.visitor()
    await visitor.send({"type": "enter", "room": "daten"})
    frame = await watcher.next("attendance", timeout=3)
    while frame["rooms"].get("daten", {}).get("web") != 1:
        frame = await watcher.next("attendance", timeout=3)
    assert frame["online"] == 2
    assert "info" not in frame["rooms"]  # only what changed
    await visitor.send({"type": "leave", "room": "daten"})
    frame = await watcher.next("attendance", timeout=3)
    assert frame["rooms"]["daten"]["web"] == 0
    # Every stream frame carries the position; no gaps.
    seqs = [f["seq"] for f in watcher.frames if f["type"] == "attendance"]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    # Leaving the page takes the visitor out of the count.
    await visitor.close()
    frame = await watcher.next("attendance", timeout=3, online=1)
    assert frame["online"] == 1


async def test_a_new_event_gets_counts_at_once(h: Harness) -> None:
    """The leader loaded the calendar before the event existed; its first page must not
    wait for the periodic reload (10 s) to be counted."""
    watcher = await h.visitor()
    await watcher.next("attendance", timeout=3)  # the leader has loaded the calendar
    body = {**EVENT, "slug": "neu"}
    resp = await h.http.post(
        h.server.make_url("/api/events"), json=body, headers={"Authorization": f"Bearer {STAFF}"}
    )
    assert resp.status == 201
    page = await h.client()
    await page.hello("neu", room="daten")
    frame = await page.next("attendance", timeout=3)
    while frame["rooms"].get("daten", {}).get("web") != 1:
        frame = await page.next("attendance", timeout=3)


async def test_arrivals_are_batched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with make_harness(tmp_path, attendance_interval_s=1.0) as h:
        # Count the leader's rounds instead of reading the clock: attendance frames
        # come only from rounds, so batched arrivals mean no more frames than rounds.
        leader = h.server.app[REALTIME].leader
        tick = leader.tick
        rounds = 0

        async def counted(now: datetime) -> None:
            nonlocal rounds
            rounds += 1
            await tick(now)

        monkeypatch.setattr(leader, "tick", counted)
        watcher = await h.visitor()
        arrivals = await asyncio.gather(*(h.visitor(room="info") for _ in range(60)))
        assert len(arrivals) == 60
        frame = await watcher.next("attendance", timeout=5)
        while frame["rooms"].get("info", {}).get("web") != 60:
            frame = await watcher.next("attendance", timeout=5)
        frames = [f for f in watcher.frames if f["type"] == "attendance"]
        # At most one attendance frame per round (plus one from a round already
        # running when the count began), however many arrived in between.
        assert len(frames) <= rounds + 1, (len(frames), rounds)


async def test_resume_gets_exactly_what_was_missed(h: Harness) -> None:
    client = await h.visitor()
    assert client.welcome is not None
    await h.publish(_marker(1000))
    seen = await _read_until(client, online=1000)
    epoch, seq = seen["epoch"], seen["seq"]
    await client.close()
    for n in range(1, 6):
        await h.publish(_marker(1000 + n))
    back = await h.client()
    welcome = await back.hello(
        "kirmes", visitor=client.welcome["visitor"], resume={"epoch": epoch, "seq": seq}
    )
    assert welcome["recovered"] is True and welcome["seq"] == seq
    missed = [await back.recv() for _ in range(5)]
    assert [m["seq"] for m in missed if m] == list(range(seq + 1, seq + 6))
    assert [m["online"] for m in missed if m] == [1001, 1002, 1003, 1004, 1005]


def _marker(n: int, **rooms: dict[str, Any]) -> AttendanceCounted:
    """A stream event recognisable by its ``online`` value."""
    return AttendanceCounted(online=n, rooms=rooms)


async def _read_until(client: WsClient, **match: Any) -> dict[str, Any]:
    while True:
        frame = await client.recv()
        assert frame is not None
        if all(frame.get(k) == v for k, v in match.items()):
            return frame


async def test_resume_too_old_or_other_epoch(tmp_path: Path) -> None:
    async with make_harness(tmp_path, history_size=10) as h:
        client = await h.visitor()
        await h.publish(_marker(1000))
        seen = await _read_until(client, online=1000)
        await client.close()
        for n in range(1, 40):
            await h.publish(_marker(1000 + n))
        old = await h.client()
        welcome = await old.hello("kirmes", resume={"epoch": seen["epoch"], "seq": seen["seq"]})
        assert welcome["recovered"] is False and welcome["seq"] >= seen["seq"] + 39
        other = await h.client()
        welcome = await other.hello("kirmes", resume={"epoch": "another-epoch", "seq": 3})
        assert welcome["recovered"] is False


async def test_slow_session_is_cut_off_others_keep_receiving(tmp_path: Path) -> None:
    async with make_harness(tmp_path, send_queue_bytes=64 * 1024) as h:
        watcher = await h.visitor()
        _reader, writer = await _raw_session(h)
        payload = "x" * 8000
        realtime = h.server.app[REALTIME]
        before = realtime.metrics.slow_closes._value.get()
        seen: list[int] = []

        async def watch() -> None:
            while True:
                frame = await watcher.recv(timeout=10)
                assert frame is not None, "the watcher was closed"
                if frame["type"] == "attendance" and frame["online"] >= 10_000:
                    seen.append(frame["online"] - 10_000)
                    if frame["online"] == 10_000 + sent[-1] and done.is_set():
                        return

        sent: list[int] = [0]
        done = asyncio.Event()
        watching = asyncio.create_task(watch())
        for n in range(1, 3000):
            await h.publish(_marker(10_000 + n, pad={"text": payload}))
            sent.append(n)
            if realtime.metrics.slow_closes._value.get() > before:
                break
            if n % 20 == 0:
                # The watcher reads as a live page does: it has everything so far.
                await eventually(
                    lambda: len(seen) == len(sent) - 1, what="the watcher to read every frame"
                )
        done.set()
        await h.publish(_marker(10_000 + len(sent)))
        sent.append(len(sent))
        assert realtime.metrics.slow_closes._value.get() == before + 1
        await asyncio.wait_for(watching, 20)
        # The watcher got every frame, in order, and was never slowed down or cut off.
        assert seen == sent[1:]
        writer.close()


async def _raw_session(h: Harness) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A websocket client that says hello and then never reads (tiny receive buffer)."""
    import base64
    import os
    import socket

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((h.server.host, h.server.port))
    sock.setblocking(False)
    reader, writer = await asyncio.open_connection(sock=sock)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET /ws HTTP/1.1\r\nHost: {h.server.host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    await reader.readuntil(b"\r\n\r\n")
    hello = orjson.dumps({"type": "hello", "event": "kirmes"})
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(hello))
    writer.write(bytes([0x81, 0x80 | len(hello)]) + mask + masked)
    await writer.drain()
    return reader, writer


async def test_metrics(h: Harness) -> None:
    await h.visitor()
    text = await (await h.http.get(h.server.make_url("/metrics"))).text()
    assert 'hubs_bridge_sessions{event="kirmes"} 1.0' in text
    for name in (
        "hubs_bridge_frames_in_total",
        "hubs_bridge_fanout_seconds_bucket",
        "hubs_bridge_slow_closes_total",
        "hubs_bridge_broker_errors_total",
        "hubs_bridge_broker_reconnects_total",
        "hubs_bridge_bytes_out_total",
    ):
        assert name in text


async def test_attendance_api_and_live(h: Harness) -> None:
    a = await h.visitor()
    b = await h.visitor()
    await a.send({"type": "enter", "room": "daten"})
    await b.send({"type": "enter", "room": "daten"})
    await _daten_web(a, 2)  # both are in before one leaves: the peak is 2
    await b.send({"type": "leave", "room": "daten"})
    live = await (await h.http.get(h.server.make_url("/api/events/kirmes/live"))).json()
    assert live["online"] == 2 and live["rooms"]["info"]["capacity"] == 24
    await _daten_web(a, 1)
    # The record is written once a second; the test writes it now instead of waiting.
    await h.server.app[REALTIME].presence.flush()
    auth = {"Authorization": f"Bearer {STAFF}"}
    report = await (
        await h.http.get(h.server.make_url("/api/events/kirmes/attendance"), headers=auth)
    ).json()
    daten = report["stats"]["daten"]
    assert daten["peak"] == 2 and daten["unique_visitors"] == 2 and daten["current"] == 1
    assert daten["dwell_median_s"] is not None and report["stats"]["_event"]["current"] == 2
    csv_text = await (
        await h.http.get(h.server.make_url("/api/events/kirmes/attendance.csv"), headers=auth)
    ).text()
    assert csv_text.splitlines()[0].startswith("room,title,current,peak")
    assert (await h.http.get(h.server.make_url("/api/events/kirmes/attendance"))).status == 401


async def _daten_web(page: WsClient, web: int) -> None:
    """Read attendance frames until the room ``daten`` counts ``web`` visitors on the page."""
    await page.next("attendance", 3, where=lambda f: f["rooms"].get("daten", {}).get("web") == web)


async def test_event_changes_are_pushed(h: Harness) -> None:
    client = await h.visitor()
    auth = {"Authorization": f"Bearer {STAFF}"}
    resp = await h.http.patch(
        h.server.make_url("/api/events/kirmes"), json={"title": "Kirmes 2026"}, headers=auth
    )
    assert resp.status == 200
    frame = await client.next("event")
    assert frame["event"]["title"] == "Kirmes 2026" and "seq" in frame
    await h.http.post(
        h.server.make_url("/api/events/kirmes/rooms"),
        json={"slug": "buehne", "title": "Bühne", "scene": "auditorium"},
        headers=auth,
    )
    frame = await client.next("event")
    assert [r["slug"] for r in frame["event"]["rooms"]] == ["info", "daten", "buehne"]


async def test_moderator_of_another_event_is_a_visitor_here(h: Harness) -> None:
    auth = {"Authorization": f"Bearer {STAFF}"}
    other = {**EVENT, "slug": "andere", "rooms": []}
    assert (
        await h.http.post(h.server.make_url("/api/events"), json=other, headers=auth)
    ).status == 201
    resp = await h.http.post(
        h.server.make_url("/api/tokens"),
        json={"role": "moderator", "events": ["andere"]},
        headers=auth,
    )
    token = (await resp.json())["token"]
    here = await h.client()
    assert (await here.hello("kirmes", token=token))["role"] == "visitor"
    there = await h.client()
    assert (await there.hello("andere", token=token))["role"] == "moderator"


async def test_frame_limit_counts_bytes_not_characters(h: Harness) -> None:
    client = await h.visitor()
    await client.send({"type": "ping", "t": None, "pad": "ä" * 9000})  # 18 KB in UTF-8
    assert (await client.next("error"))["code"] == "frame_too_large"


async def test_store_outage_is_an_error_frame_not_a_crash(h: Harness) -> None:
    from hubs_bridge.web.keys import STORE

    client = await h.visitor()
    store = h.server.app[STORE]
    await store.close()  # the store goes away under a running session
    await client.send({"type": "ask", "text": "Noch da?", "client_msg_id": "s1"})
    error = await client.next("error")
    assert error["code"] == "unavailable" and error["ref"] == "s1"
    await client.send({"type": "ping", "t": 2.0})
    assert (await client.next("pong"))["t"] == 2.0
    late = await h.client()
    await late.send({"type": "hello", "event": "kirmes"})
    assert (await late.next("error"))["code"] == "unavailable"
    assert await late.closed() == 1013


async def test_retention_job_deletes_old_records(h: Harness) -> None:
    from datetime import timedelta

    from hubs_bridge.core.attendance import AttendanceMark
    from hubs_bridge.web.keys import STORE

    realtime = h.server.app[REALTIME]
    store = h.server.app[STORE]
    now = realtime.now()
    old = AttendanceMark(
        event="kirmes",
        room="info",
        visitor="x",
        source="web",
        kind="join",
        at=now - timedelta(days=181),
    )
    fresh = AttendanceMark(
        event="kirmes",
        room="info",
        visitor="y",
        source="web",
        kind="join",
        at=now - timedelta(days=1),
    )
    await store.add_attendance([old, fresh], [])
    await realtime._retention()
    assert await store.attendance_marks("kirmes") == [fresh]


async def test_new_visitor_ids_are_limited_per_address(tmp_path: Path) -> None:
    async with make_harness(tmp_path, new_visitors_per_minute=3) as h:
        first = await h.visitor()
        await h.visitor()
        await h.visitor()
        fourth = await h.client()
        await fourth.send({"type": "hello", "event": "kirmes"})
        assert (await fourth.next("error"))["code"] == "rate_limited_visitors"
        assert first.welcome is not None
        back = await h.client()  # a returning visitor keeps coming in
        await back.hello("kirmes", visitor=first.welcome["visitor"])


async def test_server_pings(tmp_path: Path) -> None:
    async with make_harness(tmp_path, ping_interval_s=0.2) as h:
        client = await h.client(autoping=False)
        await client.hello("kirmes")
        deadline = time.monotonic() + 5
        while True:
            msg = await client.ws.receive(timeout=max(0.1, deadline - time.monotonic()))
            if msg.type == aiohttp.WSMsgType.PING:
                break
        await client.ws.pong(msg.data)


async def test_a_frame_past_twice_the_limit_is_refused_by_the_reader(h: Harness) -> None:
    # The reader's cap bounds what a session can make the server hold (issue 11).
    hostile = await h.visitor()
    try:
        await hostile.ws.send_str("x" * (40 * 1024))  # past 2 x 16 KiB
    except ConnectionError:
        pass
    else:
        assert await hostile.closed() == 1009
