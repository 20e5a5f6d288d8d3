"""Local fan-out: the sessions of each event in this process, fed by the broker.

The broker hands every frame of a subscribed event to :meth:`HubRegistry.on_frame`
in order, once per process. The hub encodes it once (position spliced in,
websocket header added) and writes the same bytes to each local session.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from hubs_bridge.broker.base import StreamBroker, StreamFrame
from hubs_bridge.core import qa, stream
from hubs_bridge.core.stream import LiveState, StreamDecodeError, StreamEvent
from hubs_bridge.metrics import Metrics
from hubs_bridge.realtime.session import Session
from hubs_bridge.realtime.watchers import FrameObserver, StreamWatchers
from hubs_bridge.realtime.wire import text_frame

log = logging.getLogger("hubs_bridge.hub")

# An event without local sessions stays subscribed this long, so a page that
# reloads does not make the process unsubscribe and subscribe again.
UNSUBSCRIBE_AFTER_S = 30.0

RESET_ATTEMPTS = 30

StateSource = Callable[[str], Awaitable[LiveState]]
ResetHandler = Callable[["EventHub"], Awaitable[None]]


class EventHub:
    """One event's sessions in this process, and the stream position they have seen."""

    def __init__(self, event: str, epoch: str, seq: int, state: LiveState) -> None:
        self.event = event
        self.epoch = epoch
        self.seq = seq
        # State as of ``seq``: the snapshot given to a page that says hello.
        self.state = state
        self.sessions: set[Session] = set()
        self.empty_since: float | None = time.monotonic()
        # While the starting state loads, the events are kept to apply on top of it.
        self.replay: list[StreamEvent] | None = None

    def add(self, session: Session) -> None:
        self.sessions.add(session)
        self.empty_since = None

    def discard(self, session: Session) -> None:
        self.sessions.discard(session)
        if not self.sessions and self.empty_since is None:
            self.empty_since = time.monotonic()

    def apply(self, event: StreamEvent) -> None:
        """Keep the hub's own state current with an event of its stream."""
        self.state = stream.apply(self.state, event)

    def deliver(self, frame: StreamFrame, metrics: Metrics) -> StreamEvent | None:
        """Send the frame to every page here as that page may see it; the event, if readable."""
        if frame.epoch == self.epoch and frame.seq <= self.seq:
            return None  # already delivered (the broker never should, but stay idempotent)
        started = time.perf_counter()
        self.epoch, self.seq = frame.epoch, frame.seq
        try:
            event: StreamEvent | None = stream.decode(frame.body)
        except StreamDecodeError as exc:
            # Pages still get the position (a gap would make them reconnect), nothing else.
            log.error(
                "unreadable frame %s/%d of %s skipped: %s", frame.epoch, frame.seq, self.event, exc
            )
            event = None
        if event is not None:
            if self.replay is not None:
                self.replay.append(event)
            self.apply(event)
        seq = frame.seq
        written = sent = 0
        shared = "visitor" if event is None else stream.shared_audience(event)
        if shared is not None:
            # The same bytes for every page (all but questions): encoded once, and nothing
            # about a page is looked at on this path (it runs for every page, every second).
            raw = text_frame(
                stream.skip_frame(frame.epoch, seq)
                if event is None
                else stream.page_frame(event, shared, frame.epoch, seq)
            )
            for session in tuple(self.sessions):
                if session.skip_through < seq and session.write_frame(raw):
                    written += 1
            sent = written * len(raw)
        elif event is not None:
            # A question: at most three encodings (moderator, author, everyone else).
            encoded: dict[qa.Viewer, bytes] = {}
            for session in tuple(self.sessions):
                if session.skip_through >= seq:
                    continue
                viewer = viewer_for(self.event, event, session)
                tailored = encoded.get(viewer)
                if tailored is None:
                    tailored = encoded[viewer] = text_frame(
                        stream.page_frame(event, viewer, frame.epoch, seq)
                    )
                if session.write_frame(tailored):
                    written += 1
                    sent += len(tailored)
        metrics.bytes_out.inc(sent)
        metrics.frames_out.inc(written)
        metrics.fanout_seconds.observe(time.perf_counter() - started)
        return event


def viewer_for(event_slug: str, event: StreamEvent, session: Session) -> qa.Viewer:
    return stream.audience(
        event, moderator=session.principal.may_moderate(event_slug), visitor=session.visitor
    )


def payload_for(event_slug: str, frame: StreamFrame, session: Session) -> bytes:
    """One stream frame as this session may see it (for replaying missed frames)."""
    try:
        event = stream.decode(frame.body)
    except StreamDecodeError:
        return stream.skip_frame(frame.epoch, frame.seq)
    viewer = viewer_for(event_slug, event, session)
    return stream.page_frame(event, viewer, frame.epoch, frame.seq)


