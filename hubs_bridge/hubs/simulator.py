"""A local Hubs server (Reticulum) simulator on aiohttp, for tests and new users.

It speaks what ``docs/reticulum/PROTOCOL.md`` describes, with the frames of
``tests/data/reticulum_frames.json``:

- §1 the socket ``/socket/websocket?vsn=2.0.0[&session_token=...]``: Phoenix v2
  frames, heartbeats on ``phoenix``, a socket silent for ``idle_timeout_s`` is
  dropped, joining a topic twice kills the first join (``phx_close``), an
  unknown topic is answered ``{"reason": "unmatched topic"}``;
- §2 joining ``hub:<sid>``: the ok reply, the join errors, ``session_token``
  reuse (same ``session_id``); a join without ``profile``/``context`` crashes
  the join as Reticulum's pattern match does (``{"reason": "join crashed"}``);
- §3 ``presence_state`` after the join, ``presence_diff`` on every change;
- §4 chat ``message`` broadcast to everyone with ``session_id``, the
  ``events:*`` of attendance, ``hub_refresh`` on close, ``ret`` notices;
- §5 ``GET /api/v1/meta``, ``POST``/``PATCH``/``DELETE /api/v1/hubs``
  (see :mod:`hubs_bridge.hubs.sim_http`).

Frames are single-writer per socket: every state change is synchronous and
enqueues frames, so the order of frames on each socket is the order of events.
Tests drive it through :class:`HubsSimulator` (create rooms, add avatars,
kick, drop sockets, close rooms, announce a deploy).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import uuid
from collections.abc import Mapping
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from hubs_bridge.hubs.errors import ProtocolError
from hubs_bridge.hubs.frames import (
    HEARTBEAT,
    PHOENIX_TOPIC,
    PHX_CLOSE,
    PHX_JOIN,
    PHX_LEAVE,
    RET_TOPIC,
    PhxMessage,
)
from hubs_bridge.hubs.sim_crowd import Avatar, crowd_every_room, run_crowd
from hubs_bridge.hubs.sim_http import add_http_routes
from hubs_bridge.hubs.sim_socket import Channel, Conn
from hubs_bridge.hubs.sim_state import (
    HUB_REFRESH,
    PRESENCE_DIFF,
    PRESENCE_STATE,
    Device,
    SimHub,
    SimRoom,
    SimScene,
    context_for,
    join_error,
    new_hub_sid,
    set_entered,
    set_entering,
    set_hand,
    set_profile,
)

log = logging.getLogger(__name__)

HUB_PREFIX = "hub:"
IDLE_TIMEOUT_S = 60.0  # §1: the server drops a socket silent for 60 s
_CLOSING = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)
_ROOM_EVENTS = {
    "events:entering": set_entering(True),
    "events:entering_cancelled": set_entering(False),
    "events:entered": set_entered,
    "events:raise_hand": set_hand(True),
    "events:lower_hand": set_hand(False),
}


class HubsSimulator:
    """The simulated Reticulum. ``await start()``, use, ``await stop()``.

    ``admin_key`` guards ``DELETE /api/v1/hubs`` (§5); with ``bot_key`` set, a
    join with ``context.discord`` and a different ``bot_access_key`` is denied
    (§2). ``create_interval_s`` is the per-IP rate limit of room creation.
    Tests may set ``answer_heartbeats = False`` to leave every heartbeat
    unanswered (a server that hangs), and read ``sockets_opened``.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        admin_key: str | None = None,
        bot_key: str | None = None,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
        create_interval_s: float = 1.0,
        version: str = "1.0.simulator",
    ) -> None:
        self.host = host
        self.admin_key = admin_key
        self.bot_key = bot_key
        self.idle_timeout_s = idle_timeout_s
        self.create_interval_s = create_interval_s
        self.version = version
        self.answer_heartbeats = True  # False: heartbeats on "phoenix" get no phx_reply
        self.sockets_opened = 0  # every websocket accepted so far
        self.port = 0
        self._rooms: dict[str, SimRoom] = {}
        self._conns: set[Conn] = set()
        self._tokens: dict[str, str] = {}  # session_token -> session_id
        self._ret: dict[Conn, str] = {}  # sockets joined to "ret" -> join_ref
        self._runner: web.AppRunner | None = None
        app = web.Application()
        app.router.add_get("/socket/websocket", self._socket)
        add_http_routes(app, self)
        self.app = app

    # --- lifecycle ----------------------------------------------------------

    async def start(self, port: int = 0) -> int:
        """Listen on ``host:port`` (0 picks a free port); returns the bound port."""
        self._runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self.port

    async def stop(self) -> None:
        await self.drop_all_sockets()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def socket_url(self) -> str:
        return f"ws://{self.host}:{self.port}/socket/websocket?vsn=2.0.0"

    # --- rooms --------------------------------------------------------------

    @property
    def hubs(self) -> Mapping[str, SimHub]:
        """Every room created so far, by hub id (closed ones included)."""
        return {hub_id: room.hub for hub_id, room in self._rooms.items()}

    def create_hub(
        self,
        name: str,
        *,
        scene_id: str | None = None,
        scene_url: str | None = None,
        hub_id: str | None = None,
        description: str | None = None,
        room_size: int = 24,
        user_data: dict[str, Any] | None = None,
        requires_oauth: bool = False,
    ) -> SimHub:
        """A new room with a scene (``scene_id``) or a bare glTF bundle (``scene_url``)."""
        hub_id = hub_id or new_hub_sid()
        if hub_id in self._rooms:
            raise ValueError(f"hub {hub_id!r} exists")
        scene = None
        if scene_id is not None:
            scene = SimScene(scene_id, scene_id, f"{self.base_url}/scenes/{scene_id}.glb")
        hub = SimHub(
            hub_id=hub_id,
            name=name,
            scene=scene,
            gltf_bundle_url=None if scene is not None else scene_url,
            description=description,
            room_size=room_size,
            user_data=user_data,
            requires_oauth=requires_oauth,
        )
        self._rooms[hub_id] = SimRoom(hub)
        return hub

    def room(self, hub_id: str) -> SimRoom:
        return self._rooms[hub_id]

    def hub_wire(self, hub_id: str) -> dict[str, Any]:
        """HUB as the join reply shows it now (§2)."""
        room = self._rooms[hub_id]
        members, lobby = room.counts()
        return room.hub.to_wire(
            host=self.host, port=self.port, member_count=members, lobby_count=lobby
        )

    def sessions(self, hub_id: str) -> dict[str, dict[str, Any]]:
        """Current META of every session in a room, by session id (§3)."""
        return {sid: dict(meta) for sid, meta in self._rooms[hub_id].metas.items()}

    def bot_sessions(self, hub_id: str) -> list[str]:
        """Session ids of the bots (``context.discord``, §2) in a room, such as a bridge."""
        room = self._rooms[hub_id]
        return [sid for sid, meta in room.metas.items() if meta.get("context", {}).get("discord")]

    def close_hub(self, hub_id: str) -> None:
        """Close as a moderator's ``close_hub`` does: deny + ``hub_refresh`` (§4)."""
        room = self._rooms[hub_id]
        room.hub.entry_mode = "deny"
        room.broadcast(
            HUB_REFRESH, {"hubs": [self.hub_wire(hub_id)], "stale_fields": ["entry_mode"]}
        )

    # --- sockets ------------------------------------------------------------

    async def kick(self, session_id: str) -> bool:
        """Close the whole socket of a session (§4 ``kick``); an avatar just leaves."""
        found = False
        for conn in [c for c in self._conns if c.session_id == session_id]:
            found = True
            await conn.ws.close(code=WSCloseCode.GOING_AWAY)
        for room in self._rooms.values():
            if session_id in room.metas and session_id not in room.subscribers:
                room.untrack(session_id)
                found = True
        return found

    async def drop_all_sockets(self) -> None:
        """Close every socket, as a restarting server would."""
        for conn in list(self._conns):
            await conn.ws.close(code=WSCloseCode.GOING_AWAY)

    def broadcast_ret_deploy(self) -> None:
        """``notice {"event": "ret-deploy"}`` on ``ret`` to every socket joined to it (§4)."""
        for conn in self._ret:
            conn.send(PhxMessage(join_ref=None, ref=None, topic=RET_TOPIC, event="notice",
                                 payload={"event": "ret-deploy"}))  # fmt: skip

    # --- avatars ------------------------------------------------------------

    def add_avatar(
        self, hub_id: str, name: str, device: Device = "desktop", *, avatar_id: str = ""
    ) -> Avatar:
        """A simulated web-client session joining the room's lobby (§2, §3)."""
        room = self._rooms.get(hub_id)
        if room is None:
            raise KeyError(f"no hub {hub_id!r}")
        if room.hub.entry_mode == "deny":
            raise ValueError(f"hub {hub_id!r} is closed")
        session_id = str(uuid.uuid4())
        profile = {"displayName": name, "avatarId": avatar_id or secrets.token_urlsafe(4)}
        room.track(session_id, profile, context_for(device))
        return Avatar(self, room, session_id, name, device)

    async def run_crowd(
        self,
        hub_ids: list[str],
        *,
        avatars: int,
        rng: random.Random,
        duration: float,
    ) -> None:
        """See :func:`hubs_bridge.hubs.sim_crowd.run_crowd`."""
        await run_crowd(self, hub_ids, avatars=avatars, rng=rng, duration=duration)

    # --- the websocket (§1) -------------------------------------------------

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("vsn") != "2.0.0":
            raise web.HTTPBadRequest(text="only vsn=2.0.0 is simulated")
        token = request.query.get("session_token")
        session_id = self._tokens.get(token or "") or str(uuid.uuid4())
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.sockets_opened += 1
        conn = Conn(ws, session_id)
        self._conns.add(conn)
        writer = asyncio.create_task(conn.write_loop())
        try:
            while not ws.closed:
                try:
                    msg = await ws.receive(timeout=self.idle_timeout_s)
                except TimeoutError:
                    log.info("socket of %s idle for %ss: dropped", session_id, self.idle_timeout_s)
                    break
                if msg.type is WSMsgType.TEXT:
                    try:
                        self._on_frame(conn, PhxMessage.decode(msg.data))
                    except ProtocolError as exc:
                        log.warning("bad frame from %s: %s", session_id, exc)
                        break
                elif msg.type in _CLOSING:
                    break
        finally:
            self._disconnect(conn)
            conn.outbox.put_nowait(None)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(writer, 1.0)
            await ws.close()
        return ws

    def _disconnect(self, conn: Conn) -> None:
        self._conns.discard(conn)
        self._ret.pop(conn, None)
        for topic in list(conn.joins):
            self._leave_topic(conn, topic)

    def _on_frame(self, conn: Conn, msg: PhxMessage) -> None:
        if msg.topic == PHOENIX_TOPIC and msg.event == HEARTBEAT:
            if self.answer_heartbeats:
                conn.reply(msg, "ok", {})
        elif msg.event == PHX_JOIN and msg.topic.startswith(HUB_PREFIX):
            self._join_hub(conn, msg)
        elif msg.event == PHX_JOIN and msg.topic == RET_TOPIC:
            self._kill_join(conn, msg.topic)
            conn.joins[msg.topic] = msg.join_ref or ""
            self._ret[conn] = msg.join_ref or ""
            conn.reply(msg, "ok", {})
        elif msg.topic not in conn.joins:
            conn.reply(msg, "error", {"reason": "unmatched topic"})
        elif msg.event == PHX_LEAVE:
            self._leave_topic(conn, msg.topic)
            conn.reply(msg, "ok", {})
        elif msg.topic.startswith(HUB_PREFIX):
            self._room_event(conn, msg)
        # any other event on a joined topic is ignored, like Reticulum's catch-all

    def _kill_join(self, conn: Conn, topic: str) -> None:
        """Joining a topic twice kills the first join (§1): ``phx_close`` on its join_ref."""
        old_ref = conn.joins.get(topic)
        if old_ref is None:
            return
        self._leave_topic(conn, topic)
        conn.send(PhxMessage(join_ref=old_ref, ref=old_ref, topic=topic, event=PHX_CLOSE,
                             payload={}))  # fmt: skip

    def _leave_topic(self, conn: Conn, topic: str) -> None:
        conn.joins.pop(topic, None)
        if topic == RET_TOPIC:
            self._ret.pop(conn, None)
            return
        room = self._rooms.get(topic.removeprefix(HUB_PREFIX))
        if room is not None and room.subscribers.get(conn.session_id) is not None:
            channel = room.subscribers[conn.session_id]
            if isinstance(channel, Channel) and channel.conn is conn:
                del room.subscribers[conn.session_id]
                room.untrack(conn.session_id)

    def _join_hub(self, conn: Conn, msg: PhxMessage) -> None:
        """§2: check the payload and the room, reply, then presence_state and the diff."""
        self._kill_join(conn, msg.topic)
        payload = msg.payload
        profile, context = payload.get("profile"), payload.get("context")
        if not isinstance(profile, dict) or not isinstance(context, dict):
            conn.reply(msg, "error", {"reason": "join crashed"})
            return
        room = self._rooms.get(msg.topic.removeprefix(HUB_PREFIX))
        error = join_error(room, payload, bot_key=self.bot_key, oauth_url=f"{self.base_url}/oauth")
        if error is not None or room is None:
            conn.reply(msg, "error", error or {})
            return
        # Another socket holding the same session (token reuse) loses its join.
        previous = room.subscribers.get(conn.session_id)
        if isinstance(previous, Channel):
            self._kill_join(previous.conn, msg.topic)
        token = next((t for t, s in self._tokens.items() if s == conn.session_id), None)
        if token is None:
            token = secrets.token_urlsafe(24)
            self._tokens[token] = conn.session_id
        conn.reply(
            msg,
            "ok",
            {
                "hubs": [self.hub_wire(room.hub.hub_id)],
                "session_id": conn.session_id,
                "session_token": token,
                "subscriptions": {"web_push": None, "favorites": False},
                "perms_token": secrets.token_urlsafe(24),
                "hub_requires_oauth": room.hub.requires_oauth,
            },
        )
        # Reticulum tracks, pushes the list (self included), then the tracker
        # broadcasts the join to everyone, self included (§3).
        meta = room.track(conn.session_id, profile, context)
        conn.joins[msg.topic] = msg.join_ref or ""
        room.subscribers[conn.session_id] = Channel(conn, msg.topic)
        conn.send(PhxMessage(join_ref=msg.join_ref, ref=None, topic=msg.topic,
                             event=PRESENCE_STATE, payload=room.state()))  # fmt: skip
        own_join = {"joins": {conn.session_id: {"metas": [meta]}}, "leaves": {}}
        conn.send(PhxMessage(join_ref=None, ref=None, topic=msg.topic, event=PRESENCE_DIFF,
                             payload=own_join))  # fmt: skip

    def _room_event(self, conn: Conn, msg: PhxMessage) -> None:
        """§4 client events on a joined room."""
        room = self._rooms[msg.topic.removeprefix(HUB_PREFIX)]
        if msg.event == "message":
            if isinstance(msg.payload.get("type"), str):
                room.broadcast("message", {**msg.payload, "session_id": conn.session_id})
        elif msg.event in _ROOM_EVENTS:
            room.update(conn.session_id, _ROOM_EVENTS[msg.event])
        elif msg.event == "events:profile_updated":
            profile = msg.payload.get("profile")
            if isinstance(profile, dict):
                room.update(conn.session_id, set_profile(profile))


