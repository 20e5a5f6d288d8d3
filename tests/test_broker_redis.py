"""What only the Redis broker has to get right: repairing what pub/sub loses.

Frames are "lost" by writing them to the stream as the publish script would,
but without PUBLISH, which is what a dropped pub/sub message looks like to a
subscriber. The last test runs a private redis-server and kills it.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator

import pytest
import redis

from hubs_bridge.broker import redis_scripts as lua
from hubs_bridge.broker.base import PresenceEntry, StreamFrame
from hubs_bridge.broker.redis import RedisBroker
from hubs_bridge.broker.redis_scripts import EventKeys
from hubs_bridge.errors import BrokerUnavailable
from tests.conftest import REDIS_URL, free_port, need_service
from tests.harness.broker_recorder import Recorder, body, settled
from tests.harness.private_redis import answers
from tests.harness.waiting import eventually, eventually_sync


@pytest.fixture
def raw(redis_prefix: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


def write_unpublished(raw: redis.Redis, prefix: str, event: str, count: int) -> list[int]:
    """Append ``count`` frames to the stream without PUBLISH (a lost message)."""
    keys = EventKeys.of(prefix, event)
    seqs = []
    for _ in range(count):
        seq = int(raw.incr(keys.seq))
        raw.xadd(keys.stream, {"b": body(seq)}, id=f"{seq}-0", maxlen=10, approximate=True)
        seqs.append(seq)
    return seqs


@pytest.fixture
async def broker(redis_prefix: str, recorder: Recorder) -> AsyncIterator[RedisBroker]:
    """A broker whose periodic catch-up is too slow to help within a test."""
    backend = RedisBroker.connect(REDIS_URL, redis_prefix, history_size=10, catch_up_interval_s=60)
    await backend.start(recorder)
    yield backend
    await backend.close()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


async def test_gap_is_filled_from_history_before_the_next_frame(
    broker: RedisBroker, recorder: Recorder, raw: redis.Redis
) -> None:
    await broker.subscribe("kirmes")
    await broker.publish("kirmes", body(1))
    await eventually(lambda: recorder.seqs("kirmes") == [1], what="frame 1")
    assert write_unpublished(raw, broker.prefix, "kirmes", 3) == [2, 3, 4]
    await settled(broker, recorder)
    assert recorder.seqs("kirmes") == [1]  # nothing told the reader yet
    await broker.publish("kirmes", body(5))
    await eventually(lambda: len(recorder.frames["kirmes"]) >= 5, what="5 frames")
    await settled(broker, recorder)
    assert recorder.seqs("kirmes") == [1, 2, 3, 4, 5]
    assert [f.body for f in recorder.frames["kirmes"]] == [body(n) for n in range(1, 6)]
    assert not recorder.resets


async def test_gap_beyond_history_resets_and_continues(
    broker: RedisBroker, recorder: Recorder, raw: redis.Redis
) -> None:
    epoch, _ = await broker.subscribe("kirmes")
    write_unpublished(raw, broker.prefix, "kirmes", 300)
    await broker.publish("kirmes", body(301))
    await eventually(lambda: bool(recorder.resets["kirmes"]), what="a reset")
    assert recorder.resets["kirmes"] == [(epoch, 301)]
    await broker.publish("kirmes", body(302))
    await eventually(lambda: recorder.seqs("kirmes") == [302], what="frame 302")


async def test_lost_history_starts_a_new_epoch_and_resets(
    broker: RedisBroker, recorder: Recorder, raw: redis.Redis
) -> None:
    old_epoch, _ = await broker.subscribe("kirmes")
    await broker.publish("kirmes", body(1))
    await eventually(lambda: recorder.seqs("kirmes") == [1], what="frame 1")
    keys = EventKeys.of(broker.prefix, "kirmes")
    raw.delete(keys.epoch, keys.seq, keys.stream)  # what a restart without persistence does
    frame = await broker.publish("kirmes", body(1))
    assert frame.seq == 1 and frame.epoch != old_epoch
    await eventually(
        lambda: recorder.resets["kirmes"] == [(frame.epoch, 1)], what="the reset to the new epoch"
    )
    second = await broker.publish("kirmes", body(2))
    await eventually(lambda: len(recorder.frames["kirmes"]) == 2, what="2 frames")
    assert recorder.frames["kirmes"][-1] == second


async def test_periodic_catch_up_delivers_a_frame_never_published(
    redis_prefix: str, recorder: Recorder, raw: redis.Redis
) -> None:
    broker = RedisBroker.connect(REDIS_URL, redis_prefix, catch_up_interval_s=0.2)
    try:
        await broker.start(recorder)
        await broker.subscribe("kirmes")
        await broker.publish("kirmes", body(1))
        write_unpublished(raw, redis_prefix, "kirmes", 2)
        await eventually(
            lambda: recorder.seqs("kirmes") == [1, 2, 3], what="frames 1 to 3", timeout=3
        )
        assert recorder.frames["kirmes"][-1].body == body(3)
    finally:
        await broker.close()


class Strict(Recorder):
    """A recorder that notes frames arriving before subscribe() returned."""

    def __init__(self) -> None:
        super().__init__()
        self.returned: set[str] = set()
        self.too_early: list[tuple[str, int]] = []

    def on_frame(self, event: str, frame: StreamFrame) -> None:
        if event not in self.returned:
            self.too_early.append((event, frame.seq))
        super().on_frame(event, frame)


async def test_subscribe_while_another_process_publishes(redis_prefix: str) -> None:
    """Frames published around SUBSCRIBE: each delivered once, none lost, none
    before subscribe() has returned the position they follow."""
    seen = Strict()
    broker = RedisBroker.connect(REDIS_URL, redis_prefix, catch_up_interval_s=60)
    other = RedisBroker.connect(REDIS_URL, redis_prefix)

    async def subscribe_amid_publishing(event: str) -> None:
        stop, published = asyncio.Event(), list[int]()

        async def publish_steadily() -> None:
            while not stop.is_set():
                published.append((await other.publish(event, body(0))).seq)
                await asyncio.sleep(0)

        task = asyncio.create_task(publish_steadily())
        try:
            await eventually(lambda: len(published) >= 5, what="5 frames published")
            _, start = await broker.subscribe(event)
            seen.returned.add(event)
            await eventually(lambda: len(published) >= start + 30, what="30 more published")
        finally:
            stop.set()
            await task
        await eventually(
            lambda: seen.seqs(event)[-1:] == published[-1:], what="the last frame delivered"
        )
        assert seen.seqs(event) == list(range(start + 1, published[-1] + 1))

    try:
        await broker.start(seen)
        for n in range(10):
            await subscribe_amid_publishing(f"k{n}")
        assert not seen.too_early
        assert not seen.resets
    finally:
        await broker.close()
        await other.close()


async def test_subscribe_right_after_start_misses_nothing(redis_prefix: str) -> None:
    """subscribe() racing the reader's first connection: no frame falls in between."""

    async def start_subscribe_publish(event: str) -> None:
        seen = Recorder()
        broker = RedisBroker.connect(REDIS_URL, redis_prefix, catch_up_interval_s=60)
        try:
            await broker.start(seen)
            _, seq = await broker.subscribe(event)
            frame = await broker.publish(event, body(1))
            await eventually(lambda: len(seen.frames[event]) == 1, what="the frame", timeout=2)
            assert seen.frames[event] == [frame] and frame.seq == seq + 1
        finally:
            await broker.close()

    for n in range(20):
        await start_subscribe_publish(f"e{n}")


