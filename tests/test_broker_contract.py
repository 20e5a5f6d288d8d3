"""One contract for every broker backend: in memory and Redis.

Redis delivers from a reader task, so tests wait for deliveries with a bounded
poll (:func:`eventually`) instead of sleeping, and show that nothing more comes
with a barrier frame (:func:`settled`); the in-memory broker delivers inside
``publish`` and passes the same waits at once. Expiry is shown against a
witness with the same time to live, never by sleeping past it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hubs_bridge.broker.base import Broker, PresenceEntry, StreamFrame
from hubs_bridge.broker.memory import MemoryBroker
from hubs_bridge.broker.redis import RedisBroker
from tests.conftest import REDIS_URL
from tests.harness.broker_recorder import Recorder, body, settled
from tests.harness.waiting import eventually

HISTORY_SIZE = 10


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(params=["memory", "redis"])
async def broker(request: pytest.FixtureRequest, recorder: Recorder) -> AsyncIterator[Broker]:
    """Every backend, started with ``recorder`` as its listener."""
    backend: Broker
    if request.param == "redis":
        prefix = request.getfixturevalue("redis_prefix")
        backend = RedisBroker.connect(REDIS_URL, prefix, history_size=HISTORY_SIZE)
    else:
        backend = MemoryBroker(history_size=HISTORY_SIZE)
    await backend.start(recorder)
    yield backend
    await backend.close()


# Stream


async def test_publish_numbers_from_one_in_a_stable_epoch(broker: Broker) -> None:
    epoch, seq = await broker.position("kirmes")
    assert seq == 0
    frames = [await broker.publish("kirmes", body(n)) for n in range(5)]
    assert [f.seq for f in frames] == [1, 2, 3, 4, 5]
    assert {f.epoch for f in frames} == {epoch}
    assert [f.body for f in frames] == [body(n) for n in range(5)]
    assert await broker.position("kirmes") == (epoch, 5)
    # Events are numbered independently.
    assert (await broker.publish("other", body(0))).seq == 1


async def test_frame_encodes_as_json_with_position(broker: Broker) -> None:
    frame = await broker.publish("kirmes", b'{"type":"q","text":"Hallo \\"Welt\\""}')
    assert orjson.loads(frame.encode()) == {
        "epoch": frame.epoch,
        "seq": 1,
        "type": "q",
        "text": 'Hallo "Welt"',
    }
    empty = await broker.publish("kirmes", b"{}")
    assert orjson.loads(empty.encode()) == {"epoch": frame.epoch, "seq": 2}


_json_values = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**53), max_value=2**53), st.text()
)


@given(
    fields=st.dictionaries(
        st.text().filter(lambda k: k not in ("epoch", "seq")), _json_values, max_size=5
    ),
    seq=st.integers(min_value=1, max_value=2**53),
)
def test_encode_keeps_every_body_field(fields: dict[str, object], seq: int) -> None:
    frame = StreamFrame("0123456789abcdef", seq, orjson.dumps(fields))
    assert orjson.loads(frame.encode()) == {"epoch": "0123456789abcdef", "seq": seq, **fields}


async def test_subscribers_get_every_frame_in_order(broker: Broker, recorder: Recorder) -> None:
    await broker.publish("kirmes", body(0))
    epoch, seq = await broker.subscribe("kirmes")
    assert seq == 1
    for n in range(1, 51):
        await broker.publish("kirmes", body(n))
    await eventually(lambda: len(recorder.frames["kirmes"]) >= 50, what="50 frames")
    await settled(broker, recorder)
    assert recorder.seqs("kirmes") == list(range(2, 52))
    assert {f.epoch for f in recorder.frames["kirmes"]} == {epoch}
    assert recorder.frames["kirmes"][0].body == body(1)
    assert not recorder.resets
    assert "other" not in recorder.frames


async def test_concurrent_publishers_deliver_in_seq_order(
    broker: Broker, recorder: Recorder
) -> None:
    await broker.subscribe("kirmes")
    await asyncio.gather(*(broker.publish("kirmes", body(n)) for n in range(40)))
    await eventually(lambda: len(recorder.frames["kirmes"]) >= 40, what="40 frames")
    await settled(broker, recorder)
    assert recorder.seqs("kirmes") == list(range(1, 41))


async def test_unsubscribe_stops_delivery(broker: Broker, recorder: Recorder) -> None:
    await broker.subscribe("kirmes")
    await broker.publish("kirmes", body(1))
    await eventually(lambda: recorder.seqs("kirmes") == [1], what="frame 1")
    await broker.unsubscribe("kirmes")
    await broker.publish("kirmes", body(2))
    await settled(broker, recorder)
    assert recorder.seqs("kirmes") == [1]
    # Subscribing again continues from the position it returns.
    assert (await broker.subscribe("kirmes"))[1] == 2
    await broker.publish("kirmes", body(3))
    await eventually(lambda: recorder.seqs("kirmes") == [1, 3], what="frames 1 and 3")


async def test_history_is_exact(broker: Broker) -> None:
    frames = [await broker.publish("kirmes", body(n)) for n in range(6)]
    epoch = frames[0].epoch
    assert await broker.history("kirmes", epoch, 0) == frames
    assert await broker.history("kirmes", epoch, 4) == frames[4:]
    assert await broker.history("kirmes", epoch, 6) == []
    assert await broker.history("kirmes", "0" * 16, 3) is None
    assert await broker.history("kirmes", epoch, 7) is None  # beyond the stream


async def test_history_of_a_new_event_is_empty(broker: Broker) -> None:
    epoch, seq = await broker.position("fresh")
    assert await broker.history("fresh", epoch, seq) == []


async def test_trimmed_history_is_none(broker: Broker) -> None:
    # Redis trims with MAXLEN ~ (whole nodes of 100 entries), so publish enough
    # that any backend has dropped the first frames.
    frames = [await broker.publish("kirmes", body(n)) for n in range(HISTORY_SIZE + 250)]
    epoch, last = frames[-1].epoch, frames[-1].seq
    assert await broker.history("kirmes", epoch, 0) is None
    recent = await broker.history("kirmes", epoch, last - HISTORY_SIZE)
    assert recent == frames[-HISTORY_SIZE:]


# Presence


def entry(session: str, **changes: object) -> PresenceEntry:
    values: dict[str, object] = {"session": session, "visitor": f"v-{session}", "room": "halle"}
    values.update(changes)
    return PresenceEntry(**values)  # type: ignore[arg-type]


async def test_presence_put_list_replace_remove(broker: Broker) -> None:
    assert await broker.presence_list("kirmes") == []
    a = entry("a")
    b = entry(
        "b",
        source="hubs",
        role="moderator",
        name="Anna",
        room=None,
        details=(("state", "lobby"), ("device", "vr")),
    )
    await broker.presence_put("kirmes", [a, b], ttl_s=30)
    listed = await broker.presence_list("kirmes")
    assert sorted(listed, key=lambda e: e.session) == [a, b]
    moved = entry("a", room="buehne")
    await broker.presence_put("kirmes", [moved], ttl_s=30)
    assert sorted(await broker.presence_list("kirmes"), key=lambda e: e.session) == [moved, b]
    await broker.presence_remove("kirmes", ["b", "unknown"])
    assert await broker.presence_list("kirmes") == [moved]
    assert await broker.presence_list("other") == []
    assert await broker.presence_sweep("kirmes") == []


async def test_presence_expires_and_sweeps_once(broker: Broker) -> None:
    gone, staying = entry("gone"), entry("staying")
    await broker.presence_put("kirmes", [gone], ttl_s=0.2)
    await broker.presence_put("kirmes", [staying], ttl_s=30)

    async def expired() -> bool:
        return await broker.presence_list("kirmes") == [staying]

    await eventually(expired, what="the entry to expire", timeout=3)
    assert await broker.presence_sweep("kirmes") == [gone]
    assert await broker.presence_sweep("kirmes") == []
    assert await broker.presence_list("kirmes") == [staying]
    # Put again after the sweep: the broker says it did not hold it (a join again).
    assert await broker.presence_put("kirmes", [gone, staying], ttl_s=30) == ["gone"]


async def test_presence_put_reports_new_sessions(broker: Broker) -> None:
    assert await broker.presence_put("kirmes", [entry("a"), entry("b")], ttl_s=30) == ["a", "b"]
    assert await broker.presence_put("kirmes", [entry("a", room="x"), entry("c")], ttl_s=30) == [
        "c"
    ]


async def test_presence_put_again_extends(broker: Broker) -> None:
    await broker.presence_put("kirmes", [entry("a")], ttl_s=0.3)
    # A witness on another event, put after with the same life: once it is gone,
    # the first life of "a" is over too.
    await broker.presence_put("clock", [entry("w")], ttl_s=0.3)
    await broker.presence_put("kirmes", [entry("a")], ttl_s=30)

    async def first_life_over() -> bool:
        return await broker.presence_list("clock") == []

    await eventually(first_life_over, what="the witness to expire", timeout=3)
    assert await broker.presence_list("kirmes") == [entry("a")]
    assert await broker.presence_sweep("kirmes") == []


# Leadership


async def test_lead_one_owner_renews_expires_and_passes(broker: Broker) -> None:
    assert await broker.lead("kirmes", "p1", ttl_s=0.3)
    assert not await broker.lead("kirmes", "p2", ttl_s=0.3)
    assert await broker.lead("kirmes", "p1", ttl_s=0.3)  # renews
    assert await broker.lead("other", "p2", ttl_s=0.3)  # per event

    async def taken_over() -> bool:
        return await broker.lead("kirmes", "p2", ttl_s=5)

    await eventually(taken_over, what="the lead to expire and pass", timeout=3)
    assert not await broker.lead("kirmes", "p1", ttl_s=5)


async def test_renewing_keeps_the_lead_past_its_first_ttl(broker: Broker) -> None:
    assert await broker.lead("kirmes", "p1", ttl_s=0.3)
    # A witness taken after with the same life and never renewed: once another owner
    # can take it, the first life of p1's lead is over.
    assert await broker.lead("clock", "w", ttl_s=0.3)

    async def renewed_past_the_first_ttl() -> bool:
        assert await broker.lead("kirmes", "p1", ttl_s=0.3)
        return await broker.lead("clock", "other", ttl_s=0.3)

    await eventually(renewed_past_the_first_ttl, what="the witness lead to expire", timeout=3)
    assert not await broker.lead("kirmes", "p2", ttl_s=0.3)


# Shared values


async def test_value_put_get_replace_and_per_key(broker: Broker) -> None:
    assert await broker.value_get("job:kirmes") is None
    await broker.value_put("job:kirmes", b'{"n": 1}', ttl_s=30)
    await broker.value_put("job:other", b"x", ttl_s=30)
    assert await broker.value_get("job:kirmes") == b'{"n": 1}'
    await broker.value_put("job:kirmes", b'{"n": 2}', ttl_s=30)
    assert await broker.value_get("job:kirmes") == b'{"n": 2}'
    assert await broker.value_get("job:other") == b"x"


async def test_value_expires(broker: Broker) -> None:
    await broker.value_put("job:kirmes", b"soon gone", ttl_s=0.2)

    async def expired() -> bool:
        return await broker.value_get("job:kirmes") is None

    await eventually(expired, what="the value to expire", timeout=3)
    await broker.value_put("job:kirmes", b"back", ttl_s=30)
    assert await broker.value_get("job:kirmes") == b"back"


# Lifetime


async def test_ping_and_connected(broker: Broker) -> None:
    await broker.ping()
    assert broker.connected


# Several processes (Redis only: in memory there is one process by definition)


async def test_two_processes_share_one_stream(redis_prefix: str) -> None:
    seen_a, seen_b = Recorder(), Recorder()
    a = RedisBroker.connect(REDIS_URL, redis_prefix)
    b = RedisBroker.connect(REDIS_URL, redis_prefix)
    try:
        await a.start(seen_a)
        await b.start(seen_b)
        position_a = await a.subscribe("kirmes")
        assert await b.subscribe("kirmes") == position_a
        published = [await a.publish("kirmes", body(n)) for n in range(30)]
        published += [await b.publish("kirmes", body(n)) for n in range(30, 40)]
        assert [f.seq for f in published] == list(range(1, 41))
        await eventually(
            lambda: min(len(seen_a.frames["kirmes"]), len(seen_b.frames["kirmes"])) >= 40,
            what="40 frames in both processes",
        )
        await settled(a, seen_a)
        await settled(b, seen_b)
        assert seen_a.frames["kirmes"] == published
        assert seen_b.frames["kirmes"] == published
        assert await b.history("kirmes", position_a[0], 0) == published
        assert await a.lead("kirmes", "a", 5) and not await b.lead("kirmes", "b", 5)
        await a.presence_put("kirmes", [entry("s1")], 30)
        assert await b.presence_list("kirmes") == [entry("s1")]
        await a.value_put("job:kirmes", b"running", 30)
        assert await b.value_get("job:kirmes") == b"running"
    finally:
        await a.close()
        await b.close()
