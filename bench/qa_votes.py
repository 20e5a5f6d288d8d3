"""Vote storm: 2,000 visitors vote on 20 questions within 10 s while 5,000 pages watch.

Reports, for one server process (SQLite, in-memory broker, uvloop):
- votes acknowledged vs votes counted in the store afterwards (must be equal),
- ``votes`` and ``question`` frames received per watching page (coalescing),
- ack latency p50/p99 (from sending ``vote`` to its ``ack``).

Run: ``.venv/bin/python -m bench.qa_votes`` (about a minute; traffic to 127.0.0.1 only,
bounded in count and time). Options: ``--watchers``, ``--voters``, ``--questions``,
``--votes-each``, ``--seconds``. Results are printed and written to bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Coroutine
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, cast

import orjson

from bench.ws_load import client_frame, new_event_loop, raise_nofile_limit

REPO = Path(__file__).resolve().parent.parent
STAFF = "bench-staff-token-0123456789abcdef"
EVENT = "vote-storm"
PER_ADDRESS = 50  # new visitor ids are limited per address: spread clients over 127.1.x.y


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Page(asyncio.Protocol):
    """A raw websocket page: hello, then count frames and time acks."""

    def __init__(self, port: int, done: asyncio.Future[None], event: str = EVENT) -> None:
        self.event = event
        key = base64.b64encode(os.urandom(16)).decode()
        self.request = (
            f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        self.buf = b""
        self.upgraded = False
        self.transport: asyncio.Transport | None = None
        self.welcomed = done
        self.counts: dict[str, int] = {}
        self.sent: dict[str, float] = {}
        self.latencies: list[float] = []
        self.acked = 0
        self.errors: list[str] = []
        self.result_times: list[float] = []  # poll_results arrivals, for the rate per page

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(self.request)

    def send(self, frame: dict[str, Any]) -> None:
        if self.transport is not None:
            self.transport.write(client_frame(orjson.dumps(frame)))

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if not self.upgraded:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            self.buf = self.buf[end + 4 :]
            self.upgraded = True
            self.send({"type": "hello", "event": self.event})
        while len(self.buf) >= 2:
            opcode, n = self.buf[0] & 0x0F, self.buf[1] & 0x7F
            head = 2
            if n == 126:
                if len(self.buf) < 4:
                    return
                n, head = int.from_bytes(self.buf[2:4], "big"), 4
            elif n == 127:
                if len(self.buf) < 10:
                    return
                n, head = int.from_bytes(self.buf[2:10], "big"), 10
            if len(self.buf) < head + n:
                return
            payload, self.buf = self.buf[head : head + n], self.buf[head + n :]
            if opcode == 0x9 and self.transport is not None:  # ping -> pong
                self.transport.write(client_frame(payload, 0xA))
            elif opcode == 0x1:
                self.frame(orjson.loads(payload))

    def frame(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if kind == "welcome" and not self.welcomed.done():
            self.welcomed.set_result(None)
        elif kind == "ack" and frame.get("ref") in self.sent:
            self.latencies.append(time.perf_counter() - self.sent.pop(frame["ref"]))
            self.acked += 1
        elif kind == "error":
            self.errors.append(frame["code"])
        elif kind == "poll_results":
            self.result_times.append(time.monotonic())

    def report(self) -> dict[str, int]:
        """Frames received by type, and the most ``poll_results`` within any one second."""
        most, first = 0, 0
        for last, at in enumerate(self.result_times):
            while at - self.result_times[first] >= 1.0:
                first += 1
            most = max(most, last - first + 1)
        return {**self.counts, "poll_results_max_per_s": most}


async def open_pages(port: int, count: int, offset: int, event: str = EVENT) -> list[Page]:
    loop = asyncio.get_running_loop()
    pages = []
    for i in range(count):
        n = offset + i
        address = f"127.1.{(n // PER_ADDRESS) // 250}.{(n // PER_ADDRESS) % 250 + 1}"
        done: asyncio.Future[None] = loop.create_future()
        page = Page(port, done, event)
        await loop.create_connection(lambda p=page: p, "127.0.0.1", port, local_addr=(address, 0))
        pages.append(page)
        if i % 200 == 199:
            await asyncio.gather(*(p.welcomed for p in pages[-200:]))
    await asyncio.wait_for(asyncio.gather(*(p.welcomed for p in pages)), 60)
    return pages


def watch_main(conn: Connection, port: int, count: int, event: str = EVENT) -> None:
    """Worker process: ``count`` pages that only watch; reports their frame counts."""
    loop = new_event_loop()
    asyncio.set_event_loop(loop)
    raise_nofile_limit()
    pages = loop.run_until_complete(open_pages(port, count, offset=100_000, event=event))
    conn.send("ready")

    async def until_asked() -> None:  # the pages keep reading meanwhile
        # A pipe is no asyncio object: poll it, and let the loop serve the pages between.
        while not conn.poll():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        conn.recv()

    loop.run_until_complete(until_asked())
    conn.send([p.report() for p in pages])
    for page in pages:
        if page.transport is not None:
            page.transport.close()
    loop.run_until_complete(asyncio.sleep(0.2))


def http(port: int, method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    req.add_header("Authorization", f"Bearer {STAFF}")
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"null")


async def storm(port: int, args: argparse.Namespace) -> dict[str, Any]:
    # The questions, asked by pages of their own.
    askers = await open_pages(port, args.questions, offset=0)
    ids: list[str] = []
    for n, page in enumerate(askers):
        page.send({"type": "ask", "text": f"Frage {n}?", "client_msg_id": f"q{n}"})
    deadline = time.monotonic() + 30
    while sum(p.counts.get("ack", 0) for p in askers) < len(askers):
        assert time.monotonic() < deadline, "questions were not acknowledged"
        await asyncio.sleep(0.05)
    listed = http(port, "GET", f"/api/events/{EVENT}/questions")
    ids = [q["id"] for q in listed["questions"]]
    voters = await open_pages(port, args.voters, offset=1000)
    rng = random.Random(7)
    plan = [(v, q) for v in range(len(voters)) for q in rng.sample(ids, args.votes_each)]
    rng.shuffle(plan)
    started = time.perf_counter()
    per_tick = max(1, len(plan) // (args.seconds * 50))
    for i in range(0, len(plan), per_tick):
        for v, q in plan[i : i + per_tick]:
            ref = f"{q}:{v}"
            voters[v].sent[ref] = time.perf_counter()
            voters[v].send({"type": "vote", "question": q, "up": True, "ref": ref})
        await asyncio.sleep(0.02)
    sent_in = time.perf_counter() - started
    deadline = time.monotonic() + 60
    while sum(p.acked for p in voters) + sum(len(p.errors) for p in voters) < len(plan):
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(2.0)  # let the last coalesced counts settle
    acked = sum(p.acked for p in voters)
    latencies = sorted(x for p in voters for x in p.latencies)
    counted = sum(
        q["votes"] for q in http(port, "GET", f"/api/events/{EVENT}/questions")["questions"]
    )
    return {
        "votes_sent": len(plan),
        "votes_acked": acked,
        "votes_counted": counted,
        "errors": sorted({e for p in voters for e in p.errors}),
        "send_seconds": round(sent_in, 2),
        "ack_p50_ms": round(latencies[len(latencies) // 2] * 1000, 1) if latencies else None,
        "ack_p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1) if latencies else None,
        "ack_max_ms": round(latencies[-1] * 1000, 1) if latencies else None,
        "_pages": askers + voters,
    }


def bench_env(prefix: str) -> dict[str, str]:
    """The server's environment: a fresh data folder, the bench's staff token, no seeds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUBS_BRIDGE_")}
    env.update(
        {
            "HUBS_BRIDGE_DATA_DIR": tempfile.mkdtemp(prefix=prefix),
            "HUBS_BRIDGE_STAFF_TOKEN": STAFF,
            "HUBS_BRIDGE_SEED_DIR": "",
            "HUBS_BRIDGE_LOG_LEVEL": "warning",
            "HUBS_BRIDGE_SCENES_DIR": str(REPO / "room_scenes"),
        }
    )
    return env


