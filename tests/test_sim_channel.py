"""The simulator's room channel is as strict as Reticulum's hub_channel.ex."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from websockets.asyncio.client import connect

from hubs_bridge.hubs.simulator import HubsSimulator
from tests.harness.phx_client import WAIT, Phx
from tests.harness.waiting import eventually


@pytest.fixture
async def sim() -> AsyncIterator[HubsSimulator]:
    async with HubsSimulator() as simulator:
        yield simulator


@pytest.fixture
async def clients(sim: HubsSimulator) -> AsyncIterator[list[Phx]]:
    async with AsyncExitStack() as stack:
        sockets = [await stack.enter_async_context(connect(sim.socket_url, open_timeout=WAIT))
                   for _ in range(3)]  # fmt: skip
        yield [Phx(ws) for ws in sockets]


def claims(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))


async def test_invite_only_room_needs_the_invite_or_an_owner(
    sim: HubsSimulator, clients: list[Phx]
) -> None:
    owner = sim.add_account("owner")
    hub = sim.create_hub("Invite", scene_id="s", entry_mode="invite", creator=owner)
    hub.hub_invite_id = "inv1"
    a, b, c = clients
    assert (await a.join(hub.hub_id)).response["reason"] == "join_denied"
    assert (await b.join(hub.hub_id, hub_invite_id="inv1")).status == "ok"
    assert (await c.join(hub.hub_id, auth_token=owner.token)).status == "ok"


async def test_account_required_denies_anonymous_joins(clients: list[Phx]) -> None:
    sim = HubsSimulator(require_account_for_join=True)
    await sim.start(0)
    try:
        hub = sim.create_hub("Members", scene_id="s")
        account = sim.add_account("someone")
        async with connect(sim.socket_url) as ws1, connect(sim.socket_url) as ws2:
            reply = await Phx(ws1).join(hub.hub_id, discord=True)
            assert reply.response == {"message": "Join denied", "reason": "join_denied"}
            assert (await Phx(ws2).join(hub.hub_id, auth_token=account.token)).status == "ok"
    finally:
        await sim.stop()


async def test_context_discord_is_not_checked_and_oauth_rooms_want_the_bot_key(
    clients: list[Phx],
) -> None:
    sim = HubsSimulator(bot_key="BOT")
    await sim.start(0)
    try:
        open_hub = sim.create_hub("Open", scene_id="s")
        bound = sim.create_hub("Discord", scene_id="s", requires_oauth=True)
        async with connect(sim.socket_url) as ws:
            client = Phx(ws)
            reply = await client.join(open_hub.hub_id, discord=True, bot_access_key="x")
            assert reply.status == "ok"
            assert (await client.join(bound.hub_id)).response["reason"] == "oauth_required"
            assert (await client.join(bound.hub_id, bot_access_key="BOT")).status == "ok"
    finally:
        await sim.stop()


async def test_perms_token_and_roles_for_owner_and_anonymous(
    sim: HubsSimulator, clients: list[Phx]
) -> None:
    owner = sim.add_account("owner")
    hub = sim.create_hub("Room", scene_id="s", creator=owner)
    a, b, _ = clients
    mine = (await a.join(hub.hub_id, auth_token=owner.token)).response
    perms = claims(mine["perms_token"])
    assert perms["account_id"] == owner.account_id and perms["hub_id"] == hub.hub_id
    for action in ("join_hub", "update_hub", "close_hub", "kick_users", "mute_users", "fly"):
        assert perms[action] is True
    assert mine["hubs"][0]["embed_token"] == hub.embed_token
    theirs = (await b.join(hub.hub_id)).response
    anon = claims(theirs["perms_token"])
    assert anon["account_id"] == "" and anon["join_hub"] and not anon["close_hub"]
    assert theirs["hubs"][0]["embed_token"] is None
    await eventually(lambda: len(sim.sessions(hub.hub_id)) == 2, what="two sessions", timeout=WAIT)
    metas = sim.sessions(hub.hub_id)
    assert metas[mine["session_id"]]["roles"] == {"owner": True, "creator": True,
                                                  "signed_in": True}  # fmt: skip
    assert metas[theirs["session_id"]]["roles"]["signed_in"] is False
    assert metas[mine["session_id"]]["permissions"]["kick_users"] is True


async def test_a_presence_diff_may_come_before_presence_state(
    sim: HubsSimulator, clients: list[Phx], monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = sim.create_hub("Room", scene_id="s")
    arrivals: list[str] = []
    join = sim.channels.join

    def join_then_someone_arrives(conn: Any, msg: Any) -> None:
        join(conn, msg)  # replies and sends itself {:begin_tracking, ...}
        arrivals.append(sim.add_avatar(hub.hub_id, "Bernd").session_id)  # before it is handled

    monkeypatch.setattr(sim.channels, "join", join_then_someone_arrives)
    a, _, _ = clients
    reply = await a.join(hub.hub_id)
    frames = [await a.recv() for _ in range(3)]
    assert [f.event for f in frames] == ["presence_diff", "presence_diff", "presence_state"]
    assert list(frames[0].payload["joins"]) == arrivals
    assert list(frames[1].payload["joins"]) == [reply.response["session_id"]]
    assert set(frames[2].payload) == {arrivals[0], reply.response["session_id"]}


async def test_sign_in_with_and_without_the_creator_token(
    sim: HubsSimulator, clients: list[Phx]
) -> None:
    hub = sim.create_hub("Anonymous room", scene_id="s")
    token = hub.creator_assignment_token
    someone, bridge = sim.add_account("someone"), sim.add_account("bridge")
    a, b, _ = clients
    topic = f"hub:{hub.hub_id}"
    sid_a = (await a.join(hub.hub_id)).response["session_id"]
    await a.tracked()
    ref = await a.push(topic, "sign_in", {"token": "garbage"})
    _, reply = await a.reply(ref)
    assert (reply.status, reply.response) == (
        "error", {"message": "Sign in failed", "reason": "invalid_token"})  # fmt: skip
    ref = await a.push(topic, "sign_in", {"token": someone.token})
    _, reply = await a.reply(ref)
    assert reply.status == "ok" and not claims(reply.response["perms_token"])["close_hub"]
    assert sim.sessions(hub.hub_id)[sid_a]["roles"] == {"owner": False, "creator": False,
                                                        "signed_in": True}  # fmt: skip
    assert hub.creator_account_id is None and hub.creator_assignment_token == token

    sid_b = (await b.join(hub.hub_id)).response["session_id"]
    await b.tracked()
    ref = await b.push(topic, "sign_in", {"token": bridge.token, "creator_assignment_token": token})
    diff = await b.expect("presence_diff")
    assert diff.payload["joins"][sid_b]["metas"][0]["roles"] == {
        "owner": True, "creator": True, "signed_in": True}  # fmt: skip
    _, reply = await b.reply(ref)
    assert claims(reply.response["perms_token"])["close_hub"] is True
    assert hub.creator_account_id == bridge.account_id and hub.creator_assignment_token is None


async def owner_and_guest(sim: HubsSimulator, clients: list[Phx]) -> tuple[Any, Phx, str, Phx, str]:
    owner = sim.add_account("owner")
    hub = sim.create_hub("Room", scene_id="s", creator=owner)
    a, b, _ = clients
    sid_owner = (await a.join(hub.hub_id, auth_token=owner.token)).response["session_id"]
    await a.tracked()
    sid_guest = (await b.join(hub.hub_id, "Guest")).response["session_id"]
    await b.tracked()
    return hub, a, sid_owner, b, sid_guest


async def test_mute_only_from_an_owner_and_only_to_the_target(
    sim: HubsSimulator, clients: list[Phx]
) -> None:
    hub, a, sid_owner, b, sid_guest = await owner_and_guest(sim, clients)
    topic = f"hub:{hub.hub_id}"
    await b.push(topic, "mute", {"session_id": sid_owner})  # a guest may not
    await a.push(topic, "mute", {"session_id": sid_guest})
    muted = await b.expect("mute")
    assert muted.payload == {"session_id": sid_guest}
    assert sim.muted == [(hub.hub_id, sid_owner, sid_guest)]


async def test_kick_only_from_an_owner(sim: HubsSimulator, clients: list[Phx]) -> None:
    hub, a, sid_owner, b, sid_guest = await owner_and_guest(sim, clients)
    topic = f"hub:{hub.hub_id}"
    await b.push(topic, "kick", {"session_id": sid_owner})
    await b.push(topic, "kick", {"session_id": sid_owner})
    avatar = sim.add_avatar(hub.hub_id, "Troll")
    await a.push(topic, "kick", {"session_id": sid_guest})
    await a.push(topic, "kick", {"session_id": avatar.session_id})
    assert await b.closed()
    await eventually(lambda: not avatar.present, what="the avatar gone", timeout=WAIT)
    assert sim.kicked == [(hub.hub_id, sid_owner, sid_guest),
                          (hub.hub_id, sid_owner, avatar.session_id)]  # fmt: skip
    assert sid_owner in sim.sessions(hub.hub_id)


async def test_close_hub_only_from_an_owner(sim: HubsSimulator, clients: list[Phx]) -> None:
    hub, a, sid_owner, b, _ = await owner_and_guest(sim, clients)
    topic = f"hub:{hub.hub_id}"
    await b.push(topic, "close_hub", {})
    await b.push(topic, "update_scene", {"url": "https://x.example/guest.glb"})
    await a.push(topic, "close_hub", {})
    refresh = await b.expect("hub_refresh")
    assert refresh.payload["stale_fields"] == ["entry_mode"]
    assert refresh.payload["session_id"] == sid_owner
    assert refresh.payload["hubs"][0]["entry_mode"] == "deny"
    assert sim.closed == [(hub.hub_id, sid_owner)] and not sim.scene_updates


async def test_update_hub_only_from_an_owner_and_invalid_crashes_the_channel(
    sim: HubsSimulator, clients: list[Phx]
) -> None:
    hub, a, sid_owner, b, sid_guest = await owner_and_guest(sim, clients)
    topic = f"hub:{hub.hub_id}"
    full = {"name": "Neu", "description": None, "room_size": 30,
            "member_permissions": {"voice_chat": True, "text_chat": True, "fly": True}}  # fmt: skip
    await b.push(topic, "update_hub", full)  # ignored
    await a.push(topic, "update_hub", full)
    refresh = await b.expect("hub_refresh")
    assert refresh.payload["stale_fields"] == ["room_size", "member_permissions", "name"]
    assert (hub.name, hub.room_size, hub.member_permissions["fly"]) == ("Neu", 30, True)
    assert sim.hub_updates == [(hub.hub_id, sid_owner, ["room_size", "member_permissions", "name"])]
    # member_permissions changed: every session re-tracks with its permissions
    diff = await b.expect("presence_diff")
    assert diff.payload["joins"]
    # Repo.update! of a changeset with a 65-character name raises: phx_error, join gone
    await a.push(topic, "update_hub", {**full, "name": "x" * 65})
    error = await a.expect("phx_error")
    assert error.join_ref == a.join_refs[topic] and error.payload == {}
    assert hub.name == "Neu" and sid_owner not in sim.sessions(hub.hub_id)
    ref = await a.push(topic, "message", {"type": "chat", "body": "still there?"})
    _, reply = await a.reply(ref)
    assert reply.response == {"reason": "unmatched topic"}
    assert sid_guest in sim.sessions(hub.hub_id)


async def test_update_hub_room_size_over_the_maximum_crashes_too(
    sim: HubsSimulator, clients: list[Phx]
) -> None:
    hub, a, _sid_owner, _, _ = await owner_and_guest(sim, clients)
    topic = f"hub:{hub.hub_id}"
    await a.push(topic, "update_hub", {"name": "Room", "room_size": 51,
                                       "member_permissions": {}})  # fmt: skip
    await a.expect("phx_error")
    assert hub.room_size == 24 and not sim.hub_updates


async def test_update_scene_only_from_an_owner(sim: HubsSimulator, clients: list[Phx]) -> None:
    hub, a, sid_owner, b, _ = await owner_and_guest(sim, clients)
    topic = f"hub:{hub.hub_id}"
    await b.push(topic, "update_scene", {"url": "https://x.example/guest.glb"})
    await a.push(topic, "update_scene", {"url": "https://cdn.example/lib.glb"})
    refresh = await b.expect("hub_refresh")
    assert refresh.payload["stale_fields"] == ["scene"]
    assert "topics" in refresh.payload["hubs"][0] and hub.scene is None
    assert hub.gltf_bundle_url == "https://cdn.example/lib.glb"
    assert sim.scene_updates == [(hub.hub_id, sid_owner, "https://cdn.example/lib.glb")]


async def test_chat_takes_the_senders_session_id(sim: HubsSimulator, clients: list[Phx]) -> None:
    hub, a, sid_owner, b, sid_guest = await owner_and_guest(sim, clients)
    topic = f"hub:{hub.hub_id}"
    hub.member_permissions["text_chat"] = False  # not checked by Reticulum
    await b.push(topic, "message", {"type": "chat", "body": "x" * 2000, "session_id": sid_owner})
    msg = await a.expect("message")
    assert msg.payload == {"type": "chat", "body": "x" * 2000, "session_id": sid_guest}
