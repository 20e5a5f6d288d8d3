"""ReticulumClient against a small fake Phoenix server on port 0.

The fake answers as Reticulum does (PROTOCOL.md §1-§4, frames from
``tests/data/reticulum_frames.json``) and lets each test misbehave on cue:
refuse joins, crash a channel, drop the socket, stop answering heartbeats,
announce a deploy. Timers are scaled down so every test runs in well under a
second; every wait is bounded by a deadline.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import logging
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType, web

from hubs_bridge.hubs.client import NotJoined, ReticulumClient
from hubs_bridge.hubs.client_events import (
    ChatReceived,
    ConnectionState,
    HubRefreshed,
    PresenceChanged,
    RoomEvent,
    RoomFailed,
    RoomJoined,
    RoomLost,
)
from hubs_bridge.hubs.client_meta import ServerMeta, socket_url
from tests.conftest import free_port
from tests.harness.waiting import eventually

FRAMES: dict[str, Any] = json.loads(
    (Path(__file__).parent / "data" / "reticulum_frames.json").read_text()
)
SID = "Xr4bQyz"
OTHER = "Ot4erRm"  # a second room, for tests that need one
TOPIC = f"hub:{SID}"
ANNA = "0f1e2d3c-aaaa-4bbb-8ccc-000000000001"
BERND = "0f1e2d3c-aaaa-4bbb-8ccc-000000000002"
OTHER_BOT = "6a1f0c2e-7d6b-4f7a-9a57-0c7d2f3b9e11"  # a Discord bot already in the room
WAIT = 5.0
CLIENT_LOG = "hubs_bridge.hubs.client"


def reconnects(caplog: pytest.LogCaptureFixture) -> int:
    """How often the client has gone into its backoff wait before connecting again."""
    return sum(r.getMessage().startswith("reconnecting to") for r in caplog.records)


# --- the fake Reticulum --------------------------------------------------------


@dataclass
class FakeSocket:
    ws: web.WebSocketResponse
    query: dict[str, str]
    session_id: str
    received: list[list[Any]] = field(default_factory=list)
    join_refs: dict[str, str] = field(default_factory=dict)

    def events(self, event: str, topic: str | None = None) -> list[list[Any]]:
        return [f for f in self.received if f[3] == event and topic in (None, f[2])]


class FakeReticulum:
    """Reticulum's socket and meta endpoint, as far as the bridge uses them."""

    def __init__(self) -> None:
        self.rooms: dict[str, str | None] = {SID: None}  # sid -> join error reason, or ok
        self.answer_heartbeats = True
        self.sockets: list[FakeSocket] = []
        self._tokens: dict[str, str] = {}  # session_token -> session_id
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def current(self) -> FakeSocket:
        return self.sockets[-1]

    def joins(self, topic: str) -> list[list[Any]]:
        return [f for s in self.sockets for f in s.events("phx_join", topic)]

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_get("/api/v1/meta", self._meta)
        app.router.add_get("/socket/websocket", self._socket)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _meta(self, request: web.Request) -> web.Response:
        # Like Hubs CE: phx_port is the endpoint's internal port (lib/ret/meta.ex), not
        # the one the socket is reached on; every test here proves it is not used.
        meta = dict(FRAMES["http_meta_response"], phx_host="127.0.0.1", phx_port="4000")
        return web.json_response(meta)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        token = request.query.get("session_token")
        session_id = self._tokens.get(token or "") or f"session-{next(self._ids)}"
        sock = FakeSocket(ws, dict(request.query), session_id)
        self.sockets.append(sock)
        async for msg in ws:
            if msg.type is WSMsgType.TEXT:
                frame = json.loads(msg.data)
                sock.received.append(frame)
                await self._on_frame(sock, frame)
        return ws

    async def _on_frame(self, sock: FakeSocket, frame: list[Any]) -> None:
        join_ref, _ref, topic, event, payload = frame
        if event == "heartbeat":
            if self.answer_heartbeats:
                await self._reply(sock, frame, "ok", {})
        elif event == "phx_join" and topic == "ret":
            sock.join_refs[topic] = join_ref
            await self._reply(sock, frame, "ok", {})
        elif event == "phx_join":
            await self._join(sock, frame)
        elif event == "phx_leave":
            sock.join_refs.pop(topic, None)
            await self._reply(sock, frame, "ok", {})
        elif event == "message":
            # The server stamps the sender and echoes to everyone, sender included (§4).
            await self.broadcast(topic, "message", {**payload, "session_id": sock.session_id})

    async def _join(self, sock: FakeSocket, frame: list[Any]) -> None:
        topic = frame[2]
        sid = topic.removeprefix("hub:")
        reason = self.rooms.get(sid, "not_found")
        if reason is not None:
            await self._reply(sock, frame, "error", {"reason": reason, "message": "refused"})
            return
        response = copy.deepcopy(FRAMES["join_reply_ok"][4]["response"])
        response["hubs"][0]["hub_id"] = sid
        response["session_id"] = sock.session_id
        response["session_token"] = f"token-{sock.session_id}"
        self._tokens[response["session_token"]] = sock.session_id
        sock.join_refs[topic] = frame[0]
        await self._reply(sock, frame, "ok", response)
        state = copy.deepcopy(FRAMES["presence_state"][4])
        own = copy.deepcopy(state[OTHER_BOT])  # the bridge sees itself in presence too
        own["metas"][0]["phx_ref"] = f"own-{sock.session_id}"
        state[sock.session_id] = own
        await sock.ws.send_json([frame[0], None, topic, "presence_state", state])

    async def _reply(
        self, sock: FakeSocket, frame: list[Any], status: str, response: dict[str, Any]
    ) -> None:
        payload = {"status": status, "response": response}
        await sock.ws.send_json([frame[0], frame[1], frame[2], "phx_reply", payload])

    async def broadcast(self, topic: str, event: str, payload: dict[str, Any]) -> None:
        for sock in self.sockets:
            if topic in sock.join_refs and not sock.ws.closed:
                await sock.ws.send_json([None, None, topic, event, payload])

    async def channel_push(self, topic: str, event: str) -> None:
        """``phx_error`` / ``phx_close`` carry the join_ref of the channel (frames.json)."""
        ref = self.current.join_refs.pop(topic)
        await self.current.ws.send_json([ref, ref, topic, event, {}])