async def test_a_failing_listener_does_not_stop_delivery(redis_prefix: str) -> None:
    class Flaky(Recorder):
        def on_frame(self, event: str, frame: object) -> None:
            super().on_frame(event, frame)  # type: ignore[arg-type]
            if len(self.frames[event]) == 1:
                raise RuntimeError("listener bug")

    flaky = Flaky()
    broker = RedisBroker.connect(REDIS_URL, redis_prefix)
    try:
        await broker.start(flaky)
        await broker.subscribe("kirmes")
        for n in range(3):
            await broker.publish("kirmes", body(n))
        await eventually(lambda: flaky.seqs("kirmes") == [1, 2, 3], what="frames 1 to 3")
    finally:
        await broker.close()


async def test_close_stops_the_reader_whenever_it_comes(redis_prefix: str) -> None:
    """close() ends the reader even when a cancel lands mid-command.

    Python 3.11's wait_for (inside redis-py) can swallow such a cancel; with a
    catch-up on every turn the reader is nearly always sending a command.
    """
    for _ in range(40):
        broker = RedisBroker.connect(REDIS_URL, redis_prefix, catch_up_interval_s=0)
        await broker.start(Recorder())
        await broker.subscribe("kirmes")
        await asyncio.sleep(random.uniform(0, 0.01))
        async with asyncio.timeout(5):
            await broker.close()


# Connections: bounded, shared, closed (issue 11: hello storms)


def broker_connections(raw: redis.Redis, prefix: str) -> dict[str, int]:
    """The broker's connections Redis sees now, by name (commands, pub/sub)."""
    names = [str(c.get("name", "")) for c in raw.client_list()]
    return {
        kind: sum(1 for n in names if n == f"{prefix}:{kind}")
        for kind in ("broker", "broker:pubsub")
    }


