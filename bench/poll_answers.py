"""Poll storm: 2,000 visitors answer one poll within 10 s while 5,000 pages watch.

Reports, for one server process (``--backend embedded``: SQLite and the in-memory
broker; ``--backend redis``: a private Redis for store and broker), uvloop:
- answers acknowledged vs answers counted in the poll's results afterwards (equal),
- ack latency p50/p99/max (from sending ``poll_answer`` to its ``ack``),
- ``poll_results`` frames per watching page: in all, and the most within any one
  second (the promise: at most 4 a second per page).

Some visitors change their answer (``--changes``, 10 % by default): the results must
count each visitor once, with their last answer.

Run: ``.venv/bin/python -m bench.poll_answers [--backend redis]`` (about a minute;
traffic to 127.0.0.1 only, bounded in count and time). Results are printed and
written to bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.qa_votes import bench_env, http, open_pages, run_storm, write_result
from bench.redis_proc import BenchRedis
from bench.ws_load import raise_nofile_limit

REPO = Path(__file__).resolve().parent.parent
EVENT = "poll-storm"
OPTIONS = ["Radwege", "Spielplätze", "Glasfaser", "Bäder", "Busse"]


async def storm(port: int, args: argparse.Namespace) -> dict[str, Any]:
    created = http(
        port,
        "POST",
        f"/api/events/{EVENT}/polls",
        {"question": "Was zuerst?", "kind": "single", "options": OPTIONS},
    )
    poll = created["poll"]["id"]
    http(port, "POST", f"/api/events/{EVENT}/polls/{poll}/open")
    voters = await open_pages(port, args.voters, offset=1000, event=EVENT)
    rng = random.Random(7)
    plan = [(v, rng.randrange(len(OPTIONS)), f"a{v}") for v in range(len(voters))]
    changers = rng.sample(range(len(voters)), int(len(voters) * args.changes))
    plan += [(v, rng.randrange(len(OPTIONS)), f"b{v}") for v in changers]
    last = {v: option for v, option, _ in plan}  # a change comes after the first answer
    rng.shuffle(plan)
    # A changed answer must follow its first one: move every second answer to the end.
    plan = [p for p in plan if p[2][0] == "a"] + [p for p in plan if p[2][0] == "b"]
    started = time.perf_counter()
    per_tick = max(1, len(plan) // (args.seconds * 50))
    for i in range(0, len(plan), per_tick):
        for v, option, ref in plan[i : i + per_tick]:
            voters[v].sent[ref] = time.perf_counter()
            voters[v].send(
                {"type": "poll_answer", "poll": poll, "choices": [option], "client_msg_id": ref}
            )
        await asyncio.sleep(0.02)
    sent_in = time.perf_counter() - started
    deadline = time.monotonic() + 60
    while sum(p.acked for p in voters) + sum(len(p.errors) for p in voters) < len(plan):
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(2.0)  # the last coalesced results, and their settle frame
    acked = sum(p.acked for p in voters)
    latencies = sorted(x for p in voters for x in p.latencies)
    listed = http(port, "GET", f"/api/events/{EVENT}/polls")["polls"][0]["results"]
    expected = Counter(last.values())
    return {
        "answers_sent": len(plan),
        "answers_acked": acked,
        "respondents_counted": listed["respondents"],
        "counts_exact": listed["counts"] == [expected[i] for i in range(len(OPTIONS))],
        "errors": sorted({e for p in voters for e in p.errors}),
        "send_seconds": round(sent_in, 2),
        "ack_p50_ms": round(latencies[len(latencies) // 2] * 1000, 1) if latencies else None,
        "ack_p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1) if latencies else None,
        "ack_max_ms": round(latencies[-1] * 1000, 1) if latencies else None,
        "_pages": voters,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--watchers", type=int, default=5000)
    parser.add_argument("--voters", type=int, default=2000)
    parser.add_argument("--changes", type=float, default=0.1)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--backend", choices=("embedded", "redis"), default="embedded")
    args = parser.parse_args(argv)
    raise_nofile_limit()
    env = bench_env("hubs-bench-polls-")
    with contextlib.ExitStack() as stack:
        if args.backend == "redis":
            redis = stack.enter_context(BenchRedis())
            env["HUBS_BRIDGE_REDIS_URL"] = redis.url
            env["HUBS_BRIDGE_REDIS_PREFIX"] = redis.prefix()
        result, reports = run_storm(env, EVENT, args.watchers, lambda port: storm(port, args))
    frames = [r.get("poll_results", 0) for r in reports]
    result.update(
        {
            "backend": args.backend,
            "watchers": len(reports),
            "result_frames_per_watcher_mean": round(statistics.fmean(frames), 1)
            if frames
            else None,
            "result_frames_per_watcher_max_per_s": max(
                (r["poll_results_max_per_s"] for r in reports), default=None
            ),
        }
    )
    write_result("poll-answers" + ("-redis" if args.backend == "redis" else ""), args, result)
    ok = result["answers_acked"] == result["answers_sent"] and result["counts_exact"]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
