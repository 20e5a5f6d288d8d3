"""kill -9 of a process and of Redis during asks and votes: nothing acknowledged lost or doubled.

One scenario with counts: two server processes on a private Redis with an
append-only file (fsync always), eight visitors (four on each process) asking
and voting with pipelined frames. While they do, one process is killed with
SIGKILL and started again on its port, and then Redis is killed with SIGKILL
and started again on the same append-only file. Visitors behave as ``live.js``:
an unanswered ask or vote is sent again after the reconnect (the same
``client_msg_id``, the same vote), a frame answered ``unavailable`` is sent
again after a short backoff. At the end the export must hold every
acknowledged question exactly once and count every acknowledged vote exactly
once, and nothing that was not asked.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.harness.live_page import Closed, HelloRefused, LivePage
from tests.harness.private_redis import PrivateRedis, private_redis
from tests.harness.process_rig import STAFF, create_event, redis_env
from tests.harness.server_process import ServerProcess, running_server

pytestmark = pytest.mark.slow
AUTH = {"Authorization": f"Bearer {STAFF}"}
VISITORS = 8
ASKS_EACH = 4
QUESTIONS = VISITORS * ASKS_EACH
LIMITS = {
    # Generous limits: this test is about durability, not about the rate limits.
    "HUBS_BRIDGE_QA__QUESTIONS_PER_MINUTE": "10000",
    "HUBS_BRIDGE_QA__QUESTION_BURST": "10000",
    "HUBS_BRIDGE_QA__VOTES_PER_MINUTE": "10000",
    "HUBS_BRIDGE_QA__VOTE_BURST": "10000",
    "HUBS_BRIDGE_REALTIME__FRAMES_PER_SECOND": "10000",
    "HUBS_BRIDGE_REALTIME__FRAMES_BURST": "10000",
}
SCENARIO_S = 50.0  # traffic and faults, b's restart included: the test stays under a minute
BACKOFF_S = 0.1  # a client's pause before trying a refused connection or frame again
ANSWER_S = 10.0  # every frame is answered (ack or error) within this, whatever happened


@dataclass
class Tally:
    """Everything a visitor got an ack for, and what it took to get there."""

    asked: dict[str, str] = field(default_factory=dict)  # client_msg_id -> question id
    votes: dict[str, set[str]] = field(default_factory=dict)  # question id -> voters
    # Frames sent again, after a reconnect or after `unavailable`, by type.
    resent: dict[str, int] = field(default_factory=lambda: {"ask": 0, "vote": 0})
    reconnects: int = 0
    unavailable: int = 0
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def acks(self) -> int:
        return len(self.asked) + sum(len(v) for v in self.votes.values())

    async def record(self, visitor: str, frame: dict[str, Any], ack: dict[str, Any]) -> None:
        if frame["type"] == "ask":
            qid = ack["question"]["id"]
            first = self.asked.setdefault(frame["client_msg_id"], qid)
            assert first == qid, f"{frame['client_msg_id']} acknowledged as {first}, then {qid}"
            self.votes.setdefault(qid, set())
        else:
            assert ack["voted"] is True and ack["question"]["id"] == frame["question"], ack
            self.votes[frame["question"]].add(visitor)
        await self.notify()

    async def notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def wait(self, ready: Any) -> None:
        async with self.changed:
            await self.changed.wait_for(ready)


class Fleet:
    """Server processes by name, each restartable on its own port; all stopped at the end."""

    def __init__(self, env: dict[str, str], log_dir: Path, stack: ExitStack) -> None:
        self.env = env
        self.log_dir = log_dir
        self.stack = stack
        self.servers: dict[str, ServerProcess] = {}
        self.ports: dict[str, int | None] = {}
        self.starts = 0

    def start(self, name: str) -> ServerProcess:
        self.starts += 1
        logs = self.log_dir / f"{name}-{self.starts}"  # a restarted process keeps the old log
        logs.mkdir()
        server = self.stack.enter_context(
            running_server(self.env, log_dir=logs, port=self.ports.get(name))
        )
        self.servers[name], self.ports[name] = server, server.port
        return server

    def kill(self, name: str) -> None:
        proc = self.servers[name].proc
        os.kill(proc.pid, signal.SIGKILL)  # no shutdown, no flush: only what was durable
        proc.wait(5)

    def ws_url(self, name: str) -> str:
        return f"ws://127.0.0.1:{self.ports[name]}/ws"


class Visitor:
    """One page that asks and votes, and gets every frame acknowledged whatever happens."""

    def __init__(self, label: str, homes: list[str], fleet: Fleet, tally: Tally) -> None:
        self.label = label
        self.page = LivePage(label, "netz")
        self.homes = homes  # its own process first, then the other
        self.fleet = fleet
        self.tally = tally

    async def connect(self, http: aiohttp.ClientSession) -> None:
        """Hello on the first process that takes it; the outbox goes again after it."""
        while True:
            for name in self.homes:
                try:
                    await self.page.connect(http, self.fleet.ws_url(name))
                except (aiohttp.ClientError, HelloRefused, ConnectionError, TimeoutError):
                    continue
                for frame in self.page.outbox.values():
                    self.tally.resent[frame["type"]] += 1
                return
            await asyncio.sleep(BACKOFF_S)  # every process refused: back off, like live.js

    async def settle(self, http: aiohttp.ClientSession, frames: list[dict[str, Any]]) -> None:
        """Send ``frames`` at once (pipelined), then get an ack for each one."""
        refs = [await self._send(frame) for frame in frames]
        for frame, ref in zip(frames, refs, strict=True):
            deadline = time.monotonic() + ANSWER_S
            while True:
                try:
                    answer = await self.page.answer(ref, timeout=BACKOFF_S * 5)
                except Closed:
                    self.tally.reconnects += 1
                    await self.connect(http)
                    continue
                except TimeoutError:
                    # docs/protocol.md: `unavailable` may come without a ref; then live.js
                    # sends every unanswered ask and vote again.
                    assert time.monotonic() < deadline, f"{self.label}: no answer to {frame}"
                    if self.page.loose_errors:
                        self.page.loose_errors.clear()
                        await self._unavailable(list(self.page.outbox.values()))
                    continue
                if answer["type"] == "error":
                    assert answer["code"] == "unavailable", answer
                    await self._unavailable([frame])
                    continue
                await self.tally.record(self.label, frame, answer)
                break

    async def _unavailable(self, frames: list[dict[str, Any]]) -> None:
        """The store did not answer (Redis is away): send the frames again in a moment."""
        self.tally.unavailable += 1
        await asyncio.sleep(BACKOFF_S)
        for frame in frames:
            self.tally.resent[frame["type"]] += 1
            await self._send(frame)

    async def _send(self, frame: dict[str, Any]) -> str:
        try:
            ref = await self.page.send(frame)
        except Closed:  # kept in the outbox: sent again after the reconnect
            return str(frame.get("client_msg_id") or frame["ref"])
        await self.tally.notify()  # the faults wait for asks in flight
        return ref

    def asking(self) -> bool:
        """An ask of this page is on its way: sent, not answered yet."""
        return any(frame["type"] == "ask" for frame in self.page.outbox.values())

    async def run(self, http: aiohttp.ClientSession) -> None:
        """Ask one question a round with votes for the questions seen so far, then vote on."""
        await self.connect(http)
        voted: set[str] = set()
        for i in range(ASKS_EACH):
            ask = {
                "type": "ask",
                "text": f"Frage {i} von {self.label}?",
                "client_msg_id": f"{self.label}-{i}",
            }
            await self.settle(http, [ask, *self._votes(voted)])
        while len(voted) < QUESTIONS:
            await self.tally.wait(lambda: len(set(self.tally.asked.values()) - voted) > 0)
            await self.settle(http, self._votes(voted))
        await self.page.drop()

    def _votes(self, voted: set[str]) -> list[dict[str, Any]]:
        """Votes for the questions not voted for yet (marked voted now: settle gets them acked)."""
        new = sorted(set(self.tally.asked.values()) - voted)
        voted.update(new)
        return [{"type": "vote", "question": q, "ref": f"{self.label}-{q}"} for q in new]


async def faults(
    fleet: Fleet, redis_server: PrivateRedis, tally: Tally, visitors: list[Visitor]
) -> list[str]:
    """kill -9 of process b after half the asks, of Redis after three quarters.

    Each at a moment when an ask is on its way (asks are spread over the run, one a
    round with votes between), so both faults land among asks and votes in flight.
    Each is started again: process b on its port, Redis on its append-only file.
    """
    on_b = [v for v in visitors if v.homes[0] == "b"]
    done = []
    await tally.wait(lambda: len(tally.asked) >= QUESTIONS // 2 and any(v.asking() for v in on_b))
    fleet.kill("b")
    done.append(f"kill -9 of process b at {tally.acks} acks")
    # Its pages move to process a meanwhile; the traffic goes on while b starts again.
    restarted = asyncio.create_task(asyncio.to_thread(fleet.start, "b"))
    await tally.wait(
        lambda: len(tally.asked) >= QUESTIONS * 3 // 4 and any(v.asking() for v in visitors)
    )
    redis_server.stop(kill=True)  # SIGKILL: only what the append-only file has survives
    done.append(f"kill -9 of Redis at {tally.acks} acks")
    await asyncio.to_thread(redis_server.start)
    await restarted
    return done


async def scenario(fleet: Fleet, redis_server: PrivateRedis) -> None:
    tally = Tally()
    async with aiohttp.ClientSession() as http:
        await create_event(http, fleet.servers["a"])
        visitors = [
            Visitor(f"v{i}", ["a", "b"] if i % 2 else ["b", "a"], fleet, tally)
            for i in range(VISITORS)
        ]
        started = time.monotonic()
        injected = asyncio.ensure_future(faults(fleet, redis_server, tally, visitors))
        await asyncio.gather(injected, *(v.run(http) for v in visitors))
        fault_log = injected.result()
        took = time.monotonic() - started
        exports = {}
        for name in ("a", "b"):
            url = f"http://127.0.0.1:{fleet.ports[name]}/api/events/netz/questions.json"
            async with http.get(url, headers=AUTH) as resp:
                assert resp.status == 200, await resp.text()
                exports[name] = (await resp.json())["questions"]

    rows = exports["a"]
    stored = {row["id"]: row["votes"] for row in rows}
    acked_votes = sum(len(voters) for voters in tally.votes.values())
    print(
        f"\n{'; '.join(fault_log)}; in {took:.1f} s: "
        f"asks acknowledged {len(tally.asked)}, questions stored {len(rows)}; "
        f"votes acknowledged {acked_votes}, counted {sum(stored.values())}; "
        f"sent again: {tally.resent['ask']} asks, {tally.resent['vote']} votes; "
        f"reconnects {tally.reconnects}, "
        f"'unavailable' answers {tally.unavailable}"
    )
    # Both processes read the same store: the same questions, the same counts.
    assert sorted(exports["a"], key=lambda r: r["id"]) == sorted(
        exports["b"], key=lambda r: r["id"]
    )
    # Every ask acknowledged once per client_msg_id, each its own question, stored once.
    assert len(tally.asked) == QUESTIONS
    assert len(set(tally.asked.values())) == QUESTIONS
    assert len(rows) == len(stored) == QUESTIONS, "a question lost or stored twice"
    assert set(stored) == set(tally.asked.values())
    # Every acknowledged vote counted exactly once: every visitor voted for every question.
    assert acked_votes == VISITORS * QUESTIONS
    assert stored == {qid: len(voters) for qid, voters in tally.votes.items()}
    assert set(stored.values()) == {VISITORS}
    # The faults hit traffic in flight: frames had to be sent again.
    assert sum(tally.resent.values()) > 0 and tally.reconnects > 0


@contextmanager
def two_processes_on_private_redis(tmp_path: Path) -> Iterator[tuple[Fleet, PrivateRedis]]:
    redis_dir = tmp_path / "redis"
    redis_dir.mkdir()
    with private_redis(redis_dir, appendonly=True) as redis_server, ExitStack() as stack:
        env = redis_env(tmp_path, redis_server.url, "faults") | LIMITS
        fleet = Fleet(env, tmp_path, stack)
        fleet.start("a")
        fleet.start("b")
        yield fleet, redis_server


def test_kill_9_of_a_process_and_of_redis_loses_and_doubles_nothing(tmp_path: Path) -> None:
    with two_processes_on_private_redis(tmp_path) as (fleet, redis_server):
        asyncio.run(asyncio.wait_for(scenario(fleet, redis_server), SCENARIO_S))
