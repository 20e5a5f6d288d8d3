"""A small websocket client for tests: say hello, read frames, check they match the protocol."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import aiohttp
import orjson

from hubs_bridge.protocol import server_frame_adapter


class WsClient:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self.welcome: dict[str, Any] | None = None
        self.close_code: int | None = None

    @classmethod
    async def connect(cls, session: aiohttp.ClientSession, url: str, **kw: Any) -> WsClient:
        return cls(await session.ws_connect(url, **kw))

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send_str(orjson.dumps(frame).decode())

    async def hello(self, event: str, **fields: Any) -> dict[str, Any]:
        await self.send({"type": "hello", "event": event, **fields})
        self.welcome = await self.next("welcome")
        return self.welcome

    async def recv(self, timeout: float = 5.0) -> dict[str, Any] | None:
        """The next frame, validated against the protocol; ``None`` once closed."""
        msg = await self.ws.receive(timeout=timeout)
        if msg.type == aiohttp.WSMsgType.CLOSE:
            self.close_code = msg.data  # the server's code (the client's own reply says 1000)
            return None
        if msg.type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSED,
            aiohttp.WSMsgType.CLOSING,
        ):
            return None
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        frame = orjson.loads(msg.data)
        server_frame_adapter.validate_python(
            frame
        )  # every frame the server sends is in the protocol
        self.frames.append(frame)
        return frame  # type: ignore[no-any-return]

    async def next(
        self,
        kind: str,
        timeout: float = 5.0,
        where: Callable[[dict[str, Any]], bool] | None = None,
        **match: Any,
    ) -> dict[str, Any]:
        """The next frame of ``kind`` whose fields equal ``match`` (and for which ``where``
        holds), skipping others: a wait on the stream itself, with a deadline."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(
                    f"no {kind} frame {match} within {timeout}s; got {self.frames[-5:]}"
                )
            frame = await self.recv(timeout=left)
            if frame is None:
                raise ConnectionError(f"closed while waiting for {kind}: {self.ws.close_code}")
            if frame["type"] != kind or any(frame.get(k) != v for k, v in match.items()):
                continue
            if where is None or where(frame):
                return frame

    async def closed(self, timeout: float = 5.0) -> int | None:
        """Read until the server closes; returns the close code."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                frame = await self.recv(timeout=deadline - time.monotonic())
            except TimeoutError:
                break
            if frame is None:
                return self.close_code if self.close_code is not None else self.ws.close_code
        raise TimeoutError("the server did not close the session")

    async def close(self) -> None:
        await self.ws.close()