Storm = Callable[[int], Coroutine[Any, Any, dict[str, Any]]]


def run_storm(
    env: dict[str, str], event: str, watchers: int, storm_of: Storm
) -> tuple[dict[str, Any], list[dict[str, int]]]:
    """One server process with ``event``, ``watchers`` watching pages in a second process,
    and ``storm_of(port)`` in this one; its result (whose ``_pages`` are closed here) and
    each watcher's report of the frames it got."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "hubs_bridge", "serve", "--port", str(port)], env=env, cwd=REPO
    )
    try:
        for _ in range(100):
            try:
                http(port, "GET", "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        window = {"starts_at": "2026-01-01T00:00", "ends_at": "2026-01-10T00:00"}
        http(port, "POST", "/api/events", {"slug": event, "title": event, **window})
        parent, child = multiprocessing.Pipe()
        watcher = multiprocessing.get_context("spawn").Process(
            target=watch_main, args=(child, port, watchers, event), daemon=True
        )
        watcher.start()
        if not parent.poll(180) or parent.recv() != "ready":
            raise RuntimeError("watchers did not connect")
        loop = new_event_loop()
        result = loop.run_until_complete(storm_of(port))
        parent.send("report")
        reports: list[dict[str, int]] = parent.recv() if parent.poll(60) else []
        watcher.join(10)
        for page in result.pop("_pages"):
            if page.transport is not None:
                page.transport.close()
        loop.run_until_complete(asyncio.sleep(0.2))
        loop.close()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(15)
    return result, reports


def write_result(name: str, args: argparse.Namespace, result: dict[str, Any]) -> None:
    print(json.dumps(result, indent=2))
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    (out / f"{stamp}-{name}.json").write_text(json.dumps({"args": vars(args), **result}, indent=2))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--watchers", type=int, default=5000)
    parser.add_argument("--voters", type=int, default=2000)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--votes-each", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args(argv)
    raise_nofile_limit()
    result, counts = run_storm(
        bench_env("hubs-bench-votes-"), EVENT, args.watchers, lambda port: storm(port, args)
    )
    frames = [c.get("votes", 0) + c.get("question", 0) for c in counts]
    result.update(
        {
            "watchers": len(counts),
            "frames_per_watcher_mean": round(statistics.fmean(frames), 1) if frames else None,
            "frames_per_watcher_max": max(frames) if frames else None,
            "vote_frames_per_watcher_mean": round(
                statistics.fmean(c.get("votes", 0) for c in counts), 1
            )
            if counts
            else None,
        }
    )
    write_result("qa-votes", args, result)
    ok = result["votes_counted"] == result["votes_acked"] == result["votes_sent"]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
