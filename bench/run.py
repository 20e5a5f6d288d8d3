"""Run every benchmark scenario against one hubs-bridge process; print a table, write JSON.

    .venv/bin/python -m bench.run            # the defaults below, 4-11 minutes

Scenarios, each against a fresh server process (``bench/server.py``):

- ``sessions``: open sessions to one event, report opens per second and the
  server's RSS growth per open session (at half and at all of them).
- ``broadcast``: hold sessions in one event, publish timestamped frames at
  each rate for a while; delivered frames per second, end-to-end latency.
- ``arrivals``: many new sessions spread over a few seconds; attendance
  frames received per page (one per second expected, not one per arrival).
- ``storm``: 2,000 hellos within 2 s, in waves of 200 that come at the same
  moment (an event starting, a restarted process's pages coming back): how
  many were refused, when the last was welcomed, welcome latency p50/p99.

``--backend redis`` runs the same scenarios with the Redis store and broker, on
a private ``redis-server`` (or ``--redis-url``, under a prefix of its own).

Every step has a timeout; waits for a quiet machine are bounded; the server stops
itself after 20 minutes or when this driver is gone.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import time
from array import array
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from bench.procs import Cpu, Server, code_version, machine, rss_kb, wait_quiet
from bench.profile import Sampler
from bench.redis_proc import BenchRedis
from bench.report import BUSY_PCT, print_table, verdicts
from bench.ws_load import Worker, raise_nofile_limit, start_workers
from hubs_bridge.cli import LISTEN_BACKLOG

EVENT = "bench"
WARMUP_SESSIONS = 100
RESULTS = Path(__file__).parent / "results"


def percentiles(
    values: list[float], points: tuple[float, ...] = (50, 90, 99, 99.9)
) -> dict[str, float]:
    """Nearest-rank percentiles (and the max) of ``values``, in milliseconds."""
    if not values:
        return {}
    ordered = sorted(values)
    out = {f"p{p:g}": ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] for p in points}
    out["max"] = ordered[-1]
    return {k: round(v * 1000, 2) for k, v in out.items()}


@contextmanager
def setup(args: argparse.Namespace) -> Iterator[tuple[Server, list[Worker]]]:
    """A fresh server with the bench event, and the generator processes."""
    server_cpus = gen_cpus = None
    if args.pin:
        server_cpus, gen_cpus = {0}, set(range(1, os.cpu_count() or 2)) or {0}
    quiet = wait_quiet(max_wait_s=args.quiet_wait)
    if not quiet["quiet"]:
        print(f"machine not quiet ({quiet}); measuring anyway", file=sys.stderr)
    args.quiet_log.append(quiet)
    extra: tuple[str, ...] = ("--backlog", str(args.backlog))
    if args.gc_freeze_every:
        extra += ("--gc-freeze-every", str(args.gc_freeze_every))
    env = dict(kv.split("=", 1) for kv in args.server_env)
    bench_redis: BenchRedis | None = args.redis
    redis = (bench_redis.url, bench_redis.prefix()) if bench_redis is not None else None
    with Server(args.loop, server_cpus, extra, env, redis) as server:
        server.redis_pid = bench_redis.pid if bench_redis is not None else None
        server.create_event(EVENT)
        workers = start_workers("127.0.0.1", server.port, args.workers)
        if gen_cpus is not None:
            for w in workers:
                os.sched_setaffinity(w.pid, gen_cpus)
        try:
            yield server, workers
        finally:
            for w in workers:
                w.stop()


def open_sessions(
    server: Server, workers: list[Worker], n: int, concurrency: int
) -> dict[str, Any]:
    """Open ``n`` more sessions split over the workers; the rate, CPU used and failures."""
    share = [n // len(workers)] * len(workers)
    share[0] += n - sum(share)
    cpu = Cpu(server.pid, [w.pid for w in workers], server.redis_pid)
    for w, k in zip(workers, share, strict=True):
        w.send("open", n=k, event=EVENT, concurrency=max(1, concurrency // len(workers)))
    replies = [w.result(timeout=300) for w in workers]
    used = cpu.stop()
    started = min(r["started"] for r in replies)
    took = max(r["ended"] for r in replies) - started
    failed: Counter[str] = Counter()
    for r in replies:
        failed.update(r["failed"])
    opened = n - sum(failed.values())
    return {
        "opened": opened,
        "seconds": round(took, 3),
        "per_s": round(opened / took, 1),
        "server_cpu_ms_per_open": round(1000 * used["server_cpu_s"] / max(1, opened), 3),
        **used,
        "failed": dict(failed),
    }


def settle(server: Server, expect: int) -> int:
    """Let the server finish the arrivals' follow-up work (presence, attendance)."""
    held = server.wait_sessions(expect)
    time.sleep(2.5)
    return held


