"""The real-time side of one process: sessions, fan-out, presence and attendance.

Owns the background loops (attendance leader, presence refresh, record
flush, housekeeping); :meth:`RealtimeService.run` is the lifetime, entered
from the app's ``cleanup_ctx`` and cancelled with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from aiohttp import web

from hubs_bridge.auth import Principal
from hubs_bridge.broker.base import Broker, PresenceEntry
from hubs_bridge.calendar_service import CalendarService
from hubs_bridge.close_codes import CloseCode
from hubs_bridge.core import polls, stream
from hubs_bridge.core.attendance import EventCounts, count, retention_cutoff
from hubs_bridge.core.calendar import Event
from hubs_bridge.core.ratelimit import TokenBucket
from hubs_bridge.core.stream import (
    ANNOUNCEMENTS_KEPT,
    Announcement,
    EventUpdated,
    LiveState,
    StreamEvent,
)
from hubs_bridge.errors import HubsBridgeError, RateLimited
from hubs_bridge.identity import VisitorIds
from hubs_bridge.metrics import Metrics
from hubs_bridge.periodic import every
from hubs_bridge.poll_service import count_results
from hubs_bridge.protocol import Hello, encode
from hubs_bridge.ratelimits import MemoryLimiter
from hubs_bridge.realtime.attendance_leader import AttendanceLeader
from hubs_bridge.realtime.hub import EventHub, HubRegistry, payload_for
from hubs_bridge.realtime.presence import PresenceKeeper
from hubs_bridge.realtime.session import Session
from hubs_bridge.realtime.snapshots import Own, public_event, snapshot_for
from hubs_bridge.realtime.token_check import CHECK_EVERY_S, close_revoked
from hubs_bridge.realtime.wire import PING_FRAME, text_frame
from hubs_bridge.settings import Settings
from hubs_bridge.store.base import Store

log = logging.getLogger("hubs_bridge.realtime")


class TooManySessions(RateLimited):
    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message, retry_after_s=5.0, code=code)


HOUSEKEEPING_S = 5.0
RETENTION_EVERY_S = 3600.0


class RealtimeService:
    def __init__(
        self,
        settings: Settings,
        broker: Broker,
        store: Store,
        calendar: CalendarService,
        ids: VisitorIds,
        metrics: Metrics,
    ) -> None:
        self.settings = settings.realtime
        self.broker = broker
        self.calendar = calendar
        self.ids = ids
        self.metrics = metrics
        self.registry = HubRegistry(broker, metrics, self.load_state, self._send_snapshots)
        self.presence = PresenceKeeper(
            broker, store, ids, self.settings.presence_ttl_s, calendar.now
        )
        self.leader = AttendanceLeader(
            broker,
            store,
            self.presence,
            self.publish,
            self.settings.attendance_interval_s,
            lambda: set(self.registry.hubs),
        )
        self._store = store
        self._retention_days = settings.retention_days
        self.sessions: dict[str, Session] = {}
        self.sockets: dict[str, web.WebSocketResponse] = {}
        self._per_visitor: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        self.accepting = True
        self._last_ping = time.monotonic()
        # New visitor ids per network address: in this process's memory only, never stored.
        self.identity_limiter = MemoryLimiter()
        # Public live counts, cached briefly so a busy landing page costs one read a second.
        self.live_cache: dict[str, tuple[float, Any]] = {}
        self.token_check_s = CHECK_EVERY_S  # revoked tokens' pages closed this often

    # Lifetime

    async def run(self) -> AsyncIterator[None]:
        """Start the broker's delivery and the loops; stop them on exit."""
        await self.broker.start(self.registry)
        interval = self.settings.attendance_interval_s
        loops = [
            every(interval, lambda: self.leader.tick(self.calendar.now())),
            every(self.settings.presence_ttl_s / 3, self.presence.refresh),
            every(1.0, self.presence.flush),
            every(min(HOUSEKEEPING_S, self.settings.ping_interval_s), self._housekeeping),
            every(RETENTION_EVERY_S, self._retention, first_delay=5.0),
            every(self.token_check_s, self._close_revoked),
        ]
        tasks = [asyncio.create_task(loop) for loop in loops]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.registry.close()
            await self.presence.flush()

    async def _housekeeping(self) -> None:
        now = time.monotonic()
        if now - self._last_ping >= self.settings.ping_interval_s:
            # Server pings keep proxies and NAT mappings open and make TCP notice a
            # dead peer; one shared frame, no timer or task per session.
            self._last_ping = now
            for session in tuple(self.sessions.values()):
                session.write_frame(PING_FRAME, direct=True)
        deadline = now - self.settings.idle_timeout_s
        for session in list(self.sessions.values()):
            if session.last_seen < deadline:
                self.close_later(session, CloseCode.NORMAL, "idle", bye={"reason": "idle"})
        await self.registry.sweep()

    async def _close_revoked(self) -> None:
        def close(session: Session, code: int, reason: str) -> None:
            self.close_later(session, code, reason, bye={"reason": reason})

        await close_revoked(self.sessions.values(), self._store, close)

    async def _retention(self) -> None:
        cutoff = retention_cutoff(self.calendar.now(), self._retention_days)
        deleted = await self._store.delete_attendance_before(cutoff)
        deleted += await self._store.qa_delete_before(cutoff)
        deleted += await self._store.poll_delete_before(cutoff)
        if deleted:
            log.info("retention: deleted %d records before %s", deleted, cutoff)

    # Stream

    async def publish(self, event: str, happened: StreamEvent) -> None:
        await self.broker.publish(event, stream.encode(happened))
        self.metrics.published.labels(happened.kind).inc()

    async def _counts(self, event: Event) -> EventCounts:
        try:
            entries = await self.broker.presence_list(event.slug)
        except HubsBridgeError:
            entries = []
        stale = self.leader.stale_rooms.of(event.slug)
        return count(entries, [r.slug for r in event.rooms], stale)

    async def attendance_of(self, event_slug: str) -> dict[str, Any]:
        """Current counts computed from presence."""
        return (await self._counts(await self.calendar.get(event_slug))).as_dict()

    async def load_state(self, event_slug: str) -> LiveState:
        """Everything a snapshot shows, from presence and the store (a hub starts or resets)."""
        event = await self.calendar.get(event_slug)
        announcements = [
            Announcement(
                id=dict(e.details).get("id", f"log-{n}"),
                text=dict(e.details).get("text", ""),
                rooms=tuple(r for r in dict(e.details).get("rooms", "").split(",") if r) or None,
                at=e.at.isoformat(),
            )
            for n, e in enumerate(await self._store.qa_log_entries(event_slug))
            if e.action == "announce"
        ]
        counts = (await self._counts(event)).as_dict()
        event_polls = await self._store.poll_list(event_slug)
        results = {poll.id: await count_results(self._store, poll) for poll in event_polls}
        return LiveState(
            online=counts["online"],
            rooms=counts["rooms"],
            questions={q.id: q for q in await self._store.qa_questions(event_slug)},
            votes=await self._store.qa_vote_counts(event_slug),
            announcements=tuple(announcements[-ANNOUNCEMENTS_KEPT:]),
            polls={p.id: p for p in event_polls},
            poll_results=results,
        )

    async def own(self, event: str, visitor: str, state: LiveState) -> Own:
        """What this visitor did: votes, and answers if the event has polls (a hello of an
        event without polls costs no extra read)."""
        voted = await self._store.qa_voted_by(event, visitor)
        if not state.polls:
            return Own(voted)
        ballots = await self._store.poll_ballots_of(event, visitor)
        return Own(voted, {b.poll: polls.own_answer(b) for b in ballots})

    async def _send_snapshots(self, hub: EventHub) -> None:
        event = await self.calendar.get(hub.event)
        sessions = tuple(hub.sessions)
        own = {
            visitor: await self.own(event.slug, visitor, hub.state)
            for visitor in {s.visitor for s in sessions}
        }
        # State and position are taken together, after the last await: every frame
        # queued until now is in the snapshot, every later one follows it.
        epoch, seq = hub.epoch, hub.seq
        state = hub.state
        for session in sessions:
            frame = {
                "type": "snapshot",
                "epoch": epoch,
                "seq": seq,
                "snapshot": snapshot_for(
                    event, state, session, own[session.visitor], self.calendar.now()
                ),
            }
            session.replace_pending(text_frame(encode(frame)))

    # Sessions

    async def open(
        self,
        *,
        hello: Hello,
        event: Event,
        principal: Principal,
        visitor: str,
        visitor_token: str,
        socket: web.WebSocketResponse,
        transport: asyncio.Transport,
    ) -> Session:
        """Register an accepted session; its welcome (and missed frames) are sent here."""
        # Counted before the first await, so concurrent hellos cannot pass the limit together.
        if self._per_visitor[visitor] >= self.settings.sessions_per_visitor:
            raise TooManySessions(
                f"at most {self.settings.sessions_per_visitor} open pages per visitor",
                code="too_many_sessions",
            )
        self._per_visitor[visitor] += 1
        try:
            hub = await self.registry.hub_for(event.slug)
            # Read before the session joins the hub: between joining and reading the
            # position nothing may be awaited, or a frame would be queued and counted twice.
            own = await self.own(event.slug, visitor, hub.state)
        except BaseException:
            self._release_visitor(visitor)
            raise
        session = Session(
            session_id=secrets.token_urlsafe(9),
            transport=transport,
            event=event.slug,
            principal=principal,
            visitor=visitor,
            name=hello.name,
            room=hello.room,
            limit=self.settings.send_queue_bytes,
            bucket=TokenBucket(self.settings.frames_per_second, self.settings.frames_burst),
            on_slow=self._on_slow,
            max_violations=self.settings.max_violations,
        )
        session.hold()  # live frames wait until the welcome and missed frames are out
        hub.add(session)
        self.sessions[session.id] = session
        self.sockets[session.id] = socket
        self.metrics.sessions.labels(event.slug).inc()
        try:
            await self._welcome(session, hub, hello, event, visitor_token, own)
        except BaseException:
            await self.close_session(session)
            raise
        return session

    async def _welcome(
        self,
        session: Session,
        hub: EventHub,
        hello: Hello,
        event: Event,
        visitor_token: str,
        own: Own,
    ) -> None:
        epoch, seq = hub.epoch, hub.seq
        state = hub.state
        missed, recovered, position = await self._missed(hello, event.slug, epoch, seq, session)
        if not recovered and (hub.epoch, hub.seq) != (epoch, seq):
            # Frames came while the resume was tried: the page starts from a snapshot
            # taken now, so drop what was queued (the snapshot holds it) and skip nothing.
            session.skip_through = 0
            session.drop_pending()
            epoch, seq = hub.epoch, hub.seq
            state = hub.state
            position = seq
        welcome = {
            "type": "welcome",
            "session": session.id,
            "role": session.principal.role,
            "visitor": visitor_token,
            "epoch": epoch,
            "seq": position,
            "recovered": recovered,
            "snapshot": snapshot_for(event, state, session, own, self.calendar.now()),
        }
        session.send(encode(welcome))
        for frame in missed:
            session.send(frame)
        session.welcomed = True
        session.release()
        await self.presence.arrive(
            event.slug,
            PresenceEntry(
                session=session.id,
                visitor=session.visitor,
                room=hello.room,
                source="web",
                role=session.principal.role,
                name=hello.name,
            ),
        )

    async def _missed(
        self, hello: Hello, event: str, epoch: str, seq: int, session: Session
    ) -> tuple[list[bytes], bool, int]:
        """Frames a resuming page missed up to ``seq``: (frames, recovered, welcome seq)."""
        resume = hello.resume
        if resume is None or resume.epoch != epoch:
            return [], False, seq
        if resume.seq >= seq:
            # The page saw more than this process has delivered yet (it came from a
            # process that was ahead): skip what it has, deliver the rest live. A
            # position the stream never reached is not trusted.
            session.skip_through = resume.seq  # already now: frames may come meanwhile
            try:
                current_epoch, current = await self.broker.position(event)
            except HubsBridgeError:
                return [], False, seq
            if current_epoch != epoch or resume.seq > current:
                return [], False, seq
            return [], True, resume.seq
        try:
            frames = await self.broker.history(event, epoch, resume.seq)
        except HubsBridgeError:
            frames = None
        if frames is None:
            return [], False, seq
        wanted = [f for f in frames if f.seq <= seq]
        if len(wanted) != seq - resume.seq:
            return [], False, seq
        # Tailored like live frames: a replay must not show what the live frame hid.
        return [payload_for(event, f, session) for f in wanted], True, resume.seq

    async def close_session(self, session: Session) -> None:
        if self.sessions.pop(session.id, None) is None:
            return
        self.sockets.pop(session.id, None)
        session.closed()
        self._release_visitor(session.visitor)
        hub = self.registry.hubs.get(session.event)
        if hub is not None:
            hub.discard(session)
        self.metrics.sessions.labels(session.event).dec()
        await self.presence.depart(session.id)

    def votes_seen(self, event: str, question_id: str) -> int:
        """A question's vote count as this process's stream has it (0 if it serves no page)."""
        hub = self.registry.hubs.get(event)
        return hub.state.votes.get(question_id, 0) if hub is not None else 0

    def poll_seen(self, event: str, poll_id: str) -> polls.Poll | None:
        """A poll as this process's stream has it (``None`` if it serves no page of the event)."""
        hub = self.registry.hubs.get(event)
        return hub.state.polls.get(poll_id) if hub is not None else None

    def knows_question(self, event: str, question_id: str) -> bool:
        """Whether this process has the question (if it serves the event at all)."""
        hub = self.registry.hubs.get(event)
        return hub is None or question_id in hub.state.questions

    async def event_deleted(self, event: str) -> None:
        """Staff deleted the event: its pages are told and closed."""
        hub = self.registry.hubs.get(event)
        for session in tuple(hub.sessions if hub else ()):
            self.close_later(
                session, CloseCode.NORMAL, "event_deleted", bye={"reason": "event_deleted"}
            )
        self.leader.forget_events()

    def _release_visitor(self, visitor: str) -> None:
        self._per_visitor[visitor] -= 1
        if self._per_visitor[visitor] <= 0:
            del self._per_visitor[visitor]

    async def event_changed(self, event: Event) -> None:
        """Tell every page of the event that staff changed it (title, times, rooms)."""
        self.leader.forget_events()
        try:
            await self.publish(event.slug, EventUpdated(public_event(event)))
        except HubsBridgeError as exc:
            # The change is stored; pages see it in their next welcome or snapshot.
            log.warning("event change of %s not pushed: %s", event.slug, exc)

    def _on_slow(self, session: Session) -> None:
        hub = self.registry.hubs.get(session.event)
        if hub is not None:
            hub.discard(session)
        self.metrics.slow_closes.inc()
        self.metrics.closes.labels("slow").inc()
        log.info("session %s cut off: too slow", session.id)

    async def move(self, session: Session, room: str | None) -> None:
        session.room = room
        await self.presence.move(session.id, room)

    def close_later(
        self, session: Session, code: int, reason: str, *, bye: dict[str, Any] | None = None
    ) -> None:
        """Say bye and close a session without making the caller wait for it."""
        socket = self.sockets.get(session.id)
        if socket is None:
            return
        if not session.close(encode({"type": "bye", **bye}) if bye is not None else None):
            return
        self.metrics.closes.labels(reason).inc()
        task = asyncio.create_task(self._close(socket, code, reason))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _close(socket: web.WebSocketResponse, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(socket.close(code=code, message=reason.encode()), 5.0)

    async def shutdown(self) -> None:
        """SIGTERM: refuse new sessions, tell every page when to come back, close with 1012."""
        self.accepting = False
        low, high = (
            self.settings.reconnect_min_ms,
            max(self.settings.reconnect_min_ms, self.settings.reconnect_max_ms),
        )
        for session in list(self.sessions.values()):
            # Jitter spreads the reconnects of thousands of pages over a few seconds.
            self.close_later(
                session,
                CloseCode.RESTART,
                "restart",
                bye={"reason": "restart", "reconnect_after_ms": random.randint(low, high)},
            )
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=6.0)

    def now(self) -> datetime:
        return self.calendar.now()
