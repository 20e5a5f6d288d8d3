"""Real server processes: two on one Redis, kill -9, SIGTERM, Redis restarted under sessions."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import REDIS_URL
from tests.harness.private_redis import private_redis
from tests.harness.process_rig import FAST, STAFF, create_event, redis_env, visitor
from tests.harness.server_process import ServerProcess, running_server, server_env
from tests.harness.waiting import eventually
from tests.harness.ws_client import WsClient

pytestmark = pytest.mark.slow


async def wait_for_count(client: WsClient, room: str, web: int, timeout: float) -> dict[str, Any]:
    """The first attendance frame that counts ``web`` visitors on the page in ``room``."""
    return await client.next(
        "attendance", timeout, where=lambda f: f["rooms"].get(room, {}).get("web") == web
    )


def test_two_processes_share_attendance_and_order(tmp_path: Path, redis_prefix: str) -> None:
    env = redis_env(tmp_path, REDIS_URL, redis_prefix)
    with running_server(env, log_dir=tmp_path) as a, running_server(env, log_dir=tmp_path) as b:
        asyncio.run(_two_processes(a, b))


async def _two_processes(a: ServerProcess, b: ServerProcess) -> None:
    async with aiohttp.ClientSession() as http:
        await create_event(http, a)
        on_a = await visitor(http, a)
        on_b = await visitor(http, b)
        movers = [await visitor(http, b if i % 2 else a) for i in range(4)]
        for m in movers:
            await m.send({"type": "enter", "room": "plenum"})
        await wait_for_count(on_a, "plenum", 4, timeout=10)
        await wait_for_count(on_b, "plenum", 4, timeout=10)
        for m in movers[:2]:
            await m.send({"type": "leave", "room": "plenum"})
        await wait_for_count(on_a, "plenum", 2, timeout=10)
        await wait_for_count(on_b, "plenum", 2, timeout=10)
        # Both processes delivered the same stream: same frames at the same positions, no gaps.
        frames_a = {f["seq"]: f for f in on_a.frames if "seq" in f and f["type"] != "welcome"}
        frames_b = {f["seq"]: f for f in on_b.frames if "seq" in f and f["type"] != "welcome"}
        for frames in (frames_a, frames_b):
            seqs = sorted(frames)
            assert seqs == list(range(seqs[0], seqs[-1] + 1))
        for seq in set(frames_a) & set(frames_b):
            assert frames_a[seq] == frames_b[seq]
        assert set(frames_a) & set(frames_b)
        for client in (on_a, on_b, *movers):
            await client.close()


def test_killed_process_leaves_the_counts(tmp_path: Path, redis_prefix: str) -> None:
    env = redis_env(tmp_path, REDIS_URL, redis_prefix)
    with running_server(env, log_dir=tmp_path) as a, running_server(env, log_dir=tmp_path) as b:
        asyncio.run(_kill(a, b))


async def _kill(a: ServerProcess, b: ServerProcess) -> None:
    async with aiohttp.ClientSession() as http:
        await create_event(http, a)
        watcher = await visitor(http, a)
        doomed = [await visitor(http, b, room="ag") for _ in range(3)]
        await wait_for_count(watcher, "ag", 3, timeout=10)
        os.kill(b.proc.pid, signal.SIGKILL)
        b.proc.wait(5)
        await wait_for_count(watcher, "ag", 0, timeout=30)
        live = await (await http.get(a.url + "/api/events/netz/live")).json()
        assert live["rooms"]["ag"]["web"] == 0
        await watcher.close()
        for client in doomed:
            await client.close()


def test_sigterm_says_bye_and_exits(tmp_path: Path) -> None:
    env = server_env(tmp_path / "data", **FAST)
    with running_server(env, log_dir=tmp_path) as server:
        asyncio.run(_sigterm(server))
        assert STAFF not in server.output()  # no token in any log line


async def _sigterm(server: ServerProcess) -> None:
    async with aiohttp.ClientSession() as http:
        await create_event(http, server)
        clients = [await visitor(http, server) for _ in range(3)]
        # Every page told and the process gone within 10 s of the signal (a deadline, as
        # an orchestrator's grace period is).
        async with asyncio.timeout(10):
            server.proc.send_signal(signal.SIGTERM)
            for client in clients:
                bye = await client.next("bye", timeout=8)
                assert bye["reason"] == "restart"
                assert 500 <= bye["reconnect_after_ms"] <= 5000
                assert await client.closed(timeout=8) == 1012
            await asyncio.to_thread(server.proc.wait, 10)
        assert server.proc.returncode == 0


def test_redis_restart_under_running_sessions(tmp_path: Path) -> None:
    with private_redis(tmp_path) as redis_server:
        env = redis_env(tmp_path, redis_server.url, "restart")
        with running_server(env, log_dir=tmp_path) as server:
            asyncio.run(_redis_restart(server, redis_server))


async def _redis_restart(server: ServerProcess, redis_server: Any) -> None:
    async with aiohttp.ClientSession() as http:
        await create_event(http, server)
        watcher = await visitor(http, server)
        mover = await visitor(http, server)
        await mover.send({"type": "enter", "room": "ag"})
        await wait_for_count(watcher, "ag", 1, timeout=10)

        redis_server.stop(kill=True)

        async def not_ready() -> aiohttp.ClientResponse | None:
            ready = await http.get(server.url + "/readyz")
            if ready.status == 503:
                return ready
            ready.release()
            return None

        ready = await eventually(not_ready, what="readyz to say 503 without Redis")
        # Which dependency, never where: /readyz and 503 bodies are public (issue 11).
        port = redis_server.url.rsplit(":", 1)[1].split("/")[0]
        body = await ready.text()
        assert "unavailable" in body and port not in body and "127.0.0.1" not in body
        events = await http.get(server.url + "/api/events")
        assert events.status == 503
        text = await events.text()
        assert "the store is unavailable" in text
        assert port not in text and "127.0.0.1" not in text and "connecting" not in text
        # Sessions stay open and are served while Redis is away.
        await watcher.send({"type": "ping", "t": 7.0})
        assert (await watcher.next("pong"))["t"] == 7.0

        redis_server.start()  # empty: no persistence, so the store lost the event too
        await create_event(http, server)
        await eventually(lambda: _ready(http, server), what="readyz to recover", timeout=20)
        # Fan-out resumes: a fresh snapshot for the new epoch, then live attendance again,
        # with the mover's presence re-registered by the refresh.
        await watcher.next("snapshot", timeout=15)
        late = await visitor(http, server)
        await late.send({"type": "enter", "room": "ag"})
        await wait_for_count(watcher, "ag", 2, timeout=15)
        for client in (watcher, mover, late):
            await client.close()


async def _ready(http: aiohttp.ClientSession, server: ServerProcess) -> bool:
    async with http.get(server.url + "/readyz") as resp:
        return resp.status == 200