# --- fixtures --------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.events: list[RoomEvent] = []

    def __call__(self, event: RoomEvent) -> None:
        self.events.append(event)

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    async def wait(self, kind: type[Any], count: int = 1) -> list[Any]:
        await eventually(
            lambda: len(self.of(kind)) >= count, what=f"{count} {kind.__name__}", timeout=WAIT
        )
        return self.of(kind)


@pytest.fixture
async def fake() -> AsyncIterator[FakeReticulum]:
    server = FakeReticulum()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def make_client(recorder: Recorder) -> AsyncIterator[Callable[..., ReticulumClient]]:
    clients: list[ReticulumClient] = []

    def make(base_url: str, **options: Any) -> ReticulumClient:
        values: dict[str, Any] = {
            "bot_name": "StadtLABOR",
            "bot_access_key": "BOT-KEY",
            "on_event": recorder,
            "rng": random.Random(7),
            "heartbeat_interval": 0.3,
            "reply_timeout": 1.0,
            "backoff_scale": 0.01,  # reconnect after ~0.1-50 ms, rejoin after ~10-100 ms
            "deploy_reconnect_max": 0.05,
        }
        values.update(options)
        client = ReticulumClient(base_url, **values)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def joined(
    fake: FakeReticulum, recorder: Recorder, make_client: Callable[..., ReticulumClient]
) -> ReticulumClient:
    """A client in room SID with its first presence applied."""
    client = make_client(fake.base_url)
    client.start()
    client.join_room(SID)
    await recorder.wait(PresenceChanged)
    return client


# --- tests -----------------------------------------------------------------


