"""The bridge service: Hubs rooms of open events into shared presence and Q&A.

While an event is open (doors open .. end), the process that holds the
event's Hubs lease (``broker.lead`` under a key of its own, so it never
competes with the attendance leader) joins every room with a Hubs link that
is not closed, as a quiet bot (:class:`~hubs_bridge.hubs.client.ReticulumClient`).

- Presence: the people of a room become ``source="hubs"`` presence entries,
  session ids hashed per event (``VisitorIds.record_hash``), no display names,
  put again every ``ttl / 3`` while they stay. ``RoomLost`` marks the room's
  counts stale (``AttendanceLeader.stale_rooms``); the next presence state
  clears the mark and brings the entries up to date.
- Chat: lines starting with ``/frage `` or ``/question `` become questions
  (``QaService.ask(source="hubs")``); every other line is ignored and kept
  nowhere. Confirmations (and refusals) go back into the room chat at most
  once per room every :data:`CHAT_INTERVAL_S`, coalesced into one message,
  and only for rooms with ``chat_bridge`` on.

The client calls :meth:`HubsBridge._on_event` synchronously from its task;
the bridge copies what it needs and queues it for one worker task, so the
broker and the store see the room events in the order they happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hubs_bridge.broker.base import Broker, PresenceEntry
from hubs_bridge.core.calendar import Event
from hubs_bridge.errors import ClientError, HubsBridgeError, RateLimited
from hubs_bridge.hubs.client import NotJoined, ReticulumClient
from hubs_bridge.hubs.client_events import (
    ChatReceived,
    PresenceChanged,
    RoomEvent,
    RoomFailed,
    RoomLost,
)
from hubs_bridge.hubs.presence import HubsPerson
from hubs_bridge.identity import VisitorIds
from hubs_bridge.qa_service import QaService
from hubs_bridge.settings import HubsSettings
from hubs_bridge.store.base import Store

log = logging.getLogger("hubs_bridge.hubs.bridge")

SYNC_INTERVAL_S = 5.0
CHAT_INTERVAL_S = 2.0
QUESTION_PREFIXES = ("/frage ", "/question ")
LEAD_PREFIX = "hubs-bridge:"  # the Hubs lease of an event, apart from the attendance lease
SESSION_PREFIX = "hubs:"


@dataclass(frozen=True, slots=True)
class RoomRef:
    event: str
    room: str


@dataclass(slots=True)
class _Replies:
    """What one room's chat still has to be told, and when it last was."""

    accepted: int = 0
    refused: list[str] = field(default_factory=list)
    last_sent: float = float("-inf")
    task: asyncio.Task[None] | None = None


@dataclass(frozen=True, slots=True)
class _Presence:
    hub_sid: str
    people: tuple[HubsPerson, ...]


@dataclass(frozen=True, slots=True)
class _Question:
    hub_sid: str
    session_id: str
    display_name: str | None
    body: str
    text: str
    number: int


def question_text(body: str) -> str | None:
    """The question in a chat line starting with ``/frage `` or ``/question ``, else ``None``."""
    lowered = body.lower()
    for prefix in QUESTION_PREFIXES:
        if lowered.startswith(prefix):
            text = body[len(prefix) :].strip()
            return text or None
    return None


def reply_text(accepted: int, refused: list[str]) -> str:
    """One coalesced confirmation, German then English."""
    parts: list[str] = []
    if accepted == 1:
        parts.append("Danke! Deine Frage ist angekommen. / Thanks! Your question was received.")
    elif accepted > 1:
        parts.append(
            f"Danke! {accepted} Fragen sind angekommen. / Thanks! {accepted} questions received."
        )
    if refused:
        parts.append(refused[-1] if len(refused) == 1 else f"{refused[-1]} (x{len(refused)})")
    return " ".join(parts)


def refusal_text(exc: ClientError) -> str:
    if isinstance(exc, RateLimited):
        return (
            "Bitte etwas langsamer, die Frage wurde nicht angenommen. / "
            "Please slow down, the question was not accepted."
        )
    return (
        f"Die Frage wurde nicht angenommen ({exc.code}). / "
        f"The question was not accepted ({exc.code})."
    )