def scenario_sessions(args: argparse.Namespace) -> dict[str, Any]:
    n_half, n_all = args.memory_sessions // 2, args.memory_sessions
    with setup(args) as (server, workers):
        open_sessions(server, workers, WARMUP_SESSIONS, 10)
        settle(server, WARMUP_SESSIONS)
        base = rss_kb(server.pid)
        path = _profile_path(args, "opens")
        sampler = Sampler(server.pid, 60, path) if path else None
        first = open_sessions(server, workers, n_half - WARMUP_SESSIONS, args.concurrency)
        profile = sampler.finish() if sampler else None
        held_half = settle(server, n_half)
        rss_half = rss_kb(server.pid)
        second = open_sessions(server, workers, n_all - n_half, args.concurrency)
        held_all = settle(server, n_all)
        rss_all = rss_kb(server.pid)
        stats = server.request("GET", "/bench/stats?objects=1")
        redis_rss = rss_kb(server.redis_pid) if server.redis_pid else None
    return {
        "open": first,
        "open_second_half": second,
        **({"profile_opens": profile} if profile else {}),
        "rss_kb": {"base_100": base, str(n_half): rss_half, str(n_all): rss_all},
        "held": {str(n_half): held_half, str(n_all): held_all},
        **({"redis_rss_kb": redis_rss} if redis_rss else {}),
        "gc": stats["gc"],
        "gc_tracked_objects": stats["gc_tracked_objects"],
        "gc_tracked_top": stats["gc_tracked_top"],
        "kb_per_session": {
            str(n_half): round((rss_half - base) / (n_half - WARMUP_SESSIONS), 2),
            str(n_all): round((rss_all - base) / (n_all - WARMUP_SESSIONS), 2),
        },
    }


def _burst_once(
    server: Server,
    workers: list[Worker],
    rate: float,
    seconds: float,
    held: int,
    drain: float,
    profile: Path | None,
) -> dict[str, Any]:
    """One burst of ``rate`` frames per second for ``seconds``, then ``drain`` s to arrive."""
    n = round(rate * seconds)
    for w in workers:
        w.ask("reset")
    sampler = None
    if profile is not None:
        sampler = Sampler(server.pid, seconds + drain, profile)
        time.sleep(0.5)  # py-spy attaches
    before = server.metrics()
    cpu = Cpu(server.pid, [w.pid for w in workers], server.redis_pid)
    started = time.time()
    server.request("POST", f"/bench/publish?event={EVENT}&n={n}&rate={rate}")
    deadline = time.monotonic() + seconds + 30
    while server.request("GET", "/bench/stats")["running"]:
        if time.monotonic() > deadline:
            server.request("POST", "/bench/stop")  # hopelessly behind: end it here
            break
        time.sleep(0.25)
    time.sleep(drain)
    used = cpu.stop()
    stats = server.request("GET", "/bench/stats")
    after = server.metrics()
    seen = [w.ask("collect") for w in workers]
    latencies, from_due = _floats_of(seen, "latencies"), _floats_of(seen, "from_due")
    last_rx = max((s["last_rx"] for s in seen if s["last_rx"]), default=started)
    first_ts = min((s["first_ts"] for s in seen if s["first_ts"]), default=started)
    received = len(latencies)
    expected = stats["published"] * held
    span = max(1e-9, last_rx - first_ts)  # first publish to last receipt
    closes: Counter[str] = Counter()
    for s in seen:
        closes.update(s["closes"])
    fanout = stats["fanout_s"]
    extra = {"profile": sampler.finish()} if sampler is not None else {}
    return {
        "rate": rate,
        "seconds": seconds,
        "published": stats["published"],
        "receivers": held,
        "offered_per_s": round(rate * held),
        "received": received,
        "expected": expected,
        "complete": round(received / expected, 4) if expected else 0.0,
        "delivered_per_s": round(received / span),
        "latency_ms": percentiles(latencies),
        "latency_from_due_ms": percentiles(from_due),
        "fanout_ms": percentiles(fanout, (50, 99)),
        "publish_lag_ms": percentiles(stats["lag_s"], (50, 99)),
        "gc": stats["gc"],
        "server_written": after.get("hubs_bridge_frames_out_total", 0)
        - before.get("hubs_bridge_frames_out_total", 0),
        "slow_closes": after.get("hubs_bridge_slow_closes_total", 0)
        - before.get("hubs_bridge_slow_closes_total", 0),
        **used,
        # Robust to other load on the machine, unlike the rates: what one core could do.
        "deliveries_per_server_cpu_s": round(received / max(1e-9, used["server_cpu_s"])),
        "still_open": sum(s["open"] for s in seen),
        "closes_seen": dict(closes),
        **extra,
    }