async def test_join_reports_room_and_people_without_bots(
    fake: FakeReticulum, recorder: Recorder, joined: ReticulumClient
) -> None:
    [room] = recorder.of(RoomJoined)
    assert room.hub_sid == SID
    assert room.hub.name == "Digitale Kirmes - Stand Open Data"
    assert room.session_id == fake.current.session_id
    assert recorder.events[0] == ConnectionState(connected=True)

    [presence] = recorder.of(PresenceChanged)
    assert not presence.presence.stale
    # Neither the bridge's own session nor the other Discord bot count as people.
    assert [p.display_name for p in presence.presence.people()] == ["Anna", "Bernd"]

    sock = fake.current
    assert sock.query == {"vsn": "2.0.0"}  # no session token yet
    [join] = sock.events("phx_join", TOPIC)
    assert join[4] == FRAMES["join_bot"][4]  # exactly what the Discord bot sends (§2)
    assert sock.events("phx_join", "ret")  # for ret-deploy notices (§4)
    # A quiet bot stays in the lobby: it never enters the room (§2).
    assert not [f for f in sock.received if f[3].startswith("events:")]


async def test_presence_diff_updates_people(
    fake: FakeReticulum, recorder: Recorder, joined: ReticulumClient
) -> None:
    await fake.broadcast(TOPIC, "presence_diff", FRAMES["presence_diff_enter_room"][4])
    [_, changed] = await recorder.wait(PresenceChanged, 2)
    where = {p.display_name: p.where for p in changed.presence.people()}
    assert where == {"Anna": "room", "Bernd": "room"}


async def test_chat_in_and_out_never_relays_own_messages(
    fake: FakeReticulum, recorder: Recorder, joined: ReticulumClient
) -> None:
    joined.send_chat(SID, "Jetzt beantwortet: Glasfaser", author="StadtLABOR")
    await eventually(
        lambda: fake.current.events("message", TOPIC), what="the chat line sent", timeout=WAIT
    )
    [sent] = fake.current.events("message", TOPIC)
    assert sent[4] == {"type": "chat", "body": "Jetzt beantwortet: Glasfaser", "from": "StadtLABOR"}

    # The echo of our own message went out before this one; once this one is
    # seen, the echo was handled (and must have been dropped).
    await fake.broadcast(TOPIC, "message", FRAMES["chat_broadcast"][4])
    [chat] = await recorder.wait(ChatReceived)
    assert chat == ChatReceived(
        hub_sid=SID,
        session_id=BERND,
        display_name="Bernd",
        body="/frage Wann kommt das Glasfasernetz nach Soest?",
        author_override=None,
    )
    # A frame after it, handled: everything before it was handled too (one reader, in order).
    await fake.broadcast(TOPIC, "hub_refresh", FRAMES["hub_refresh_closed"][4])
    await recorder.wait(HubRefreshed)
    assert len(recorder.of(ChatReceived)) == 1

    with pytest.raises(ValueError, match="750"):
        joined.send_chat(SID, "x" * 751)
    with pytest.raises(NotJoined):
        joined.send_chat("unknown", "hallo")


async def test_hub_refresh_reports_entry_mode(
    fake: FakeReticulum, recorder: Recorder, joined: ReticulumClient
) -> None:
    await fake.broadcast(TOPIC, "hub_refresh", FRAMES["hub_refresh_closed"][4])
    [refresh] = await recorder.wait(HubRefreshed)
    assert (refresh.hub_sid, refresh.entry_mode, refresh.stale_fields) == (
        SID,
        "deny",
        ("entry_mode",),
    )


@pytest.mark.parametrize("reason", ["not_found", "closed", "join_denied", "oauth_required"])
async def test_fatal_join_error_fails_the_room_without_retry(
    fake: FakeReticulum,
    recorder: Recorder,
    make_client: Callable[..., ReticulumClient],
    reason: str,
) -> None:
    fake.rooms["nope123"] = reason
    client = make_client(fake.base_url)
    client.start()
    client.join_room("nope123")
    client.join_room(SID)
    [failed] = await recorder.wait(RoomFailed)
    assert (failed.hub_sid, failed.reason) == ("nope123", reason)
    await recorder.wait(RoomJoined)
    # A heartbeat comes 0.3 s after the socket opened: many times the scaled rejoin delays.
    await eventually(lambda: fake.current.events("heartbeat"), what="a heartbeat", timeout=WAIT)
    assert len(fake.joins("hub:nope123")) == 1
    assert client.rooms == (SID,)
    assert not recorder.of(RoomLost)


