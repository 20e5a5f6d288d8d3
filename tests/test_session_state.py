"""A session's state machine: OPEN -> CLOSING -> CLOSED, moved only by its own methods."""

from __future__ import annotations

import asyncio
from typing import cast

from hubs_bridge.auth import Principal
from hubs_bridge.core.ratelimit import TokenBucket
from hubs_bridge.realtime.session import Session, SessionState


class Transport:
    """What a session needs of an asyncio transport, recording what was written."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 0

    def abort(self) -> None:
        self.closing = True


def session(transport: Transport, slow: list[Session] | None = None) -> Session:
    return Session(
        session_id="s1",
        transport=cast(asyncio.Transport, transport),
        event="kirmes",
        principal=Principal(role="visitor"),
        visitor="v1",
        name=None,
        room=None,
        limit=1 << 20,
        bucket=TokenBucket(rate=10, burst=10),
        on_slow=(slow if slow is not None else []).append,
    )


def test_close_says_bye_once_then_writes_nothing() -> None:
    transport = Transport()
    s = session(transport)
    assert s.state is SessionState.OPEN and s.send(b'{"type":"x"}')
    assert s.close(b'{"type":"bye","reason":"idle"}')
    assert s.state is SessionState.CLOSING and not s.is_open
    assert b"bye" in transport.written[-1]
    written = len(transport.written)
    assert not s.close(b'{"type":"bye","reason":"again"}')  # only one transition
    assert not s.send(b'{"type":"late"}')
    s.cut_off()  # a closing session is not cut off again
    assert len(transport.written) == written
    s.closed()
    assert s.state is SessionState.CLOSED


def test_cut_off_is_closing_and_told_once() -> None:
    async def run() -> None:
        transport, slow = Transport(), []
        s = session(transport, slow)
        s.cut_off()
        s.cut_off()
        assert s.state is SessionState.CLOSING and slow == [s]
        assert not s.close(b"bye")

    asyncio.run(run())


def test_a_transport_gone_makes_the_session_closed() -> None:
    transport = Transport()
    s = session(transport)
    transport.closing = True
    assert not s.send(b"{}")
    assert s.state is SessionState.CLOSED