def _burst(
    server: Server,
    workers: list[Worker],
    rate: float,
    seconds: float,
    held: int,
    drain: float,
    profile: Path | None,
    retries: int,
) -> dict[str, Any]:
    """A burst measured on a quiet machine: wait for quiet, and redo it if others got busy."""
    for attempt in range(retries + 1):
        quiet = wait_quiet(max_wait_s=20.0)
        result = _burst_once(server, workers, rate, seconds, held, drain, profile)
        result["attempt"] = attempt + 1
        result["quiet_before"] = quiet
        if result["other_cpu_pct"] <= BUSY_PCT:
            break
        print(
            f"  burst at {rate:g}/s disturbed (other work {result['other_cpu_pct']}%), "
            f"{'again' if attempt < retries else 'keeping it'}",
            file=sys.stderr,
        )
    return result


def _floats_of(replies: list[dict[str, Any]], key: str) -> list[float]:
    out: list[float] = []
    for reply in replies:
        values = array("d")
        values.frombytes(reply[key])
        out.extend(values)
    return out


def _profile_path(args: argparse.Namespace, label: float | str) -> Path | None:
    if not args.profile:
        return None
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    return out / f"{args.stamp}-{args.loop}-profile-{label}.txt"


def scenario_broadcast(args: argparse.Namespace) -> dict[str, Any]:
    with setup(args) as (server, workers):
        opened = open_sessions(server, workers, args.sessions, args.concurrency)
        held = settle(server, args.sessions)
        bursts = [
            _burst(
                server,
                workers,
                rate,
                args.burst_seconds,
                held,
                2.0,
                _profile_path(args, rate),
                args.retries,
            )
            for rate in args.rates
        ]
        if args.steady_seconds:
            # The target's own case, long enough to include what happens now and then
            # (full garbage collections), not just a quiet 10 s.
            path = _profile_path(args, "steady")
            bursts.append(
                _burst(server, workers, 5.0, args.steady_seconds, held, 2.0, path, args.retries)
            )
    return {"open": opened, "held": held, "bursts": bursts}


