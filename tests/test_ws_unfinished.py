"""Unfinished input per address: few sessions per address may be open before ``hello``.

Before: 300 sessions from one address, each holding a started fragmented
message, were all kept (until the idle timeout), with their input in memory.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from hubs_bridge.web.app import create_app
from hubs_bridge.web.hello_gate import HelloGate
from hubs_bridge.web.ws import HELLO_GATE, UNFINISHED_PER_ADDRESS
from tests.conftest import make_settings
from tests.harness.waiting import eventually
from tests.harness.ws_app import EVENT
from tests.harness.ws_client import WsClient

STAFF = "staff-token-for-unfinished-tests-0123"


class RawSession:
    """A websocket opened by hand, so that it can start a message and never finish it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int, address: str) -> tuple[int, RawSession]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                "GET /ws HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"X-Forwarded-For: {address}\r\n\r\n"
            ).encode()
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        return int(head.split(b" ", 2)[1]), cls(reader, writer)

    async def start_a_message(self, size: int) -> None:
        """The first fragment of a text message (FIN not set), masked as a client must."""
        mask = os.urandom(4)
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(b"x" * size))
        assert size < 65536
        self.writer.write(bytes([0x01, 0x80 | 126]) + size.to_bytes(2, "big") + mask + payload)
        await self.writer.drain()

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


@asynccontextmanager
async def served(tmp_path: Path) -> AsyncIterator[TestServer]:
    settings = make_settings(
        tmp_path,
        staff_token=STAFF,
        trusted_proxies=["127.0.0.1/32"],
        # Long enough that nothing in this test times out by itself.
        realtime={"hello_timeout_s": 60.0},
    )
    async with TestServer(await create_app(settings)) as server:
        yield server


async def test_sessions_before_hello_are_bounded_per_address(tmp_path: Path) -> None:
    async with served(tmp_path) as server, aiohttp.ClientSession() as http:
        resp = await http.post(
            server.make_url("/api/events"),
            json=EVENT,
            headers={"Authorization": f"Bearer {STAFF}", "X-Forwarded-For": "192.0.2.99"},
        )
        assert resp.status == 201
        port = server.port
        assert port is not None
        holders = []
        for _ in range(UNFINISHED_PER_ADDRESS):
            status, raw = await RawSession.open(port, "198.51.100.1")
            assert status == 101
            await raw.start_a_message(8000)
            holders.append(raw)
        # One more from that address is refused before the upgrade.
        url = server.make_url("/ws")
        async with http.get(url, headers={"X-Forwarded-For": "198.51.100.1"}) as refused:
            assert refused.status == 429
            body = await refused.json()
            assert body["code"] == "too_many_unfinished"
            assert int(refused.headers["Retry-After"]) >= 1
        status, extra = await RawSession.open(port, "198.51.100.1")
        assert status == 429
        await extra.close()

        # Another address is not affected, and a session that said hello holds no place.
        gate: HelloGate = server.app[HELLO_GATE]
        others = []
        for _ in range(UNFINISHED_PER_ADDRESS + 3):
            client = await WsClient.connect(
                http, str(url), headers={"X-Forwarded-For": "198.51.100.2"}
            )
            assert (await client.hello("kirmes"))["role"] == "visitor"
            others.append(client)
        assert gate.waiting("198.51.100.2") == 0

        # A place comes back when an unfinished session goes.
        await holders.pop().close()
        await eventually(
            lambda: gate.waiting("198.51.100.1") < UNFINISHED_PER_ADDRESS,
            what="the place given back",
            timeout=5,
        )
        status, again = await RawSession.open(port, "198.51.100.1")
        assert status == 101
        holders.append(again)
        for raw in holders:
            await raw.close()
        for client in others:
            await client.close()


async def test_an_unfinished_hello_still_times_out(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, trusted_proxies=["127.0.0.1/32"], realtime={"hello_timeout_s": 0.3}
    )
    server = TestServer(await create_app(settings))
    await server.start_server()
    try:
        assert server.port is not None
        status, raw = await RawSession.open(server.port, "198.51.100.1")
        assert status == 101
        await raw.start_a_message(8000)
        try:
            # The server refuses it (hello_timeout, then close 4400) and gives the place back.
            received = b""
            while b"hello_timeout" not in received:
                chunk = await asyncio.wait_for(raw.reader.read(4096), 10)
                assert chunk, f"closed without saying why: {received!r}"
                received += chunk
            assert server.app[HELLO_GATE].waiting("198.51.100.1") == 0
        finally:
            await raw.close()
    finally:
        await server.close()


def test_the_gate_counts_places_per_address() -> None:
    gate = HelloGate(2)
    first, second = gate.enter("a"), gate.enter("a")
    assert first is not None and second is not None
    assert gate.enter("a") is None and gate.enter("b") is not None
    first.release()
    first.release()  # given back once only
    assert gate.waiting("a") == 1
    assert gate.enter("a") is not None and gate.enter("a") is None
    with pytest.raises(ValueError):
        HelloGate(0)
