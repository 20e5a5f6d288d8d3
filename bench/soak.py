"""Soak: one server for minutes under steady asks, votes, hellos and reconnects.

    .venv/bin/python -m bench.soak --minutes 5 --backend redis

Checks what only time shows, on one server process (``bench/server.py``, the
app ``hubs-bridge serve`` runs):

- **RSS flat**: the server's resident memory is sampled every few seconds; the
  slope over the second half of the run (the first half warms caches, pools
  and the allocator) is reported in KB per minute.
- **No errors**: every hello welcomed, every ask and vote answered by an
  ``ack`` (never an ``error`` frame or silence), no warning or traceback in
  the server's log.
- **Counts exact**: the questions and votes that pages were acknowledged are
  exactly those in the moderators' export (``questions.json``) afterwards.

The load: ``--pages`` pages stay open; each second some ask, some vote (each
page once per question, as the page allows), some close and come back with
their visitor id and their ``{epoch, seq}`` (a reconnect, which should resume),
and some leave for good while new visitors arrive. Pages send the app-level
``ping`` the protocol asks for. Not in CI: it takes minutes. Writes
``bench/results/<time>-soak-<backend>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from bench.procs import Server, code_version, machine, rss_kb
from bench.redis_proc import BenchRedis
from bench.ws_load import new_event_loop, raise_nofile_limit

EVENT = "soak"
RESULTS = Path(__file__).parent / "results"
ANSWER_TIMEOUT_S = 30.0
PING_EVERY_S = 25.0  # the protocol: at least every 30 s
# New visitor ids are limited per address (120 a minute): pages come from 127.3.x.y,
# this many each.
PAGES_PER_ADDRESS = 20


class Refused(Exception):
    """The server answered a hello or a request with an ``error`` frame."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Tally:
    """What the pages saw, and what they were acknowledged."""

    errors: Counter[str] = field(default_factory=Counter)
    hellos: int = 0
    resumed: int = 0
    snapshots: int = 0  # reconnects that could not resume and got a fresh snapshot
    asks_acked: set[str] = field(default_factory=set)  # question ids
    votes_acked: Counter[str] = field(default_factory=Counter)  # question id -> acked votes
    requests: Counter[str] = field(default_factory=Counter)


