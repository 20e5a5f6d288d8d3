"""Q&A across real processes: nothing acknowledged is lost; every page sees one order."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import REDIS_URL
from tests.harness.private_redis import PrivateRedis, private_redis
from tests.harness.process_rig import FAST, STAFF, create_event, redis_env, visitor
from tests.harness.server_process import ServerProcess, running_server, server_env
from tests.harness.waiting import eventually
from tests.harness.ws_client import WsClient

pytestmark = pytest.mark.slow
AUTH = {"Authorization": f"Bearer {STAFF}"}


async def ask_and_vote(http: aiohttp.ClientSession, server: ServerProcess, n: int) -> list[str]:
    """``n`` questions, each acknowledged, each with an acknowledged vote from two visitors."""
    askers = [await visitor(http, server) for _ in range(n)]  # 3 questions a minute each
    voters = [await visitor(http, server) for _ in range(2)]
    ids = []
    for i, asker in enumerate(askers):
        await asker.send({"type": "ask", "text": f"Frage {i}?", "client_msg_id": f"m{i}"})
        ids.append((await asker.next("ack"))["question"]["id"])
    for voter in voters:
        for qid in ids:
            await voter.send({"type": "vote", "question": qid, "ref": qid})
            await voter.next("ack", ref=qid)
    for client in (*askers, *voters):
        await client.close()
    return ids


async def stored(http: aiohttp.ClientSession, server: ServerProcess) -> dict[str, int]:
    listed = await (await http.get(server.url + "/api/events/netz/questions", headers=AUTH)).json()
    return {q["id"]: q["votes"] for q in listed["questions"]}


def test_nothing_acknowledged_lost_when_the_server_is_killed(tmp_path: Path) -> None:
    env = server_env(tmp_path / "data", **FAST)

    async def before() -> list[str]:
        async with aiohttp.ClientSession() as http:
            await create_event(http, server)
            return await ask_and_vote(http, server, 5)

    with running_server(env, log_dir=tmp_path) as server:
        ids = asyncio.run(before())
        os.kill(server.proc.pid, signal.SIGKILL)  # no shutdown, no flush: only what was durable
        server.proc.wait(5)

    async def after() -> dict[str, int]:
        async with aiohttp.ClientSession() as http:
            return await stored(http, again)

    with running_server(env, log_dir=tmp_path) as again:
        assert asyncio.run(after()) == dict.fromkeys(ids, 2)


def test_nothing_acknowledged_lost_when_redis_restarts(tmp_path: Path) -> None:
    with private_redis(tmp_path, appendonly=True) as redis_server:
        env = redis_env(tmp_path, redis_server.url, "aof")
        with running_server(env, log_dir=tmp_path) as server:
            asyncio.run(_redis_restart(server, redis_server))


async def _redis_restart(server: ServerProcess, redis_server: PrivateRedis) -> None:
    async with aiohttp.ClientSession() as http:
        await create_event(http, server)
        ids = await ask_and_vote(http, server, 5)
        redis_server.stop(kill=True)  # SIGKILL: only what the append-only file has survives
        redis_server.start()

        async def ready() -> bool:
            async with http.get(server.url + "/readyz") as resp:
                return resp.status == 200

        await eventually(ready, what="readyz after the restart", timeout=20)
        assert await stored(http, server) == dict.fromkeys(ids, 2)
        # And the bridge goes on taking questions on the restarted Redis.
        more = await ask_and_vote(http, server, 1)
        assert (await stored(http, server))[more[0]] == 2


def test_question_flow_across_two_processes(tmp_path: Path, redis_prefix: str) -> None:
    env = redis_env(tmp_path, REDIS_URL, redis_prefix)
    with running_server(env, log_dir=tmp_path) as a, running_server(env, log_dir=tmp_path) as b:
        asyncio.run(_across(a, b))


async def _across(a: ServerProcess, b: ServerProcess) -> None:
    async with aiohttp.ClientSession() as http:
        await create_event(http, a)
        resp = await http.patch(
            a.url + "/api/events/netz", json={"qa": {"premoderation": True}}, headers=AUTH
        )
        assert resp.status == 200
        asker = await visitor(http, a)
        watchers = [await visitor(http, a), await visitor(http, b)]
        mod = await WsClient.connect(http, b.url.replace("http", "ws") + "/ws")
        await mod.hello("netz", token=STAFF)

        await asker.send({"type": "ask", "text": "Über zwei Prozesse?", "client_msg_id": "x"})
        qid = (await asker.next("ack"))["question"]["id"]
        await mod.next("question")
        await mod.send({"type": "moderate", "action": "approve", "question": qid, "ref": "ok"})
        await mod.next("ack", ref="ok")
        voters = [await visitor(http, a if i % 2 else b) for i in range(6)]
        for voter in voters:
            await voter.send({"type": "vote", "question": qid, "ref": "v"})
        for voter in voters:
            assert (await voter.next("ack", ref="v"))["question"]["id"] == qid
        for watcher in watchers:
            frame = await watcher.next("votes", timeout=10)
            while frame["counts"].get(qid) != 6:
                frame = await watcher.next("votes", timeout=10)

        def stream(client: WsClient) -> list[tuple[int, str, Any]]:
            return [
                (f["seq"], f["type"], f.get("question", f.get("counts")))
                for f in client.frames
                if f["type"] in ("question", "votes")
            ]

        # The same frames at the same positions on both processes, in one order.
        on_a, on_b = stream(watchers[0]), stream(watchers[1])
        common = sorted(set(x[0] for x in on_a) & set(x[0] for x in on_b))
        assert common, (on_a, on_b)
        assert [x for x in on_a if x[0] in common] == [x for x in on_b if x[0] in common]
        assert [x[0] for x in on_a] == sorted(x[0] for x in on_a)
        # The pending question reached both as hidden, then approved.
        kinds = [x[2] for x in on_a if x[1] == "question"]
        assert kinds[0] == {"id": qid, "hidden": True} and kinds[1]["status"] == "approved"
        for client in (asker, mod, *watchers, *voters):
            await client.close()
