"""The broker: carries an event's stream between processes and holds shared presence.

Two backends implement :class:`Broker`: in memory for one process (the
default) and Redis for several (pub/sub for delivery, a stream per event for
history, a sorted set plus a hash per event for presence). They are picked
from the settings (``open_broker``), imported only when used, and pass one
contract suite (``tests/test_broker_contract.py``).

The stream of one event is a sequence of frames numbered 1, 2, 3, ... within
an *epoch* (a random id that changes only when the history is lost, e.g. a
Redis without persistence restarted). The broker guarantees each listener
sees, per subscribed event, frames in order with no gap and no duplicate; when
it cannot (history trimmed, epoch changed) it says so with ``on_reset`` so the
caller can send fresh snapshots.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from hubs_bridge.core.presence import PresenceEntry

__all__ = ["Broker", "FrameListener", "PresenceEntry", "StreamFrame"]

# Frames are JSON objects; the broker splices epoch and seq into the front once
# per process, so the body is encoded once by the publisher and never again.
_OPEN = b"{"


@dataclass(frozen=True, slots=True)
class StreamFrame:
    """One frame of an event's stream: its position and its JSON body (without position)."""

    epoch: str
    seq: int
    body: bytes

    def encode(self) -> bytes:
        """The frame as sent to browsers: ``{"epoch":..,"seq":..,<body fields>}``."""
        head = b'{"epoch":"' + self.epoch.encode() + b'","seq":' + str(self.seq).encode()
        rest = self.body[1:]
        return head + (b"," + rest if rest != b"}" else b"}")


class FrameListener(Protocol):
    """Receives the frames of subscribed events; called synchronously, must not block."""

    def on_frame(self, event: str, frame: StreamFrame) -> None: ...

    def on_reset(self, event: str, epoch: str, seq: int) -> None:
        """Continuity is lost; the stream now stands at ``(epoch, seq)``."""


class BrokerHealth(Protocol):
    """Whether the broker answers; its lifetime and delivery to this process."""

    backend: str

    async def ping(self) -> None:
        """Raise :class:`~hubs_bridge.errors.BrokerUnavailable` unless the broker answers."""

    async def start(self, listener: FrameListener) -> None:
        """Begin delivering frames of subscribed events to ``listener``."""

    async def close(self) -> None: ...

    @property
    def connected(self) -> bool:
        """Whether the backend is reachable as far as the broker knows now."""


class StreamBroker(Protocol):
    """Each event's stream: numbered frames, their history, and delivery to subscribers."""

    async def publish(self, event: str, body: bytes) -> StreamFrame:
        """Number ``body`` with the next seq, keep it in the history and deliver it.

        Numbering, history and delivery happen atomically: no other frame of
        the event can take the same seq or arrive in between.
        Raises :class:`~hubs_bridge.errors.BrokerUnavailable`.
        """

    async def position(self, event: str) -> tuple[str, int]:
        """The stream's epoch and last seq (0 before the first frame)."""

    async def history(self, event: str, epoch: str, after_seq: int) -> list[StreamFrame] | None:
        """Every frame after ``after_seq`` in order, or ``None`` if the epoch differs or
        some of them are no longer held."""

    async def subscribe(self, event: str) -> tuple[str, int]:
        """Deliver this event's frames to the listener from now on; returns the position
        from which delivery continues (frames after it will be delivered, none before
        this returns). Call :meth:`start` first."""

    async def unsubscribe(self, event: str) -> None: ...


class PresenceBroker(Protocol):
    """Who is at each event now, shared by every process; entries expire unless renewed."""

    async def presence_put(
        self, event: str, entries: Sequence[PresenceEntry], ttl_s: float
    ) -> list[str]:
        """Add or replace entries (by session); each expires ``ttl_s`` from now unless put again.

        Returns the sessions that were not present (new, or swept as expired meanwhile).
        """

    async def presence_remove(self, event: str, sessions: Sequence[str]) -> None: ...

    async def presence_list(self, event: str) -> list[PresenceEntry]:
        """Entries not expired, in no particular order."""

    async def presence_sweep(self, event: str) -> list[PresenceEntry]:
        """Remove and return expired entries (sessions of a process that died)."""


class Leases(Protocol):
    """One leader per event's periodic work across every process."""

    async def lead(self, event: str, owner: str, ttl_s: float) -> bool:
        """Take or keep the lead of an event's periodic work for ``ttl_s``; ``True`` if
        ``owner`` leads now. One leader per event across all processes."""


class SharedValues(Protocol):
    """Small shared values (the status of a background job, readable from every process).

    Not durable: they go with a Redis that restarts empty.
    """

    async def value_put(self, key: str, value: bytes, ttl_s: float) -> None:
        """Keep ``value`` under ``key`` for ``ttl_s``, replacing what was there."""

    async def value_get(self, key: str) -> bytes | None:
        """The value under ``key``, or ``None`` if there is none or it expired."""


class Broker(BrokerHealth, StreamBroker, PresenceBroker, Leases, SharedValues, Protocol):
    """Fan-out between processes and shared presence: every concern's part in one.

    Services take only the part they use; the backends implement all of it and
    pass one contract suite (``tests/test_broker_contract.py``).
    """


BrokerState = Literal["connected", "disconnected"]
