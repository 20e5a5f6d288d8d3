"""The Phoenix client core towards Hubs, without a socket: frames in, events out, time given."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hubs_bridge.hubs.errors import InvalidState, ProtocolError
from hubs_bridge.hubs.frames import (
    MAX_FRAME_CHARS,
    ChatMessage,
    HubRefresh,
    JoinError,
    JoinPayload,
    JoinReply,
    PhxMessage,
    PresenceDiff,
    PresenceState,
    RetNotice,
    chat_payload,
    hub_topic,
    parse_chat,
    parse_payload,
)
from hubs_bridge.hubs.phoenix import (
    ChannelClosed,
    ChannelErrored,
    ChannelState,
    HeartbeatMissed,
    Joined,
    JoinFailed,
    Message,
    PhoenixProtocol,
    Rejoin,
    Reply,
    ReplyTimeout,
    reconnect_delay,
    rejoin_delay,
)

# shared/ sits beside the repository root (/work/shared next to /work/main).
# A copy of shared/reticulum/frames.json (the facts about Reticulum), kept with the tests.
FRAMES_PATH = Path(__file__).resolve().parent / "data" / "reticulum_frames.json"
FRAMES: dict[str, Any] = json.loads(FRAMES_PATH.read_text(encoding="utf-8"))
PHX_FRAMES = sorted(key for key, value in FRAMES.items() if isinstance(value, list))
TOPIC = "hub:Xr4bQyz"
JOIN_PAYLOAD: dict[str, Any] = FRAMES["join_web_client"][4]


def text(name: str, **changes: Any) -> str:
    """A frame of frames.json as the server would send it, with fields replaced."""
    join_ref, ref, topic, event, payload = FRAMES[name]
    frame = {"join_ref": join_ref, "ref": ref, "topic": topic, "event": event, "payload": payload}
    frame.update(changes)
    return json.dumps(list(frame.values()))


def reply(join_ref: str | None, ref: str, response: dict[str, Any], status: str = "ok") -> str:
    payload = {"status": status, "response": response}
    return json.dumps([join_ref, ref, TOPIC, "phx_reply", payload])


def joined(now: float = 0.0) -> PhoenixProtocol:
    protocol = PhoenixProtocol(now)
    protocol.join(TOPIC, JOIN_PAYLOAD, now)
    assert protocol.receive(text("join_reply_ok"), now) == [
        Joined(TOPIC, FRAMES["join_reply_ok"][4]["response"])
    ]
    return protocol


# --- frames -----------------------------------------------------------------


def test_frames_file_holds_the_phoenix_cases() -> None:
    assert len(PHX_FRAMES) >= 18
    assert "heartbeat" in PHX_FRAMES
    assert "http_meta_response" not in PHX_FRAMES


@pytest.mark.parametrize("name", PHX_FRAMES)
def test_every_frame_round_trips(name: str) -> None:
    frame = FRAMES[name]
    message = PhxMessage.decode(json.dumps(frame))
    assert [message.join_ref, message.ref, message.topic, message.event] == frame[:4]
    assert message.payload == frame[4]
    assert json.loads(message.encode()) == frame
    assert PhxMessage.decode(message.encode()) == message
    assert PhxMessage.decode(message.encode().encode()) == message  # bytes work too


def test_payload_models_read_the_example_frames() -> None:
    reply_ok = JoinReply.model_validate(FRAMES["join_reply_ok"][4]["response"])
    assert reply_ok.session_id == "6a1f0c2e-7d6b-4f7a-9a57-0c7d2f3b9e11"
    hub = reply_ok.hub
    assert (hub.hub_id, hub.entry_mode, hub.room_size) == ("Xr4bQyz", "allow", 24)
    assert (hub.member_count, hub.lobby_count) == (3, 1)
    assert hub.scene is not None and hub.scene.scene_id == "sc3n31d"
    assert "SESSION-TOKEN" not in repr(reply_ok)  # tokens stay out of logs

    refresh = HubRefresh.model_validate(FRAMES["hub_refresh_closed"][4])
    assert refresh.hub.entry_mode == "deny" and refresh.stale_fields == ["entry_mode"]
    assert refresh.hub.member_count is None

    bot = JoinPayload.model_validate(FRAMES["join_bot"][4])
    assert bot.context.discord is True and "BOT-KEY" not in repr(bot)
    assert bot.to_payload() == FRAMES["join_bot"][4]
    web = JoinPayload.model_validate(JOIN_PAYLOAD)
    assert web.profile.display_name == "Anna" and web.context.embed is False

    state = PresenceState.model_validate(FRAMES["presence_state"][4])
    assert len(state.root) == 3
    diff = PresenceDiff.model_validate(FRAMES["presence_diff_enter_room"][4])
    assert diff.joins.keys() == diff.leaves.keys()

    chat = parse_chat(FRAMES["chat_broadcast"][4])
    assert chat is not None and chat.session_id == "0f1e2d3c-aaaa-4bbb-8ccc-000000000002"
    from_bot = parse_chat(FRAMES["chat_from_bot"][4])
    assert from_bot is not None and from_bot.author == "StadtLABOR"
    assert parse_chat({"type": "photo", "body": {"src": "x"}}) is None
    assert RetNotice.model_validate({"event": "ret-deploy", "extra": 1}).is_deploy


def test_chat_payload_matches_the_bot_frame() -> None:
    body = FRAMES["chat_from_bot"][4]["body"]
    assert chat_payload(body, "StadtLABOR") == FRAMES["chat_from_bot"][4]
    assert chat_payload("hallo") == {"type": "chat", "body": "hallo"}
    with pytest.raises(ValueError, match="exceeds 750"):
        chat_payload("x" * 751)
    with pytest.raises(ValueError, match="empty"):
        chat_payload("  ")


@pytest.mark.parametrize(
    ("name", "reason", "fatal"),
    [
        ("join_reply_not_found", "not_found", True),
        ("join_reply_closed", "closed", True),
        ("join_reply_denied", "join_denied", True),
    ],
)
def test_join_error_frames_parse(name: str, reason: str, fatal: bool) -> None:
    error = JoinError.model_validate(FRAMES[name][4]["response"])
    assert (error.reason, error.fatal) == (reason, fatal)
    assert error.message


def test_payload_errors_are_protocol_errors() -> None:
    with pytest.raises(ProtocolError, match=r"JoinReply.*hubs"):
        parse_payload(JoinReply, {"session_id": "x"})
    with pytest.raises(ProtocolError, match="ChatMessage"):
        parse_chat({"type": "chat", "body": 42})
    with pytest.raises(ProtocolError, match="entry_mode"):
        parse_payload(HubRefresh, {"hubs": [{"hub_id": "a", "name": "b", "entry_mode": "x"}]})
    assert ChatMessage(body="hi").to_payload() == {"type": "chat", "body": "hi"}


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        ("", "not JSON"),
        ("hello", "not JSON"),
        ("[null, null, 'hub:x', 'e', {}]", "not JSON"),
        ('{"topic": "hub:x"}', "JSON array, not dict"),
        ("[]", "got 0 elements"),
        ('[null, null, "hub:x", "e"]', "got 4 elements"),
        ('[null, null, "hub:x", "e", {}, 6]', "got 6 elements"),
        ('[null, null, 5, "e", {}]', "topic"),
        ('[null, null, "", "e", {}]', "topic"),
        ('[null, null, "hub:x", null, {}]', "event"),
        ('[1, 2, "hub:x", "e", {}]', "join_ref"),
        ('[null, null, "hub:x", "e", [1]]', "payload"),
        ('[null, null, "hub:x", "e", "text"]', "payload"),
        ("[" * 2000 + "]" * 2000, "not JSON"),
    ],
)
def test_malformed_frames_raise_protocol_error(frame: str, match: str) -> None:
    with pytest.raises(ProtocolError, match=match):
        PhxMessage.decode(frame)


def test_huge_frames_are_refused_before_parsing() -> None:
    huge = json.dumps([None, None, TOPIC, "message", {"body": "x" * MAX_FRAME_CHARS}])
    with pytest.raises(ProtocolError, match="exceeds"):
        PhxMessage.decode(huge)
    with pytest.raises(ProtocolError, match="exceeds 10"):
        PhxMessage.decode(text("heartbeat"), max_chars=10)
    with pytest.raises(ProtocolError, match="not JSON"):
        PhxMessage.decode(b"\xff\xfe[]")


# Arbitrary text, JSON-looking text, and bytes (which may not even be UTF-8).
ANY_TEXT = (
    st.text(max_size=300)
    | st.text(alphabet='[]{}",:-.0123456789eElnrstu\\ ', max_size=80)
    | st.binary(max_size=100)
)


@given(ANY_TEXT)
def test_decode_raises_only_protocol_error_on_any_text(data: str | bytes) -> None:
    try:
        message = PhxMessage.decode(data)
    except ProtocolError:
        return
    assert PhxMessage.decode(message.encode()) == message


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)  # orjson reads wider ones as floats
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=12,
)


@given(st.lists(JSON, min_size=3, max_size=6))
def test_decode_raises_only_protocol_error_on_any_json_array(frame: list[Any]) -> None:
    try:
        message = PhxMessage.decode(json.dumps(frame))
    except ProtocolError:
        return
    assert json.loads(message.encode()) == frame


# --- refs, joins and replies --------------------------------------------------


def test_refs_are_increasing_integer_strings_like_phoenix_js() -> None:
    protocol = PhoenixProtocol(0.0)
    join = protocol.join(TOPIC, JOIN_PAYLOAD, 0.0)
    assert json.loads(join.encode()) == FRAMES["join_web_client"]
    protocol.receive(text("join_reply_ok"), 0.1)
    push = protocol.push(TOPIC, "message", {"type": "chat", "body": "a"}, 0.2)
    assert (push.join_ref, push.ref) == ("1", "2")
    beat = protocol.heartbeat(30.0)
    assert beat is not None and json.loads(beat.encode()) == [
        None,
        "3",
        "phoenix",
        "heartbeat",
        {},
    ]


def test_join_reply_push_and_reply() -> None:
    protocol = joined()
    assert protocol.state(TOPIC) is ChannelState.JOINED
    push = protocol.push(TOPIC, "update_hub", {"name": "x"}, 1.0, expect_reply=True)
    assert protocol.receive(reply("1", push.ref or "", {"a": 1}), 1.5) == [
        Reply(TOPIC, "2", "ok", {"a": 1})
    ]
    assert not [e for e in protocol.tick(100.0) if isinstance(e, ReplyTimeout)]
    # A reply nobody waited for is still reported, matched to the current join.
    assert protocol.receive(reply("1", "77", {}, "error"), 2.0) == [Reply(TOPIC, "77", "error", {})]


def test_broadcasts_and_direct_pushes_become_messages() -> None:
    protocol = joined()
    for name in ("presence_state", "presence_diff_enter_room", "chat_broadcast"):
        _, _, topic, event, payload = FRAMES[name]
        assert protocol.receive(text(name), 1.0) == [Message(topic, event, payload)]
    assert protocol.receive(text("chat_broadcast", topic="hub:other"), 1.0) == []
    assert protocol.receive(text("presence_state", topic="hub:other"), 1.0) == []


@pytest.mark.parametrize("name", ["join_reply_not_found", "join_reply_closed", "join_reply_denied"])
def test_final_join_errors_stop_the_channel(name: str) -> None:
    _, _, topic, _, payload = FRAMES[name]
    protocol = PhoenixProtocol(0.0)
    protocol.join(topic, JOIN_PAYLOAD, 0.0)
    response = payload["response"]
    assert protocol.receive(text(name), 0.5) == [
        JoinFailed(topic, response["reason"], response["message"], fatal=True)
    ]
    assert protocol.state(topic) is None
    assert protocol.reset(1.0) == []
    assert protocol.tick(20.0) == []  # the join's timeout went with it


def test_oauth_required_is_final_and_other_errors_are_retried() -> None:
    protocol = PhoenixProtocol(0.0)
    protocol.join(TOPIC, JOIN_PAYLOAD, 0.0)
    oauth = {"reason": "oauth_required", "message": "OAuth required", "oauth_info": []}
    assert protocol.receive(reply("1", "1", oauth, "error"), 0.1) == [
        JoinFailed(TOPIC, "oauth_required", "OAuth required", fatal=True)
    ]
    protocol.join(TOPIC, JOIN_PAYLOAD, 1.0)
    unmatched = {"reason": "unmatched topic"}
    assert protocol.receive(reply("2", "2", unmatched, "error"), 1.1) == [
        JoinFailed(TOPIC, "unmatched topic", "", fatal=False)
    ]
    assert protocol.state(TOPIC) is ChannelState.ERRORED
    again = protocol.rejoin(TOPIC, 3.0)
    assert (again.join_ref, again.ref, again.event, again.payload) == (
        "3",
        "3",
        "phx_join",
        JOIN_PAYLOAD,
    )


def test_frames_of_an_older_join_are_ignored() -> None:
    protocol = PhoenixProtocol(0.0)
    protocol.join(TOPIC, JOIN_PAYLOAD, 0.0)  # join_ref "1"
    protocol.join(TOPIC, JOIN_PAYLOAD, 0.5)  # replaces it: join_ref "2"
    for name in ("join_reply_ok", "join_reply_closed", "presence_state", "phx_error", "phx_close"):
        assert protocol.receive(text(name), 1.0) == [], name
    assert protocol.state(TOPIC) is ChannelState.JOINING
    # Broadcasts carry no join_ref and still reach the channel.
    assert len(protocol.receive(text("chat_broadcast"), 1.0)) == 1
    assert protocol.receive(text("join_reply_ok", join_ref="2", ref="2"), 1.0) == [
        Joined(TOPIC, FRAMES["join_reply_ok"][4]["response"])
    ]
    assert protocol.tick(10.4) == []  # the first join's timeout was dropped with it


def test_error_and_close_ask_for_a_rejoin() -> None:
    protocol = joined()
    assert protocol.receive(text("phx_error"), 1.0) == [ChannelErrored(TOPIC)]
    assert protocol.state(TOPIC) is ChannelState.ERRORED
    with pytest.raises(InvalidState, match="errored"):
        protocol.push(TOPIC, "message", {}, 1.0)
    protocol.rejoin(TOPIC, 2.0)
    protocol.receive(text("join_reply_ok", join_ref="2", ref="2"), 2.1)
    assert protocol.receive(text("phx_close", join_ref="2"), 3.0) == [ChannelClosed(TOPIC)]
    assert protocol.state(TOPIC) is ChannelState.CLOSED
    assert protocol.topics == (TOPIC,)


def test_leave_forgets_the_topic() -> None:
    protocol = joined()
    leave = protocol.leave(TOPIC, 1.0)
    assert json.loads(leave.encode()) == [*FRAMES["leave"][:1], "2", *FRAMES["leave"][2:]]
    assert protocol.topics == ()
    assert protocol.receive(reply("1", "2", {}), 1.1) == [Reply(TOPIC, "2", "ok", {})]
    assert protocol.receive(text("phx_close"), 1.2) == []
    with pytest.raises(InvalidState):
        protocol.leave(TOPIC, 1.3)


def test_commands_refuse_what_the_state_forbids() -> None:
    protocol = PhoenixProtocol(0.0)
    with pytest.raises(InvalidState, match="no channel"):
        protocol.push(TOPIC, "message", {}, 0.0)
    protocol.join(TOPIC, JOIN_PAYLOAD, 0.0)
    with pytest.raises(InvalidState, match="joining"):
        protocol.push(TOPIC, "message", {}, 0.0)
    with pytest.raises(ValueError, match="phoenix"):
        protocol.join("phoenix", {}, 0.0)
    protocol.receive(text("join_reply_ok"), 0.1)
    with pytest.raises(ValueError, match="phx_leave"):
        protocol.push(TOPIC, "phx_leave", {}, 0.2)


def test_malformed_input_is_a_protocol_error() -> None:
    protocol = joined()
    with pytest.raises(ProtocolError):
        protocol.receive("not json", 1.0)
    with pytest.raises(ProtocolError, match="PhxReply"):
        protocol.receive(text("join_reply_ok", payload={"status": "maybe"}), 1.0)


# --- time: heartbeats and timeouts --------------------------------------------


def test_heartbeat_every_30_seconds_while_answered() -> None:
    protocol = PhoenixProtocol(100.0)
    assert protocol.next_deadline() == 130.0
    assert protocol.heartbeat(100.0) is None
    assert protocol.heartbeat(129.9) is None
    beat = protocol.heartbeat(130.0)
    assert beat is not None and (beat.ref, beat.topic, beat.event) == ("1", "phoenix", "heartbeat")
    assert protocol.heartbeat(130.0) is None  # not twice
    assert protocol.receive(text("heartbeat_reply", ref="1"), 130.2) == []
    assert protocol.next_deadline() == 160.0
    assert protocol.heartbeat(160.5) is not None  # late is fine; the schedule follows
    assert protocol.next_deadline() == 190.5
    assert protocol.tick(190.4) == []


@pytest.mark.parametrize("tick_first", [True, False])
def test_unanswered_heartbeat_is_reported_when_the_next_is_due(tick_first: bool) -> None:
    protocol = PhoenixProtocol(0.0)
    assert protocol.heartbeat(30.0) is not None
    assert protocol.receive(text("heartbeat_reply", ref="999"), 31.0) == []  # not ours
    assert protocol.tick(59.9) == []
    assert protocol.heartbeat(59.9) is None
    if tick_first:
        assert protocol.tick(60.0) == [HeartbeatMissed("1")]
        assert protocol.heartbeat(60.0) is None
    else:
        assert protocol.heartbeat(60.0) is None
        assert protocol.tick(60.0) == [HeartbeatMissed("1")]
    assert protocol.tick(61.0) == []  # reported once
    assert protocol.next_deadline() is None
    protocol.reset(70.0)
    assert protocol.next_deadline() == 100.0
    assert protocol.heartbeat(100.0) is not None


def test_reply_timeouts() -> None:
    protocol = PhoenixProtocol(0.0)
    protocol.join(TOPIC, JOIN_PAYLOAD, 0.0)
    assert protocol.next_deadline() == 10.0
    assert protocol.tick(9.99) == []
    assert protocol.tick(10.0) == [ReplyTimeout(TOPIC, "1")]
    assert protocol.state(TOPIC) is ChannelState.ERRORED
    assert protocol.tick(11.0) == []
    # A late ok for the current join still counts: the server did join us.
    assert protocol.receive(text("join_reply_ok"), 12.0)[0] == Joined(
        TOPIC, FRAMES["join_reply_ok"][4]["response"]
    )
    protocol.push(TOPIC, "message", {"type": "chat", "body": "x"}, 13.0)  # no reply expected
    assert protocol.next_deadline() == 30.0
    protocol.push(TOPIC, "kick", {"session_id": "s"}, 14.0, expect_reply=True)
    assert protocol.next_deadline() == 24.0
    assert protocol.tick(24.0) == [ReplyTimeout(TOPIC, "3")]


def test_reset_returns_every_channel_to_rejoin() -> None:
    protocol = joined()
    bot_payload = FRAMES["join_bot"][4]
    protocol.join("hub:second", bot_payload, 1.0)
    protocol.join("ret", {"hub_id": "Xr4bQyz"}, 1.0)
    protocol.push(TOPIC, "kick", {"session_id": "s"}, 2.0, expect_reply=True)
    rejoins = protocol.reset(5.0)
    assert rejoins == [
        Rejoin(TOPIC, JOIN_PAYLOAD),
        Rejoin("hub:second", bot_payload),
        Rejoin("ret", {"hub_id": "Xr4bQyz"}),
    ]
    assert all(protocol.state(r.topic) is ChannelState.ERRORED for r in rejoins)
    assert protocol.tick(34.0) == []  # replies owed on the old socket are dropped
    frames = [protocol.rejoin(r.topic, 5.0) for r in rejoins]
    assert [f.ref for f in frames] == ["5", "6", "7"]  # refs keep counting across sockets
    assert [f.join_ref for f in frames] == ["5", "6", "7"]
    assert protocol.receive(text("join_reply_ok", join_ref="5", ref="5"), 5.5)[0] == Joined(
        TOPIC, FRAMES["join_reply_ok"][4]["response"]
    )


def test_hub_topic() -> None:
    assert hub_topic("Xr4bQyz") == TOPIC


# --- backoff --------------------------------------------------------------------


def test_backoff_schedules_without_jitter() -> None:
    rng = random.Random(1)
    reconnect = [reconnect_delay(n, rng, jitter=0.0) for n in range(1, 12)]
    assert reconnect == [0.01, 0.05, 0.1, 0.15, 0.2, 0.25, 0.5, 1.0, 2.0, 5.0, 5.0]
    assert [rejoin_delay(n, rng, jitter=0.0) for n in range(1, 6)] == [1.0, 2.0, 5.0, 10.0, 10.0]


def test_backoff_jitter_is_bounded_and_deterministic() -> None:
    first = [reconnect_delay(n, random.Random(7)) for n in range(1, 12)]
    again = [reconnect_delay(n, random.Random(7)) for n in range(1, 12)]
    assert first == again
    rng = random.Random(42)
    for attempt in range(1, 30):
        base = [1.0, 2.0, 5.0][attempt - 1] if attempt <= 3 else 10.0
        assert 0.8 * base <= rejoin_delay(attempt, rng) <= 1.2 * base
    spread = {round(reconnect_delay(20, rng), 6) for _ in range(50)}
    assert len(spread) > 40  # bridges cut off together do not return together
    with pytest.raises(ValueError, match="from 1"):
        reconnect_delay(0, rng)
    with pytest.raises(ValueError, match="jitter"):
        rejoin_delay(1, rng, jitter=1.5)
