"""The asyncio driver of :class:`PhoenixProtocol`: one websocket to a Hubs server, many rooms.

:class:`ReticulumClient` owns ONE background task, which owns the socket:
it finds the socket host (``GET /api/v1/meta``, PROTOCOL.md §1), connects,
rejoins every room, sends heartbeats and reconnects with backoff and jitter
when the socket is lost. The public methods (:meth:`~ReticulumClient.join_room`,
:meth:`~ReticulumClient.leave_room`, :meth:`~ReticulumClient.send_chat`) are
synchronous: they update the protocol state and queue frames that the task
sends, so nothing but the task ever awaits the socket.

The bridge joins every room as a quiet bot, as the Discord bot does (§2):
``context.discord`` keeps it out of the server's counts, and it never sends
``events:entered``, so it stays in the lobby and takes no place in the room.
What it learns reaches the bridge as :mod:`~hubs_bridge.hubs.client_events`.

Failures and what the task does about them:

- socket lost (network, kick, server restart), handshake or meta failure:
  every joined room gets ``RoomLost``, then reconnect after
  :func:`backoff.reconnect_delay`, reusing the ``session_token`` (§1);
- heartbeat unanswered, or a frame that cannot be parsed: close, reconnect;
- ``phx_error`` / ``phx_close`` / join timeout / retryable join error:
  ``RoomLost`` if the room was joined, rejoin after :func:`backoff.rejoin_delay`;
- fatal join error (§2): ``RoomFailed``, the room is forgotten;
- ``notice`` ``ret-deploy`` on topic ``ret`` (§4): reconnect after a random
  delay, so that bridges do not all return the moment the deploy ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any, Literal, Self

import aiohttp
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from hubs_bridge.hubs import backoff
from hubs_bridge.hubs.client_events import ConnectionState, RoomEvent
from hubs_bridge.hubs.client_meta import check_base_url, fetch_meta, socket_url
from hubs_bridge.hubs.client_rooms import RoomTable, hub_sid_of
from hubs_bridge.hubs.errors import HubsError, ProtocolError
from hubs_bridge.hubs.frames import (
    MAX_FRAME_CHARS,
    RET_TOPIC,
    JoinContext,
    JoinPayload,
    PhxMessage,
    Profile,
    RetNotice,
    chat_payload,
    hub_topic,
    parse_payload,
)
from hubs_bridge.hubs.perms import HubPerms
from hubs_bridge.hubs.phoenix import (
    HEARTBEAT_INTERVAL,
    REPLY_TIMEOUT,
    ChannelClosed,
    ChannelErrored,
    ChannelState,
    Event,
    HeartbeatMissed,
    Joined,
    JoinFailed,
    Message,
    PhoenixProtocol,
    Reply,
    ReplyTimeout,
)
from hubs_bridge.hubs.presence import RoomPresence

log = logging.getLogger(__name__)

DEPLOY_RECONNECT_MAX = 30.0  # seconds; spread over which bridges return after a deploy
# Errors that mean "the network or the server is not there right now": retried
# quietly. Anything else is a bug, logged with its traceback, and retried too,
# because a bridge that stops talking to Hubs helps nobody.
_NETWORK_ERRORS = (OSError, TimeoutError, aiohttp.ClientError, WebSocketException, HubsError)


class NotJoined(HubsError):
    """``send_chat`` on a room whose channel is not joined at the moment."""


class ClientClosed(HubsError):
    """The client was closed; it cannot join rooms any more."""


class NotAllowed(HubsError):
    """The room's perms do not grant the bridge this owner action."""


OwnerAction = Literal["mute", "kick", "close_hub", "update_hub", "update_scene"]
# The perm each action needs (hub_channel.ex: can?(mute_users), can?(kick_users),
# handle_entry_mode_change can?(close_hub), update_hub and update_scene can?(update_hub)).
OWNER_RIGHTS: dict[OwnerAction, str] = {
    "mute": "mute_users",
    "kick": "kick_users",
    "close_hub": "close_hub",
    "update_hub": "update_hub",
    "update_scene": "update_hub",
}


