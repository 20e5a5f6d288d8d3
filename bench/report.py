"""The targets of DESIGN.md ("Scale it must take") and a plain-text table of a run."""

from __future__ import annotations

from typing import Any

# DESIGN.md, "Scale it must take" (one process, 2 cores).
TARGET_SESSIONS = 10_000
TARGET_KB_PER_SESSION = 50.0
TARGET_P99_MS = 150.0  # 5,000 receivers, 5 broadcasts per second
TARGET_RECEIVERS = 5_000
TARGET_DELIVERIES_PER_S = 30_000  # three times python-socketio's ~10,000/s
TARGET_ATTENDANCE_PER_S = 1.0  # per page, however many arrive
# Issue 11: one process takes 2,000 hellos arriving within 2 s, none refused.
TARGET_STORM_HELLOS = 2_000
TARGET_STORM_S = 2.0


def _burst_at(bursts: list[dict[str, Any]], rate: float) -> dict[str, Any] | None:
    """The longest burst at ``rate``."""
    at = [b for b in bursts if b["rate"] == rate]
    return max(at, key=lambda b: b["seconds"], default=None)


BUSY_PCT = 25.0  # other work on the machine above this (of one core) makes a number suspect


def _redis_cpu(part: dict[str, Any]) -> str:
    """The private Redis's CPU, when there is one, for a line of the table."""
    return f"Redis {part['redis_cpu_pct']}%, " if "redis_cpu_pct" in part else ""


def _busy(*parts: dict[str, Any]) -> str:
    worst = max(p.get("other_cpu_pct", 0.0) for p in parts)
    return f"; MACHINE BUSY (other work {worst:g}% of a core)" if worst > BUSY_PCT else ""