async def test_retryable_join_error_is_retried(
    fake: FakeReticulum, recorder: Recorder, make_client: Callable[..., ReticulumClient]
) -> None:
    fake.rooms[SID] = "unmatched topic"  # e.g. during a deploy
    client = make_client(fake.base_url)
    client.start()
    client.join_room(SID)
    await eventually(lambda: len(fake.joins(TOPIC)) >= 2, what="a second join", timeout=WAIT)
    fake.rooms[SID] = None
    await recorder.wait(RoomJoined)
    assert not recorder.of(RoomFailed)


@pytest.mark.parametrize("event", ["phx_error", "phx_close"])
async def test_lost_channel_reports_room_lost_then_rejoins(
    fake: FakeReticulum, recorder: Recorder, joined: ReticulumClient, event: str
) -> None:
    await fake.channel_push(TOPIC, event)
    await recorder.wait(RoomJoined, 2)
    kinds = [type(e) for e in recorder.events if isinstance(e, RoomLost | RoomJoined)]
    assert kinds == [RoomJoined, RoomLost, RoomJoined]
    assert len(fake.sockets) == 1  # only the channel was rejoined
    assert len(fake.joins(TOPIC)) == 2


async def test_dropped_socket_reconnects_with_the_same_session(
    fake: FakeReticulum, recorder: Recorder, joined: ReticulumClient
) -> None:
    first = fake.current
    stale_when_lost: list[bool] = []
    original = recorder.__call__

    def check(event: RoomEvent) -> None:
        if isinstance(event, RoomLost):
            presence = joined.presence(SID)
            stale_when_lost.append(presence is not None and presence.stale)
        original(event)

    joined._on_event = check  # observe presence at the moment RoomLost is emitted
    await first.ws.close()  # a kick closes the whole socket (§4)
    await recorder.wait(RoomJoined, 2)
    assert stale_when_lost == [True]
    assert len(fake.sockets) == 2
    second = fake.current
    assert second.query == {"vsn": "2.0.0", "session_token": f"token-{first.session_id}"}
    assert second.session_id == first.session_id
    story = [e for e in recorder.events if isinstance(e, RoomLost | RoomJoined | ConnectionState)]
    assert [type(e).__name__ for e in story] == [
        "ConnectionState",
        "RoomJoined",
        "RoomLost",
        "ConnectionState",
        "ConnectionState",
        "RoomJoined",
    ]
    assert [e.connected for e in story if isinstance(e, ConnectionState)] == [True, False, True]
    assert second.events("phx_join", "ret")


async def test_unanswered_heartbeat_reconnects(
    fake: FakeReticulum, recorder: Recorder, joined: ReticulumClient
) -> None:
    await eventually(lambda: fake.current.events("heartbeat"), what="a heartbeat", timeout=WAIT)
    fake.answer_heartbeats = False
    await eventually(lambda: len(fake.sockets) == 2, what="a second socket", timeout=3.0)
    fake.answer_heartbeats = True
    await recorder.wait(RoomJoined, 2)
    assert recorder.of(RoomLost) == [RoomLost(SID)]
    assert fake.sockets[0].ws.closed


async def test_answered_heartbeats_keep_the_socket(
    fake: FakeReticulum, recorder: Recorder, joined: ReticulumClient
) -> None:
    await eventually(
        lambda: len(fake.current.events("heartbeat")) >= 3, what="3 heartbeats", timeout=3.0
    )
    assert len(fake.sockets) == 1
    assert not recorder.of(RoomLost)


