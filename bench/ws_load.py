"""Load generator for ``/ws``: thousands of raw websocket clients per process, cheaply.

Each client is a bare :class:`asyncio.Protocol` (no StreamReader, no aiohttp
client session): it sends the HTTP upgrade and a masked ``hello``, answers
pings, and parses the server's unmasked frames itself. Frames of the
benchmark carry the publisher's ``time.time()`` in ``rooms._bench.ts``, so the
receive time minus that is the end-to-end latency (same machine, same clock).

The generator runs in worker processes (:func:`worker_main`) driven over a
pipe by ``bench/run.py``, so it does not share a core with the server's event
loop. Run alone it opens sessions against any server and reports the rate::

    .venv/bin/python -m bench.ws_load --port 8080 --event kirmes --sessions 1000
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import os
import resource
import struct
import sys
import time
from array import array
from collections import Counter
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, cast

import orjson

from hubs_bridge.cli import raise_open_files_limit

CONNECT_TIMEOUT_S = 15.0
# Pages send an app-level ping now and then; the server closes sessions that say
# nothing for ``idle_timeout_s`` (90 s), websocket-level pongs do not count.
PING_EVERY_S = 30.0
# Clients connect from many loopback addresses (127.1.x.y), this many each: the
# server limits new visitor ids per address (120 a minute), as it should for real
# visitors, who mostly come from distinct addresses.
CLIENTS_PER_ADDRESS = 50
# Consecutive clients take turns over this many addresses (each still gets its 50),
# so a burst of connects comes from many addresses at once, as real crowds do, and
# not 50 at once from one (the server also bounds sessions per address before hello).
ADDRESSES_PER_GROUP = 16


def raise_nofile_limit() -> tuple[int, int]:
    """Raise the soft limit of open files to the hard limit, as ``hubs-bridge serve`` does;
    returns (soft, hard) now."""
    raise_open_files_limit()
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop when it is installed (it is a dependency of hubs-bridge), else asyncio's."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def client_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """A masked, unfragmented client frame (RFC 6455 section 5.3: clients always mask)."""
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    masked = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
    return header + mask + masked


def describe(exc: BaseException) -> str:
    """A failure as a short counter key: its type and the start of its message."""
    return type(exc).__name__ + (f": {exc}"[:80] if str(exc) else "")


class Recorder:
    """What one generator process saw, summed over its clients."""

    def __init__(self) -> None:
        self.latencies = array("d")  # seconds from publish to receipt, per benchmark frame
        self.from_due = array("d")  # seconds from when the change was due to receipt
        self.first_ts = 0.0  # earliest publish time seen
        self.last_rx = 0.0
        self.frames = 0
        self.bytes = 0
        self.attendance = 0  # attendance frames that were not benchmark frames
        self.closes: Counter[str] = Counter()
        self.track_attendance = False  # keep per-client receive times of attendance

    def reset(self) -> None:
        self.latencies = array("d")
        self.from_due = array("d")
        self.first_ts = self.last_rx = 0.0
        self.frames = self.bytes = self.attendance = 0
        self.closes.clear()


class Client(asyncio.Protocol):
    """One websocket session: upgrade, hello, then count and time what arrives."""

    __slots__ = (
        "_buf",
        "_hello",
        "_request",
        "_transport",
        "_upgraded",
        "attendance_at",
        "rec",
        "started_at",
        "welcome_at",
        "welcomed",
    )

    def __init__(
        self, request: bytes, hello: bytes, rec: Recorder, welcomed: asyncio.Future[None]
    ) -> None:
        self._request = request
        self._hello = hello
        self._buf = b""
        self._transport: asyncio.Transport | None = None
        self._upgraded = False
        self.rec = rec
        self.welcomed = welcomed
        self.started_at = 0.0  # when the TCP connect began: a welcome's latency counts from here
        self.welcome_at = 0.0
        self.attendance_at: list[float] | None = [] if rec.track_attendance else None

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, but have its methods.
        self._transport = cast(asyncio.Transport, transport)
        self._transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if not self.welcomed.done():
            self.welcomed.set_exception(ConnectionError("closed before welcome"))

    def data_received(self, data: bytes) -> None:
        buf = self._buf + data if self._buf else data
        if not self._upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self._buf = buf
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                self._fail(ConnectionError(buf[: buf.find(b"\r\n")].decode(errors="replace")))
                return
            self._upgraded = True
            buf = buf[end + 4 :]
            assert self._transport is not None
            self._transport.write(self._hello)
        pos, end = 0, len(buf)
        while end - pos >= 2:
            length = buf[pos + 1] & 0x7F
            start = pos + 2
            if length == 126:
                if end - pos < 4:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                start = pos + 4
            elif length == 127:
                if end - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                start = pos + 10
            stop = start + length
            if stop > end:
                break
            self._frame(buf[pos] & 0x0F, buf[start:stop])
            pos = stop
        self._buf = buf[pos:] if pos < end else b""

    # Frames

    def _frame(self, opcode: int, payload: bytes) -> None:
        rec = self.rec
        if opcode == 0x1:
            now = time.time()
            rec.frames += 1
            rec.bytes += len(payload)
            msg = orjson.loads(payload)
            kind = msg.get("type")
            if kind == "attendance":
                bench = msg["rooms"].get("_bench")
                if bench is not None:
                    sent = bench["ts"]
                    rec.latencies.append(now - sent)
                    rec.from_due.append(now - bench["due"])
                    if not rec.first_ts or sent < rec.first_ts:
                        rec.first_ts = sent
                    rec.last_rx = now
                    return
                rec.attendance += 1
                if self.attendance_at is not None:
                    self.attendance_at.append(now)
            elif kind == "welcome":
                self.welcome_at = now
                if not self.welcomed.done():
                    self.welcomed.set_result(None)
            elif kind in ("error", "bye"):
                rec.closes[f"{kind}:{msg.get('code') or msg.get('reason')}"] += 1
        elif opcode == 0x8:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            rec.closes[f"close:{code}"] += 1
            self.close()
        elif opcode == 0x9 and self._transport is not None:
            self._transport.write(client_frame(payload, 0xA))  # pong (RFC 6455 5.5.3)

    def _fail(self, exc: Exception) -> None:
        if not self.welcomed.done():
            self.welcomed.set_exception(exc)
        self.close()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def send(self, frame: bytes) -> None:
        if self._transport is not None and self._upgraded:
            self._transport.write(frame)

    @property
    def open(self) -> bool:
        return self._transport is not None


class Generator:
    """Opens and holds sessions to one server; the work of one generator process."""

    def __init__(self, host: str, port: int, slot: int = 0, slots: int = 1) -> None:
        self.host = host
        self.port = port
        self.rec = Recorder()
        self.clients: list[Client] = []
        self._slot, self._slots = slot, slots
        self._opened = 0
        key = base64.b64encode(os.urandom(16)).decode()
        self._request = (
            f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()

    async def keepalive(self, every_s: float = PING_EVERY_S) -> None:
        """Each open client sends ``{"type": "ping"}`` once per ``every_s``, spread evenly."""
        ping = client_frame(b'{"type":"ping"}')
        slots = max(1, round(every_s))
        tick = 0
        while True:
            await asyncio.sleep(every_s / slots)
            for client in self.clients[tick % slots :: slots]:
                client.send(ping)
            tick += 1

    async def connect(self, event: str, room: str | None = None) -> Client:
        """One session, returned once its ``welcome`` arrived."""
        loop = asyncio.get_running_loop()
        hello: dict[str, Any] = {"type": "hello", "event": event}
        if room is not None:
            hello["room"] = room
        welcomed: asyncio.Future[None] = loop.create_future()
        client = Client(self._request, client_frame(orjson.dumps(hello)), self.rec, welcomed)
        self.clients.append(client)
        source = self._source_address()
        client.started_at = time.time()
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                await loop.create_connection(
                    lambda: client, self.host, self.port, local_addr=(source, 0)
                )
                await welcomed
        except BaseException:
            client.close()
            raise
        return client

    def _source_address(self) -> str:
        """The next client's loopback address, shared with 49 others of its group."""
        n = self._opened * self._slots + self._slot
        self._opened += 1
        group = n // (CLIENTS_PER_ADDRESS * ADDRESSES_PER_GROUP)
        index = group * ADDRESSES_PER_GROUP + n % ADDRESSES_PER_GROUP
        return f"127.1.{index // 256 % 256}.{index % 256}"  # all of 127/8 is loopback

    async def open_many(self, n: int, event: str, concurrency: int) -> dict[str, Any]:
        """Open ``n`` sessions, at most ``concurrency`` handshakes at a time."""
        gate = asyncio.Semaphore(concurrency)
        errors: Counter[str] = Counter()

        async def one() -> None:
            async with gate:
                try:
                    await self.connect(event)
                except (OSError, TimeoutError) as exc:
                    errors[describe(exc)] += 1

        started = time.time()
        await asyncio.gather(*(one() for _ in range(n)))
        return {"started": started, "ended": time.time(), "failed": dict(errors)}

    async def arrive(
        self,
        n: int,
        event: str,
        start_at: float,
        over_s: float,
        slot: int,
        slots: int,
        wave: int = 1,
    ) -> dict[str, Any]:
        """Open ``n`` sessions spread evenly over ``over_s`` seconds from ``start_at``.

        With ``slots`` generators, this one takes every ``slots``-th arrival from
        ``slot``, so together they arrive at one steady rate. With ``wave`` above 1,
        arrivals come in groups of that many (counted over all generators) that
        start at the same moment: pages coming back together after a restart, or
        everyone clicking the link as the event begins, not a smooth stream.
        """
        step = over_s / (n * slots)
        errors: Counter[str] = Counter()

        async def one() -> None:
            try:
                await self.connect(event)
            except (OSError, TimeoutError) as exc:
                errors[describe(exc)] += 1

        tasks = []
        for i in range(n):
            index = i * slots + slot
            delay = start_at + (index - index % wave) * step - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
        return {"failed": dict(errors), "last_scheduled": time.time()}

    def open_count(self) -> int:
        return sum(1 for c in self.clients if c.open)

    def collect(self) -> dict[str, Any]:
        rec = self.rec
        return {
            "latencies": rec.latencies.tobytes(),
            "from_due": rec.from_due.tobytes(),
            "first_ts": rec.first_ts,
            "last_rx": rec.last_rx,
            "frames": rec.frames,
            "bytes": rec.bytes,
            "attendance": rec.attendance,
            "closes": dict(rec.closes),
            "open": self.open_count(),
            "sessions": [
                (c.welcome_at, c.attendance_at)
                for c in self.clients
                if c.attendance_at is not None and c.welcome_at
            ],
            "welcomes": self.welcomes(),
        }

    def welcomes(self) -> list[tuple[float, float]]:
        """``(started_at, welcome_at)`` of every client that was welcomed."""
        return [(c.started_at, c.welcome_at) for c in self.clients if c.welcome_at]

    def close_all(self) -> None:
        for client in self.clients:
            client.close()
        self.clients.clear()