def verdicts(scenarios: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per target: what was measured, and whether it meets the target."""
    rows: list[dict[str, Any]] = []
    s = scenarios.get("sessions")
    if s:
        n = max(int(k) for k in s["held"])
        kb = s["kb_per_session"][str(n)]
        rows.append(
            {
                "target": f"{TARGET_SESSIONS:,} sessions at < {TARGET_KB_PER_SESSION:g} KB each",
                "measured": f"{s['held'][str(n)]:,} held, {kb:.1f} KB each (RSS growth)"
                + _busy(s["open"], s["open_second_half"]),
                "met": s["held"][str(n)] >= TARGET_SESSIONS and kb < TARGET_KB_PER_SESSION,
            }
        )
    b = scenarios.get("broadcast")
    if b:
        at5 = _burst_at(b["bursts"], 5.0)
        if at5:
            p99 = at5["latency_from_due_ms"].get("p99", float("inf"))
            rows.append(
                {
                    "target": f"p99 < {TARGET_P99_MS:g} ms, {TARGET_RECEIVERS:,} receivers, 5/s "
                    f"({at5['seconds']:g} s)",
                    "measured": f"p99 {p99:g} ms from due ({at5['latency_ms'].get('p99')} ms "
                    f"from publish), {at5['receivers']:,} receivers, "
                    f"{at5['complete']:.2%} delivered" + _busy(at5),
                    "met": p99 < TARGET_P99_MS
                    and at5["receivers"] >= TARGET_RECEIVERS
                    and at5["complete"] >= 0.999,
                }
            )
        # Only bursts that delivered everything in time count: a rate reached by dropping
        # pages, or by falling ever further behind, is not one the process sustains.
        whole = [
            x
            for x in b["bursts"]
            if x["complete"] >= 0.999
            and x["latency_from_due_ms"].get("p99", float("inf")) < TARGET_P99_MS
        ]
        best = max(whole, key=lambda x: x["delivered_per_s"], default=None)
        rows.append(
            {
                "target": f">= {TARGET_DELIVERIES_PER_S:,} deliveries/s in time (p99 < 150 ms)",
                "measured": (
                    f"{best['delivered_per_s']:,}/s at {best['rate']:g} broadcasts/s "
                    f"(p99 {best['latency_from_due_ms'].get('p99')} ms from due)" + _busy(best)
                    if best
                    else "no burst delivered every frame in time"
                ),
                "met": best is not None and best["delivered_per_s"] >= TARGET_DELIVERIES_PER_S,
            }
        )
    a = scenarios.get("arrivals")
    if a:
        rate = a["frames_per_s_per_page"]["mean"]
        rows.append(
            {
                "target": f"<= {TARGET_ATTENDANCE_PER_S:g} attendance frame/s per page",
                "measured": (f"{sum(a['failed'].values())} FAILED; " if a["failed"] else "")
                + f"{rate} frames/s per page (mean), {a['attendance_published']:g} "
                f"published for {a['arrivals']:,} arrivals, {a['gaps_under_900ms']} gaps < 0.9 s"
                + _busy(a),
                "met": rate is not None
                and not a["failed"]
                and rate <= TARGET_ATTENDANCE_PER_S * 1.05
                and a["gaps_under_900ms"] == 0,
            }
        )
    st = scenarios.get("storm")
    if st:
        rows.append(
            {
                "target": f"{TARGET_STORM_HELLOS:,} hellos within {TARGET_STORM_S:g} s, "
                "none refused",
                "measured": f"{st['welcomed']:,} of {st['hellos']:,} welcomed "
                f"(within {st['over_s']:g} s, waves of {st['wave']}), {st['refused']} refused"
                + (f" {st['error_frames']}" if st["error_frames"] else "")
                + f"; all welcomed {st['all_welcomed_after_s']:g} s after the first, "
                f"latency p50 {st['welcome_latency_ms'].get('p50')} ms, "
                f"p99 {st['welcome_latency_ms'].get('p99')} ms" + _busy(st),
                "met": st["refused"] == 0
                and st["hellos"] >= TARGET_STORM_HELLOS
                and st["over_s"] <= TARGET_STORM_S,
            }
        )
    return rows


def print_table(results: dict[str, Any]) -> None:
    """The run as a few aligned lines for a terminal."""
    m = results["machine"]
    code = results.get("code", {})
    print(
        f"\nhubs-bridge, one process: {m['nproc']} CPUs ({m['cpu']}), Python {m['python']}, "
        f"server loop {results['config']['loop']}, "
        f"backend {results['config'].get('backend', 'embedded')}, "
        f"commit {code.get('commit', '?')[:10]}"
        + (" + uncommitted changes" if code.get("package_changed") else "")
        + (" (PROFILED: slower than normal)" if results["config"].get("profile") else "")
        + (
            f" (EXPERIMENT: gc.freeze() every {results['config']['gc_freeze_every']:g} s)"
            if results["config"].get("gc_freeze_every")
            else ""
        )
        + (
            f" (SETTINGS CHANGED: {' '.join(results['config']['server_env'])})"
            if results["config"].get("server_env")
            else ""
        )
        + (
            f" (EXPERIMENT: listen backlog {results['config']['backlog']})"
            if results["config"].get("backlog", 128) != 128
            else ""
        )
    )
    sc = results["scenarios"]
    if "sessions" in sc:
        s = sc["sessions"]
        for label, o in (("first half", s["open"]), ("second half", s["open_second_half"])):
            print(
                f"\nsessions, {label}: {o['opened']:,} opened at {o['per_s']:,.0f}/s; server CPU "
                f"{o['server_cpu_pct']}% ({o['server_cpu_ms_per_open']} ms per open), "
                f"generators {o['generator_cpu_pct']}%, {_redis_cpu(o)}"
                f"other {o['other_cpu_pct']}%; "
                f"failed: {o['failed'] or 'none'}"
            )
        for n, kb in s["kb_per_session"].items():
            mib = s["rss_kb"][n] / 1024
            print(f"  {int(n):>6,} held: RSS {mib:7.1f} MiB, {kb:6.2f} KB/session")
    if "broadcast" in sc:
        b = sc["broadcast"]
        print(f"\nbroadcast to {b['held']:,} sessions of one event:")
        head = "rate/s seconds offered/s deliv/s complete p50_ms p99_ms p99_due max_due " \
            "fanout_ms lag_p99 gc2_max srv_CPU deliv/cpu_s gen_CPU redis_CPU other_CPU"  # fmt: skip
        print("  " + " ".join(f"{h:>10}" for h in head.split()))
        for x in b["bursts"]:
            lat, due = x["latency_ms"], x["latency_from_due_ms"]
            cells = (
                f"{x['rate']:g}",
                f"{x['seconds']:g}",
                f"{x['offered_per_s']:,}",
                f"{x['delivered_per_s']:,}",
                f"{x['complete']:.2%}",
                lat.get("p50", "-"),
                lat.get("p99", "-"),
                due.get("p99", "-"),
                due.get("max", "-"),
                x["fanout_ms"].get("p50", "-"),
                x["publish_lag_ms"].get("p99", "-"),
                x["gc"]["gen2"]["max_ms"] if x["gc"]["gen2"]["count"] else "-",
                f"{x['server_cpu_pct']}%",
                f"{x['deliveries_per_server_cpu_s']:,}",
                f"{x['generator_cpu_pct']}%",
                f"{x['redis_cpu_pct']}%" if "redis_cpu_pct" in x else "-",
                f"{x['other_cpu_pct']}%",
            )
            print("  " + " ".join(f"{c!s:>10}" for c in cells))
        print(
            "  (p50/p99: publish to receipt; due: from when the change was due, so event loop\n"
            "   stalls count; fanout: publish() to return, one frame written to every session;\n"
            "   lag: how late the publisher started; gc2: longest full collection, ms;\n"
            "   CPU in % of one core; deliv/cpu_s: deliveries per second of server CPU;\n"
            "   redis: a private redis-server; other: everything else on the machine)"
        )
    if "storm" in sc:
        st = sc["storm"]
        lat = st["welcome_latency_ms"]
        print(
            f"\nstorm: {st['hellos']:,} hellos within {st['over_s']:g} s in waves of "
            f"{st['wave']}: {st['welcomed']:,} welcomed, {st['refused']} refused "
            f"{st['failed'] or ''}{st['error_frames'] or ''}; all welcomed after "
            f"{st['all_welcomed_after_s']:g} s; welcome latency p50 {lat.get('p50')} ms, "
            f"p90 {lat.get('p90')} ms, p99 {lat.get('p99')} ms, max {lat.get('max')} ms; "
            f"server CPU {st['server_cpu_pct']}%, {_redis_cpu(st)}"
            f"generators {st['generator_cpu_pct']}%, other {st['other_cpu_pct']}%"
        )
    if "arrivals" in sc:
        a = sc["arrivals"]
        print(
            f"\narrivals: {a['arrivals']:,} in {a['over_s']:g} s -> "
            f"{a['attendance_published']:g} attendance frames published, "
            f"{a['frames_per_s_per_page']} frames/s per page, gaps {a['gap_ms']}"
        )
    print("\nagainst DESIGN.md:")
    for row in results["verdicts"]:
        mark = "MET " if row["met"] else "MISS"
        print(f"  [{mark}] {row['target']:<48} {row['measured']}")
    print()
