"""One hubs-bridge process for the benchmark, with bench-only routes beside the real app.

The app is exactly the one ``hubs-bridge serve`` runs (``create_app``); this
driver only adds, under ``/bench/``, what the package has no public API for
yet: publishing timestamped frames into an event's stream at a steady rate,
and the publisher's own timings. Those routes exist here and nowhere else.

    .venv/bin/python -m bench.server --port 0 --data-dir /tmp/hb --staff-token ...

prints one JSON line ``{"port": ..., "pid": ..., "loop": ...}`` once listening,
and stops by itself after ``--max-seconds`` (or on SIGTERM / SIGINT).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web

from bench.ws_load import raise_nofile_limit
from hubs_bridge.cli import LISTEN_BACKLOG
from hubs_bridge.core.stream import AttendanceCounted
from hubs_bridge.logs import setup_logging
from hubs_bridge.realtime.service import RealtimeService
from hubs_bridge.settings import load_settings
from hubs_bridge.web.app import create_app
from hubs_bridge.web.keys import REALTIME

# The name under which benchmark frames carry their timestamp, inside a valid
# ``attendance`` frame (the protocol forbids unknown top-level fields).
BENCH_ROOM = "_bench"


class Publisher:
    """Publishes timestamped ``attendance`` frames into one event, one burst at a time."""

    def __init__(self, service: RealtimeService) -> None:
        self._service = service
        self.task: asyncio.Task[None] | None = None
        self.published = 0
        self.fanout_s: list[float] = []  # publish() call to return: the local fan-out
        self.lag_s: list[float] = []  # how late each publish started against its schedule

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def start(self, event: str, n: int, rate: float) -> None:
        self.task = asyncio.create_task(self._burst(event, n, rate))

    async def _burst(self, event: str, n: int, rate: float) -> None:
        loop = asyncio.get_running_loop()
        begin, begin_wall = loop.time(), time.time()
        online = self._service.presence.local_count()
        for i in range(n):
            due = begin + i / rate
            # Always yield once, so a publisher that is behind still lets sockets be read.
            await asyncio.sleep(max(0.0, due - loop.time()))
            self.lag_s.append(loop.time() - due)
            # ``due`` is when the change happened; ``ts`` when publishing began (later,
            # if the loop was busy): latency from ``due`` includes event loop stalls.
            started = time.perf_counter()
            bench = {"i": i, "due": begin_wall + i / rate, "ts": time.time()}
            await self._service.publish(
                event, AttendanceCounted(online=online, rooms={BENCH_ROOM: bench})
            )
            self.fanout_s.append(time.perf_counter() - started)
            self.published += 1

    def reset(self) -> None:
        self.published = 0
        self.fanout_s.clear()
        self.lag_s.clear()

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


class GcWatch:
    """Times the garbage collector's pauses (a full collection stops the event loop)."""

    def __init__(self) -> None:
        self._started = 0.0
        self.pauses: list[tuple[int, float]] = []  # (generation, seconds)

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append((info["generation"], time.perf_counter() - self._started))

    def summary(self) -> dict[str, Any]:
        by_gen: dict[int, list[float]] = {0: [], 1: [], 2: []}
        for gen, seconds in self.pauses:
            by_gen[gen].append(seconds)
        return {
            f"gen{gen}": {
                "count": len(p),
                "total_ms": round(sum(p) * 1000, 1),
                "max_ms": round(max(p, default=0.0) * 1000, 1),
            }
            for gen, p in by_gen.items()
        }


PUBLISHER = web.AppKey("bench_publisher", Publisher)
GC_WATCH = web.AppKey("bench_gc_watch", GcWatch)


async def publish_handler(request: web.Request) -> web.Response:
    """``POST /bench/publish?event=E&n=N&rate=R``: start a burst of N frames at R per second."""
    publisher = request.app[PUBLISHER]
    if publisher.running:
        return web.json_response({"error": "a burst is running"}, status=409)
    try:
        event = request.query["event"]
        n = int(request.query["n"])
        rate = float(request.query["rate"])
    except (KeyError, ValueError):
        return web.json_response({"error": "need event, n and rate"}, status=400)
    if not (0 < n <= 100_000 and 0 < rate <= 1000):
        return web.json_response({"error": "n or rate out of range"}, status=400)
    publisher.reset()
    request.app[GC_WATCH].pauses.clear()
    publisher.start(event, n, rate)
    return web.json_response({"event": event, "n": n, "rate": rate}, status=202)