async def test_a_storm_of_commands_waits_for_connections_instead_of_failing(
    redis_prefix: str, raw: redis.Redis
) -> None:
    """1,000 presence puts at once (a storm of hellos): every one succeeds, over at
    most the pool's connections. redis-py's default pool refused all past the 100th
    with "Too many connections"."""
    broker = RedisBroker.connect(REDIS_URL, redis_prefix)
    try:
        await broker.start(Recorder())
        await broker.subscribe("kirmes")
        entries = [
            PresenceEntry(f"s{n}", f"v{n}", None, "web", "visitor", None, ()) for n in range(1000)
        ]
        peak: dict[str, int] = {}

        async def watch() -> None:
            while True:
                for kind, count in broker_connections(raw, redis_prefix).items():
                    peak[kind] = max(peak.get(kind, 0), count)
                await asyncio.sleep(0.005)

        watcher = asyncio.create_task(watch())
        try:
            new = await asyncio.gather(*(broker.presence_put("kirmes", [e], 30) for e in entries))
        finally:
            watcher.cancel()
        assert sorted(s for ns in new for s in ns) == sorted(e.session for e in entries)
        assert len(await broker.presence_list("kirmes")) == 1000
        assert 1 <= peak["broker"] <= lua.POOL_CONNECTIONS, peak
        assert peak["broker:pubsub"] == 1, peak
    finally:
        await broker.close()
    # close() closes both pools: Redis sees none of the broker's connections any more.
    await eventually(
        lambda: (
            broker_connections(raw, redis_prefix) == dict.fromkeys(("broker", "broker:pubsub"), 0)
        ),
        what="no connection of the broker left",
    )


async def test_pub_sub_never_takes_a_commands_connection(redis_prefix: str) -> None:
    """With one connection for commands, publishing and subscribing still work while
    pub/sub listens: it holds a connection of its own pool, not the commands' one."""
    seen = Recorder()
    broker = RedisBroker.connect(REDIS_URL, redis_prefix, max_connections=1, pool_wait_s=2)
    try:
        await broker.start(seen)
        await broker.subscribe("kirmes")
        await broker.subscribe("markt")
        frames = [await broker.publish(e, body(1)) for e in ("kirmes", "markt")]
        await eventually(
            lambda: [seen.frames["kirmes"], seen.frames["markt"]] == [[frames[0]], [frames[1]]],
            what="one frame of each event",
        )
    finally:
        await broker.close()


# A private Redis, killed and restarted


def start_redis(port: int) -> subprocess.Popen[bytes]:
    binary = shutil.which("redis-server")
    assert binary is not None
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def started() -> bool:
        assert proc.poll() is None, "private redis-server exited"
        return answers(f"redis://127.0.0.1:{port}/0")

    try:
        eventually_sync(started, what="the private redis-server to answer", timeout=5)
    except AssertionError:
        proc.kill()
        proc.wait()
        raise
    return proc


def stop_redis(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=5)


async def test_broker_survives_a_redis_restart(recorder: Recorder) -> None:
    need_service("redis-server binary", None if shutil.which("redis-server") else "not on PATH")
    port = free_port()
    proc = start_redis(port)
    broker = RedisBroker.connect(
        f"redis://127.0.0.1:{port}/0",
        "hbtest",
        catch_up_interval_s=0.5,
        backoff_initial_s=0.05,
        backoff_max_s=0.5,
    )
    try:
        await broker.start(recorder)
        old_epoch, _ = await broker.subscribe("kirmes")
        await broker.publish("kirmes", body(1))
        await eventually(lambda: recorder.seqs("kirmes") == [1], what="frame 1")
        assert broker.connected

        stop_redis(proc)
        await eventually(lambda: not broker.connected, what="the broker disconnected")
        with pytest.raises(BrokerUnavailable):
            await broker.ping()
        with pytest.raises(BrokerUnavailable):
            await broker.publish("kirmes", body(2))
        await eventually(
            lambda: broker.errors >= 2, what="a few failed reconnects while it is down"
        )

        proc = start_redis(port)  # empty: no persistence, so a new epoch
        await eventually(lambda: broker.connected, what="the broker connected again", timeout=10)
        await broker.ping()
        assert broker.reconnects == 1
        await eventually(lambda: bool(recorder.resets["kirmes"]), what="a reset")
        new_epoch, seq = recorder.resets["kirmes"][0]
        assert new_epoch != old_epoch and seq == 0
        frame = await broker.publish("kirmes", body(1))
        assert (frame.epoch, frame.seq) == (new_epoch, 1)
        await eventually(lambda: recorder.frames["kirmes"][-1] == frame, what="the new frame")
        assert recorder.seqs("kirmes") == [1, 1]
    finally:
        try:
            async with asyncio.timeout(10):
                await broker.close()
        finally:
            stop_redis(proc)
