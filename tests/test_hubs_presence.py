"""Presence of one Hubs room from presence_state and presence_diff frames, without a socket."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hubs_bridge.hubs.errors import ProtocolError
from hubs_bridge.hubs.presence import (
    HubsPerson,
    PeopleChange,
    PresenceCounts,
    RoomPresence,
    diff_people,
)

# shared/ sits beside the repository root (/work/shared next to /work/main).
# A copy of shared/reticulum/frames.json (the facts about Reticulum), kept with the tests.
FRAMES_PATH = Path(__file__).resolve().parent / "data" / "reticulum_frames.json"
FRAMES: dict[str, Any] = json.loads(FRAMES_PATH.read_text(encoding="utf-8"))

ANNA = "0f1e2d3c-aaaa-4bbb-8ccc-000000000001"
BERND = "0f1e2d3c-aaaa-4bbb-8ccc-000000000002"
BOT = "6a1f0c2e-7d6b-4f7a-9a57-0c7d2f3b9e11"


def payload(name: str) -> dict[str, Any]:
    return copy.deepcopy(FRAMES[name][4])


def meta(ref: str, presence: str = "room", name: str = "Cora", **extra: Any) -> dict[str, Any]:
    context = extra.pop("context", {"mobile": False, "embed": False, "hmd": False})
    return {
        "presence": presence,
        "phx_ref": ref,
        "profile": {"displayName": name, "avatarId": "a"},
        "context": context,
        "roles": {"owner": False, "creator": False, "signed_in": False},
        "permissions": {},
        **extra,
    }


def synced(own_session_id: str | None = None) -> RoomPresence:
    room = RoomPresence(own_session_id)
    room.apply_state(payload("presence_state"))
    return room


def test_state_gives_people_without_bots() -> None:
    room = synced()
    assert not room.stale
    assert room.people() == [
        HubsPerson(ANNA, "Anna", "room", "vr", hand_raised=False),
        HubsPerson(BERND, "Bernd", "lobby", "mobile", hand_raised=False),
    ]
    assert BOT in room.session_ids  # kept, just not a person
    assert room.counts() == PresenceCounts(room=1, lobby=1, mobile=1, vr=1)


def test_diffs_from_the_frames() -> None:
    room = synced()
    assert room.apply("presence_diff", payload("presence_diff_enter_room"))
    assert [(p.display_name, p.where) for p in room.people()] == [
        ("Anna", "room"),
        ("Bernd", "room"),
    ]
    current = room.meta(BERND)
    assert current is not None and (current.phx_ref, current.phx_ref_prev) == ("F5xk9", "F5xk2")
    room.apply("presence_diff", payload("presence_diff_leave"))
    assert [p.session_id for p in room.people()] == [BERND]
    assert room.counts() == PresenceCounts(room=1, mobile=1)


def test_an_update_is_a_join_and_a_leave_whatever_the_key_order() -> None:
    diff = payload("presence_diff_enter_room")
    reversed_diff = {"leaves": diff["leaves"], "joins": diff["joins"]}
    room = synced()
    room.apply_diff(reversed_diff)
    assert room.people()[1] == HubsPerson(BERND, "Bernd", "room", "mobile", hand_raised=False)
    assert len(room.session_ids) == 3


def test_the_last_meta_of_a_session_counts() -> None:
    room = RoomPresence()
    room.apply_state({"s1": {"metas": [meta("r1", "lobby"), meta("r2", "room", hand_raised=True)]}})
    assert room.people() == [HubsPerson("s1", "Cora", "room", "desktop", hand_raised=True)]
    room.apply_diff({"joins": {}, "leaves": {"s1": {"metas": [meta("r2")]}}})
    assert room.people() == [HubsPerson("s1", "Cora", "lobby", "desktop", hand_raised=False)]
    # A join whose ref is already known replaces that meta instead of doubling it.
    room.apply_diff({"joins": {"s1": {"metas": [meta("r1", "room", name="Cora B.")]}}})
    current = room.meta("s1")
    assert current is not None and current.profile.display_name == "Cora B."
    room.apply_diff({"leaves": {"s1": {"metas": [meta("r1")]}, "nobody": {"metas": [meta("x")]}}})
    assert room.people() == [] and room.session_ids == ()


def test_bots_and_the_bridge_itself_are_not_people() -> None:
    assert [p.session_id for p in synced(own_session_id=ANNA).people()] == [BERND]
    room = synced()
    room.own_session_id = BERND  # known only after the join reply
    assert [p.session_id for p in room.people()] == [ANNA]
    bot_meta = meta("b1", context={"mobile": False, "hmd": False, "discord": True})
    room.apply_diff({"joins": {"other-bot": {"metas": [bot_meta]}}})
    assert room.counts().total == 1


@pytest.mark.parametrize(
    ("presence", "context", "where", "device"),
    [
        ("lobby", {"entering": True}, "entering", "desktop"),
        ("lobby", {"entering": None, "mobile": True}, "lobby", "mobile"),
        ("lobby", {}, "lobby", "desktop"),
        ("room", {"entering": True, "mobile": True, "hmd": True}, "room", "vr"),
        ("room", {"embed": None, "hmd": None}, "room", "desktop"),
    ],
)
def test_where_and_device(presence: str, context: dict[str, Any], where: str, device: str) -> None:
    room = RoomPresence()
    room.apply_state({"s": {"metas": [meta("r", presence, context=context)]}})
    person = room.people()[0]
    assert (person.where, person.device) == (where, device)


def test_counts_of_a_mixed_room() -> None:
    room = RoomPresence()
    room.apply_state(
        {
            "a": {"metas": [meta("1", "room", hand_raised=True)]},
            "b": {"metas": [meta("2", "room", hand_raised=None, context={"hmd": True})]},
            "c": {"metas": [meta("3", "lobby", context={"entering": True, "mobile": True})]},
            "d": {"metas": [meta("4", "lobby")]},
            "e": {"metas": []},  # an entry without metas is nobody
        }
    )
    counts = room.counts()
    assert counts == PresenceCounts(room=2, lobby=1, entering=1, desktop=2, mobile=1, vr=1, hands=1)
    assert (counts.total, counts.occupancy) == (4, 3)


def test_stale_until_state_and_after_the_channel_is_lost() -> None:
    room = RoomPresence()
    assert room.stale and room.people() == []
    room.apply_state(payload("presence_state"))
    assert not room.stale
    before = room.people()
    room.mark_stale()
    assert room.stale and room.people() == before  # last known people stay, flagged
    # A diff that races ahead of the state of the next join is replayed on top of it.
    room.apply_diff(payload("presence_diff_leave"))
    assert room.people() == before
    room.apply_state(payload("presence_state"))
    assert not room.stale
    assert [p.session_id for p in room.people()] == [BERND]


def test_mark_stale_drops_diffs_held_for_the_lost_join() -> None:
    room = RoomPresence()
    room.apply_diff(payload("presence_diff_leave"))
    room.mark_stale()
    room.apply_state(payload("presence_state"))
    assert [p.session_id for p in room.people()] == [ANNA, BERND]


def test_diff_since() -> None:
    room = synced()
    before = room.people()
    assert not room.diff_since(before)
    room.apply_diff(payload("presence_diff_enter_room"))
    room.apply_diff(payload("presence_diff_leave"))
    room.apply_diff({"joins": {"new": {"metas": [meta("n1", "lobby", name="Dora")]}}})
    change = room.diff_since(before)
    assert [p.display_name for p in change.joined] == ["Dora"]
    assert [p.display_name for p in change.left] == ["Anna"]
    assert [(p.display_name, p.where) for p in change.changed] == [("Bernd", "room")]
    assert diff_people([], []) == PeopleChange()


def test_other_events_and_malformed_payloads() -> None:
    room = RoomPresence()
    assert not room.apply("message", {"type": "chat", "body": "hi"})
    with pytest.raises(ProtocolError, match="PresenceState"):
        room.apply("presence_state", {"s": {"metas": [{"presence": "garden"}]}})
    with pytest.raises(ProtocolError, match="PresenceDiff"):
        room.apply_diff({"joins": {"s": {"metas": "nope"}}})
    assert room.stale  # nothing half-applied


OPS = st.lists(
    st.tuples(
        st.sampled_from(["s1", "s2", "s3"]), st.booleans(), st.sampled_from(["lobby", "room"])
    ),
    max_size=30,
)


@given(OPS)
def test_sequences_of_diffs_match_a_simple_model(ops: list[tuple[str, bool, str]]) -> None:
    """Each op is an arrival (True) or a departure, sent as phoenix would send it."""
    room = RoomPresence()
    room.apply_state({})
    model: dict[str, tuple[str, str]] = {}  # sid -> (phx_ref, presence)
    for n, (sid, arrive, presence) in enumerate(ops):
        old = model.get(sid)
        joins: dict[str, Any] = {}
        leaves: dict[str, Any] = {}
        if arrive:
            ref = f"r{n}"
            joins[sid] = {"metas": [meta(ref, presence, phx_ref_prev=old[0] if old else None)]}
            model[sid] = (ref, presence)
        elif old is not None:
            del model[sid]
        if old is not None:
            leaves[sid] = {"metas": [meta(old[0], old[1])]}
        room.apply_diff({"joins": joins, "leaves": leaves})
        got = {p.session_id: p.where for p in room.people()}
        assert got == {sid: where for sid, (_, where) in model.items()}