class ReticulumClient:
    """One Phoenix socket to a Hubs server and a channel per provisioned room.

    Use as ``async with ReticulumClient(...) as client:`` or call
    :meth:`start` and :meth:`close`. ``on_event`` is called from the client's
    task for every :data:`RoomEvent`; it must not block, and an exception in
    it is logged, not raised. ``rng`` and ``clock`` are parameters so tests
    get the same jitter every run; ``backoff_scale`` multiplies every retry
    delay (tests use small values).
    """

    def __init__(
        self,
        base_url: str,
        *,
        bot_name: str,
        bot_access_key: str | None,
        on_event: Callable[[RoomEvent], None],
        account_token: str | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        heartbeat_interval: float = HEARTBEAT_INTERVAL,
        reply_timeout: float = REPLY_TIMEOUT,
        backoff_scale: float = 1.0,
        deploy_reconnect_max: float = DEPLOY_RECONNECT_MAX,
        connect_timeout: float = 10.0,
        close_timeout: float = 2.0,
    ) -> None:
        self._base_url = check_base_url(base_url)
        # auth_token: the join is signed in as the bot's account, so the rooms it
        # created are its own from the start (hub_channel.ex perform_join reads it
        # with Ret.Guardian.resource_from_token).
        self._join_payload = JoinPayload(
            profile=Profile(display_name=bot_name, avatar_id=""),
            context=JoinContext(mobile=False, hmd=False, discord=True),
            bot_access_key=bot_access_key,
            auth_token=account_token,
        ).to_payload()
        self._account_token = account_token
        self._sign_ins: dict[str, str] = {}  # ref of a sign_in push -> hub sid
        self._on_event = on_event
        self._rng = rng if rng is not None else random.Random()
        self._clock = clock
        self._backoff_scale = backoff_scale
        self._deploy_reconnect_max = deploy_reconnect_max
        self._connect_timeout = connect_timeout
        self._close_timeout = close_timeout
        self._protocol = PhoenixProtocol(
            clock(), heartbeat_interval=heartbeat_interval, reply_timeout=reply_timeout
        )
        self._rooms = RoomTable()
        self._outbox: deque[PhxMessage] = deque()
        self._rejoin_at: dict[str, float] = {}
        self._rejoin_attempts: dict[str, int] = {}
        self._reconnect_at: float | None = None  # set by a ret-deploy notice
        self._drop_reason: str | None = None  # set when the socket must be closed now
        self._healthy = False  # this socket proved usable: reset the reconnect backoff
        self._connected = False
        self._closing = False
        self._wake = asyncio.Event()
        self._http: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None

    # --- lifetime -----------------------------------------------------------

    async def __aenter__(self) -> Self:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def start(self) -> None:
        """Start the task that connects and keeps the socket alive."""
        if self._task is not None or self._closing:
            raise ClientClosed("a ReticulumClient can be started once")
        self._http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self._connect_timeout)
        )
        self._task = asyncio.create_task(self._run(), name=f"reticulum {self._base_url}")

    async def close(self) -> None:
        """Leave every channel, close the socket and stop the task."""
        if self._closing:
            return
        self._closing = True
        now = self._clock()
        for topic in self._protocol.topics:
            self._queue(self._protocol.leave(topic, now))
        self._rooms.clear()
        task, self._task = self._task, None
        if task is not None:
            if self._connected:
                # Give the task the chance to send the leaves and close politely.
                self._wake.set()
                await asyncio.wait({task}, timeout=self._close_timeout)
            task.cancel()
            await asyncio.wait({task})
        if self._http is not None:
            await self._http.close()
            self._http = None

    # --- state and commands ---------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def rooms(self) -> tuple[str, ...]:
        """Rooms the client is in or trying to join."""
        return self._rooms.hub_sids

    def presence(self, hub_sid: str) -> RoomPresence | None:
        return self._rooms.presence(hub_sid)

    def perms(self, hub_sid: str) -> HubPerms:
        """What the bridge may do in the room now (nothing while not joined)."""
        return self._rooms.perms(hub_sid)

    def set_creator_token(self, hub_sid: str, token: str | None) -> None:
        """The room's ``creator_assignment_token``: signed in with after each join until used."""
        self._rooms.set_creator_token(hub_sid, token)
        if token is not None and self._rooms.is_joined(hub_sid):
            self._maybe_sign_in(hub_sid)

    def push_owner_action(self, hub_sid: str, action: OwnerAction, payload: dict[str, Any]) -> None:
        """Push an owner action (``mute``, ``kick``, ``close_hub``, ``update_hub``...).

        Reticulum answers none of them and silently ignores them without the
        right (``hub_channel.ex``), so the right is checked here first:
        :class:`NotAllowed` when the room's perms lack it, :class:`NotJoined`
        when the channel is not joined now.
        """
        topic = hub_topic(hub_sid)
        joined = self._rooms.is_joined(hub_sid)
        if not (joined and self._connected and self._protocol.state(topic) is ChannelState.JOINED):
            raise NotJoined(f"room {hub_sid!r} is not joined")
        if not getattr(self._rooms.perms(hub_sid), OWNER_RIGHTS[action]):
            raise NotAllowed(f"the bridge may not {action} in room {hub_sid!r}")
        self._queue(self._protocol.push(topic, action, payload, self._clock()))

    def join_room(self, hub_sid: str) -> None:
        """Join ``hub:<hub_sid>`` now if connected, else as soon as the socket opens."""
        if self._closing:
            raise ClientClosed("the client is closed")
        if not hub_sid or not self._rooms.add(hub_sid):
            return
        now = self._clock()
        self._queue(self._protocol.join(hub_topic(hub_sid), self._join_payload, now))
        if RET_TOPIC not in self._protocol.topics:
            # ret-deploy notices come on this topic (§4); the server wants a hub id.
            self._queue(self._protocol.join(RET_TOPIC, {"hub_id": hub_sid}, now))

    def leave_room(self, hub_sid: str) -> None:
        """Leave a room; no further events come for it."""
        if not self._rooms.remove(hub_sid):
            return
        topic = hub_topic(hub_sid)
        self._rejoin_at.pop(topic, None)
        self._rejoin_attempts.pop(topic, None)
        if topic in self._protocol.topics:
            self._queue(self._protocol.leave(topic, self._clock()))

    def send_chat(self, hub_sid: str, body: str, author: str | None = None) -> None:
        """Queue a chat message; ``author`` is shown as its sender (``from``, §4).

        Raises :class:`NotJoined` when the room's channel is not joined right
        now (the message would be lost), ``ValueError`` for an empty or
        too long body.
        """
        topic = hub_topic(hub_sid)
        joined = self._rooms.is_joined(hub_sid)
        if not (joined and self._connected and self._protocol.state(topic) is ChannelState.JOINED):
            raise NotJoined(f"room {hub_sid!r} is not joined")
        payload = chat_payload(body, author)
        self._queue(self._protocol.push(topic, "message", payload, self._clock()))

    # --- the task -----------------------------------------------------------

    async def _run(self) -> None:
        attempt = 0
        while not self._closing:
            try:
                url = await self._socket_url()
                async with connect(
                    url,
                    open_timeout=self._connect_timeout,
                    close_timeout=self._close_timeout,
                    # Phoenix heartbeats (§1) already prove the link alive.
                    ping_interval=None,
                    max_size=MAX_FRAME_CHARS,
                    proxy=None,
                ) as ws:
                    await self._session(ws)
            except _NETWORK_ERRORS as exc:
                log.warning("hubs socket to %s: %s", self._base_url, exc or type(exc).__name__)
            except Exception:
                log.exception("hubs socket to %s failed", self._base_url)
            finally:
                self._socket_lost()
            if self._closing:
                break
            attempt = 1 if self._healthy else attempt + 1
            self._healthy = False
            delay = backoff.reconnect_delay(attempt, self._rng) * self._backoff_scale
            log.info("reconnecting to %s in %.2f s", self._base_url, delay)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()  # close() cuts the wait short

    async def _socket_url(self) -> str:
        assert self._http is not None  # start() made it
        meta = await fetch_meta(self._http, self._base_url)
        return socket_url(self._base_url, meta, self._rooms.session_token)

    async def _session(self, ws: ClientConnection) -> None:
        """Drive one open socket until it is lost or must be closed."""
        now = self._clock()
        self._connected = True
        self._emit(ConnectionState(connected=True))
        for rejoin in self._protocol.reset(now):
            self._outbox.append(self._protocol.rejoin(rejoin.topic, now))
        opened = now
        reader = asyncio.create_task(self._read(ws), name="reticulum reader")
        try:
            while True:
                self._wake.clear()
                now = self._clock()
                self._on_timers(now)
                if now - opened >= self._protocol.heartbeat_interval:
                    self._healthy = True
                while self._outbox:
                    await ws.send(self._outbox.popleft().encode())
                if reader.done():
                    reader.result()  # raises what ended the reader, if anything did
                    # A clean close from the server (a kick, a restart) is still a
                    # loss: say so, the caller only sees RoomLost and reconnects.
                    log.warning("hubs socket closed by the server (code %s)", ws.close_code)
                    return
                if self._closing or self._drop_reason is not None:
                    if self._drop_reason is not None:
                        log.warning("closing hubs socket: %s", self._drop_reason)
                    await ws.close()
                    return
                wake_at = self._next_wake()
                delay = None if wake_at is None else max(0.0, wake_at - self._clock())
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wake.wait()
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for text in ws:
                self._on_frame(text)
        finally:
            self._wake.set()

    def _socket_lost(self) -> None:
        """Forget what belonged to the old socket; every joined room is lost."""
        self._outbox.clear()
        self._rejoin_at.clear()  # the reconnect rejoins everything
        self._reconnect_at = None
        self._drop_reason = None
        self._emit_all(self._rooms.all_lost())
        if self._connected:
            self._connected = False
            self._emit(ConnectionState(connected=False))

    def _next_wake(self) -> float | None:
        times = [*self._rejoin_at.values()]
        deadline = self._protocol.next_deadline()
        if deadline is not None:
            times.append(deadline)
        if self._reconnect_at is not None:
            times.append(self._reconnect_at)
        return min(times, default=None)

    def _on_timers(self, now: float) -> None:
        # tick before heartbeat: tick reports the missed heartbeat that
        # heartbeat() would otherwise silently replace (phoenix.py).
        for event in self._protocol.tick(now):
            self._handle(event, now)
        frame = self._protocol.heartbeat(now)
        if frame is not None:
            self._outbox.append(frame)
        for topic, due in list(self._rejoin_at.items()):
            if due <= now:
                del self._rejoin_at[topic]
                if self._protocol.state(topic) in (ChannelState.ERRORED, ChannelState.CLOSED):
                    self._outbox.append(self._protocol.rejoin(topic, now))
        if self._reconnect_at is not None and now >= self._reconnect_at:
            self._drop_reason = "server deploy (ret-deploy)"

    # --- frames and events ----------------------------------------------------

    def _on_frame(self, text: str | bytes) -> None:
        now = self._clock()
        try:
            events = self._protocol.receive(text, now)
        except ProtocolError as exc:
            self._drop_reason = f"unreadable frame: {exc}"
            return
        for event in events:
            self._handle(event, now)

    def _handle(self, event: Event, now: float) -> None:
        if isinstance(event, Joined):
            self._on_joined(event.topic, event.response)
        elif isinstance(event, JoinFailed):
            if event.fatal:
                self._on_join_refused(event)
            else:
                log.warning("join of %s failed (%s), retrying", event.topic, event.reason)
                self._channel_down(event.topic, now)
        elif isinstance(event, ChannelErrored | ChannelClosed):
            self._channel_down(event.topic, now)
        elif isinstance(event, Reply):
            hub_sid = self._sign_ins.pop(event.ref, None)
            if hub_sid is not None:
                self._emit_all(self._rooms.signed_in(hub_sid, event.status, event.response))
        elif isinstance(event, ReplyTimeout):
            self._sign_ins.pop(event.ref, None)
            # Only a join that timed out leaves its channel errored (phoenix.py).
            if self._protocol.state(event.topic) is ChannelState.ERRORED:
                self._channel_down(event.topic, now)
        elif isinstance(event, HeartbeatMissed):
            self._drop_reason = "heartbeat unanswered"
        elif isinstance(event, Message):
            try:
                self._on_message(event, now)
            except ProtocolError as exc:
                # One odd payload is not worth the whole socket: skip it.
                log.warning("ignoring %s on %s: %s", event.event, event.topic, exc)
        self._wake.set()

    def _on_joined(self, topic: str, response: dict[str, Any]) -> None:
        self._rejoin_attempts.pop(topic, None)
        self._healthy = True
        try:
            self._emit_all(self._rooms.joined(topic, response))
        except ProtocolError as exc:
            self._drop_reason = f"unreadable join reply: {exc}"
            return
        hub_sid = hub_sid_of(topic)
        if hub_sid is not None:
            self._maybe_sign_in(hub_sid)

    def _maybe_sign_in(self, hub_sid: str) -> None:
        """Claim the room with its creator token: ``sign_in`` (``hub_channel.ex``).

        Only with an account token and a creator token not yet used; the
        reply becomes :class:`SignedIn` with the rights that follow.
        """
        token = self._rooms.creator_token(hub_sid)
        if self._account_token is None or token is None or self._rooms.perms(hub_sid).close_hub:
            return
        payload = {"token": self._account_token, "creator_assignment_token": token}
        frame = self._protocol.push(
            hub_topic(hub_sid), "sign_in", payload, self._clock(), expect_reply=True
        )
        if frame.ref is not None:
            self._sign_ins[frame.ref] = hub_sid
        self._queue(frame)

    def _on_join_refused(self, event: JoinFailed) -> None:
        log.warning("join of %s refused for good: %s", event.topic, event.reason)
        self._rejoin_attempts.pop(event.topic, None)
        self._rejoin_at.pop(event.topic, None)
        self._emit_all(self._rooms.refused(event.topic, event.reason, event.message))

    def _channel_down(self, topic: str, now: float) -> None:
        """Report the room lost, then schedule its rejoin (in that order, always)."""
        self._emit_all(self._rooms.lost(topic))
        attempt = self._rejoin_attempts.get(topic, 0) + 1
        self._rejoin_attempts[topic] = attempt
        delay = backoff.rejoin_delay(attempt, self._rng) * self._backoff_scale
        self._rejoin_at[topic] = now + delay

    def _on_message(self, message: Message, now: float) -> None:
        if message.topic != RET_TOPIC:
            self._emit_all(self._rooms.message(message.topic, message.event, message.payload))
            return
        deploy = message.event == "notice" and parse_payload(RetNotice, message.payload).is_deploy
        if deploy and self._reconnect_at is None:
            delay = self._rng.uniform(0.0, self._deploy_reconnect_max)
            self._reconnect_at = now + delay
            log.info("hubs server deploy: reconnecting in %.1f s", delay)

    def _queue(self, frame: PhxMessage) -> None:
        # Frames made while disconnected are dropped: reset() on the next
        # socket rejoins every channel, and pushes need a joined channel.
        if self._connected:
            self._outbox.append(frame)
            self._wake.set()

    def _emit_all(self, events: list[RoomEvent]) -> None:
        for event in events:
            self._emit(event)

    def _emit(self, event: RoomEvent) -> None:
        try:
            self._on_event(event)
        except Exception:
            # Not the event itself: it may hold a chat line and a display name.
            hub_sid = getattr(event, "hub_sid", "?")
            log.exception("on_event failed for %s in room %s", type(event).__name__, hub_sid)
