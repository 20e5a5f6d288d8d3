"""A local Hubs server (Reticulum) simulator on aiohttp, for tests and new users.

It is as strict as Reticulum (Hubs-Foundation/reticulum; file and function
cited at each behaviour) wherever the bridge talks to it, and nowhere more
lenient unless built with the lenient options of ``simulate-hubs --lenient``:

- the socket ``/socket/websocket?vsn=2.0.0[&session_token=...]`` (Phoenix v2
  frames, heartbeats, a socket silent for ``idle_timeout_s`` is dropped,
  joining a topic twice kills the first join, ``unmatched topic``);
- the room channel ``hub:<sid>`` as ``lib/ret_web/channels/hub_channel.ex``
  (:mod:`hubs_bridge.hubs.sim_channel`): join refusals, ``perms_token``,
  presence with roles and permissions, ``presence_state`` a loop turn after
  the reply, ``sign_in``, owner actions (``mute``, ``kick``, ``close_hub``,
  ``update_hub``, ``update_scene``) for owners only, chat ``message``;
- ``GET /api/v1/meta`` (``lib/ret/meta.ex``), ``POST``/``PATCH``/``DELETE
  /api/v1/hubs`` (``hub_controller.ex``, throttled like ``RetWeb.Plugs.RateLimit``;
  :mod:`hubs_bridge.hubs.sim_http`);
- the token GraphQL API ``/api/v2_alpha`` executing ``reticulum.graphql``
  (:mod:`hubs_bridge.hubs.sim_graphql`);
- accounts (``Ret.Account`` and their ``Ret.Guardian`` tokens), app and
  account API tokens, permissions (:mod:`hubs_bridge.hubs.sim_auth`);
- ``ret`` notices (``ret-deploy``) and simulated people (:mod:`hubs_bridge.hubs.sim_crowd`).

Not simulated: OAuth identities (rooms bound to Discord/Slack only refuse),
pinning and entity state, web push, favourites, the NAF traffic, scene
uploads. Frames are single-writer per socket: every state change is
synchronous and enqueues frames, so the order of frames on each socket is
the order of events.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Self

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
from hubs_bridge.hubs.sim_auth import (
    SimAccount,
    account_token,
    perms_for_account,
    perms_token,
    roles_for_account,
    verify_jwt,
)
from hubs_bridge.hubs.sim_channel import HUB_PREFIX, HubChannels
from hubs_bridge.hubs.sim_crowd import Avatar, crowd_every_room, run_crowd
from hubs_bridge.hubs.sim_http import add_http_routes
from hubs_bridge.hubs.sim_socket import Channel, Conn
from hubs_bridge.hubs.sim_state import (
    DEFAULT_ROOM_SIZE,
    HUB_REFRESH,
    MAX_ROOM_SIZE,
    Device,
    SceneKind,
    SimHub,
    SimRoom,
    SimScene,
    context_for,
    new_hub_sid,
)
from hubs_bridge.hubs.sim_throttle import FixedWindowThrottle

log = logging.getLogger(__name__)

IDLE_TIMEOUT_S = 60.0  # the server drops a socket silent for 60 s
PHX_PORT = 4000  # config: [ret."Elixir.RetWeb.Endpoint".https] port = 4000 (hcce.yam)
JANUS_PORT = 443  # config/prod.exs: config :ret, Ret.JanusLoadStatus, janus_port: 443
# Two of the default scenes a Hubs server imports (SceneListing "default" filter).
DEFAULT_LISTINGS = (("sceneA1", "Lobby"), ("sceneB2", "Outdoor Meetup"))
_CLOSING = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)

Record = tuple[str, str, Any]  # (hub_id, by session_id, target or detail)


class HubsSimulator:
    """The simulated Reticulum. ``await start()``, use, ``await stop()``.

    Options (Reticulum's setting each stands for):

    - ``admin_key``: ``RetWeb.Plugs.HeaderAuthorization``'s ``header_value``
      for ``DELETE /api/v1/hubs``; None (stock CE) refuses every DELETE.
    - ``bot_key``: ``bot_access_key``; only lets anonymous joins into rooms
      bound to an OAuth channel (``requires_oauth``) and past
      ``require_account_for_join``.
    - ``throttle_period_s``: the window of ``RetWeb.Plugs.RateLimit`` (1 s; one
      request per window and address for every ``/api/v1/hubs`` action);
      ``0`` switches it off (lenient). ``create_interval_s`` is its deprecated
      name. ``clock`` (``time.time``) lets tests move the windows.
    - ``endpoint_host``: ``RetWeb.Endpoint.host()`` (default ``host``); scene
      URLs on it (whatever the port) at ``/scenes/<sid>`` are the server's own.
    - ``phx_port``: the endpoint's https port ``/api/v1/meta`` reports (4000);
      ``janus_port``: the ``port`` of a room (``Hub.janus_port``, 443).
    - ``max_room_size``/``default_room_size``: ``features|max_room_size`` (50)
      and ``features|default_room_size`` (24).
    - ``disable_room_creation``, ``require_account_for_join``,
      ``public_api_access``: the ``features|...`` switches, all off as in
      Reticulum's defaults.
    - ``default_listings``: the server has two default scene listings (the
      standard scenes imported), one of which a room made over ``POST`` without
      ``scene_id`` gets (``SceneListing.get_random_default_scene_listing``).

    Tests may set ``answer_heartbeats = False`` (a hung server) and read
    ``sockets_opened`` and ``heartbeats_answered`` (time passing, as a client
    sees it: a test waits for N answered heartbeats instead of sleeping).
    What owners did is recorded: ``muted``, ``kicked`` (``(hub_id,
    by_session, target_session)``), ``closed`` (``(hub_id, by_session)``),
    ``hub_updates`` (``(hub_id, by_session, stale_fields)``),
    ``scene_updates`` (``(hub_id, by_session, url)``).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        admin_key: str | None = None,
        bot_key: str | None = None,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
        throttle_period_s: float = 1.0,
        create_interval_s: float | None = None,
        version: str = "1.0.simulator",
        phx_port: int = PHX_PORT,
        janus_port: int = JANUS_PORT,
        max_room_size: int = MAX_ROOM_SIZE,
        default_room_size: int = DEFAULT_ROOM_SIZE,
        disable_room_creation: bool = False,
        require_account_for_join: bool = False,
        public_api_access: bool = False,
        default_listings: bool = True,
        clock: Callable[[], float] = time.time,
        seed: int | None = None,
        endpoint_host: str | None = None,
    ) -> None:
        if create_interval_s is not None:  # deprecated name of throttle_period_s
            throttle_period_s = create_interval_s
        self.host = host
        # RetWeb.Endpoint.host(): a sceneUrl/update_scene URL on this host (any port!)
        # with a path /scenes/<sid> is taken for one of the server's own scenes.
        self.endpoint_host = endpoint_host or host
        self.admin_key = admin_key
        self.bot_key = bot_key
        self.idle_timeout_s = idle_timeout_s
        self.version = version
        self.phx_port = phx_port
        self.janus_port = janus_port
        self.max_room_size = max_room_size
        self.default_room_size = default_room_size
        self.disable_room_creation = disable_room_creation
        self.require_account_for_join = require_account_for_join
        self.public_api_access = public_api_access
        self.throttle = FixedWindowThrottle(throttle_period_s, clock=clock)
        self.rng = random.Random(seed)
        self.secret = secrets.token_bytes(32)
        self.answer_heartbeats = True  # False: heartbeats on "phoenix" get no phx_reply
        self.sockets_opened = 0  # every websocket accepted so far
        self.heartbeats_answered = 0
        self.port = 0
        self.rooms: dict[str, SimRoom] = {}
        self.scenes: dict[str, SimScene] = {}
        self.accounts: dict[str, SimAccount] = {}
        self.room_api_calls: list[str] = []  # the method of every /api/v1/hubs request
        self.muted: list[Record] = []
        self.kicked: list[Record] = []
        self.closed: list[tuple[str, str]] = []
        self.hub_updates: list[Record] = []
        self.scene_updates: list[Record] = []
        self.channels = HubChannels(self)
        self._seq = itertools.count(1)
        self._conns: set[Conn] = set()
        self._tokens: dict[str, str] = {}  # session_token -> session_id
        self._ret: dict[Conn, str] = {}  # sockets joined to "ret" -> join_ref
        self._runner: web.AppRunner | None = None
        if default_listings:
            for sid, name in DEFAULT_LISTINGS:
                self.add_scene(sid, name, kind="scene_listing", default=True)
        app = web.Application()
        app.router.add_get("/socket/websocket", self._socket)
        add_http_routes(app, self)
        self.app = app

    @property
    def throttle_period_s(self) -> float:
        return self.throttle.period_s

    # --- lifecycle ----------------------------------------------------------

    async def start(self, port: int = 0) -> int:
        """Listen on ``host:port`` (0 picks a free port); returns the bound port."""
        self._runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, port)
        await site.start()
        unbound = self.base_url
        self.port = int(self._runner.addresses[0][1])
        for scene in self.scenes.values():  # made before the port was known
            scene.model_url = scene.model_url.replace(unbound, self.base_url)
            scene.url = scene.url and scene.url.replace(unbound, self.base_url)
        return self.port

    async def stop(self) -> None:
        await self.drop_all_sockets()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        """Started on the port given (0 picks a free one); stopped on the way out."""
        await self.start(self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def socket_url(self) -> str:
        return f"ws://{self.host}:{self.port}/socket/websocket?vsn=2.0.0"

    # --- accounts and permissions -------------------------------------------

    def requests(self, method: str) -> int:
        """How many ``/api/v1/hubs`` requests with ``method`` came (throttled ones too)."""
        return self.room_api_calls.count(method)

    def add_account(self, name: str, *, admin: bool = False) -> SimAccount:
        """A Hubs account and its sign-in token (the ``Ret.Guardian`` JWT)."""
        account_id = str(10**17 + secrets.randbelow(9 * 10**17))  # Reticulum's ids are big ints
        account = SimAccount(account_id, name, account_token(account_id, self.secret), admin)
        self.accounts[account_id] = account
        return account

    def account_for_token(self, token: object) -> SimAccount | None:
        """``Ret.Guardian.resource_from_token``: the account of a valid token, else None."""
        claims = verify_jwt(token, self.secret)
        if claims is None or claims.get("aud") != "ret":
            return None
        return self.accounts.get(str(claims.get("sub")))

    def perms(self, hub: SimHub, account: SimAccount | None) -> dict[str, bool]:
        return perms_for_account(
            hub, account, require_account_for_join=self.require_account_for_join
        )

    def roles(self, hub: SimHub, account: SimAccount | None) -> dict[str, bool]:
        return roles_for_account(hub, account)

    def perms_token(self, hub: SimHub, account: SimAccount | None) -> str:
        return perms_token(hub, account, self.secret,
                           require_account_for_join=self.require_account_for_join,
                           disable_room_creation=self.disable_room_creation)  # fmt: skip

    def may_create_hub(self, account: SimAccount | None) -> bool:
        """``can?(account, create_hub(nil))``: admins always, else unless disabled."""
        return (account is not None and account.admin) or not self.disable_room_creation

    # --- scenes and rooms ---------------------------------------------------

    def add_scene(
        self, scene_id: str, name: str | None = None, *, kind: SceneKind = "scene",
        default: bool = False,
    ) -> SimScene:  # fmt: skip
        """A scene (or scene listing) on this server, at ``/scenes/<scene_id>/<slug>``."""
        scene = SimScene(
            scene_id,
            name or scene_id,
            f"{self.base_url}/scenes/{scene_id}.glb",
            kind=kind,
            url=f"{self.base_url}/scenes/{scene_id}",
            default=default,
        )
        self.scenes[scene_id] = scene
        return scene

    def random_default_listing(self) -> SimScene | None:
        """``SceneListing.get_random_default_scene_listing``."""
        listings = [s for s in self.scenes.values() if s.default and s.kind == "scene_listing"]
        return self.rng.choice(listings) if listings else None

    @property
    def hubs(self) -> Mapping[str, SimHub]:
        """Every room created so far, by hub id (closed ones included)."""
        return {hub_id: room.hub for hub_id, room in self.rooms.items()}

    def new_hub(self, name: str, **fields: Any) -> SimHub:
        """Store a new room (no validation: callers validate as Reticulum does)."""
        hub_id = fields.pop("hub_id", None) or new_hub_sid()
        if hub_id in self.rooms:
            raise ValueError(f"hub {hub_id!r} exists")
        fields.setdefault("room_size", self.default_room_size)
        hub = SimHub(hub_id=hub_id, name=name, created_seq=next(self._seq), **fields)
        self.rooms[hub_id] = SimRoom(hub)
        return hub

    def create_hub(
        self,
        name: str,
        *,
        scene_id: str | None = None,
        scene_url: str | None = None,
        hub_id: str | None = None,
        description: str | None = None,
        room_size: int | None = None,
        user_data: dict[str, Any] | None = None,
        requires_oauth: bool = False,
        entry_mode: str = "allow",
        creator: SimAccount | None = None,
    ) -> SimHub:
        """A room made directly (a test's fixture): a scene (``scene_id``, registered
        when new) or a bare glTF bundle (``scene_url``)."""
        scene = None
        if scene_id is not None:
            scene = self.scenes.get(scene_id) or self.add_scene(scene_id)
        hub = self.new_hub(
            name,
            hub_id=hub_id,
            scene=scene,
            gltf_bundle_url=None if scene is not None else scene_url,
            description=description,
            room_size=self.default_room_size if room_size is None else room_size,
            user_data=user_data,
            requires_oauth=requires_oauth,
            entry_mode=entry_mode,
        )
        if creator is not None:
            hub.creator_account_id = creator.account_id
            hub.creator_assignment_token = None
        return hub

    def room(self, hub_id: str) -> SimRoom:
        return self.rooms[hub_id]

    def hub_wire(self, hub_id: str, *, embeddable: bool = False) -> dict[str, Any]:
        """HUB as ``show.json`` renders it now (join reply, ``hub_refresh``)."""
        room = self.rooms[hub_id]
        members, lobby = room.counts()
        return room.hub.to_wire(host=self.host, port=self.janus_port, member_count=members,
                                lobby_count=lobby, embeddable=embeddable)  # fmt: skip

    def refresh_payload(self, hub: SimHub, embeddable: bool) -> dict[str, Any]:
        return {"hubs": [self.hub_wire(hub.hub_id, embeddable=embeddable)]}

    def hub_url(self, hub: SimHub) -> str:
        """``Hub.url_for``."""
        return f"{self.base_url}/{hub.hub_id}/{hub.slug}"

    def sessions(self, hub_id: str) -> dict[str, dict[str, Any]]:
        """Current META of every session in a room, by session id."""
        return {sid: dict(meta) for sid, meta in self.rooms[hub_id].metas.items()}

    def bot_sessions(self, hub_id: str) -> list[str]:
        """Session ids with ``context.discord`` (bots such as a bridge) in a room."""
        room = self.rooms[hub_id]
        return [sid for sid, meta in room.metas.items() if meta.get("context", {}).get("discord")]

    def close_hub(self, hub_id: str) -> None:
        """Close as an owner's ``close_hub`` does: deny + ``hub_refresh`` ``["entry_mode"]``."""
        room = self.rooms[hub_id]
        room.hub.entry_mode = "deny"
        room.broadcast(HUB_REFRESH, {**self.refresh_payload(room.hub, False),
                                     "stale_fields": ["entry_mode"]})  # fmt: skip

    def new_invite_id(self) -> str:
        return secrets.token_urlsafe(6)

    def session_token(self, session_id: str) -> str:
        """``Ret.SessionToken.token_for_session``: reused for the same session."""
        token = next((t for t, s in self._tokens.items() if s == session_id), None)
        if token is None:
            token = secrets.token_urlsafe(24)
            self._tokens[token] = session_id
        return token

    # --- sockets ------------------------------------------------------------

    def disconnect_session(self, session_id: str) -> bool:
        """``Endpoint.broadcast("session:<id>", "disconnect")``: its sockets close;
        a simulated avatar of that session leaves."""
        found = False
        for conn in [c for c in self._conns if c.session_id == session_id]:
            found = True
            asyncio.get_running_loop().create_task(conn.ws.close(code=WSCloseCode.GOING_AWAY))
        for room in self.rooms.values():
            if session_id in room.metas and session_id not in room.subscribers:
                room.untrack(session_id)
                found = True
        return found

    async def kick(self, session_id: str) -> bool:
        """Close the whole socket of a session (as ``kick``); an avatar just leaves."""
        found = False
        for conn in [c for c in self._conns if c.session_id == session_id]:
            found = True
            await conn.ws.close(code=WSCloseCode.GOING_AWAY)
        for room in self.rooms.values():
            if session_id in room.metas and session_id not in room.subscribers:
                room.untrack(session_id)
                found = True
        return found

    async def drop_all_sockets(self) -> None:
        """Close every socket, as a restarting server would."""
        for conn in list(self._conns):
            await conn.ws.close(code=WSCloseCode.GOING_AWAY)

    def broadcast_ret_deploy(self) -> None:
        """``notice {"event": "ret-deploy"}`` on ``ret`` to every socket joined to it."""
        for conn in self._ret:
            conn.send(PhxMessage(join_ref=None, ref=None, topic=RET_TOPIC, event="notice",
                                 payload={"event": "ret-deploy"}))  # fmt: skip

    # --- avatars ------------------------------------------------------------

    def add_avatar(
        self, hub_id: str, name: str, device: Device = "desktop", *, avatar_id: str = ""
    ) -> Avatar:
        """A simulated anonymous web-client session joining the room's lobby."""
        room = self.rooms.get(hub_id)
        if room is None:
            raise KeyError(f"no hub {hub_id!r}")
        if room.hub.entry_mode == "deny":
            raise ValueError(f"hub {hub_id!r} is closed")
        session_id = str(uuid.uuid4())
        profile = {"displayName": name, "avatarId": avatar_id or secrets.token_urlsafe(4)}
        room.track(session_id, profile, context_for(device), roles=self.roles(room.hub, None),
                   permissions=self.perms(room.hub, None))  # fmt: skip
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

    # --- the websocket ------------------------------------------------------

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
                self.heartbeats_answered += 1
                conn.reply(msg, "ok", {})
        elif msg.event == PHX_JOIN and msg.topic.startswith(HUB_PREFIX):
            self.channels.join(conn, msg)
        elif msg.event == PHX_JOIN and msg.topic == RET_TOPIC:
            self.kill_join(conn, msg.topic)
            conn.joins[msg.topic] = msg.join_ref or ""
            self._ret[conn] = msg.join_ref or ""
            conn.reply(msg, "ok", {})
        elif msg.topic not in conn.joins:
            conn.reply(msg, "error", {"reason": "unmatched topic"})
        elif msg.event == PHX_LEAVE:
            self._leave_topic(conn, msg.topic)
            conn.reply(msg, "ok", {})
        elif msg.topic.startswith(HUB_PREFIX):
            self.channels.handle_in(conn, msg)

    def kill_join(self, conn: Conn, topic: str) -> None:
        """Joining a topic twice kills the first join: ``phx_close`` on its join_ref."""
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
        room = self.rooms.get(topic.removeprefix(HUB_PREFIX))
        if room is not None and room.subscribers.get(conn.session_id) is not None:
            channel = room.subscribers[conn.session_id]
            if isinstance(channel, Channel) and channel.conn is conn:
                del room.subscribers[conn.session_id]
                room.untrack(conn.session_id)


async def serve_simulator(
    host: str = "127.0.0.1",
    port: int = 4000,
    avatars: int = 0,
    admin_key: str | None = None,
    bot_key: str | None = None,
    *,
    crowd_duration: float = 120.0,
    seed: int | None = None,
    lenient: bool = False,
    api_token: str | None = None,
) -> None:
    """Run a simulator with one demo room until cancelled (``hubs-bridge simulate-hubs``).

    Strict by default, with the token API switched on (an admin's "API Access")
    and one app token and one account registered and printed. ``lenient``
    switches the throttle off and lets rooms be created over ``POST`` without
    a default scene listing (the demo-friendly behaviour of earlier versions).
    With ``avatars > 0`` a crowd comes and goes in every open room, round after
    round of ``crowd_duration`` seconds.
    """
    from hubs_bridge.hubs.sim_graphql import add_api_token

    sim = HubsSimulator(
        host=host,
        admin_key=admin_key,
        bot_key=bot_key,
        public_api_access=True,
        throttle_period_s=0.0 if lenient else 1.0,
        default_listings=not lenient,
        seed=seed,
    )
    bound = await sim.start(port)
    hub = sim.create_hub("Demo Room", scene_id="demo-scene", hub_id="demo123")
    account = sim.add_account("hubs-bridge")
    token = api_token or secrets.token_urlsafe(24)
    add_api_token(sim, token)
    print(
        f"Hubs simulator on {sim.base_url}/ (socket {sim.socket_url}); "
        f"room {hub.hub_id} at {sim.hub_url(hub)}; port {bound}; "
        f"{avatars} simulated people per room; {'lenient' if lenient else 'strict'}\n"
        f"  HUBS_BRIDGE_HUBS__API_TOKEN={token}\n"
        f"  HUBS_BRIDGE_HUBS__ACCOUNT_TOKEN={account.token}",
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
