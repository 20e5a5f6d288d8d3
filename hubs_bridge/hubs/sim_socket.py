"""One websocket of the Hubs server simulator (PROTOCOL.md §1).

A :class:`Conn` owns one socket's session id, its joined topics and a queue of
outgoing frames written by a single task, so frames leave in the order the
simulator produced them. A :class:`Channel` is one joined room topic on it,
the target of the room's broadcasts (``[null, null, topic, event, payload]``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web

from hubs_bridge.hubs.frames import PHX_REPLY, PhxMessage

if TYPE_CHECKING:
    from hubs_bridge.hubs.sim_auth import SimAccount


class Conn:
    """One websocket: its session, its joined topics and its outgoing frames."""

    def __init__(self, ws: web.WebSocketResponse, session_id: str) -> None:
        self.ws = ws
        self.session_id = session_id
        self.joins: dict[str, str] = {}  # topic -> join_ref
        self.outbox: asyncio.Queue[str | None] = asyncio.Queue()

    def send(self, frame: PhxMessage) -> None:
        self.outbox.put_nowait(frame.encode())

    def reply(self, msg: PhxMessage, status: str, response: Mapping[str, Any]) -> None:
        """``[join_ref, ref, topic, "phx_reply", {status, response}]`` (§1)."""
        payload = {"status": status, "response": dict(response)}
        self.send(PhxMessage(join_ref=msg.join_ref, ref=msg.ref, topic=msg.topic, event=PHX_REPLY,
                             payload=payload))  # fmt: skip

    async def write_loop(self) -> None:
        while (text := await self.outbox.get()) is not None:
            if self.ws.closed:
                return
            try:
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return


class Channel:
    """A socket's join of one room topic: what the room broadcasts to.

    ``account`` is the channel's ``Guardian.Phoenix.Socket.current_resource``:
    the account of the join's ``auth_token`` or of a later ``sign_in``
    (``hub_channel.ex``); every channel of a socket has its own.
    """

    def __init__(
        self, conn: Conn, topic: str, join_ref: str = "", account: SimAccount | None = None
    ) -> None:
        self.conn = conn
        self.topic = topic
        self.join_ref = join_ref
        self.account = account

    @property
    def session_id(self) -> str:
        return self.conn.session_id

    def push(self, event: str, payload: dict[str, Any]) -> None:
        """A push from the channel process: ``[join_ref, null, topic, event, payload]``."""
        self.conn.send(PhxMessage(join_ref=self.join_ref or None, ref=None, topic=self.topic,
                                  event=event, payload=payload))  # fmt: skip

    def deliver(self, frame: PhxMessage) -> None:
        self.conn.send(frame)
