"""A page on ``/ws`` the way ``live.js`` drives one: hello with resume, an outbox sent again.

Every frame read is validated against the protocol and applied to a
:class:`PageState`. Q&A frames stay in the outbox until their ``ack`` or
``error`` arrives; after a reconnect the outbox is sent again (``ask`` keeps its
``client_msg_id``, so the server answers a retry with the question it already
has). Nothing here sleeps: reads wait for frames with deadlines.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import aiohttp
import orjson

from hubs_bridge.protocol import server_frame_adapter
from tests.harness.page_state import PageState


class Closed(ConnectionError):
    """The socket ended before the answer came (the server closed it or died)."""


class HelloRefused(ConnectionError):
    def __init__(self, code: str | None, close: int | None) -> None:
        super().__init__(f"hello refused: {code} (close {close})")
        self.code = code
        self.close = close


class LivePage:
    def __init__(
        self, label: str, event: str, *, token: str | None = None, name: str | None = None
    ) -> None:
        self.label = label
        self.event = event
        self.token = token
        self.name = name
        self.state = PageState()
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        # ref -> frame: sent (or to be sent) and not answered yet, in the order sent.
        self.outbox: dict[str, dict[str, Any]] = {}
        self.answers: dict[str, dict[str, Any]] = {}
        self.loose_errors: list[dict[str, Any]] = []  # errors without a ref

    def __repr__(self) -> str:
        return f"LivePage({self.label})"

    @property
    def connected(self) -> bool:
        return self.ws is not None and not self.ws.closed

    async def connect(
        self, http: aiohttp.ClientSession, ws_url: str, *, timeout: float = 5.0
    ) -> dict[str, Any]:
        """Say hello (resuming where the page was), then send the outbox again."""
        assert not self.connected, f"{self} is connected already"
        ws = await http.ws_connect(ws_url)
        hello: dict[str, Any] = {"type": "hello", "event": self.event}
        for key, value in (
            ("token", self.token),
            ("visitor", self.state.visitor),
            ("name", self.name),
            ("resume", self.state.resume()),
        ):
            if value is not None:
                hello[key] = value
        try:
            await ws.send_str(orjson.dumps(hello).decode())
            deadline = time.monotonic() + timeout
            refused: str | None = None
            while True:
                frame = await self._read(ws, deadline - time.monotonic())
                if frame is None:
                    raise HelloRefused(refused, ws.close_code)
                if frame["type"] == "error":
                    refused = frame["code"]
                    continue
                self.state.apply(frame)
                if frame["type"] == "welcome":
                    break
        except BaseException:
            await ws.close()
            raise
        self.ws = ws
        for frame in self.outbox.values():
            await ws.send_str(orjson.dumps(frame).decode())
        return frame

    async def drop(self) -> None:
        """The page's connection ends (a network loss, a closed laptop); its state stays."""
        if self.ws is not None:
            await self.ws.close()
        self.ws = None

    async def send(self, frame: dict[str, Any]) -> str:
        """Queue a Q&A frame in the outbox and write it; returns its ref."""
        if frame["type"] == "ask":
            ref: str = frame["client_msg_id"]
        else:
            ref = frame.setdefault("ref", uuid.uuid4().hex[:16])
        self.outbox[ref] = frame
        if not self.connected:
            raise Closed(f"{self} is not connected")
        assert self.ws is not None
        await self.ws.send_str(orjson.dumps(frame).decode())
        return ref

    async def answer(self, ref: str, *, timeout: float = 5.0) -> dict[str, Any]:
        """The ``ack`` or ``error`` for ``ref``, applying every frame read meanwhile."""
        deadline = time.monotonic() + timeout
        while ref not in self.answers:
            if not self.connected:
                raise Closed(f"{self} closed while waiting for {ref}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self}: no answer to {self.outbox.get(ref)} in {timeout}s")
            await self._next(left)
        return self.answers.pop(ref)

    async def request(self, frame: dict[str, Any], *, timeout: float = 5.0) -> dict[str, Any]:
        return await self.answer(await self.send(frame), timeout=timeout)

    async def pump(self, quiet: float = 0.02) -> None:
        """Apply the frames that arrive until none came for ``quiet`` seconds."""
        while self.connected:
            try:
                await self._next(quiet)
            except TimeoutError:
                return

    async def wait_closed(self, *, timeout: float = 5.0) -> None:
        """Read (and apply) what the server still sends until it closes the socket."""
        deadline = time.monotonic() + timeout
        while self.connected:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self}: the server did not close the socket in {timeout}s")
            await self._next(left)

    async def _next(self, timeout: float) -> None:
        assert self.ws is not None
        frame = await self._read(self.ws, timeout)
        if frame is None:
            self.ws = None
            return
        self.state.apply(frame)
        ref = frame.get("ref")
        if frame["type"] in ("ack", "error") and ref is not None and ref in self.outbox:
            del self.outbox[ref]
            self.answers[ref] = frame
        elif frame["type"] == "error":
            self.loose_errors.append(frame)

    @staticmethod
    async def _read(ws: aiohttp.ClientWebSocketResponse, timeout: float) -> dict[str, Any] | None:
        """The next frame, checked against the protocol; ``None`` once the socket ended."""
        if timeout <= 0:
            raise TimeoutError
        msg = await ws.receive(timeout=timeout)
        if msg.type != aiohttp.WSMsgType.TEXT:
            # CLOSE, CLOSING, CLOSED, or ERROR when the peer vanished (kill -9).
            await ws.close()
            return None
        frame: dict[str, Any] = orjson.loads(msg.data)
        server_frame_adapter.validate_python(frame)  # every frame the server sends is in it
        return frame