async def serve_simulator(
    host: str = "127.0.0.1",
    port: int = 4000,
    avatars: int = 0,
    admin_key: str | None = None,
    bot_key: str | None = None,
    *,
    crowd_duration: float = 120.0,
    seed: int | None = None,
) -> None:
    """Run a simulator with one demo room until cancelled (``hubs-bridge simulate-hubs``).

    With ``avatars > 0`` a crowd of that many avatars comes and goes in every
    open room (the demo room and each room created through the API), round
    after round of ``crowd_duration`` seconds.
    """
    sim = HubsSimulator(host=host, admin_key=admin_key, bot_key=bot_key)
    bound = await sim.start(port)
    hub = sim.create_hub("Demo Room", scene_id="demo-scene", hub_id="demo123")
    print(
        f"Hubs simulator on {sim.base_url}/ (socket {sim.socket_url}); "
        f"room {hub.hub_id} at {sim.base_url}/{hub.hub_id}/{hub.slug}; port {bound}; "
        f"{avatars} simulated people per room",
        flush=True,
    )
    rng = random.Random(seed)
    try:
        if avatars > 0:
            await crowd_every_room(sim, avatars=avatars, rng=rng, duration=crowd_duration)
        else:
            await asyncio.Event().wait()
    finally:
        await sim.stop()