def scenario_arrivals(args: argparse.Namespace) -> dict[str, Any]:
    n, over = args.arrivals, args.arrival_seconds
    with setup(args) as (server, workers):
        before = server.metrics()
        cpu = Cpu(server.pid, [w.pid for w in workers], server.redis_pid)
        start_at = time.time() + 1.0
        share = [n // len(workers)] * len(workers)
        share[0] += n - sum(share)
        for w, k in zip(workers, share, strict=True):
            w.send("arrive", n=k, event=EVENT, start_at=start_at, over_s=over)
        replies = [w.result(timeout=over + 60) for w in workers]
        window_end = time.time() + 2.0
        time.sleep(max(0.0, window_end - time.time()))
        seen = [w.ask("collect") for w in workers]
        after = server.metrics()
        used = cpu.stop()
    key = 'hubs_bridge_frames_published_total{type="attendance"}'
    published = after.get(key, 0) - before.get(key, 0)
    failed: Counter[str] = Counter()
    for r in replies:
        failed.update(r["failed"])
    return {
        "arrivals": n,
        "over_s": over,
        "failed": dict(failed),
        "attendance_published": published,
        **used,
        **attendance_stats([s for part in seen for s in part["sessions"]], window_end),
    }


def attendance_stats(sessions: list[tuple[float, list[float]]], end: float) -> dict[str, Any]:
    """Per page: attendance frames per second present, and the gaps between them."""
    rates: list[float] = []
    gaps: list[float] = []
    frames = close_pairs = 0
    for welcome_at, times in sessions:
        frames += len(times)
        present = end - welcome_at
        if present >= 3.0:  # shorter stays say more about tick phase than about rate
            rates.append(len(times) / present)
        page_gaps = [b - a for a, b in pairwise(times)]
        gaps.extend(page_gaps)
        close_pairs += sum(1 for g in page_gaps if g < 0.9)
    rates.sort()
    return {
        "pages": len(sessions),
        "frames": frames,
        "frames_per_s_per_page": {
            "mean": round(sum(rates) / len(rates), 3) if rates else None,
            "max": round(rates[-1], 3) if rates else None,
        },
        "gap_ms": percentiles(gaps, (0.1, 1, 50)) | {"min": round(min(gaps) * 1000, 1)}
        if gaps
        else {},
        "gaps_under_900ms": close_pairs,
    }


def scenario_storm(args: argparse.Namespace) -> dict[str, Any]:
    """Many hellos at once, in waves: none may be refused (issue 11)."""
    n, over, wave = args.storm, args.storm_seconds, args.storm_wave
    with setup(args) as (server, workers):
        cpu = Cpu(server.pid, [w.pid for w in workers], server.redis_pid)
        start_at = time.time() + 1.0
        share = [n // len(workers)] * len(workers)
        share[0] += n - sum(share)
        for w, k in zip(workers, share, strict=True):
            w.send(
                "arrive",
                n=k,
                event=EVENT,
                start_at=start_at,
                over_s=over,
                wave=wave,
                track_attendance=False,
            )
        replies = [w.result(timeout=over + 60) for w in workers]
        used = cpu.stop()
        seen = [w.ask("collect") for w in workers]
        held = server.wait_sessions(n - sum(sum(r["failed"].values()) for r in replies), 10)
        rss = rss_kb(server.pid)
    failed: Counter[str] = Counter()
    frames: Counter[str] = Counter()
    for r in replies:
        failed.update(r["failed"])
    for s in seen:
        frames.update(s["closes"])
    welcomes = [(started, welcomed) for s in seen for started, welcomed in s["welcomes"]]
    return {
        "hellos": n,
        "over_s": over,
        "wave": wave,
        "welcomed": len(welcomes),
        "refused": n - len(welcomes),
        "failed": dict(failed),
        "error_frames": dict(frames),
        "all_welcomed_after_s": round(
            max((w for _, w in welcomes), default=start_at) - start_at, 3
        ),
        "welcome_latency_ms": percentiles([w - s for s, w in welcomes], (50, 90, 99)),
        "held": held,
        "rss_kb": rss,
        **used,
    }


SCENARIOS = {
    "sessions": scenario_sessions,
    "broadcast": scenario_broadcast,
    "arrivals": scenario_arrivals,
    "storm": scenario_storm,
}


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",")]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", choices=list(SCENARIOS), action="append", help="repeatable")
    p.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    p.add_argument(
        "--backend",
        choices=["embedded", "redis"],
        default="embedded",
        help="embedded: SQLite and the in-memory broker; redis: Redis store and broker",
    )
    p.add_argument(
        "--redis-url",
        default=None,
        help="with --backend redis: this Redis, under a fresh prefix (default: a private "
        "redis-server on a free port)",
    )
    p.add_argument("--workers", type=int, default=2, help="generator processes")
    p.add_argument("--concurrency", type=int, default=100, help="handshakes in flight")
    p.add_argument("--pin", action="store_true", help="server on CPU 0, generators on the rest")
    p.add_argument("--memory-sessions", type=int, default=10_000)
    p.add_argument("--sessions", type=int, default=5_000, help="receivers of the broadcasts")
    p.add_argument(
        "--rates", type=lambda s: [float(x) for x in s.split(",")], default=[5, 10, 20, 40]
    )
    p.add_argument("--burst-seconds", type=float, default=10.0)
    p.add_argument("--steady-seconds", type=float, default=60.0, help="then 5/s this long")
    p.add_argument("--arrivals", type=int, default=2_000)
    p.add_argument("--arrival-seconds", type=float, default=10.0)
    p.add_argument("--storm", type=int, default=2_000, help="hellos of the storm scenario")
    p.add_argument("--storm-seconds", type=float, default=2.0)
    p.add_argument("--storm-wave", type=int, default=200, help="hellos at the same moment")
    p.add_argument(
        "--backlog",
        type=int,
        default=LISTEN_BACKLOG,
        help="experiment: the server's listen backlog (hubs-bridge serve: 1024)",
    )
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument("--profile", action="store_true", help="py-spy the server (pip install)")
    p.add_argument("--quiet-wait", type=float, default=60.0, help="max s to wait for quiet")
    p.add_argument("--retries", type=int, default=1, help="redo a burst others disturbed")
    p.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="HUBS_BRIDGE_X=V",
        help="setting for the server, repeatable (default: the package's defaults)",
    )
    p.add_argument(
        "--gc-freeze-every",
        type=float,
        default=0.0,
        help="experiment: server gc.freeze() every S s",
    )
    args = p.parse_args(argv)
    args.stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    args.quiet_log = []
    if (
        not 0 <= args.retries <= 3
        or max(args.burst_seconds, args.arrival_seconds) > 60
        or args.steady_seconds > 180
        or args.memory_sessions > 15_000
        or not 1 <= args.storm <= 10_000
        or not 0 < args.storm_seconds <= 60
        or args.storm_wave < 1
    ):
        p.error(
            "keep runs bounded: bursts, arrivals and storms <= 60 s, steady <= 180 s, "
            "<= 15,000 sessions, storms <= 10,000 hellos"
        )
    # SIGTERM (e.g. from `timeout`) unwinds like Ctrl-C, so the server and workers stop too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    soft, hard = raise_nofile_limit()
    if args.redis_url and args.backend != "redis":
        p.error("--redis-url needs --backend redis")
    with contextlib.ExitStack() as stack:
        args.redis = (
            stack.enter_context(BenchRedis(args.redis_url)) if args.backend == "redis" else None
        )
        return _run(args, argv, soft, hard)