async def test_ret_deploy_notice_reconnects_after_a_random_delay(
    fake: FakeReticulum, recorder: Recorder, joined: ReticulumClient
) -> None:
    await fake.broadcast("ret", "notice", {"event": "ret-deploy"})
    await recorder.wait(RoomJoined, 2)
    assert len(fake.sockets) == 2
    assert recorder.of(RoomLost) == [RoomLost(SID)]


async def test_unreachable_server_is_retried_until_it_comes(
    recorder: Recorder,
    make_client: Callable[..., ReticulumClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=CLIENT_LOG)
    port = free_port()
    client = make_client(f"http://127.0.0.1:{port}")
    client.start()
    client.join_room(SID)
    await eventually(lambda: reconnects(caplog) >= 3, what="several failed attempts", timeout=WAIT)
    assert not client.connected
    server = FakeReticulum()
    await server.start(port)
    try:
        await recorder.wait(RoomJoined)
    finally:
        await client.close()
        await server.stop()


async def test_close_leaves_channels_and_stops_everything(
    fake: FakeReticulum, recorder: Recorder, joined: ReticulumClient
) -> None:
    sock = fake.current
    await joined.close()
    assert sock.events("phx_leave", TOPIC)
    assert sock.events("phx_leave", "ret")
    await eventually(lambda: sock.ws.closed, what="the socket closed", timeout=WAIT)
    assert recorder.events[-1] == ConnectionState(connected=False)
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("reticulum")]
    await joined.close()  # idempotent


async def test_close_while_disconnected_is_prompt(
    recorder: Recorder,
    make_client: Callable[..., ReticulumClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=CLIENT_LOG)
    client = make_client(f"http://127.0.0.1:{free_port()}", backoff_scale=10.0)
    client.start()
    client.join_room(SID)
    await eventually(lambda: reconnects(caplog), what="the client in its backoff", timeout=WAIT)
    async with asyncio.timeout(1.0):
        await client.close()
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("reticulum")]
    assert not recorder.of(ConnectionState)


async def test_leave_room_sends_leave_and_stops_its_events(
    fake: FakeReticulum, recorder: Recorder, joined: ReticulumClient
) -> None:
    # A second room, whose chat shows when every frame before it was handled.
    fake.rooms[OTHER] = None
    joined.join_room(OTHER)
    await recorder.wait(RoomJoined, 2)
    joined.leave_room(SID)
    await eventually(
        lambda: fake.current.events("phx_leave", TOPIC), what="the leave sent", timeout=WAIT
    )
    await fake.broadcast(TOPIC, "message", FRAMES["chat_broadcast"][4])
    await fake.broadcast(f"hub:{OTHER}", "message", FRAMES["chat_broadcast"][4])
    [chat] = await recorder.wait(ChatReceived)
    assert chat.hub_sid == OTHER  # nothing came of the room it left
    assert joined.rooms == (OTHER,)


async def test_async_with_starts_and_closes(fake: FakeReticulum, recorder: Recorder) -> None:
    async with ReticulumClient(
        fake.base_url, bot_name="Bot", bot_access_key=None, on_event=recorder
    ) as client:
        client.join_room(SID)
        await recorder.wait(RoomJoined)
        [join] = fake.current.events("phx_join", TOPIC)
        assert "bot_access_key" not in join[4]
    assert not client.connected


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://hubs.soest.example", "wss://hubs.soest.example/socket/websocket?vsn=2.0.0"),
        (
            "https://hubs.soest.example:4443",
            "wss://hubs.soest.example:4443/socket/websocket?vsn=2.0.0",
        ),
        ("http://127.0.0.1:4001", "ws://hubs.soest.example:4001/socket/websocket?vsn=2.0.0"),
    ],
)
def test_the_socket_is_on_the_web_port_never_phx_port(base: str, expected: str) -> None:
    # hubs src/utils/phoenix-utils.js refreshDirectReticulumHostAndPort: host from
    # meta, port from the web URL (or the scheme's default); meta's 4000 is internal.
    meta = ServerMeta(phx_host="hubs.soest.example", phx_port=4000)
    assert socket_url(base, meta, None) == expected
