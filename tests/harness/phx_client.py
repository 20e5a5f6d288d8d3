"""A minimal phoenix.js-like client for the tests of the Hubs simulator's socket."""

from __future__ import annotations

import asyncio
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from hubs_bridge.hubs.frames import PhxMessage, PhxReply, parse_payload

WAIT = 3.0  # every wait is bounded


class Phx:
    """A minimal phoenix.js-like client: refs as increasing integers in strings."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ref = 0
        self.join_refs: dict[str, str] = {}

    async def push(self, topic: str, event: str, payload: dict[str, Any]) -> str:
        self.ref += 1
        ref = str(self.ref)
        join_ref = ref if event == "phx_join" else self.join_refs.get(topic)
        if event == "phx_join":
            self.join_refs[topic] = ref
        frame = PhxMessage(join_ref=join_ref, ref=ref, topic=topic, event=event, payload=payload)
        await self.ws.send(frame.encode())
        return ref

    async def recv(self, timeout: float = WAIT) -> PhxMessage:
        text = await asyncio.wait_for(self.ws.recv(), timeout)
        return PhxMessage.decode(text)

    async def expect(self, event: str, timeout: float = WAIT) -> PhxMessage:
        """The next frame with ``event``, skipping others, within ``timeout``."""

        async def find() -> PhxMessage:
            while True:
                msg = await self.recv(timeout)
                if msg.event == event:
                    return msg

        return await asyncio.wait_for(find(), timeout)

    async def reply(self, ref: str) -> tuple[PhxMessage, PhxReply]:
        msg = await self.expect("phx_reply")
        assert msg.ref == ref
        return msg, parse_payload(PhxReply, msg.payload)

    async def join(
        self, hub_id: str, name: str = "Anna", *, discord: bool = False, **extra: Any
    ) -> PhxReply:
        context: dict[str, Any] = {"mobile": False, "hmd": False}
        context.update({"discord": True} if discord else {"embed": False})
        payload = {"profile": {"displayName": name, "avatarId": ""}, "context": context, **extra}
        ref = await self.push(f"hub:{hub_id}", "phx_join", payload)
        return (await self.reply(ref))[1]

    async def tracked(self, timeout: float = WAIT) -> tuple[PhxMessage, PhxMessage]:
        """After a join reply: the session's own ``presence_diff`` and ``presence_state``.

        Reticulum tracks (the diff goes out) and then pushes the state, a loop
        turn after the reply (``hub_channel.ex`` ``handle_info({:begin_tracking...})``).
        """
        own = await self.expect("presence_diff", timeout)
        state = await self.expect("presence_state", timeout)
        return own, state

    async def closed(self, timeout: float = WAIT) -> bool:
        """True once the server closed the socket (frames before that are skipped)."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    await self.ws.recv()
        except ConnectionClosed:
            return True
        except TimeoutError:
            return False