class HubsBridge:
    """Joins the Hubs rooms of open events; owned by the app (``start``/``close``)."""

    def __init__(
        self,
        settings: HubsSettings,
        *,
        store: Store,
        broker: Broker,
        ids: VisitorIds,
        qa: QaService,
        stale_rooms: dict[str, set[str]],
        presence_ttl_s: float,
        now: Callable[[], datetime],
        sync_interval_s: float = SYNC_INTERVAL_S,
        chat_interval_s: float = CHAT_INTERVAL_S,
        client_options: Mapping[str, Any] | None = None,
    ) -> None:
        if settings.url is None:
            raise ValueError("the Hubs bridge needs settings.hubs.url")
        self._settings = settings
        self._store = store
        self._broker = broker
        self._ids = ids
        self._qa = qa
        self.stale_rooms = stale_rooms
        self._ttl = presence_ttl_s
        self._now = now
        self._sync_interval = sync_interval_s
        self._chat_interval = chat_interval_s
        self.owner = "hubs-bridge-" + secrets.token_hex(8)
        key = settings.bot_access_key
        self.client = ReticulumClient(
            settings.url,
            bot_name=settings.bot_name,
            bot_access_key=key.get_secret_value() if key is not None else None,
            on_event=self._on_event,
            **dict(client_options or {}),
        )
        self.rooms: dict[str, RoomRef] = {}  # hub_id -> (event, room) being bridged
        self._failed: set[str] = set()
        self._entries: dict[str, dict[str, PresenceEntry]] = {}  # hub_id -> session -> entry
        self._events: dict[str, Event] = {}
        self._chat_numbers: dict[str, int] = {}
        self._replies: dict[str, _Replies] = {}
        self._queue: asyncio.Queue[_Presence | _Question | RoomLost | RoomFailed] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._sync_lock = asyncio.Lock()

    # --- lifetime -----------------------------------------------------------

    async def start(self) -> None:
        self.client.start()
        await self._safely(self.sync)
        self._tasks = [
            asyncio.create_task(self._work(), name="hubs bridge worker"),
            asyncio.create_task(
                self._every(self._sync_interval, self.sync), name="hubs bridge sync"
            ),
            asyncio.create_task(
                self._every(self._ttl / 3, self.refresh), name="hubs bridge refresh"
            ),
        ]

    async def close(self) -> None:
        tasks = self._tasks + [r.task for r in self._replies.values() if r.task is not None]
        self._tasks = []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.client.close()
        for hub_sid in list(self.rooms):
            await self._safely(functools.partial(self._forget, hub_sid))

    async def _every(self, seconds: float, work: Callable[[], Awaitable[None]]) -> None:
        while True:
            await asyncio.sleep(seconds)
            await self._safely(work)

    @staticmethod
    async def _safely(work: Callable[[], Awaitable[None]]) -> None:
        try:
            await work()
        except HubsBridgeError as exc:
            log.warning("hubs bridge work failed, retrying later: %s", exc)
        except Exception:
            log.exception("hubs bridge work crashed, retrying later")

    # --- which rooms --------------------------------------------------------

    async def sync(self) -> None:
        """Join the Hubs rooms of open events this process leads; leave the others."""
        async with self._sync_lock:
            now = self._now()
            wanted: dict[str, RoomRef] = {}
            events: dict[str, Event] = {}
            for event in await self._store.list_events():
                if event.phase(now) != "open":
                    continue
                linked = [r for r in event.rooms if r.hubs is not None and not r.hubs.closed]
                if not linked:
                    continue
                ttl = max(3 * self._sync_interval, 2.0)
                if not await self._broker.lead(LEAD_PREFIX + event.slug, self.owner, ttl):
                    continue
                events[event.slug] = event
                for room in linked:
                    assert room.hubs is not None
                    wanted[room.hubs.hub_id] = RoomRef(event.slug, room.slug)
            self._events = events
            for hub_sid, ref in list(self.rooms.items()):
                if wanted.get(hub_sid) != ref:
                    self.client.leave_room(hub_sid)
                    await self._forget(hub_sid)
            self._failed &= set(wanted)  # a link removed and set again is tried again
            for hub_sid, ref in wanted.items():
                if hub_sid in self._failed or hub_sid in self.rooms:
                    continue
                self.rooms[hub_sid] = ref
                self.client.join_room(hub_sid)

    async def _forget(self, hub_sid: str) -> None:
        """Stop bridging a room: its entries leave presence, its stale mark goes."""
        ref = self.rooms.pop(hub_sid, None)
        entries = self._entries.pop(hub_sid, {})
        replies = self._replies.pop(hub_sid, None)
        if replies is not None and replies.task is not None:
            replies.task.cancel()
        self._chat_numbers.pop(hub_sid, None)
        if ref is None:
            return
        self._set_stale(ref, False)
        if entries:
            await self._broker.presence_remove(ref.event, list(entries))

    def _set_stale(self, ref: RoomRef, stale: bool) -> None:
        rooms = self.stale_rooms.setdefault(ref.event, set())
        if stale:
            rooms.add(ref.room)
        else:
            rooms.discard(ref.room)
            if not rooms:
                self.stale_rooms.pop(ref.event, None)

    # --- events from the client (synchronous, in its task) --------------------

    def _on_event(self, event: RoomEvent) -> None:
        if isinstance(event, PresenceChanged):
            self._queue.put_nowait(_Presence(event.hub_sid, tuple(event.presence.people())))
        elif isinstance(event, RoomLost | RoomFailed):
            self._queue.put_nowait(event)
        elif isinstance(event, ChatReceived):
            text = question_text(event.body)
            if text is None or event.session_id is None:
                return  # ordinary chat: not stored anywhere
            number = self._chat_numbers.get(event.hub_sid, 0) + 1
            self._chat_numbers[event.hub_sid] = number
            self._queue.put_nowait(
                _Question(
                    event.hub_sid, event.session_id, event.display_name, event.body, text, number
                )
            )

    async def _work(self) -> None:
        while True:
            item = await self._queue.get()
            await self._safely(functools.partial(self._handle, item))

    async def _handle(self, item: _Presence | _Question | RoomLost | RoomFailed) -> None:
        ref = self.rooms.get(item.hub_sid)
        if ref is None:
            return  # left meanwhile
        if isinstance(item, _Presence):
            await self._presence(item.hub_sid, ref, item.people)
        elif isinstance(item, RoomLost):
            self._set_stale(ref, True)
        elif isinstance(item, RoomFailed):
            log.warning(
                "hubs room %s (%s/%s) refused for good: %s %s",
                item.hub_sid,
                ref.event,
                ref.room,
                item.reason,
                item.message,
            )
            self._failed.add(item.hub_sid)
            await self._forget(item.hub_sid)
        else:
            await self._question(ref, item)

    # --- presence -----------------------------------------------------------

    def _entry(self, event: str, room: str, person: HubsPerson) -> PresenceEntry:
        hashed = self._ids.record_hash(event, person.session_id)
        return PresenceEntry(
            session=SESSION_PREFIX + hashed,
            visitor=hashed,
            room=room,
            source="hubs",
            details=(
                ("presence", person.where),
                ("device", person.device),
                ("hand_raised", "1" if person.hand_raised else "0"),
            ),
        )

    async def _presence(self, hub_sid: str, ref: RoomRef, people: tuple[HubsPerson, ...]) -> None:
        entries = {e.session: e for e in (self._entry(ref.event, ref.room, p) for p in people)}
        before = self._entries.get(hub_sid, {})
        gone = [session for session in before if session not in entries]
        self._entries[hub_sid] = entries
        if entries:
            await self._broker.presence_put(ref.event, list(entries.values()), self._ttl)
        if gone:
            await self._broker.presence_remove(ref.event, gone)
        self._set_stale(ref, False)

    async def refresh(self) -> None:
        """Put every entry again so that people who stay do not expire."""
        by_event: dict[str, list[PresenceEntry]] = {}
        for hub_sid, entries in self._entries.items():
            ref = self.rooms.get(hub_sid)
            if ref is not None:
                by_event.setdefault(ref.event, []).extend(entries.values())
        for event, batch in by_event.items():
            if batch:
                await self._broker.presence_put(event, batch, self._ttl)

    # --- questions from the chat ----------------------------------------------

    async def _question(self, ref: RoomRef, item: _Question) -> None:
        event = self._events.get(ref.event)
        if event is None:
            return
        room = event.room(ref.room)
        digest = hashlib.sha256(
            f"{item.hub_sid}\n{item.session_id}\n{item.number}\n{item.body}".encode()
        ).hexdigest()
        try:
            await self._qa.ask(
                event=event,
                visitor=self._ids.record_hash(event.slug, item.session_id),
                text=item.text,
                client_msg_id="hubs-" + digest[:32],
                room=ref.room,
                name=item.display_name,
                source="hubs",
            )
        except ClientError as exc:
            log.info("question from hubs room %s refused: %s", item.hub_sid, exc.code)
            if room is not None and room.chat_bridge:
                self._reply(item.hub_sid, refused=refusal_text(exc))
            return
        if room is not None and room.chat_bridge:
            self._reply(item.hub_sid)

    def _reply(self, hub_sid: str, *, refused: str | None = None) -> None:
        replies = self._replies.setdefault(hub_sid, _Replies())
        if refused is None:
            replies.accepted += 1
        else:
            replies.refused.append(refused)
        if replies.task is None or replies.task.done():
            replies.task = asyncio.create_task(self._send_reply(hub_sid, replies))

    async def _send_reply(self, hub_sid: str, replies: _Replies) -> None:
        delay = replies.last_sent + self._chat_interval - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        body = reply_text(replies.accepted, replies.refused)
        replies.accepted = 0
        replies.refused = []
        replies.last_sent = time.monotonic()
        with contextlib.suppress(NotJoined):
            self.client.send_chat(hub_sid, body)
            return
        log.info("confirmation for hubs room %s dropped: not joined", hub_sid)
