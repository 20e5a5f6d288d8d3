"""The Hubs server simulator against real websocket and HTTP clients (PROTOCOL.md §1-§5).

Frames the simulator sends are decoded with the bridge's own models
(``hubs_bridge.hubs.frames``) and compared with the shapes of
``tests/data/reticulum_frames.json``.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from websockets.asyncio.client import connect

from hubs_bridge.hubs.frames import (
    ChatMessage,
    HubRefresh,
    JoinError,
    JoinReply,
    PresenceDiff,
    PresenceState,
    RetNotice,
    parse_payload,
)
from hubs_bridge.hubs.presence import RoomPresence
from hubs_bridge.hubs.sim_crowd import crowd_every_room
from hubs_bridge.hubs.simulator import HubsSimulator
from tests.harness.phx_client import WAIT, Phx
from tests.harness.waiting import eventually

FRAMES = json.loads((Path(__file__).parent / "data" / "reticulum_frames.json").read_text())
ADMIN = "ADMIN-KEY"
BOT = "BOT-KEY"


@pytest.fixture
async def sim() -> AsyncIterator[HubsSimulator]:
    async with HubsSimulator(admin_key=ADMIN, bot_key=BOT) as simulator:
        yield simulator


@pytest.fixture
async def client(sim: HubsSimulator) -> AsyncIterator[Phx]:
    async with connect(sim.socket_url, open_timeout=WAIT) as ws:
        yield Phx(ws)


def meta_keys(frame_name: str) -> set[str]:
    payload = FRAMES[frame_name][4]
    entries = payload.get("joins") or payload
    return set(next(iter(entries.values()))["metas"][0])


async def test_meta_points_at_itself(sim: HubsSimulator) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{sim.base_url}/api/v1/meta") as resp:
        body = await resp.json()
    assert set(body) == set(FRAMES["http_meta_response"])
    # lib/ret/meta.ex: the endpoint's internal https port, not the one listened on.
    assert (body["phx_host"], body["phx_port"]) == ("127.0.0.1", "4000")


async def test_heartbeat_is_answered_like_the_example(client: Phx) -> None:
    ref = await client.push("phoenix", "heartbeat", {})
    msg, reply = await client.reply(ref)
    expected = FRAMES["heartbeat_reply"]
    assert [msg.join_ref, msg.topic, msg.event, msg.payload] == [None, *expected[2:]]
    assert reply.status == "ok"


async def test_join_ok_then_own_join_then_presence_state(sim: HubsSimulator, client: Phx) -> None:
    hub = sim.create_hub("Stand Open Data", scene_id="sc3n31d")
    sim.add_avatar(hub.hub_id, "Bernd", "mobile").enter()
    reply = await client.join(hub.hub_id, "StadtLABOR", discord=True, bot_access_key=BOT)
    assert reply.status == "ok"
    assert set(reply.response) == set(FRAMES["join_reply_ok"][4]["response"])
    joined = parse_payload(JoinReply, reply.response)
    assert set(reply.response["hubs"][0]) == set(FRAMES["join_reply_ok"][4]["response"]["hubs"][0])
    assert joined.hub.scene is not None and joined.hub.scene.scene_id == "sc3n31d"
    assert (joined.hub.member_count, joined.hub.lobby_count) == (1, 0)

    own = await client.recv()
    assert own.event == "presence_diff"
    assert own.join_ref is None and joined.session_id in own.payload["joins"]
    state = await client.recv()
    assert state.event == "presence_state"
    assert state.join_ref == client.join_refs[f"hub:{hub.hub_id}"] and state.ref is None
    sessions = PresenceState.model_validate(state.payload).root
    assert joined.session_id in sessions and len(sessions) == 2
    assert meta_keys("presence_state") <= set(state.payload[joined.session_id]["metas"][0])

    presence = RoomPresence(own_session_id=joined.session_id)
    presence.apply("presence_state", state.payload)
    presence.apply("presence_diff", own.payload)
    assert [p.display_name for p in presence.people()] == ["Bernd"]
    # The bot (context.discord) is out of the server's counts too.
    assert sim.room(hub.hub_id).counts() == (1, 0)


@pytest.mark.parametrize(
    ("case", "frame"),
    [
        ("unknown", "join_reply_not_found"),
        ("closed", "join_reply_closed"),
        ("invite_only", "join_reply_denied"),
    ],
)
async def test_join_errors_match_the_examples(
    sim: HubsSimulator, client: Phx, case: str, frame: str
) -> None:
    hub = sim.create_hub("Room", scene_id="s")
    if case == "closed":
        sim.hubs[hub.hub_id].entry_mode = "deny"
    if case == "invite_only":
        sim.hubs[hub.hub_id].entry_mode = "invite"
    hub_id = "nope123" if case == "unknown" else hub.hub_id
    reply = await client.join(hub_id, discord=True, bot_access_key=BOT)
    assert reply.status == "error"
    assert reply.response == FRAMES[frame][4]["response"]
    assert parse_payload(JoinError, reply.response).fatal
    assert sim.sessions(hub.hub_id) == {}


async def test_oauth_missing_fields_and_unmatched_topic(sim: HubsSimulator, client: Phx) -> None:
    hub = sim.create_hub("Members only", scene_id="s", requires_oauth=True)
    reply = await client.join(hub.hub_id)
    assert reply.response["reason"] == "oauth_required" and reply.response["oauth_info"]

    ref = await client.push(f"hub:{hub.hub_id}", "phx_join", {"profile": {"displayName": "X"}})
    assert (await client.reply(ref))[1].status == "error"

    for topic, event in (("nonsense:1", "phx_join"), ("hub:never-joined", "message")):
        ref = await client.push(topic, event, {"type": "chat", "body": "x"})
        _, reply = await client.reply(ref)
        assert (reply.status, reply.response) == ("error", {"reason": "unmatched topic"})


async def test_avatar_lifecycle_diffs(sim: HubsSimulator, client: Phx) -> None:
    hub = sim.create_hub("Room", scene_id="s")
    joined = parse_payload(JoinReply, (await client.join(hub.hub_id, "Bridge")).response)
    presence = RoomPresence(own_session_id=joined.session_id)
    _own, state = await client.tracked()
    presence.apply("presence_state", state.payload)

    async def diff() -> PresenceDiff:
        msg = await client.expect("presence_diff")
        assert (msg.join_ref, msg.ref) == (None, None)
        presence.apply("presence_diff", msg.payload)
        return PresenceDiff.model_validate(msg.payload)

    bernd = sim.add_avatar(hub.hub_id, "Bernd", "mobile")
    arrived = await diff()
    assert not arrived.leaves
    meta = arrived.joins[bernd.session_id].metas[-1]
    assert (meta.presence, meta.context.mobile, meta.phx_ref_prev) == ("lobby", True, None)
    assert presence.counts().lobby == 1

    bernd.enter()
    entering = await diff()
    assert entering.joins[bernd.session_id].metas[-1].context.entering
    assert presence.counts().entering == 1
    entered = await diff()
    new, old = entered.joins[bernd.session_id].metas[-1], entered.leaves[bernd.session_id].metas[-1]
    assert (new.presence, new.phx_ref_prev, old.presence) == ("room", old.phx_ref, "lobby")
    assert not new.context.entering
    assert set(entered.model_dump(by_alias=True)) == set(FRAMES["presence_diff_enter_room"][4])
    assert meta_keys("presence_diff_enter_room") <= set(sim.sessions(hub.hub_id)[bernd.session_id])

    bernd.raise_hand()
    assert (await diff()).joins[bernd.session_id].metas[-1].hand_raised
    assert presence.counts().hands == 1
    bernd.lower_hand()
    assert not (await diff()).joins[bernd.session_id].metas[-1].hand_raised

    bernd.leave()
    left = await diff()
    assert not left.joins and bernd.session_id in left.leaves
    assert presence.counts().total == 0 and not bernd.present


async def test_chat_reaches_everyone_including_the_sender(sim: HubsSimulator) -> None:
    hub = sim.create_hub("Room", scene_id="s")
    async with (
        connect(sim.socket_url, open_timeout=WAIT) as ws_a,
        connect(sim.socket_url, open_timeout=WAIT) as ws_b,
    ):
        a, b = Phx(ws_a), Phx(ws_b)
        sid_a = (await a.join(hub.hub_id, "Bot", discord=True, bot_access_key=BOT)).response
        await b.join(hub.hub_id, "Anna")
        payload = dict(FRAMES["chat_from_bot"][4])
        await a.push(f"hub:{hub.hub_id}", "message", payload)
        for client in (a, b):
            msg = await client.expect("message")
            chat = parse_payload(ChatMessage, msg.payload)
            assert (msg.join_ref, msg.ref) == (None, None)
            assert (chat.body, chat.author, chat.session_id) == (
                payload["body"],
                "StadtLABOR",
                sid_a["session_id"],
            )

        avatar = sim.add_avatar(hub.hub_id, "Bernd")
        avatar.say("/frage Wann kommt das Glasfasernetz nach Soest?")
        msg = await b.expect("message")
        expected = {**FRAMES["chat_broadcast"][4], "session_id": avatar.session_id}
        assert msg.payload == expected


async def test_idle_socket_is_dropped() -> None:
    simulator = HubsSimulator(idle_timeout_s=0.3)
    await simulator.start(0)
    try:
        async with connect(simulator.socket_url, open_timeout=WAIT, ping_interval=None) as ws:
            client = Phx(ws)
            await client.push("phoenix", "heartbeat", {})
            assert (await client.recv()).event == "phx_reply"
            assert await client.closed(timeout=2.0)
    finally:
        await simulator.stop()


async def test_kick_closes_the_socket_and_others_see_the_leave(sim: HubsSimulator) -> None:
    hub = sim.create_hub("Room", scene_id="s")
    async with (
        connect(sim.socket_url, open_timeout=WAIT) as ws_a,
        connect(sim.socket_url, open_timeout=WAIT) as ws_b,
    ):
        a, b = Phx(ws_a), Phx(ws_b)
        await a.join(hub.hub_id, "Watcher")
        victim = (await b.join(hub.hub_id, "Troll")).response["session_id"]
        await a.expect("presence_diff")  # own join
        assert victim in (await a.expect("presence_diff")).payload["joins"]
        assert await sim.kick(victim)
        assert await b.closed()
        assert victim in (await a.expect("presence_diff")).payload["leaves"]
        assert victim not in sim.sessions(hub.hub_id)


async def test_session_token_keeps_the_session_id(sim: HubsSimulator) -> None:
    hub = sim.create_hub("Room", scene_id="s")
    async with connect(sim.socket_url, open_timeout=WAIT) as ws:
        first = parse_payload(JoinReply, (await Phx(ws).join(hub.hub_id)).response)
    assert first.session_token
    url = f"{sim.socket_url}&session_token={first.session_token}"
    async with connect(url, open_timeout=WAIT) as ws:
        again = parse_payload(JoinReply, (await Phx(ws).join(hub.hub_id)).response)
    assert again.session_id == first.session_id
    async with connect(sim.socket_url, open_timeout=WAIT) as ws:
        other = parse_payload(JoinReply, (await Phx(ws).join(hub.hub_id)).response)
    assert other.session_id != first.session_id


async def test_joining_twice_kills_the_first_join(sim: HubsSimulator, client: Phx) -> None:
    hub = sim.create_hub("Room", scene_id="s")
    topic = f"hub:{hub.hub_id}"
    await client.join(hub.hub_id)
    assert (await client.join(hub.hub_id)).status == "ok"
    assert len(sim.sessions(hub.hub_id)) == 1
    await client.push(topic, "phx_leave", {})
    _, left = await client.reply(str(client.ref))
    assert left.status == "ok" and sim.sessions(hub.hub_id) == {}


async def test_second_join_sends_phx_close_on_the_old_join_ref(
    sim: HubsSimulator, client: Phx
) -> None:
    hub = sim.create_hub("Room", scene_id="s")
    topic = f"hub:{hub.hub_id}"
    await client.push(topic, "phx_join", {"profile": {"displayName": "A"}, "context": {}})
    first_ref = client.join_refs[topic]
    await client.expect("presence_diff")
    await client.push(topic, "phx_join", {"profile": {"displayName": "A"}, "context": {}})
    closed = await client.expect("phx_close")
    expected = FRAMES["phx_close"]
    assert [closed.join_ref, closed.ref, closed.event, closed.payload] == [
        first_ref,
        first_ref,
        *expected[3:],
    ]
    _, reply = await client.reply(client.join_refs[topic])
    assert reply.status == "ok"


async def test_close_hub_and_ret_deploy(sim: HubsSimulator, client: Phx) -> None:
    hub = sim.create_hub("Room", scene_id="s")
    ref = await client.push("ret", "phx_join", {"hub_id": hub.hub_id})
    assert (await client.reply(ref))[1].status == "ok"
    await client.join(hub.hub_id)
    sim.close_hub(hub.hub_id)
    refresh = parse_payload(HubRefresh, (await client.expect("hub_refresh")).payload)
    assert (refresh.hub.entry_mode, refresh.stale_fields) == ("deny", ["entry_mode"])
    sim.broadcast_ret_deploy()
    notice = await client.expect("notice")
    assert notice.topic == "ret" and parse_payload(RetNotice, notice.payload).is_deploy
    with pytest.raises(ValueError, match="closed"):
        sim.add_avatar(hub.hub_id, "Late")


async def test_crowd_comes_and_goes_within_its_duration(sim: HubsSimulator, client: Phx) -> None:
    hub = sim.create_hub("Kirmes", scene_id="s")
    joined = parse_payload(JoinReply, (await client.join(hub.hub_id, "Bridge")).response)
    presence = RoomPresence(own_session_id=joined.session_id)
    presence.apply("presence_state", (await client.expect("presence_state")).payload)
    seen_room = seen_hands = 0
    chats: list[str] = []

    async def watch() -> None:
        nonlocal seen_room, seen_hands
        while True:
            msg = await client.recv(timeout=WAIT)
            if msg.event == "presence_diff":
                presence.apply("presence_diff", msg.payload)
                seen_room = max(seen_room, presence.counts().room)
                seen_hands = max(seen_hands, presence.counts().hands)
            elif msg.event == "message":
                chats.append(msg.payload["body"])

    watcher = asyncio.create_task(watch())
    await asyncio.wait_for(
        sim.run_crowd([hub.hub_id], avatars=12, rng=random.Random(7), duration=0.6), 3.0
    )
    # The crowd is gone: once the watcher has seen it come and go, it has every frame.
    await eventually(
        lambda: seen_room > 0 and presence.counts().total == 0,
        what="the crowd seen coming and going",
        timeout=WAIT,
    )
    watcher.cancel()
    with pytest.raises(asyncio.CancelledError):
        await watcher
    assert seen_room > 0 and seen_hands > 0
    assert any(body.startswith("/frage ") for body in chats)
    assert presence.counts().total == 0
    assert list(sim.sessions(hub.hub_id)) == [joined.session_id]


async def test_client_events_update_its_presence(sim: HubsSimulator) -> None:
    hub = sim.create_hub("Room", scene_id="s")
    topic = f"hub:{hub.hub_id}"
    async with (
        connect(sim.socket_url, open_timeout=WAIT) as ws_a,
        connect(sim.socket_url, open_timeout=WAIT) as ws_b,
    ):
        a, b = Phx(ws_a), Phx(ws_b)
        await a.join(hub.hub_id, "Watcher")
        await a.expect("presence_diff")
        sid = (await b.join(hub.hub_id, "Clara")).response["session_id"]
        await a.expect("presence_diff")
        steps: list[tuple[str, dict[str, Any]]] = [
            ("events:entering", {}),
            ("events:entering_cancelled", {}),
            ("events:entered", {}),
            ("events:raise_hand", {}),
            ("events:profile_updated", {"profile": {"displayName": "Clara K", "avatarId": ""}}),
        ]
        for event, payload in steps:
            await b.push(topic, event, payload)
        metas = []
        for _ in steps:
            diff = PresenceDiff.model_validate((await a.expect("presence_diff")).payload)
            assert diff.leaves[sid].metas[-1].phx_ref == diff.joins[sid].metas[-1].phx_ref_prev
            metas.append(diff.joins[sid].metas[-1])
        assert [m.context.entering for m in metas[:2]] == [True, False]
        assert (metas[2].presence, metas[3].hand_raised) == ("room", True)
        assert metas[4].profile.display_name == "Clara K" and metas[4].hand_raised
        assert sim.room(hub.hub_id).counts() == (1, 1)

        await sim.drop_all_sockets()
        assert await a.closed() and await b.closed()
    assert sim.sessions(hub.hub_id) == {}


async def test_serve_simulator_runs_until_cancelled(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    from hubs_bridge.hubs.simulator import serve_simulator

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    task = asyncio.create_task(
        serve_simulator(
            "127.0.0.1", port, avatars=3, admin_key=None, bot_key=None, crowd_duration=0.5, seed=1
        )
    )
    try:
        async with aiohttp.ClientSession() as http:

            async def serving() -> bool:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/api/v1/meta") as resp:
                        assert resp.status == 200
                        return True
                except aiohttp.ClientConnectionError:
                    return False

            await eventually(serving, what="the simulator to serve its meta", timeout=WAIT)
        async with connect(f"ws://127.0.0.1:{port}/socket/websocket?vsn=2.0.0") as ws:
            assert (await Phx(ws).join("demo123")).status == "ok"
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, WAIT)
    assert f"http://127.0.0.1:{port}/" in capsys.readouterr().out


async def test_every_room_gets_a_crowd_also_rooms_created_later(sim: HubsSimulator) -> None:
    """A new user provisions an event against `simulate-hubs --avatars K`: people must
    come into those new rooms too, not only into the demo room."""
    first = sim.create_hub("Demo", scene_id="s")
    crowd = asyncio.create_task(
        crowd_every_room(sim, avatars=3, rng=random.Random(7), duration=2.0, poll_s=0.05)
    )
    try:
        # The crowd is at work in the first room before the second one is made.
        await eventually(lambda: sim.room(first.hub_id).metas, what="people in the first room")
        later = sim.create_hub("Provisioned later", scene_id="s")
        await eventually(
            lambda: sim.room(first.hub_id).metas and sim.room(later.hub_id).metas,
            what="people in both rooms",
            timeout=WAIT,
        )
    finally:
        crowd.cancel()
        await asyncio.gather(crowd, return_exceptions=True)
    assert not sim.room(first.hub_id).metas and not sim.room(later.hub_id).metas  # all left
