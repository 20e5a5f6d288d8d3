"""The bridge service: Hubs rooms of open events into shared presence and Q&A, and back.

While an event is open (doors open .. end), the process that holds the
event's Hubs lease (``broker.lead`` under a key of its own, so it never
competes with the attendance leader) joins every room with a Hubs link that
is not closed, as a quiet bot (:class:`~hubs_bridge.hubs.client.ReticulumClient`).

- Presence: the people of a room become ``source="hubs"`` presence entries
  (:mod:`~hubs_bridge.hubs.presence_mirror`). ``RoomLost`` marks the room's
  counts stale (``AttendanceLeader.stale_rooms``); the next presence state
  clears the mark and brings the entries up to date.
- Chat in: ``/frage`` and ``/question`` lines become questions
  (:mod:`~hubs_bridge.hubs.chat_in`); with a poll open for the room, ``/1``,
  ``/abstimmen 2``, ``/1 3`` lines are answers to it (:mod:`~hubs_bridge.hubs.poll_chat`,
  given a ``PollService``); every other line is kept nowhere.
- Chat out: confirmations of those questions and answers, and what the event's
  stream tells (a new pin, an answer, an announcement: :mod:`~hubs_bridge.hubs.notices`;
  a poll opened, a poll's result: :mod:`~hubs_bridge.hubs.poll_notices`), go through
  one paced queue per room (:mod:`~hubs_bridge.hubs.chat_out`), only for rooms with
  ``chat_bridge`` on. The stream is watched through the
  process's hub registry (:mod:`~hubs_bridge.realtime.watchers`) by the lease
  holder only, so each notice is said once however many processes run.
  When the event ends, each room gets a closing notice (whatever
  ``chat_bridge`` says: it is no one's chat) before the bridge leaves it.

The client and the registry call the bridge synchronously from their tasks;
the bridge copies what it needs and queues it for one worker task, so the
broker and the store see the room events in the order they happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hubs_bridge.broker.base import Broker
from hubs_bridge.core.calendar import Event
from hubs_bridge.core.stream import (
    Announced,
    HubsActionRequested,
    PollChanged,
    PollCounted,
    QuestionChanged,
    StreamEvent,
)
from hubs_bridge.errors import HubsBridgeError
from hubs_bridge.hubs import creator_tokens
from hubs_bridge.hubs.chat_in import (
    MAX_CHAT_IN_CHARS,
    ChatGate,
    ChatQuestion,
    ask_from_chat,
    question_text,
)
from hubs_bridge.hubs.chat_out import ANSWERS_INTERVAL_S, ChatOutbox, refusal_text
from hubs_bridge.hubs.client import NotJoined, ReticulumClient
from hubs_bridge.hubs.client_events import (
    ChatReceived,
    HubRefreshed,
    PresenceChanged,
    RoomEvent,
    RoomFailed,
    RoomJoined,
    RoomLost,
    SignedIn,
)
from hubs_bridge.hubs.notices import CLOSING, StreamNotices
from hubs_bridge.hubs.owner_duties import OwnerDuties, SceneUrl
from hubs_bridge.hubs.poll_chat import ChatVote, PollChat
from hubs_bridge.hubs.poll_notices import PollNotices
from hubs_bridge.hubs.presence import HubsPerson
from hubs_bridge.hubs.presence_mirror import PresenceMirror
from hubs_bridge.hubs.room_status import RoomStatuses
from hubs_bridge.identity import VisitorIds
from hubs_bridge.periodic import every, run_safely
from hubs_bridge.poll_service import PollService
from hubs_bridge.qa_service import QaService
from hubs_bridge.realtime.stale_rooms import StaleRooms
from hubs_bridge.realtime.watchers import EventStreams
from hubs_bridge.settings import HubsSettings
from hubs_bridge.store.base import Store

log = logging.getLogger("hubs_bridge.hubs.bridge")

SYNC_INTERVAL_S = 5.0
LEAD_PREFIX = "hubs-bridge:"  # the Hubs lease of an event, apart from the attendance lease
# Stream events the bridge acts on: the others (attendance every second) are not queued.
# Questions and announcements may call for a notice; a moderator's mute or kick of a
# person in a Hubs room (web/hubs_rooms.py) is carried out.
BRIDGED_EVENTS = (QuestionChanged, Announced, HubsActionRequested)
# With a poll service: polls are posted, their results too, and answered from the chat.
POLL_EVENTS = (PollChanged, PollCounted)


@dataclass(frozen=True, slots=True)
class RoomRef:
    event: str
    room: str


@dataclass(frozen=True, slots=True)
class _Presence:
    hub_sid: str
    people: tuple[HubsPerson, ...]


@dataclass(frozen=True, slots=True)
class _Frame:
    event: str
    happened: QuestionChanged | Announced | HubsActionRequested | PollChanged | PollCounted


_Work = (
    _Presence
    | ChatQuestion
    | ChatVote
    | RoomLost
    | RoomFailed
    | RoomJoined
    | SignedIn
    | HubRefreshed
    | _Frame
)
CloseLinks = Callable[[str, set[str]], Awaitable[None]]


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
        stale_rooms: StaleRooms,
        presence_ttl_s: float,
        now: Callable[[], datetime],
        streams: EventStreams | None = None,
        sync_interval_s: float = SYNC_INTERVAL_S,
        chat_interval_s: float | None = None,
        client_options: Mapping[str, Any] | None = None,
        scene_url: SceneUrl | None = None,
        close_links: CloseLinks | None = None,
        polls: PollService | None = None,
        answers_interval_s: float = ANSWERS_INTERVAL_S,
    ) -> None:
        if settings.url is None:
            raise ValueError("the Hubs bridge needs settings.hubs.url")
        self._settings = settings
        self._store = store
        self._broker = broker
        self._ids = ids
        self._qa = qa
        self._streams = streams
        self.stale_rooms = stale_rooms
        self._ttl = presence_ttl_s
        self._now = now
        self._sync_interval = sync_interval_s
        self.owner = "hubs-bridge-" + secrets.token_hex(8)
        key = settings.bot_access_key
        account = settings.account_token
        self.client = ReticulumClient(
            settings.url,
            bot_name=settings.bot_name,
            bot_access_key=key.get_secret_value() if key is not None else None,
            account_token=account.get_secret_value() if account is not None else None,
            on_event=self._on_event,
            **dict(client_options or {}),
        )
        self._close_links = close_links
        self.rooms: dict[str, RoomRef] = {}  # hub_id -> (event, room) being bridged
        self._failed: set[str] = set()
        self.statuses = RoomStatuses()  # what staff see of each room (room_status.py)
        self.owner_duties = OwnerDuties(settings, self.client, self.statuses, ids, now, scene_url)
        self._events: dict[str, Event] = {}
        self._notices: dict[str, StreamNotices] = {}  # events whose stream is watched
        self._chat_numbers: dict[str, int] = {}
        self._mirror = PresenceMirror(broker, ids, presence_ttl_s)
        self._outbox = ChatOutbox(
            self._send_chat,
            interval_s=settings.chat_interval_s if chat_interval_s is None else chat_interval_s,
            answers_interval_s=answers_interval_s,
        )
        self._poll_chat = None if polls is None else PollChat(polls, ids)
        self._bridged = BRIDGED_EVENTS if polls is None else BRIDGED_EVENTS + POLL_EVENTS
        self._queue: asyncio.Queue[_Work] = asyncio.Queue()
        # Hubs has no chat rate limit of its own: question and answer lines are gated here,
        # before they cost a store read, so one person cannot flood the queue presence shares.
        self._chat_gate = ChatGate()
        self._tasks: list[asyncio.Task[None]] = []
        self._sync_lock = asyncio.Lock()

    # --- lifetime -----------------------------------------------------------

    async def start(self) -> None:
        self.client.start()
        await run_safely(self.sync, log)
        self._tasks = [
            asyncio.create_task(self._work(), name="hubs bridge worker"),
            asyncio.create_task(
                every(self._sync_interval, self.sync, logger=log), name="hubs bridge sync"
            ),
            asyncio.create_task(
                every(self._ttl / 3, self._mirror.refresh, logger=log), name="hubs bridge refresh"
            ),
        ]

    async def close(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._outbox.close()
        await self.client.close()
        self._unwatch(set(self._notices))
        for hub_sid in list(self.rooms):
            await run_safely(functools.partial(self._forget, hub_sid), log)

    # --- which rooms --------------------------------------------------------

    async def sync(self) -> None:
        """Join the Hubs rooms of open events this process leads; leave the others."""
        async with self._sync_lock:
            now = self._now()
            wanted: dict[str, RoomRef] = {}
            events: dict[str, Event] = {}
            ended: set[str] = set()
            ttl = max(3 * self._sync_interval, 2.0)
            for event in await self._store.list_events():
                phase = event.phase(now)
                if phase == "ended":
                    ended.add(event.slug)
                if phase != "open":
                    continue
                # A room's own Hubs room and its open overflow twins, bridged alike.
                linked = [(room, link) for room in event.rooms for link in room.hubs_links()]
                if not linked:
                    continue
                if not await self._broker.lead(LEAD_PREFIX + event.slug, self.owner, ttl):
                    continue
                events[event.slug] = event
                for room, link in linked:
                    wanted[link.hub_id] = RoomRef(event.slug, room.slug)
            self._events = events
            await self._watch(events)
            leaving = [h for h, ref in self.rooms.items() if wanted.get(h) != ref]
            await self._say_goodbye([h for h in leaving if self.rooms[h].event in ended])
            for hub_sid in leaving:
                self.client.leave_room(hub_sid)
                await self._forget(hub_sid)
            self._failed &= set(wanted)  # a link removed and set again is tried again
            for hub_sid, ref in wanted.items():
                if hub_sid in self._failed or hub_sid in self.rooms:
                    continue
                self.rooms[hub_sid] = ref
                self.statuses.mark(ref.event, ref.room, hub_sid, "joining", now)
                self.owner_duties.track(hub_sid, ref.event, ref.room)
                self.client.join_room(hub_sid)
                # Signed in with after the join, to become the room's owner (once).
                self.client.set_creator_token(
                    hub_sid, await creator_tokens.find(self._store, hub_sid)
                )
            self.statuses.keep_only(set(wanted))
            self.owner_duties.keep_all(events)
            await self.statuses.publish(self._broker, set(events), now, ttl)

    async def _say_goodbye(self, hub_sids: list[str]) -> None:
        """The closing notice in each room, then ``close_hub`` where the bridge is owner.

        Rooms Hubs confirmed closed are marked closed in the calendar at once, so the
        scheduler has nothing left to do for them (``scheduler.py``).
        """
        for hub_sid in hub_sids:
            self._outbox.post(hub_sid, CLOSING)
        await asyncio.gather(*(self._outbox.flush(h) for h in hub_sids))
        closed = await self.owner_duties.close(hub_sids)
        if not closed or self._close_links is None:
            return
        by_event: dict[str, set[str]] = {}
        for hub_sid in closed:
            by_event.setdefault(self.rooms[hub_sid].event, set()).add(hub_sid)
        for event, hubs in by_event.items():
            await run_safely(functools.partial(self._close_links, event, hubs), log)

    async def _forget(self, hub_sid: str) -> None:
        """Stop bridging a room: its entries leave presence, its stale mark and queue go."""
        ref = self.rooms.pop(hub_sid, None)
        self.owner_duties.forget(hub_sid)
        self._outbox.forget(hub_sid)
        self._chat_numbers.pop(hub_sid, None)
        if ref is not None:
            self._set_stale(ref, False)
        await self._mirror.forget(hub_sid)

    def _set_stale(self, ref: RoomRef, stale: bool) -> None:
        self.stale_rooms.mark(ref.event, ref.room, stale)

    # --- the events' streams ------------------------------------------------

    async def _watch(self, events: Mapping[str, Event]) -> None:
        """Watch the streams of the events led here, and only those."""
        self._unwatch(set(self._notices) - set(events))
        if self._streams is None:
            return
        for slug in events:
            if slug in self._notices:
                continue
            # In place before watching: frames that come while the state loads
            # are told, and the baseline then skips what they already told.
            polls = None if self._poll_chat is None else PollNotices()
            notices = self._notices[slug] = StreamNotices(polls)
            try:
                state = await self._streams.watch(slug, self._on_frame)
            except HubsBridgeError as exc:
                del self._notices[slug]
                log.warning("stream of %s not watched yet: %s", slug, exc)
                continue
            notices.baseline(state.questions.values(), state.announcements, state.polls.values())

    def _unwatch(self, slugs: set[str]) -> None:
        for slug in slugs:
            self._notices.pop(slug, None)
            if self._streams is not None:
                self._streams.unwatch(slug, self._on_frame)

    def _on_frame(self, event: str, happened: StreamEvent) -> None:
        if isinstance(happened, self._bridged):
            self._queue.put_nowait(_Frame(event, happened))

    async def _act(self, event: str, request: HubsActionRequested) -> None:
        """A moderator's mute or kick: carried out here, its result published for the console."""
        if event not in self._events:
            return  # no longer led here
        if self.owner_duties.moderate(event, request) is not None:
            ttl = max(3 * self._sync_interval, 2.0)
            await self.statuses.publish(self._broker, {event}, self._now(), ttl)

    def _tell(self, item: _Frame) -> None:
        notices = self._notices.get(item.event)
        event = self._events.get(item.event)
        if notices is None or event is None:
            return  # no longer led here
        for notice in notices.on_event(item.happened):
            for hub_sid, ref in self.rooms.items():
                if ref.event != item.event:
                    continue
                if notice.rooms is not None and ref.room not in notice.rooms:
                    continue
                room = event.room(ref.room)
                if room is not None and room.chat_bridge:  # off: a privacy switch
                    self._outbox.post(hub_sid, notice.text, whole=notice.whole)

    async def _poll_closed(self, item: _Frame) -> None:
        """A closed poll's result, from its final count read after the close (poll_chat.py).

        Told once: the stream's own final count, coming next, then finds it told.
        """
        happened = item.happened
        if self._poll_chat is None or not isinstance(happened, PollChanged):
            return
        poll = happened.poll
        notices = self._notices.get(item.event)
        if happened.removed or poll.state == "closed":
            self._poll_chat.forget(poll.event, poll.id)
        if notices is None or notices.polls is None or not notices.polls.result_due(poll.id):
            return  # not closed, told already (a republished record), or no longer led here
        results = await self._poll_chat.final_count(poll)
        if results is not None:  # else the stream's own count tells it
            self._tell(_Frame(item.event, PollCounted(results)))

    # --- chat out -----------------------------------------------------------

    def say(self, event_slug: str, room_slug: str, text: str) -> bool:
        """Queue ``text`` for the room's chat; ``False`` unless this process bridges the room.

        It goes through the room's paced queue like every notice. ``chat_bridge``
        is not checked here: the caller says things (a closing notice) that
        every room needs to hear.
        """
        wanted = RoomRef(event_slug, room_slug)
        hub_sids = [h for h, ref in self.rooms.items() if ref == wanted]
        for hub_sid in hub_sids:
            self._outbox.post(hub_sid, text)
        return bool(hub_sids)

    def _send_chat(self, hub_sid: str, body: str) -> None:
        with contextlib.suppress(NotJoined):
            self.client.send_chat(hub_sid, body, author=self._settings.bot_name)
            return
        log.info("chat message for hubs room %s dropped: not joined", hub_sid)

    # --- events from the client (synchronous, in its task) --------------------

    def _on_event(self, event: RoomEvent) -> None:
        if isinstance(event, PresenceChanged):
            self._queue.put_nowait(_Presence(event.hub_sid, tuple(event.presence.people())))
        elif isinstance(event, RoomLost | RoomFailed | RoomJoined | SignedIn | HubRefreshed):
            self._queue.put_nowait(event)
        elif isinstance(event, ChatReceived):
            if len(event.body) > MAX_CHAT_IN_CHARS or event.session_id is None:
                return  # longer than any question may be, or no sender: not looked at
            vote = self._chat_vote(event)
            prefixes = self._settings.question_prefixes
            text = question_text(event.body, prefixes) if vote is None else None
            if vote is None and text is None:
                return  # ordinary chat: not stored anywhere
            if not self._chat_gate.allow(event.hub_sid, event.session_id, time.monotonic()):
                log.info("chat line from hubs room %s dropped: too many", event.hub_sid)
            elif vote is not None:
                self._queue.put_nowait(vote)
            elif text is not None:
                number = self._chat_numbers.get(event.hub_sid, 0) + 1
                self._chat_numbers[event.hub_sid] = number
                self._queue.put_nowait(
                    ChatQuestion(
                        event.hub_sid,
                        event.session_id,
                        event.display_name,
                        event.body,
                        text,
                        number,
                    )
                )

    def _chat_vote(self, chat: ChatReceived) -> ChatVote | None:
        """The answer in a chat line to the poll open for its room, if it is one."""
        ref = self.rooms.get(chat.hub_sid)
        notices = None if ref is None else self._notices.get(ref.event)
        if ref is None or notices is None or notices.polls is None:
            return None
        return PollChat.vote_in(ref.room, notices.polls, chat)

    async def _work(self) -> None:
        while True:
            item = await self._queue.get()
            await run_safely(functools.partial(self._handle, item), log)

    async def _handle(self, item: _Work) -> None:
        if isinstance(item, _Frame):
            if isinstance(item.happened, HubsActionRequested):
                await self._act(item.event, item.happened)
            else:
                self._tell(item)
                await self._poll_closed(item)
            return
        ref = self.rooms.get(item.hub_sid)
        if ref is None:
            return  # left meanwhile
        if isinstance(item, RoomJoined):
            self.owner_duties.joined(
                item.hub_sid, item.hub, item.perms, self._events.get(ref.event)
            )
        elif isinstance(item, SignedIn):
            event = self._events.get(ref.event)
            self.owner_duties.signed_in(item.hub_sid, item.perms, item.error, event)
        elif isinstance(item, HubRefreshed):
            self.owner_duties.refreshed(item.hub_sid, item.hub)
        elif isinstance(item, _Presence):
            await self._mirror.update(item.hub_sid, ref.event, ref.room, item.people)
            self._set_stale(ref, False)
            self.statuses.mark(ref.event, ref.room, item.hub_sid, "joined", self._now())
        elif isinstance(item, RoomLost):
            self.owner_duties.lost(item.hub_sid)
            self._set_stale(ref, True)
            self.statuses.mark(ref.event, ref.room, item.hub_sid, "stale", self._now())
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
            self.statuses.mark(
                ref.event,
                ref.room,
                item.hub_sid,
                "failed",
                self._now(),
                reason=item.reason,
                message=item.message,
            )
        elif isinstance(item, ChatVote):
            await self._vote(ref, item)
        else:
            await self._question(ref, item)

    async def _question(self, ref: RoomRef, item: ChatQuestion) -> None:
        event = self._events.get(ref.event)
        if item.hub_sid not in self.rooms:
            return  # left meanwhile: no queue to answer in
        room = None if event is None else event.room(ref.room)
        if event is None or room is None or not room.chat_bridge:
            # Chat bridging off is a privacy switch: nothing from the room's chat is taken
            # in (not even /frage lines with their names), and nothing is said there.
            return
        refusal = await ask_from_chat(self._qa, self._ids, event, ref.room, item)
        if refusal is not None:
            log.info("question from hubs room %s refused: %s", item.hub_sid, refusal.code)
        self._outbox.confirm(
            item.hub_sid, refused=None if refusal is None else refusal_text(refusal)
        )

    async def _vote(self, ref: RoomRef, item: ChatVote) -> None:
        event = self._events.get(ref.event)
        room = None if event is None else event.room(ref.room)
        if self._poll_chat is None or event is None or room is None or not room.chat_bridge:
            return  # chat bridging off: nothing is taken from the room's chat (see _question)
        if not await self._poll_chat.cast(event, item) or item.hub_sid not in self.rooms:
            return  # the same answer again (a replayed frame), refused, or the room left
        # The name is said only in the room it was typed in, and only where the event
        # shows Hubs names beside questions; it is never stored with the answer.
        show_name = event.qa.allow_names and event.qa.hubs_names
        self._outbox.confirm_answer(item.hub_sid, item.display_name if show_name else None)