class HubRegistry:
    """Every :class:`EventHub` of this process; the broker's frame listener."""

    def __init__(
        self,
        broker: StreamBroker,
        metrics: Metrics,
        load_state: StateSource,
        on_reset: ResetHandler,
    ) -> None:
        self._broker = broker
        self._metrics = metrics
        self._load_state = load_state
        self._reset_handler = on_reset
        self.hubs: dict[str, EventHub] = {}
        # Observers of streams besides the pages (the Hubs bridge): see watchers.py.
        self.watchers = StreamWatchers()
        self._opening: dict[str, asyncio.Future[EventHub]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def hub_for(self, event: str) -> EventHub:
        """The event's hub, subscribing to its stream when it is the first here."""
        # An opening hub is registered (for frames) before its state has loaded:
        # its other callers wait for the state rather than take the empty one.
        opening = self._opening.get(event)
        if opening is not None:
            return await asyncio.shield(opening)
        hub = self.hubs.get(event)
        if hub is not None:
            return hub
        future: asyncio.Future[EventHub] = asyncio.get_running_loop().create_future()
        self._opening[event] = future
        try:
            epoch, seq = await self._broker.subscribe(event)
            # Registered before its state loads, so frames arriving meanwhile are not lost:
            # they are applied again on top of what was loaded (they carry absolute values).
            hub = EventHub(event, epoch, seq, LiveState())
            hub.replay = []
            self.hubs[event] = hub
            try:
                hub.state = await self._load_state(event)
            except BaseException:
                del self.hubs[event]
                await self._broker.unsubscribe(event)
                raise
            for replayed in hub.replay:
                hub.apply(replayed)
            hub.replay = None
            future.set_result(hub)
            return hub
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody else must
            raise
        finally:
            del self._opening[event]

    async def watch(self, event: str, observer: FrameObserver) -> LiveState:
        """Call ``observer`` with every later frame of ``event``; the event's state as of now.

        The event stays subscribed while it is watched, with or without pages.
        """
        self.watchers.add(event, observer)
        try:
            return (await self.hub_for(event)).state
        except BaseException:
            self.watchers.discard(event, observer)
            raise

    def unwatch(self, event: str, observer: FrameObserver) -> None:
        self.watchers.discard(event, observer)

    # FrameListener

    def on_frame(self, event: str, frame: StreamFrame) -> None:
        hub = self.hubs.get(event)
        if hub is not None:
            delivered = hub.deliver(frame, self._metrics)
            if delivered is not None:
                self.watchers.notify(event, delivered)

    def on_reset(self, event: str, epoch: str, seq: int) -> None:
        hub = self.hubs.get(event)
        if hub is None:
            return
        log.warning("stream of %s lost continuity; sending snapshots at %s/%d", event, epoch, seq)
        hub.epoch, hub.seq = epoch, seq
        # Frames of the new stream wait behind the snapshot that explains them.
        held = tuple(hub.sessions)
        for session in held:
            session.skip_through = 0
            session.hold()
        task = asyncio.get_running_loop().create_task(self._reset(hub, held))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _reset(self, hub: EventHub, held: tuple[Session, ...]) -> None:
        # Right after a broker comes back, the store may not answer yet (or, with a
        # Redis that lost everything, the event is gone until staff restore it): retry.
        try:
            for attempt in range(RESET_ATTEMPTS):
                try:
                    hub.replay = []
                    try:
                        hub.state = await self._load_state(hub.event)
                        for replayed in hub.replay:
                            hub.apply(replayed)
                    finally:
                        hub.replay = None
                    await self._reset_handler(hub)
                    return
                except Exception as exc:
                    log.warning("snapshots for %s not sent yet (%s); retrying", hub.event, exc)
                    await asyncio.sleep(min(1.0 + attempt, 5.0))
            log.error("gave up sending fresh snapshots for %s", hub.event)
        finally:
            for session in held:
                session.release()

    async def sweep(self) -> None:
        """Unsubscribe events that have had no local session for a while."""
        now = time.monotonic()
        for event, hub in list(self.hubs.items()):
            if (
                hub.empty_since is not None
                and now - hub.empty_since > UNSUBSCRIBE_AFTER_S
                and not self.watchers.watched(event)
            ):
                del self.hubs[event]
                await self._broker.unsubscribe(event)

    def sessions(self) -> list[Session]:
        return [s for hub in self.hubs.values() for s in hub.sessions]

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
