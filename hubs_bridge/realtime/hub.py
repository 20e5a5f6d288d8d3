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
from dataclasses import dataclass, field
from typing import Any

import orjson

from hubs_bridge.broker.base import Broker, StreamFrame
from hubs_bridge.core import qa
from hubs_bridge.metrics import Metrics
from hubs_bridge.realtime.session import Session
from hubs_bridge.realtime.watchers import FrameObserver, StreamWatchers
from hubs_bridge.realtime.wire import text_frame

log = logging.getLogger("hubs_bridge.hub")

# An event without local sessions stays subscribed this long, so a page that
# reloads does not make the process unsubscribe and subscribe again.
UNSUBSCRIBE_AFTER_S = 30.0

RESET_ATTEMPTS = 30

ANNOUNCEMENTS_KEPT = 5


@dataclass
class HubState:
    """What a page gets in its snapshot, kept current by the frames of the stream."""

    attendance: dict[str, Any]
    questions: dict[str, qa.Question] = field(default_factory=dict)
    votes: dict[str, int] = field(default_factory=dict)
    announcements: list[dict[str, Any]] = field(default_factory=list)


StateSource = Callable[[str], Awaitable[HubState]]
ResetHandler = Callable[["EventHub"], Awaitable[None]]


class EventHub:
    """One event's sessions in this process, and the stream position they have seen."""

    def __init__(self, event: str, epoch: str, seq: int, state: HubState) -> None:
        self.event = event
        self.epoch = epoch
        self.seq = seq
        # State as of ``seq``: the snapshot given to a page that says hello.
        self.state = state
        self.sessions: set[Session] = set()
        self.empty_since: float | None = time.monotonic()
        # While the starting state loads, frame bodies are kept to apply on top of it.
        self.replay: list[dict[str, Any]] | None = None

    @property
    def attendance(self) -> dict[str, Any]:
        return self.state.attendance

    def add(self, session: Session) -> None:
        self.sessions.add(session)
        self.empty_since = None

    def discard(self, session: Session) -> None:
        self.sessions.discard(session)
        if not self.sessions and self.empty_since is None:
            self.empty_since = time.monotonic()

    def apply(self, body: dict[str, Any]) -> qa.Question | None:
        """Keep the hub's own state current with a frame's content."""
        kind = body.get("type")
        state = self.state
        if kind == "attendance":
            if body.get("full"):
                state.attendance["rooms"] = {}
            rooms = state.attendance.setdefault("rooms", {})
            rooms.update(body.get("rooms", {}))
            for slug in body.get("removed", ()):
                rooms.pop(slug, None)
            state.attendance["online"] = body.get("online", state.attendance.get("online", 0))
        elif kind == "question":
            question = qa.question_from_dict(body["record"])
            known = state.questions.get(question.id)
            if known is None or question.version >= known.version:
                # An older record (a republished retry) never replaces a newer one here.
                state.questions[question.id] = question
            state.votes[question.id] = body.get("votes", 0)
            return question
        elif kind == "votes":
            state.votes.update(body["counts"])
        elif kind == "announcement":
            state.announcements = [*state.announcements, body["announcement"]][-ANNOUNCEMENTS_KEPT:]
        return None

    def deliver(self, frame: StreamFrame, metrics: Metrics) -> None:
        if frame.epoch == self.epoch and frame.seq <= self.seq:
            return  # already delivered (the broker never should, but stay idempotent)
        started = time.perf_counter()
        self.epoch, self.seq = frame.epoch, frame.seq
        body = orjson.loads(frame.body)
        if self.replay is not None:
            self.replay.append(body)
        question = self.apply(body)
        seq = frame.seq
        written = 0
        if question is None:
            raw = text_frame(frame.encode())
            for session in tuple(self.sessions):
                if session.skip_through < seq and session.write_frame(raw):
                    written += 1
            metrics.bytes_out.inc(written * len(raw))
        else:
            written = self._deliver_question(frame, question, metrics)
        metrics.frames_out.inc(written)
        metrics.fanout_seconds.observe(time.perf_counter() - started)

    def _deliver_question(self, frame: StreamFrame, question: qa.Question, metrics: Metrics) -> int:
        """A question as each page may see it: at most three encodings, never one per page."""
        votes = self.state.votes.get(question.id, 0)
        encoded: dict[qa.Viewer, bytes] = {}
        written = 0
        for session in tuple(self.sessions):
            if session.skip_through >= frame.seq:
                continue
            viewer = viewer_for(self.event, question, session)
            raw = encoded.get(viewer)
            if raw is None:
                raw = encoded[viewer] = text_frame(question_payload(frame, question, votes, viewer))
            if session.write_frame(raw):
                written += 1
                metrics.bytes_out.inc(len(raw))
        return written


def viewer_for(event: str, question: qa.Question, session: Session) -> qa.Viewer:
    return qa.viewer_of(
        question, moderator=session.principal.may_moderate(event), visitor=session.visitor
    )


def question_payload(
    frame: StreamFrame, question: qa.Question, votes: int, viewer: qa.Viewer
) -> bytes:
    """A ``question`` frame for one kind of viewer.

    Moderators see every question; its author sees it while it is pending;
    everyone else sees it only once approved, and otherwise gets a bare
    ``{"id", "hidden": true}`` at the same seq, so no page sees a gap and
    none learns what it may not.
    """
    view = (
        qa.public_view(question, votes, viewer)
        if qa.visible_to(question, viewer)
        else {"id": question.id, "hidden": True}
    )
    return orjson.dumps(
        {"type": "question", "epoch": frame.epoch, "seq": frame.seq, "question": view}
    )


def payload_for(event: str, frame: StreamFrame, session: Session) -> bytes:
    """One stream frame as this session may see it (for replaying missed frames)."""
    body = orjson.loads(frame.body)
    if body.get("type") != "question":
        return frame.encode()
    question = qa.question_from_dict(body["record"])
    return question_payload(
        frame, question, body.get("votes", 0), viewer_for(event, question, session)
    )


class HubRegistry:
    """Every :class:`EventHub` of this process; the broker's frame listener."""

    def __init__(
        self,
        broker: Broker,
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
            hub = EventHub(event, epoch, seq, HubState(attendance={}))
            hub.replay = []
            self.hubs[event] = hub
            try:
                hub.state = await self._load_state(event)
            except BaseException:
                del self.hubs[event]
                await self._broker.unsubscribe(event)
                raise
            for body in hub.replay:
                hub.apply(body)
            hub.replay = None
            future.set_result(hub)
            return hub
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody else must
            raise
        finally:
            del self._opening[event]

    async def watch(self, event: str, observer: FrameObserver) -> HubState:
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
            fresh = frame.epoch != hub.epoch or frame.seq > hub.seq
            hub.deliver(frame, self._metrics)
            if fresh:
                self.watchers.notify(event, frame)

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
                        for body in hub.replay:
                            hub.apply(body)
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
