"""In-memory broker: one process, nothing to reach, always ready.

The default broker. It keeps each event's stream (epoch, last seq, a bounded
history), presence and leadership in plain dicts and delivers synchronously
inside :meth:`MemoryBroker.publish`, so delivery order is seq order by
construction. Time for presence and leadership comes from an injected clock,
so tests can move it without sleeping.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from hubs_bridge.broker.base import FrameListener, PresenceEntry, StreamFrame

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Stream:
    epoch: str
    seq: int
    history: deque[StreamFrame]


@dataclass(slots=True)
class _Lead:
    owner: str
    expires_at: float


@dataclass(slots=True)
class _Presence:
    entries: dict[str, tuple[PresenceEntry, float]] = field(default_factory=dict)


class MemoryBroker:
    """:class:`~hubs_bridge.broker.base.Broker` for a single process."""

    backend = "memory"

    def __init__(
        self, history_size: int = 1000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if history_size < 1:
            raise ValueError("history_size must be at least 1")
        self._history_size = history_size
        self._clock = clock
        self._streams: dict[str, _Stream] = {}
        self._subscribed: set[str] = set()
        self._listener: FrameListener | None = None
        self._presence: dict[str, _Presence] = {}
        self._leads: dict[str, _Lead] = {}
        self._values: dict[str, tuple[bytes, float]] = {}

    # Lifetime

    @property
    def connected(self) -> bool:
        return True

    async def ping(self) -> None:
        return None

    async def start(self, listener: FrameListener) -> None:
        self._listener = listener

    async def close(self) -> None:
        self._listener = None
        self._subscribed.clear()

    # Stream

    def _stream(self, event: str) -> _Stream:
        stream = self._streams.get(event)
        if stream is None:
            # The epoch is born with the stream: a process restart loses the
            # history, and the new epoch tells reconnecting pages so.
            stream = _Stream(secrets.token_hex(8), 0, deque(maxlen=self._history_size))
            self._streams[event] = stream
        return stream

    async def publish(self, event: str, body: bytes) -> StreamFrame:
        stream = self._stream(event)
        stream.seq += 1
        frame = StreamFrame(stream.epoch, stream.seq, body)
        stream.history.append(frame)
        listener = self._listener
        if listener is not None and event in self._subscribed:
            try:
                listener.on_frame(event, frame)
            except Exception:
                # A listener bug must not turn an accepted frame into a failed publish.
                log.exception("broker listener failed on frame %s/%d", event, frame.seq)
        return frame

    async def position(self, event: str) -> tuple[str, int]:
        stream = self._stream(event)
        return stream.epoch, stream.seq

    async def history(self, event: str, epoch: str, after_seq: int) -> list[StreamFrame] | None:
        stream = self._stream(event)
        if epoch != stream.epoch or not 0 <= after_seq <= stream.seq:
            return None
        if after_seq == stream.seq:
            return []
        held = stream.history
        if not held or held[0].seq > after_seq + 1:
            return None
        return [frame for frame in held if frame.seq > after_seq]

    async def subscribe(self, event: str) -> tuple[str, int]:
        if self._listener is None:
            raise RuntimeError("start() the broker before subscribe()")
        self._subscribed.add(event)
        return await self.position(event)

    async def unsubscribe(self, event: str) -> None:
        self._subscribed.discard(event)

    # Presence

    async def presence_put(
        self, event: str, entries: Sequence[PresenceEntry], ttl_s: float
    ) -> list[str]:
        expires_at = self._clock() + ttl_s
        held = self._presence.setdefault(event, _Presence()).entries
        new = [entry.session for entry in entries if entry.session not in held]
        for entry in entries:
            held[entry.session] = (entry, expires_at)
        return new

    async def presence_remove(self, event: str, sessions: Sequence[str]) -> None:
        presence = self._presence.get(event)
        if presence is None:
            return
        for session in sessions:
            presence.entries.pop(session, None)

    async def presence_list(self, event: str) -> list[PresenceEntry]:
        presence = self._presence.get(event)
        if presence is None:
            return []
        now = self._clock()
        return [entry for entry, expires_at in presence.entries.values() if expires_at > now]

    async def presence_sweep(self, event: str) -> list[PresenceEntry]:
        presence = self._presence.get(event)
        if presence is None:
            return []
        now = self._clock()
        expired = [
            session for session, (_, expires_at) in presence.entries.items() if expires_at <= now
        ]
        return [presence.entries.pop(session)[0] for session in expired]

    async def lead(self, event: str, owner: str, ttl_s: float) -> bool:
        now = self._clock()
        current = self._leads.get(event)
        if current is None or current.expires_at <= now or current.owner == owner:
            self._leads[event] = _Lead(owner, now + ttl_s)
            return True
        return False

    async def value_put(self, key: str, value: bytes, ttl_s: float) -> None:
        now = self._clock()
        # Forget expired values on the way, so the dict holds only live ones.
        self._values = {k: v for k, v in self._values.items() if v[1] > now}
        self._values[key] = (value, now + ttl_s)

    async def value_get(self, key: str) -> bytes | None:
        held = self._values.get(key)
        if held is None or held[1] <= self._clock():
            return None
        return held[0]
