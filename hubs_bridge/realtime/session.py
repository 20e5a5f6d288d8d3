"""One browser's websocket session: identity, room, and a bounded way to write to it.

Writes go straight to the transport, synchronously: the transport's own
buffer is the session's send queue, bounded in bytes. A session whose buffer
would grow past the bound is cut off (close code 4008, reason ``slow``) and
dropped from every fan-out at once, so it never delays anyone else; the page
reconnects and resumes from its last sequence number.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Callable

from hubs_bridge.auth import Principal
from hubs_bridge.close_codes import CloseCode
from hubs_bridge.core.ratelimit import TokenBucket
from hubs_bridge.realtime.wire import close_frame, text_frame

log = logging.getLogger("hubs_bridge.session")

# How long a cut-off session's close frame may wait behind its backlog.
ABORT_AFTER_S = 2.0


class SessionState(enum.Enum):
    """OPEN -> CLOSING -> CLOSED, never back; only the session's own methods move it."""

    OPEN = "open"  # frames are written
    CLOSING = "closing"  # a bye or close frame went out; nothing more is written
    CLOSED = "closed"  # the connection is gone


class Session:
    """A websocket session after its ``hello`` was accepted."""

    __slots__ = (
        "_holds",
        "_on_slow",
        "_pending",
        "_pending_bytes",
        "_state",
        "_transport",
        "bucket",
        "event",
        "id",
        "last_seen",
        "limit",
        "name",
        "principal",
        "room",
        "skip_through",
        "too_many_violations",
        "violations",
        "visitor",
        "welcomed",
    )

    def __init__(
        self,
        *,
        session_id: str,
        transport: asyncio.Transport,
        event: str,
        principal: Principal,
        visitor: str,
        name: str | None,
        room: str | None,
        limit: int,
        bucket: TokenBucket,
        on_slow: Callable[[Session], None],
        max_violations: int = 5,
    ) -> None:
        self.id = session_id
        self._transport = transport
        self.event = event
        self.principal = principal
        self.visitor = visitor
        self.name = name
        self.room = room
        self.limit = limit
        self.bucket = bucket
        # Errors a page may cause: ``max_violations`` at once, earned back at that many a minute,
        # so a page that errs now and then over a long event is never closed for it.
        self.violations = TokenBucket(rate=max_violations / 60.0, burst=max_violations)
        self.too_many_violations = False
        # Stream frames up to this seq were already seen by the page (it resumed
        # from a process that was ahead of this one); they are not written again.
        self.skip_through = 0
        self.last_seen = time.monotonic()
        self._state = SessionState.OPEN
        # While not None, stream frames wait here (a resume is being prepared).
        self._pending: list[bytes] | None = None
        self._pending_bytes = 0
        # Holds nest: a resume being prepared and a stream reset may overlap.
        self._holds = 0
        self.welcomed = False
        self._on_slow = on_slow

    @property
    def state(self) -> SessionState:
        return self._state

    @property
    def is_open(self) -> bool:
        return self._state is SessionState.OPEN

    def close(self, bye: bytes | None = None) -> bool:
        """Stop writing, after a last ``bye`` frame if given; ``False`` if not open any more.

        The caller closes the websocket itself (with its code and reason).
        """
        if self._state is not SessionState.OPEN:
            return False
        if bye is not None:
            self.send(bye)
        self._state = SessionState.CLOSING
        return True

    def closed(self) -> None:
        """The connection is gone."""
        self._state = SessionState.CLOSED

    @property
    def role(self) -> str:
        return self.principal.role

    def hold(self) -> None:
        """Queue stream frames instead of writing them, until as many :meth:`release` calls."""
        self._holds += 1
        if self._pending is None:
            self._pending = []
            self._pending_bytes = 0

    def release(self) -> None:
        self._holds = max(0, self._holds - 1)
        if self._holds:
            return
        pending, self._pending = self._pending, None
        for frame in pending or ():
            self.write_frame(frame)

    def violation(self, now: float) -> None:
        """Count one bad frame; past the allowance the session is to be closed."""
        if self.violations.take(now) > 0:
            self.too_many_violations = True

    def replace_pending(self, frame: bytes) -> None:
        """A snapshot instead of everything held (it contains what was queued)."""
        if self._pending is None:
            self.write_frame(frame, direct=True)
        else:
            self._pending = [frame]
            self._pending_bytes = len(frame)

    def drop_pending(self) -> None:
        if self._pending is not None:
            self._pending = []
            self._pending_bytes = 0

    def send(self, payload: bytes) -> bool:
        """Write one frame for this session only (encoded here, as it goes to one)."""
        return self.write_frame(text_frame(payload), direct=True)

    def write_frame(self, frame: bytes, *, direct: bool = False) -> bool:
        """Write a complete websocket frame; ``False`` if the session is gone or was cut off."""
        if self._state is not SessionState.OPEN:
            return False
        if self._pending is not None and not direct:
            self._pending.append(frame)
            self._pending_bytes += len(frame)
            if self._pending_bytes > self.limit:
                self.cut_off()
                return False
            return True
        transport = self._transport
        if transport.is_closing():
            self._state = SessionState.CLOSED
            return False
        # A stream frame may not push the backlog past the bound. A frame for this page
        # alone (a welcome with many questions) may be large: only a backlog counts then.
        backlog = transport.get_write_buffer_size()
        if backlog + (0 if direct else len(frame)) > self.limit:
            self.cut_off()
            return False
        transport.write(frame)
        return True

    def cut_off(self) -> None:
        """Close as ``slow`` at once: no more frames, a close frame behind the backlog."""
        if self._state is not SessionState.OPEN:
            return
        self._state = SessionState.CLOSING
        self._on_slow(self)
        transport = self._transport
        if not transport.is_closing():
            transport.write(close_frame(CloseCode.SLOW, "slow"))
            # A page that reads nothing never answers the close; don't wait for it.
            asyncio.get_running_loop().call_later(ABORT_AFTER_S, transport.abort)