async def stats_handler(request: web.Request) -> web.Response:
    """``GET /bench/stats``: the publisher's timings, GC pauses since the burst began, sessions."""
    publisher = request.app[PUBLISHER]
    body: dict[str, Any] = {
        "running": publisher.running,
        "published": publisher.published,
        "fanout_s": publisher.fanout_s,
        "lag_s": publisher.lag_s,
        "sessions": len(request.app[REALTIME].sessions),
        "pid": os.getpid(),
        "gc": request.app[GC_WATCH].summary(),
    }
    if request.query.get("objects"):
        tracked = gc.get_objects()
        body["gc_tracked_objects"] = len(tracked)
        body["gc_frozen_objects"] = gc.get_freeze_count()
        kinds = Counter(type(o).__qualname__ for o in tracked)
        body["gc_tracked_top"] = kinds.most_common(20)
        del tracked
    if request.query.get("garbage"):
        # What only the cycle collector can free: collect once, keeping it for a look.
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            gc.collect()
            body["gc_cyclic_garbage"] = len(gc.garbage)
            body["gc_cyclic_garbage_top"] = Counter(
                type(o).__qualname__ for o in gc.garbage
            ).most_common(60)
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
    return web.json_response(body)


async def stop_handler(request: web.Request) -> web.Response:
    """``POST /bench/stop``: end a running burst (the driver gave up waiting for it)."""
    await request.app[PUBLISHER].stop()
    return web.json_response({"published": request.app[PUBLISHER].published})


async def reset_handler(request: web.Request) -> web.Response:
    """``POST /bench/reset``: forget the GC pauses seen so far."""
    request.app[GC_WATCH].pauses.clear()
    return web.json_response({})


async def _bench_ctx(app: web.Application) -> AsyncIterator[None]:
    app[PUBLISHER] = Publisher(app[REALTIME])
    watch = app[GC_WATCH] = GcWatch()
    gc.callbacks.append(watch)
    yield
    gc.callbacks.remove(watch)
    await app[PUBLISHER].stop()


async def serve(args: argparse.Namespace, loop_name: str) -> None:
    settings = load_settings(
        host="127.0.0.1",
        port=args.port,
        data_dir=args.data_dir,
        seed_dir=None,
        staff_token=args.staff_token,
        log_level=args.log_level,
        log_format="text",
    )
    setup_logging(settings.log_level, settings.log_format)
    app = await create_app(settings)
    app.cleanup_ctx.append(_bench_ctx)
    app.router.add_post("/bench/publish", publish_handler)
    app.router.add_get("/bench/stats", stats_handler)
    app.router.add_post("/bench/reset", reset_handler)
    app.router.add_post("/bench/stop", stop_handler)
    # The same runner settings as ``hubs-bridge serve`` (web.run_app in cli.py).
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=8.0)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port, backlog=args.backlog)
    await site.start()
    port = runner.addresses[0][1]
    print(json.dumps({"port": port, "pid": os.getpid(), "loop": loop_name}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    watchdog = asyncio.create_task(_stop_when_orphaned(stop))
    freezer = (
        asyncio.create_task(_freeze_every(args.gc_freeze_every)) if args.gc_freeze_every else None
    )
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), args.max_seconds)
    watchdog.cancel()
    if freezer is not None:
        freezer.cancel()
    await runner.cleanup()


async def _freeze_every(seconds: float) -> None:
    """Experiment, not in the package: move survivors out of the collector's reach.

    ``gc.freeze()`` puts every tracked object into a permanent generation that
    later collections skip, so full collections stay short however many sessions
    are open. Frozen objects that later become cyclic garbage are not reclaimed.
    """
    while True:
        await asyncio.sleep(seconds)
        gc.freeze()


async def _stop_when_orphaned(stop: asyncio.Event) -> None:
    """Stop when the process that started this one is gone (the driver was killed)."""
    parent = os.getppid()
    while True:
        await asyncio.sleep(1.0)
        if os.getppid() != parent:
            stop.set()
            return


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--staff-token", default=os.environ.get("HUBS_BRIDGE_STAFF_TOKEN"))
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    parser.add_argument(
        "--backlog", type=int, default=LISTEN_BACKLOG, help="as hubs-bridge serve (1024)"
    )
    parser.add_argument("--log-level", default="warning")
    parser.add_argument("--max-seconds", type=float, default=900.0, help="stop by itself")
    parser.add_argument(
        "--gc-freeze-every", type=float, default=0.0, help="experiment: gc.freeze() every S s"
    )
    args = parser.parse_args(argv)
    raise_nofile_limit()
    loop_name = args.loop
    factory = asyncio.new_event_loop
    if args.loop == "uvloop":
        try:
            import uvloop

            factory = uvloop.new_event_loop
        except ImportError:
            loop_name = "asyncio"
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(serve(args, loop_name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
