"""Redis broker: shared by every hubs-bridge process pointed at one Redis.

Publishing is one Lua script (``redis_scripts.PUBLISH``) that numbers the
frame, appends it to the event's stream and publishes it, so seq order,
history order and pub/sub order are the same. Pub/sub delivers at most once,
so each process tracks the last (epoch, seq) it delivered per event and
repairs what pub/sub loses:

- a frame arriving with a seq past the next one: the gap is filled from the
  stream first (as Centrifugo does);
- a lost *last* frame shows no gap until the next one; a periodic catch-up
  compares the stream's position with the last delivered seq;
- a lost connection: the reader task backs off, reconnects, re-subscribes
  and catches every event up;
- history no longer held, or a new epoch (Redis lost its data): the listener
  gets ``on_reset`` and delivery continues from the new position.

One reader task, owned by the broker and stopped in :meth:`close`, reads
pub/sub and runs the catch-ups; a per-event lock keeps :meth:`subscribe` from
interleaving with it, so each event's frames are delivered strictly in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict, TypeVar, Unpack

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from hubs_bridge.broker import redis_scripts as lua
from hubs_bridge.broker.base import FrameListener, PresenceEntry, StreamFrame
from hubs_bridge.broker.redis_scripts import EventKeys
from hubs_bridge.errors import BrokerUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

# Failures the reader survives: Redis errors, the BrokerUnavailable our own
# calls wrap them in, and socket errors that escape redis-py.
_LINK_ERRORS = (RedisError, BrokerUnavailable, OSError)


class RedisBrokerOptions(TypedDict, total=False):
    """The keyword options of :class:`RedisBroker` (defaults there)."""

    history_size: int
    catch_up_interval_s: float
    backoff_initial_s: float
    backoff_max_s: float
    ping_timeout_s: float


@dataclass(slots=True)
class _Subscription:
    """What one process has delivered of one event."""

    channel: bytes
    epoch: str | None = None  # None until subscribe() has read the position
    seq: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class RedisBroker:
    """:class:`~hubs_bridge.broker.base.Broker` on Redis (pub/sub plus streams)."""

    backend = "redis"

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        *,
        pubsub_redis: Redis | None = None,
        history_size: int = 1000,
        catch_up_interval_s: float = 5.0,
        backoff_initial_s: float = 0.1,
        backoff_max_s: float = 5.0,
        ping_timeout_s: float = 1.0,
    ) -> None:
        self._r = redis
        # Pub/sub on a client of its own (see redis_scripts.PUBSUB_CONNECTIONS).
        self._sub_r = pubsub_redis if pubsub_redis is not None else redis
        self.prefix = prefix
        self.history_size = history_size
        self.catch_up_interval_s = catch_up_interval_s
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.ping_timeout_s = ping_timeout_s
        self.reconnects = 0
        """Times the reader re-established pub/sub after losing it."""
        self.errors = 0
        """Connection errors seen by the reader (one per failed attempt)."""
        self._lua = lua.Scripts(redis)
        self._subs: dict[str, _Subscription] = {}
        self._by_channel: dict[bytes, str] = {}
        self._listener: FrameListener | None = None
        self._pubsub: PubSub | None = None
        self._task: asyncio.Task[None] | None = None
        self._reader_ok = True
        self._commands_ok = True
        self._closing = False

    @classmethod
    def connect(
        cls,
        url: str,
        prefix: str,
        *,
        max_connections: int = lua.POOL_CONNECTIONS,
        pool_wait_s: float = lua.POOL_WAIT_S,
        **options: Unpack[RedisBrokerOptions],
    ) -> RedisBroker:
        """A broker on ``url``: commands share a blocking pool of ``max_connections``
        (a call waits up to ``pool_wait_s`` for one), pub/sub has a pool of its own;
        ``options`` go to the constructor."""
        # No ping here: a broker that cannot reach Redis at start still starts,
        # reports itself in /readyz and recovers when Redis is back.
        commands = lua.client(
            url, max_connections=max_connections, wait_s=pool_wait_s, name=f"{prefix}:broker"
        )
        pubsub = lua.client(
            url,
            max_connections=lua.PUBSUB_CONNECTIONS,
            wait_s=pool_wait_s,
            name=f"{prefix}:broker:pubsub",
        )
        return cls(commands, prefix, pubsub_redis=pubsub, **options)

    def _keys(self, event: str) -> EventKeys:
        return EventKeys.of(self.prefix, event)

    async def _call(self, call: Awaitable[T]) -> T:
        try:
            result = await call
        except RedisError as exc:
            self._commands_ok = False
            raise BrokerUnavailable(f"Redis broker: {exc}") from exc
        self._commands_ok = True
        return result

    # Lifetime

    @property
    def connected(self) -> bool:
        return self._reader_ok and self._commands_ok

    async def ping(self) -> None:
        try:
            # Bounded so /readyz answers quickly when Redis hangs instead of refusing.
            async with asyncio.timeout(self.ping_timeout_s):
                await self._call(self._r.ping())
        except TimeoutError as exc:
            self._commands_ok = False
            raise BrokerUnavailable("Redis broker: ping timed out") from exc

    async def start(self, listener: FrameListener) -> None:
        if self._task is not None or self._closing:
            raise RuntimeError("the broker is started already, or closed")
        self._listener = listener
        self._task = asyncio.create_task(self._read(), name="redis-broker-reader")

    async def close(self) -> None:
        self._closing = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            # Not ``await task``: Python 3.11's wait_for, used inside redis-py,
            # can swallow a cancel that races a finished send (fixed in 3.12);
            # the reader then stops at its next turn, as it checks _closing.
            await asyncio.wait({task})
        await self._drop_pubsub()
        self._listener = None
        # Each client owns its pool (redis_scripts.client): this closes every connection.
        await self._r.aclose()
        if self._sub_r is not self._r:
            await self._sub_r.aclose()

    # Stream

    async def publish(self, event: str, body: bytes) -> StreamFrame:
        return await self._call(self._lua.publish(self._keys(event), body, self.history_size))

    async def position(self, event: str) -> tuple[str, int]:
        return await self._call(self._lua.position(self._keys(event)))

    async def history(self, event: str, epoch: str, after_seq: int) -> list[StreamFrame] | None:
        if after_seq < 0:
            return None
        found = await self._call(self._lua.history(self._keys(event), epoch, after_seq))
        if found is None:
            return None
        current, frames = found
        if after_seq >= current:
            return [] if after_seq == current else None
        # The stream is trimmed from the front: if the first frame held is not
        # the one wanted, some are gone and the caller needs a snapshot.
        if not frames or frames[0].seq != after_seq + 1:
            return None
        return frames

    async def subscribe(self, event: str) -> tuple[str, int]:
        if self._task is None:
            raise RuntimeError("start() the broker before subscribe()")
        keys = self._keys(event)
        channel = keys.channel.encode()
        sub = self._subs.get(event)
        if sub is not None:
            async with sub.lock:  # waits for a subscribe() of the same event under way
                if sub.epoch is not None and self._subs.get(event) is sub:
                    return sub.epoch, sub.seq
        sub = _Subscription(channel)
        self._subs[event] = sub
        self._by_channel[channel] = event
        async with sub.lock:
            try:
                # Subscribe first, then read the position: a frame published in
                # between is in the position or arrives after it. The reader
                # waits on this lock for the position, then drops the copies at
                # or below it, and delivers the rest only after this returns.
                if self._pubsub is not None:
                    await self._call(self._pubsub.subscribe(channel))
                epoch, seq = await self.position(event)
            except BaseException:
                self._forget(event, sub)
                raise
            sub.epoch, sub.seq = epoch, seq
            return epoch, seq

    async def unsubscribe(self, event: str) -> None:
        sub = self._subs.get(event)
        if sub is None:
            return
        self._forget(event, sub)
        if self._pubsub is not None:
            # Best effort: if this fails the connection is gone, and the reader
            # re-subscribes only what is still in self._subs.
            with contextlib.suppress(*_LINK_ERRORS):
                await self._pubsub.unsubscribe(sub.channel)

    def _forget(self, event: str, sub: _Subscription) -> None:
        if self._subs.get(event) is sub:
            del self._subs[event]
            self._by_channel.pop(sub.channel, None)

    # Delivery (reader task and subscribe, under the event's lock)

    def _deliver(self, event: str, sub: _Subscription, frame: StreamFrame) -> None:
        sub.seq = frame.seq
        if self._listener is None or self._subs.get(event) is not sub:
            return
        try:
            self._listener.on_frame(event, frame)
        except Exception:
            log.exception("broker listener failed on frame %s/%d", event, frame.seq)

    def _reset(self, event: str, sub: _Subscription, epoch: str, seq: int) -> None:
        log.info("stream of %s reset to %s/%d (was %s/%d)", event, epoch, seq, sub.epoch, sub.seq)
        sub.epoch, sub.seq = epoch, seq
        if self._listener is None or self._subs.get(event) is not sub:
            return
        try:
            self._listener.on_reset(event, epoch, seq)
        except Exception:
            log.exception("broker listener failed on reset of %s", event)

    async def _fill(self, event: str, sub: _Subscription, epoch: str, seq: int) -> None:
        """Bring ``event`` up to ``(epoch, seq)`` from the stream, or reset to it."""
        if epoch == sub.epoch:
            frames = await self.history(event, epoch, sub.seq)
            if frames is not None:
                for frame in frames:
                    self._deliver(event, sub, frame)
                return
        self._reset(event, sub, epoch, seq)

    async def _advance(
        self, event: str, sub: _Subscription, epoch: str, seq: int, body: bytes
    ) -> None:
        """Deliver the frame ``(epoch, seq, body)`` from pub/sub, after any it skipped."""
        if epoch != sub.epoch:
            # Ask the stream: a message of another epoch may be older than ours.
            await self._sync(event, sub)
        elif seq == sub.seq + 1:
            self._deliver(event, sub, StreamFrame(epoch, seq, body))
        elif seq > sub.seq:
            await self._fill(event, sub, epoch, seq)
        # else: a copy already delivered (from history or the position)

    async def _sync(self, event: str, sub: _Subscription) -> None:
        """Bring ``event`` up to the stream's current position."""
        epoch, seq = await self.position(event)
        if epoch != sub.epoch or seq > sub.seq:
            await self._fill(event, sub, epoch, seq)

    async def _catch_up(self, event: str, sub: _Subscription) -> None:
        """Deliver what pub/sub lost of ``event``, judged by the stream's position.

        Pub/sub shows a lost frame only when a later one arrives; a lost last
        frame, or frames lost while disconnected, show up only here.
        """
        async with sub.lock:
            if sub.epoch is not None and self._subs.get(event) is sub:
                await self._sync(event, sub)

    async def _catch_up_all(self) -> None:
        for event, sub in list(self._subs.items()):
            await self._catch_up(event, sub)

    async def _on_message(self, message: dict[str, Any]) -> None:
        if message.get("type") != "message":
            return
        event = self._by_channel.get(bytes(message["channel"]))
        sub = self._subs.get(event) if event is not None else None
        if event is None or sub is None:
            return  # unsubscribed meanwhile
        try:
            epoch, seq, body = lua.parse_message(bytes(message["data"]))
        except ValueError:
            log.warning("malformed frame on %s dropped", message["channel"])
            return
        async with sub.lock:  # held by a subscribe() until the position is known
            if sub.epoch is not None and self._subs.get(event) is sub:
                await self._advance(event, sub, epoch, seq, body)

    # Reader task

    async def _open_pubsub(self) -> PubSub:
        """A pub/sub connection subscribed to every event in ``self._subs``.

        Loops until nothing is missing: a ``subscribe()`` running meanwhile
        sees no pub/sub yet and leaves its channel to this method. The caller
        stores the result without awaiting in between, so none slips through.
        """
        pubsub = self._sub_r.pubsub()
        # The control channel keeps the connection open even with no event
        # subscribed, so a lost Redis is noticed (and shown) right away.
        control = f"{self.prefix}:broker".encode()
        done: set[bytes] = set()
        try:
            while missing := {control, *(s.channel for s in self._subs.values())} - done:
                await pubsub.subscribe(*missing)
                done |= missing
        except BaseException:
            await pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]
            raise
        return pubsub

    async def _drop_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(*_LINK_ERRORS):
                await pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]

    async def _read(self) -> None:
        """Read pub/sub and catch up periodically, until :meth:`close`."""
        loop = asyncio.get_running_loop()
        delay = self.backoff_initial_s
        next_catch_up = loop.time() + self.catch_up_interval_s
        while not self._closing:
            try:
                if self._pubsub is None:
                    if not self._reader_ok:
                        # Idle pooled connections may be dead without knowing it
                        # (a reset socket does not read as EOF): drop them all.
                        await self._r.connection_pool.disconnect(inuse_connections=False)
                        await self._sub_r.connection_pool.disconnect(inuse_connections=False)
                    self._pubsub = await self._open_pubsub()
                    self._commands_ok = True  # Redis answered the subscribe
                    # Catch up on every open, the first too: a subscribe() that
                    # found no pub/sub read its position before its channel was
                    # subscribed here, and frames in between reached no one.
                    await self._catch_up_all()
                    if not self._reader_ok:
                        self.reconnects += 1
                        self._reader_ok = True
                        log.warning("Redis broker: reconnected; every stream caught up")
                    delay = self.backoff_initial_s
                # At most 1 s per turn, so a close() whose cancel got lost still ends it.
                wait = max(0.0, min(1.0, next_catch_up - loop.time()))
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=wait
                )
                if message is not None:
                    await self._on_message(message)
                if loop.time() >= next_catch_up:
                    await self._catch_up_all()
                    next_catch_up = loop.time() + self.catch_up_interval_s
            except asyncio.CancelledError:
                raise
            except _LINK_ERRORS as exc:
                self.errors += 1
                if self._reader_ok:
                    log.warning("Redis broker: connection lost (%s); reconnecting", exc)
                self._reader_ok = False
                await self._drop_pubsub()
                # Full jitter: processes that lost Redis together do not return together.
                await asyncio.sleep(random.uniform(0, delay))
                delay = min(delay * 2, self.backoff_max_s)
            except Exception:
                # A bug here must not end delivery for good; log it loudly and go on.
                self.errors += 1
                log.exception("Redis broker reader failed; starting over")
                await self._drop_pubsub()
                await asyncio.sleep(self.backoff_initial_s)

    # Presence

    async def presence_put(
        self, event: str, entries: Sequence[PresenceEntry], ttl_s: float
    ) -> list[str]:
        if not entries:
            return []
        new: list[str] = await self._call(self._lua.presence_put(self._keys(event), entries, ttl_s))
        return new

    async def presence_remove(self, event: str, sessions: Sequence[str]) -> None:
        if sessions:
            await self._call(self._lua.presence_remove(self._keys(event), sessions))

    async def presence_list(self, event: str) -> list[PresenceEntry]:
        return await self._call(self._lua.presence_list(self._keys(event)))

    async def presence_sweep(self, event: str) -> list[PresenceEntry]:
        return await self._call(self._lua.presence_sweep(self._keys(event)))

    async def lead(self, event: str, owner: str, ttl_s: float) -> bool:
        return await self._call(self._lua.lead(self._keys(event), owner, ttl_s))

    def _value_key(self, key: str) -> str:
        return f"{self.prefix}:{{{key}}}:value"

    async def value_put(self, key: str, value: bytes, ttl_s: float) -> None:
        await self._call(self._r.set(self._value_key(key), value, px=lua.ttl_ms(ttl_s)))

    async def value_get(self, key: str) -> bytes | None:
        value = await self._call(self._r.get(self._value_key(key)))
        if value is None:
            return None
        return value.encode() if isinstance(value, str) else bytes(value)