def _run(args: argparse.Namespace, argv: list[str] | None, soft: int, hard: int) -> int:
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python -m bench.run", *(argv or sys.argv[1:])]),
        "machine": machine() | {"nofile": [soft, hard]},
        "code": code_version(),
        "config": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in vars(args).items()
            if k not in ("stamp", "quiet_log", "redis")
        }
        | {
            "redis": "private redis-server" if args.redis and not args.redis_url else args.redis_url
        },
        "scenarios": {},
    }
    for name in args.only or list(SCENARIOS):
        print(f"== {name} ({args.backend})", file=sys.stderr, flush=True)
        began = time.monotonic()
        results["scenarios"][name] = SCENARIOS[name](args)
        results["scenarios"][name]["wall_s"] = round(time.monotonic() - began, 1)
    results["quiet_before_scenarios"] = args.quiet_log
    results["verdicts"] = verdicts(results["scenarios"])
    print_table(results)
    args.out.mkdir(parents=True, exist_ok=True)
    # Profiled runs are slower (py-spy reads the server's memory): never mix them up;
    # runs with the gc.freeze() experiment are not the package's behaviour.
    suffix = (
        ("-redis" if args.backend == "redis" else "")
        + ("-profiled" if args.profile else "")
        + ("-gcfreeze" if args.gc_freeze_every else "")
        + ("-settings" if args.server_env or args.backlog != LISTEN_BACKLOG else "")
    )
    path = args.out / f"{args.stamp}-{args.loop}{suffix}.json"
    path.write_text(json.dumps(results, indent=1) + "\n")
    print(f"results: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
