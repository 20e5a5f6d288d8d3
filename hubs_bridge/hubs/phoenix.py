"""Phoenix channels client protocol, sans-I/O: one instance per Hubs socket.

Like the protocol layer of ``websockets``, this class never touches a socket
and never reads a clock: the driver passes text frames and the current
monotonic time ``now`` in, and sends the :class:`PhxMessage` frames it gets
back. The rules are those of phoenix.js as Reticulum expects them
(``docs/reticulum/PROTOCOL.md`` §1):

- refs are increasing integers as strings; a join's ref is its ``join_ref``;
- a heartbeat goes out every 30 s; if the previous one is still unanswered
  when the next is due, the connection is dead (:class:`HeartbeatMissed`);
- joining a topic again replaces the first join, and frames that carry the
  ``join_ref`` of an older join are dropped;
- join errors ``not_found``, ``closed``, ``join_denied`` and ``oauth_required``
  are final (§2); every other failure is retried by the driver.

The driver's loop::

    send every frame returned by join/rejoin/leave/push/heartbeat
    on text:        events = protocol.receive(text, now)
    at next_deadline(): events = protocol.tick(now); frame = protocol.heartbeat(now)
    on HeartbeatMissed or a lost socket: reconnect after reconnect_delay(attempt),
        then for each Rejoin in protocol.reset(now): send protocol.rejoin(topic, now)
    on JoinFailed(fatal=False), ChannelErrored, ChannelClosed, a join ReplyTimeout:
        send protocol.rejoin(topic, now) after rejoin_delay(attempt)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal, TypeAlias

from hubs_bridge.hubs.backoff import reconnect_delay as reconnect_delay
from hubs_bridge.hubs.backoff import rejoin_delay as rejoin_delay
from hubs_bridge.hubs.errors import InvalidState
from hubs_bridge.hubs.frames import (
    HEARTBEAT,
    PHOENIX_TOPIC,
    PHX_CLOSE,
    PHX_ERROR,
    PHX_JOIN,
    PHX_LEAVE,
    PHX_REPLY,
    JoinError,
    PhxMessage,
    PhxReply,
    parse_payload,
)

HEARTBEAT_INTERVAL = 30.0  # seconds; the server drops a socket silent for 60 s (§1)
REPLY_TIMEOUT = 10.0  # seconds; phoenix.js's default push timeout

# --- events ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Joined:
    topic: str
    response: dict[str, Any]


@dataclass(frozen=True, slots=True)
class JoinFailed:
    """The server refused the join; ``fatal`` means: stop retrying this topic (§2)."""

    topic: str
    reason: str
    message: str
    fatal: bool


@dataclass(frozen=True, slots=True)
class Reply:
    """A reply to a push or a leave, matched by ``ref``."""

    topic: str
    ref: str
    status: str
    response: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ChannelClosed:
    """``phx_close``: the server closed the channel; rejoin later."""

    topic: str


@dataclass(frozen=True, slots=True)
class ChannelErrored:
    """``phx_error``: the channel process crashed; rejoin later."""

    topic: str


@dataclass(frozen=True, slots=True)
class Message:
    """A broadcast or direct push: presence_state, presence_diff, message, hub_refresh..."""

    topic: str
    event: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ReplyTimeout:
    """No reply to ``ref`` in time; for a join, the channel needs a rejoin."""

    topic: str
    ref: str


@dataclass(frozen=True, slots=True)
class HeartbeatMissed:
    """The heartbeat ``ref`` got no reply before the next was due: close and reconnect."""

    ref: str


Event: TypeAlias = (
    Joined
    | JoinFailed
    | Reply
    | ChannelClosed
    | ChannelErrored
    | Message
    | ReplyTimeout
    | HeartbeatMissed
)


@dataclass(frozen=True, slots=True)
class Rejoin:
    """A channel to join again after a reconnect, with the payload of its last join."""

    topic: str
    payload: dict[str, Any]


class ChannelState(StrEnum):
    JOINING = "joining"
    JOINED = "joined"
    ERRORED = "errored"  # crashed, timed out, refused (retryable) or socket lost
    CLOSED = "closed"  # closed by the server


@dataclass(slots=True)
class _Channel:
    topic: str
    payload: dict[str, Any]
    join_ref: str
    state: ChannelState


@dataclass(frozen=True, slots=True)
class _Pending:
    topic: str
    join_ref: str
    kind: Literal["join", "leave", "push"]
    deadline: float


class PhoenixProtocol:
    """The client side of one Phoenix socket: channels, refs, replies and heartbeats."""

    def __init__(
        self,
        now: float,
        *,
        heartbeat_interval: float = HEARTBEAT_INTERVAL,
        reply_timeout: float = REPLY_TIMEOUT,
    ) -> None:
        self.heartbeat_interval = heartbeat_interval
        self.reply_timeout = reply_timeout
        self._ref = 0
        self._channels: dict[str, _Channel] = {}
        self._pending: dict[str, _Pending] = {}
        self._next_heartbeat = now
        self._heartbeat_ref: str | None = None  # sent, no reply yet
        self._missed: str | None = None  # ref of the heartbeat that went unanswered
        self._missed_reported = False
        self._start_heartbeats(now)

    # --- state --------------------------------------------------------------

    @property
    def topics(self) -> tuple[str, ...]:
        """Topics this socket should be in (joined or to be rejoined), in join order."""
        return tuple(self._channels)

    def state(self, topic: str) -> ChannelState | None:
        channel = self._channels.get(topic)
        return None if channel is None else channel.state

    # --- commands -----------------------------------------------------------

    def join(self, topic: str, payload: dict[str, Any], now: float) -> PhxMessage:
        """Join ``topic``; a second join replaces the first, as on the server (§1)."""
        if not topic or topic == PHOENIX_TOPIC:
            raise ValueError(f"cannot join topic {topic!r}")
        old = self._channels.pop(topic, None)
        if old is not None:
            self._forget(old.join_ref)
        ref = self._next_ref()
        self._channels[topic] = _Channel(topic, dict(payload), ref, ChannelState.JOINING)
        self._pending[ref] = _Pending(topic, ref, "join", now + self.reply_timeout)
        return PhxMessage(join_ref=ref, ref=ref, topic=topic, event=PHX_JOIN, payload=payload)

    def rejoin(self, topic: str, now: float) -> PhxMessage:
        """Join ``topic`` again with the payload of its last join."""
        channel = self._require(topic)
        return self.join(topic, channel.payload, now)

    def leave(self, topic: str, now: float) -> PhxMessage:
        """Leave ``topic``; it is forgotten at once and never rejoined."""
        channel = self._require(topic)
        del self._channels[topic]
        self._forget(channel.join_ref)
        ref = self._next_ref()
        self._pending[ref] = _Pending(topic, channel.join_ref, "leave", now + self.reply_timeout)
        return PhxMessage(
            join_ref=channel.join_ref, ref=ref, topic=topic, event=PHX_LEAVE, payload={}
        )

    def push(
        self,
        topic: str,
        event: str,
        payload: dict[str, Any],
        now: float,
        *,
        expect_reply: bool = False,
    ) -> PhxMessage:
        """Push ``event`` on a joined channel.

        Most Reticulum handlers (chat, ``events:*``, moderation) answer nothing
        (§4), so a reply is only waited for, and a :class:`ReplyTimeout`
        reported, with ``expect_reply``. A reply that comes anyway is still
        reported as :class:`Reply`.
        """
        channel = self._require(topic)
        if channel.state is not ChannelState.JOINED:
            raise InvalidState(f"cannot push {event!r} on {topic!r}: channel is {channel.state}")
        if event in (PHX_JOIN, PHX_LEAVE, HEARTBEAT):
            raise ValueError(f"use join/leave/heartbeat for {event!r}")
        ref = self._next_ref()
        if expect_reply:
            self._pending[ref] = _Pending(topic, channel.join_ref, "push", now + self.reply_timeout)
        return PhxMessage(
            join_ref=channel.join_ref, ref=ref, topic=topic, event=event, payload=payload
        )

    def heartbeat(self, now: float) -> PhxMessage | None:
        """The heartbeat to send if one is due, else ``None`` (also once one was missed)."""
        self._check_heartbeat(now)
        if self._missed is not None or now < self._next_heartbeat:
            return None
        ref = self._next_ref()
        self._heartbeat_ref = ref
        self._next_heartbeat = now + self.heartbeat_interval
        return PhxMessage(join_ref=None, ref=ref, topic=PHOENIX_TOPIC, event=HEARTBEAT, payload={})

    def reset(self, now: float) -> list[Rejoin]:
        """Start over on a new socket; return every channel the driver must rejoin.

        Replies owed on the old socket will never come, so they are dropped
        without timeouts; the heartbeat schedule restarts at ``now``.
        """
        self._pending.clear()
        self._start_heartbeats(now)
        for channel in self._channels.values():
            channel.state = ChannelState.ERRORED
        return [Rejoin(c.topic, dict(c.payload)) for c in self._channels.values()]

    # --- input --------------------------------------------------------------

    def receive(self, text: str | bytes, now: float) -> list[Event]:
        """Handle one frame from the server; raise :class:`ProtocolError` if malformed.

        ``now`` is taken, like everywhere, so that no caller changes when a
        timing rule is added; no rule needs it today.
        """
        message = PhxMessage.decode(text)
        if message.topic == PHOENIX_TOPIC:
            if message.event == PHX_REPLY and message.ref == self._heartbeat_ref:
                self._heartbeat_ref = None
            return []
        if message.event == PHX_REPLY:
            return self._on_reply(message)
        channel = self._channels.get(message.topic)
        if channel is None or message.join_ref not in (None, channel.join_ref):
            return []  # not ours, or from an older join of the topic
        if message.event == PHX_ERROR:
            return [self._channel_down(channel, ChannelState.ERRORED)]
        if message.event == PHX_CLOSE:
            return [self._channel_down(channel, ChannelState.CLOSED)]
        return [Message(message.topic, message.event, message.payload)]

    def tick(self, now: float) -> list[Event]:
        """Report replies that are overdue and a missed heartbeat, oldest first."""
        events: list[Event] = []
        overdue = [(p.deadline, ref) for ref, p in self._pending.items() if p.deadline <= now]
        for _, ref in sorted(overdue):
            pending = self._pending.pop(ref)
            events.append(ReplyTimeout(pending.topic, ref))
            channel = self._channels.get(pending.topic)
            if pending.kind == "join" and channel is not None and channel.join_ref == ref:
                channel.state = ChannelState.ERRORED
        self._check_heartbeat(now)
        if self._missed is not None and not self._missed_reported:
            self._missed_reported = True
            events.append(HeartbeatMissed(self._missed))
        return events

    def next_deadline(self) -> float | None:
        """When ``tick`` and ``heartbeat`` should next be called, or ``None`` for never."""
        deadlines = [p.deadline for p in self._pending.values()]
        if self._missed is None or not self._missed_reported:
            deadlines.append(self._next_heartbeat)
        return min(deadlines, default=None)

    # --- internals ------------------------------------------------------------

    def _next_ref(self) -> str:
        self._ref += 1
        return str(self._ref)

    def _require(self, topic: str) -> _Channel:
        channel = self._channels.get(topic)
        if channel is None:
            raise InvalidState(f"no channel for topic {topic!r}")
        return channel

    def _forget(self, join_ref: str) -> None:
        """Drop the replies owed to a join the caller replaced or left."""
        for ref in [r for r, p in self._pending.items() if p.join_ref == join_ref]:
            del self._pending[ref]

    def _start_heartbeats(self, now: float) -> None:
        self._next_heartbeat = now + self.heartbeat_interval
        self._heartbeat_ref = None
        self._missed = None
        self._missed_reported = False

    def _check_heartbeat(self, now: float) -> None:
        if self._missed is None and self._heartbeat_ref is not None and now >= self._next_heartbeat:
            self._missed = self._heartbeat_ref

    def _channel_down(self, channel: _Channel, state: ChannelState) -> Event:
        channel.state = state
        self._pending.pop(channel.join_ref, None)  # the join reply will not come now
        if state is ChannelState.CLOSED:
            return ChannelClosed(channel.topic)
        return ChannelErrored(channel.topic)

    def _on_reply(self, message: PhxMessage) -> list[Event]:
        ref = message.ref
        pending = self._pending.get(ref) if ref is not None else None
        channel = self._channels.get(message.topic)
        current = channel is not None and message.join_ref == channel.join_ref
        tracked = (
            pending is not None
            and pending.topic == message.topic
            and pending.join_ref == message.join_ref
        )
        if ref is None or not (tracked or current):
            return []  # a reply to an older join, or to nothing we sent
        reply = parse_payload(PhxReply, message.payload)
        if tracked:
            del self._pending[ref]
        if channel is not None and current and ref == channel.join_ref:
            return [self._on_join_reply(channel, reply)]
        return [Reply(message.topic, ref, reply.status, reply.response)]

    def _on_join_reply(self, channel: _Channel, reply: PhxReply) -> Event:
        if reply.status == "ok":
            channel.state = ChannelState.JOINED
            return Joined(channel.topic, reply.response)
        error = parse_payload(JoinError, reply.response)
        if error.fatal:
            del self._channels[channel.topic]
        else:
            channel.state = ChannelState.ERRORED
        return JoinFailed(channel.topic, error.reason, error.message, error.fatal)