class Page:
    """One visitor's page: a websocket that says hello, asks, votes and comes back."""

    def __init__(self, number: int, tally: Tally) -> None:
        self.number = number
        slot = number // PAGES_PER_ADDRESS
        self.address = f"127.3.{slot // 250}.{slot % 250 + 1}"
        self.tally = tally
        self.visitor: str | None = None
        self.epoch: str | None = None
        self.seq = 0
        self.voted: set[str] = set()
        self.asked = 0
        self.busy = 0  # requests not answered yet: such a page is not reconnected
        self.last_sent = 0.0
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._refs = 0

    @property
    def open(self) -> bool:
        return self._ws is not None and not self._ws.closed

    async def connect(self, http: aiohttp.ClientSession, url: str) -> None:
        hello: dict[str, Any] = {"type": "hello", "event": EVENT}
        if self.visitor is not None:
            hello["visitor"] = self.visitor
        if self.epoch is not None:
            hello["resume"] = {"epoch": self.epoch, "seq": self.seq}
        ws = await http.ws_connect(url, timeout=aiohttp.ClientWSTimeout(ws_close=5))
        await ws.send_str(orjson.dumps(hello).decode())
        msg = await ws.receive(timeout=ANSWER_TIMEOUT_S)
        frame = orjson.loads(msg.data) if msg.type == aiohttp.WSMsgType.TEXT else {}
        if frame.get("type") != "welcome":
            await ws.close()
            raise Refused(f"hello: {frame.get('code') or msg.type.name}")
        self.tally.hellos += 1
        if self.epoch is not None:
            if frame["recovered"]:
                self.tally.resumed += 1
            else:
                self.tally.snapshots += 1
        self.visitor = frame["visitor"]
        self.epoch, self.seq = frame["epoch"], frame["seq"]
        self._ws = ws
        self.last_sent = time.monotonic()
        self._reader = asyncio.create_task(self._read(ws))

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            frame = orjson.loads(msg.data)
            kind = frame.get("type")
            if "epoch" in frame and "seq" in frame:
                self.epoch, self.seq = frame["epoch"], frame["seq"]
            if kind == "ack":
                waiter = self._waiting.pop(str(frame.get("ref")), None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(frame)
            elif kind == "error":
                waiter = self._waiting.pop(str(frame.get("ref")), None)
                if waiter is not None and not waiter.done():
                    waiter.set_exception(Refused(frame["code"]))
                else:
                    self.tally.errors[f"frame: {frame['code']}"] += 1
            elif kind == "bye":
                self.tally.errors[f"bye: {frame.get('reason')}"] += 1
        for waiter in self._waiting.values():
            if not waiter.done():
                waiter.set_exception(Refused("closed before the answer"))
        self._waiting.clear()

    async def request(self, kind: str, frame: dict[str, Any], ref_field: str) -> dict[str, Any]:
        """Send ``frame`` and wait for its ``ack``; an ``error`` or silence raises."""
        assert self._ws is not None
        self._refs += 1
        ref = f"{self.number}-{self._refs}"
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[ref] = waiter
        self.busy += 1
        self.tally.requests[kind] += 1
        try:
            await self._ws.send_str(orjson.dumps({**frame, ref_field: ref}).decode())
            self.last_sent = time.monotonic()
            return await asyncio.wait_for(waiter, ANSWER_TIMEOUT_S)
        except TimeoutError:
            raise Refused("no answer") from None
        finally:
            self._waiting.pop(ref, None)
            self.busy -= 1

    async def ping(self) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._ws.send_str('{"type":"ping"}')
            self.last_sent = time.monotonic()

    async def close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close()
        if self._reader is not None:
            await self._reader
            self._reader = None


class Soak:
    """The pages, their sessions per address, and the load they make."""

    def __init__(self, url: str, args: argparse.Namespace) -> None:
        self.url = url
        self.args = args
        self.tally = Tally()
        self.pages: list[Page] = []
        self.questions: list[str] = []
        self._next_page = 0
        self._http: dict[str, aiohttp.ClientSession] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.rng = random.Random(11)

    def _session(self, address: str) -> aiohttp.ClientSession:
        http = self._http.get(address)
        if http is None:
            connector = aiohttp.TCPConnector(local_addr=(address, 0), limit=0)
            http = self._http[address] = aiohttp.ClientSession(connector=connector)
        return http

    async def _connect(self, page: Page) -> bool:
        try:
            await page.connect(self._session(page.address), self.url)
        except (Refused, aiohttp.ClientError, OSError, TimeoutError) as exc:
            code = exc.code if isinstance(exc, Refused) else type(exc).__name__
            self.tally.errors[f"hello: {code}"] += 1
            return False
        return True

    async def new_page(self) -> None:
        page = Page(self._next_page, self.tally)
        self._next_page += 1
        if await self._connect(page):
            self.pages.append(page)

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def ask(self, page: Page) -> None:
        page.asked += 1
        text = f"Soak-Frage {page.number}.{page.asked}: wie geht es weiter?"
        try:
            ack = await page.request("ask", {"type": "ask", "text": text}, "client_msg_id")
        except Refused as exc:
            self.tally.errors[f"ask: {exc.code}"] += 1
            return
        question = ack["question"]["id"]
        self.tally.asks_acked.add(question)
        self.questions.append(question)

    async def vote(self, page: Page, question: str) -> None:
        try:
            await page.request("vote", {"type": "vote", "question": question, "up": True}, "ref")
        except Refused as exc:
            self.tally.errors[f"vote: {exc.code}"] += 1
            return
        self.tally.votes_acked[question] += 1

    async def reconnect(self, page: Page) -> None:
        await page.close()
        if not await self._connect(page):
            self.pages.remove(page)

    async def replace(self, page: Page) -> None:
        self.pages.remove(page)
        await page.close()
        await self.new_page()

    def tick(self, share: float) -> None:
        """Start this tick's part (``share`` of a second) of each kind of load."""
        args, rng = self.args, self.rng
        open_pages = [p for p in self.pages if p.open]
        # Only pages waiting for no answer leave: an answer lost with its socket
        # would be an unknown outcome, not an error of the server.
        idle = [p for p in open_pages if p.busy == 0]
        rng.shuffle(idle)
        leaving: set[int] = set()
        for _ in range(_count(args.reconnects_per_s * share, rng)):
            if idle:
                page = idle.pop()
                leaving.add(page.number)
                self._spawn(self.reconnect(page))
        for _ in range(_count(args.new_per_s * share, rng)):
            if idle:
                page = idle.pop()
                leaving.add(page.number)
                self._spawn(self.replace(page))
        staying = [p for p in open_pages if p.number not in leaving]
        if not staying:
            return
        for _ in range(_count(args.asks_per_s * share, rng)):
            self._spawn(self.ask(rng.choice(staying)))
        for _ in range(_count(args.votes_per_s * share, rng)):
            page = rng.choice(staying)
            unvoted = [q for q in self.questions[-50:] if q not in page.voted]
            if unvoted:
                question = rng.choice(unvoted)
                page.voted.add(question)  # once per page and question, whatever the answer
                self._spawn(self.vote(page, question))
        now = time.monotonic()
        for page in self.pages:
            if page.open and now - page.last_sent > PING_EVERY_S:
                self._spawn(page.ping())

    async def drain(self) -> None:
        """Wait for every request still under way."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=ANSWER_TIMEOUT_S + 5)

    async def close(self) -> None:
        for page in self.pages:
            await page.close()
        for http in self._http.values():
            await http.close()


def _count(expected: float, rng: random.Random) -> int:
    """A whole number of actions whose mean is ``expected``."""
    whole = int(expected)
    return whole + (1 if rng.random() < expected - whole else 0)


def slope_kb_per_min(samples: list[tuple[float, int]]) -> float | None:
    """Least-squares slope of ``(seconds, kb)`` samples, in KB per minute."""
    if len(samples) < 3:
        return None
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_v = sum(v for _, v in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    if var == 0:
        return None
    cov = sum((t - mean_t) * (v - mean_v) for t, v in samples)
    return round(cov / var * 60, 1)


async def run_soak(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    soak = Soak(f"http://127.0.0.1:{server.port}/ws", args)
    redis_pid = server.redis_pid
    samples: list[tuple[float, int]] = []
    redis_samples: list[tuple[float, int]] = []
    try:
        for start in range(0, args.pages, 50):
            await asyncio.gather(*(soak.new_page() for _ in range(min(50, args.pages - start))))
        for page in soak.pages[:10]:  # something to vote on from the start
            await soak.ask(page)
        began = time.monotonic()
        end = began + args.minutes * 60
        next_sample = began
        step = 0.1
        while (now := time.monotonic()) < end:
            soak.tick(step)
            if now >= next_sample:
                samples.append((now - began, rss_kb(server.pid)))
                if redis_pid is not None:
                    redis_samples.append((now - began, rss_kb(redis_pid)))
                next_sample += args.sample_s
            await asyncio.sleep(step)
        await soak.drain()
        samples.append((time.monotonic() - began, rss_kb(server.pid)))
        # Vote counts reach pages coalesced; the store has them once acknowledged.
        export = server.request("GET", f"/api/events/{EVENT}/questions.json")
        stored = export["questions"] if isinstance(export, dict) else export
    finally:
        await soak.close()
    tally = soak.tally
    stored_votes = {q["id"]: q["votes"] for q in stored}
    expected_votes = {q: tally.votes_acked.get(q, 0) for q in stored_votes}
    wrong_votes = {
        q: {"acked": expected_votes.get(q, 0), "stored": stored_votes.get(q)}
        for q in set(stored_votes) | set(tally.votes_acked)
        if expected_votes.get(q, 0) != stored_votes.get(q)
    }
    half = [s for s in samples if s[0] >= samples[-1][0] / 2]
    log_lines = server.log_path.read_text(errors="replace").splitlines()
    problems = [
        line for line in log_lines if any(w in line for w in ("WARNING", "ERROR", "Traceback"))
    ]
    return {
        "minutes": args.minutes,
        "pages": args.pages,
        "pages_in_the_end": len(soak.pages),
        "hellos": tally.hellos,
        "reconnects_resumed": tally.resumed,
        "reconnects_with_snapshot": tally.snapshots,
        "requests": dict(tally.requests),
        "errors": dict(tally.errors),
        "asks_acked": len(tally.asks_acked),
        "questions_stored": len(stored_votes),
        "asks_exact": tally.asks_acked == set(stored_votes),
        "votes_acked": sum(tally.votes_acked.values()),
        "votes_stored": sum(v for v in stored_votes.values() if v),
        "votes_exact": not wrong_votes,
        "votes_wrong": dict(list(wrong_votes.items())[:10]),
        "rss_kb": {
            "first": samples[0][1],
            "last": samples[-1][1],
            "max": max(v for _, v in samples),
            "slope_kb_per_min_second_half": slope_kb_per_min(half),
            "slope_kb_per_min_all": slope_kb_per_min(samples),
            "samples": samples,
        },
        **(
            {
                "redis_rss_kb": {
                    "first": redis_samples[0][1],
                    "last": redis_samples[-1][1],
                    "slope_kb_per_min_second_half": slope_kb_per_min(
                        [s for s in redis_samples if s[0] >= redis_samples[-1][0] / 2]
                    ),
                }
            }
            if redis_samples
            else {}
        ),
        "server_log_problems": problems[:20],
        "server_log_problem_count": len(problems),
    }


def verdict(result: dict[str, Any], flat_kb_per_min: float) -> dict[str, bool]:
    slope = result["rss_kb"]["slope_kb_per_min_second_half"]
    return {
        "rss_flat": slope is not None and slope < flat_kb_per_min,
        "no_errors": not result["errors"] and not result["server_log_problem_count"],
        "counts_exact": result["asks_exact"] and result["votes_exact"],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=5.0)
    p.add_argument("--backend", choices=["embedded", "redis"], default="embedded")
    p.add_argument("--redis-url", default=None, help="with --backend redis (default: private)")
    p.add_argument("--pages", type=int, default=300, help="pages open at any time")
    p.add_argument("--asks-per-s", type=float, default=0.5)
    p.add_argument("--votes-per-s", type=float, default=20.0)
    p.add_argument("--reconnects-per-s", type=float, default=3.0)
    p.add_argument("--new-per-s", type=float, default=0.5, help="pages replaced by new visitors")
    p.add_argument("--sample-s", type=float, default=5.0, help="RSS every this many s")
    p.add_argument(
        "--flat-kb-per-min",
        type=float,
        default=200.0,
        help="RSS slope (second half) below this counts as flat",
    )
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    if not (0 < args.minutes <= 30 and 1 <= args.pages <= 2_000 and args.sample_s >= 1):
        p.error("keep soaks bounded: at most 30 minutes and 2,000 pages")
    if args.redis_url and args.backend != "redis":
        p.error("--redis-url needs --backend redis")
    raise_nofile_limit()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    with contextlib.ExitStack() as stack:
        redis = stack.enter_context(BenchRedis(args.redis_url)) if args.backend == "redis" else None
        server = stack.enter_context(
            Server("uvloop", redis=(redis.url, redis.prefix()) if redis else None)
        )
        server.redis_pid = redis.pid if redis else None
        server.create_event(EVENT)
        with asyncio.Runner(loop_factory=new_event_loop) as runner:
            result = runner.run(run_soak(server, args))
    checks = verdict(result, args.flat_kb_per_min)
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python -m bench.soak", *(argv or sys.argv[1:])]),
        "backend": args.backend,
        "machine": machine(),
        "code": code_version(),
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "verdict": checks,
        **result,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{stamp}-soak-{args.backend}.json"
    path.write_text(json.dumps(report, indent=1) + "\n")
    shown = {k: v for k, v in result.items() if k not in ("rss_kb",)}
    rss = result["rss_kb"]
    print(json.dumps(shown, indent=1))
    print(
        f"RSS {rss['first'] / 1024:.1f} -> {rss['last'] / 1024:.1f} MiB (max "
        f"{rss['max'] / 1024:.1f}); slope over the second half "
        f"{rss['slope_kb_per_min_second_half']} KB/min, over all {rss['slope_kb_per_min_all']}"
    )
    print(f"verdict: {checks}\nresults: {path}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