async def _serve_commands(conn: Connection, host: str, port: int, slot: int, slots: int) -> None:
    gen = Generator(host, port, slot, slots)
    loop = asyncio.get_running_loop()
    keepalive = asyncio.create_task(gen.keepalive())
    try:
        await _obey(conn, gen, loop, slot, slots)
    finally:
        keepalive.cancel()


async def _obey(
    conn: Connection, gen: Generator, loop: asyncio.AbstractEventLoop, slot: int, slots: int
) -> None:
    while True:
        cmd: dict[str, Any] = await loop.run_in_executor(None, conn.recv)
        op = cmd["op"]
        reply: dict[str, Any]
        if op == "open":
            reply = await gen.open_many(cmd["n"], cmd["event"], cmd.get("concurrency", 50))
        elif op == "arrive":
            gen.rec.track_attendance = cmd.get("track_attendance", True)
            reply = await gen.arrive(
                cmd["n"],
                cmd["event"],
                cmd["start_at"],
                cmd["over_s"],
                slot,
                slots,
                cmd.get("wave", 1),
            )
        elif op == "reset":
            gen.rec.reset()
            reply = {}
        elif op == "collect":
            reply = gen.collect()
        elif op == "close":
            gen.close_all()
            await asyncio.sleep(0.2)
            reply = {}
        elif op == "exit":
            gen.close_all()
            conn.send({})
            return
        else:
            reply = {"error": f"unknown op {op!r}"}
        conn.send(reply)


def worker_main(conn: Connection, host: str, port: int, slot: int, slots: int) -> None:
    """Entry point of one generator process; obeys ``conn`` until told to exit."""
    raise_nofile_limit()
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(_serve_commands(conn, host, port, slot, slots))


class Worker:
    """The driver's handle on a generator process."""

    def __init__(self, conn: Connection, pid: int, join: Callable[[float], None]) -> None:
        self.conn = conn
        self.pid = pid
        self._join = join

    def ask(self, op: str, timeout: float = 120.0, **args: Any) -> dict[str, Any]:
        self.conn.send({"op": op, **args})
        return self.result(timeout)

    def send(self, op: str, **args: Any) -> None:
        self.conn.send({"op": op, **args})

    def result(self, timeout: float = 120.0) -> dict[str, Any]:
        if not self.conn.poll(timeout):
            raise TimeoutError(f"generator {self.pid} did not answer within {timeout}s")
        reply: dict[str, Any] = self.conn.recv()
        return reply

    def stop(self) -> None:
        with contextlib.suppress(OSError, EOFError, TimeoutError):
            self.ask("exit", timeout=10.0)
        self._join(10.0)


def start_workers(host: str, port: int, count: int) -> list[Worker]:
    """Start ``count`` generator processes (spawned: the driver's state stays out)."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    workers = []
    for slot in range(count):
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=worker_main, args=(child, host, port, slot, count), daemon=True)
        proc.start()
        assert proc.pid is not None
        workers.append(Worker(parent, proc.pid, proc.join))
    return workers


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--event", required=True, help="slug of an existing event")
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=50, help="handshakes in flight")
    parser.add_argument("--hold", type=float, default=5.0, help="seconds to keep them open")
    args = parser.parse_args(argv)
    if not 0 <= args.hold <= 600:
        parser.error("--hold must be between 0 and 600 seconds")
    workers = start_workers(args.host, args.port, args.workers)
    try:
        share = [args.sessions // len(workers)] * len(workers)
        share[0] += args.sessions - sum(share)
        for w, n in zip(workers, share, strict=True):
            w.send("open", n=n, event=args.event, concurrency=args.concurrency)
        replies = [w.result() for w in workers]
        started = min(r["started"] for r in replies)
        ended = max(r["ended"] for r in replies)
        failed: Counter[str] = Counter()
        for r in replies:
            failed.update(r["failed"])
        opened = args.sessions - sum(failed.values())
        print(
            f"opened {opened} of {args.sessions} sessions in {ended - started:.2f} s "
            f"({opened / (ended - started):.0f}/s); failures: {dict(failed) or 'none'}"
        )
        time.sleep(args.hold)
        seen = [w.ask("collect") for w in workers]
        print(
            f"still open: {sum(s['open'] for s in seen)}; "
            f"frames received while held: {sum(s['frames'] for s in seen)}"
        )
    finally:
        for w in workers:
            w.stop()
    return 0


if __name__ == "__main__":
    sys.exit(_main())
