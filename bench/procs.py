"""The benchmarked server as a child process, and what /proc says about processes."""

from __future__ import annotations

import json
import os
import secrets
import selectors
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

_TICK = os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int) -> int:
    """Resident set size (``VmRSS``) of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_s(pid: int) -> float:
    """User plus system CPU seconds a process (all its threads) has used so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime (fields 14, 15)


def busy_s() -> float:
    """CPU seconds the whole machine (every core, every process) has been busy so far."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / _TICK


def wait_quiet(limit_pct: float = 15.0, max_wait_s: float = 120.0) -> dict[str, Any]:
    """Wait until other work on the machine stays under ``limit_pct`` of one core for 3 s.

    Other people's test suites on a 2-core machine make numbers meaningless; this
    waits for a quiet moment (bounded) and says how quiet it was.
    """
    started = time.monotonic()
    quiet_for = 0
    pct = 100.0
    while time.monotonic() - started < max_wait_s:
        before = busy_s()
        time.sleep(1.0)
        pct = 100 * (busy_s() - before)
        quiet_for = quiet_for + 1 if pct < limit_pct else 0
        if quiet_for >= 3:
            break
    return {"quiet": quiet_for >= 3, "waited_s": round(time.monotonic() - started, 1),
            "busy_pct": round(pct, 1)}  # fmt: skip


class Cpu:
    """CPU used by the server, the generators, a private Redis and everything else,
    over one interval."""

    def __init__(self, server: int, generators: list[int], redis: int | None = None) -> None:
        self._server, self._generators, self._redis = server, generators, redis
        self._start = (time.monotonic(), cpu_s(server), self._gen(), self._redis_s(), busy_s())

    def _gen(self) -> float:
        return sum(cpu_s(pid) for pid in self._generators)

    def _redis_s(self) -> float:
        return cpu_s(self._redis) if self._redis is not None else 0.0

    def stop(self) -> dict[str, float]:
        """Percent of one core each, from the start until now."""
        wall0, server0, gen0, redis0, busy0 = self._start
        wall = max(1e-9, time.monotonic() - wall0)
        server = cpu_s(self._server) - server0
        gen = self._gen() - gen0
        redis = self._redis_s() - redis0
        # A private Redis is part of what is measured, not other people's work.
        other = max(0.0, busy_s() - busy0 - server - gen - redis)
        return {
            "server_cpu_pct": round(100 * server / wall, 1),
            "generator_cpu_pct": round(100 * gen / wall, 1),
            **({"redis_cpu_pct": round(100 * redis / wall, 1)} if self._redis else {}),
            "other_cpu_pct": round(100 * other / wall, 1),
            "server_cpu_s": round(server, 3),
        }


def code_version() -> dict[str, Any]:
    """The commit measured, and whether the package had uncommitted changes then."""
    repo = Path(__file__).parent.parent

    def git(*args: str) -> str:
        try:
            out = subprocess.run(
                ["git", *args], cwd=repo, capture_output=True, text=True, timeout=10, check=True
            )
        except (OSError, subprocess.SubprocessError):
            return ""
        return out.stdout.strip()

    changed = git("status", "--porcelain", "--", "hubs_bridge", "pyproject.toml")
    return {"commit": git("rev-parse", "HEAD"), "package_changed": changed.splitlines()}


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    try:
        from importlib.metadata import version

        uv: str | None = version("uvloop")
    except ImportError:
        uv = None
    import aiohttp

    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "kernel": os.uname().release,
        "python": sys.version.split()[0],
        "aiohttp": aiohttp.__version__,
        "uvloop": uv,
        "mem_total_kb": int(Path("/proc/meminfo").read_text().split()[1]),
    }


class Server:
    """``bench/server.py`` in a child process on a free port, with a fresh data dir."""

    def __init__(
        self,
        loop: str,
        cpus: set[int] | None = None,
        extra_args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        redis: tuple[str, str] | None = None,
    ) -> None:
        self.loop = loop
        self.redis = redis  # (url, prefix): the Redis store and broker; None: embedded
        self.redis_pid: int | None = None  # a private redis-server's, to measure its CPU
        self.cpus = cpus
        self.extra_args = extra_args
        self.env = env or {}
        self.token = secrets.token_urlsafe(24)
        self._tmp = tempfile.TemporaryDirectory(prefix="hubs-bench-")
        self.log_path = Path(self._tmp.name) / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.pid = 0

    def __enter__(self) -> Server:
        cmd = [
            sys.executable,
            "-m",
            "bench.server",
            "--data-dir",
            str(Path(self._tmp.name) / "data"),
            "--loop",
            self.loop,
            "--max-seconds",
            "1200",  # a bound, far above any run of bench.run
            *self.extra_args,
        ]
        env = {**os.environ, **self.env, "HUBS_BRIDGE_STAFF_TOKEN": self.token}
        env.pop("HUBS_BRIDGE_REDIS_URL", None)  # embedded: SQLite and the in-memory broker
        env.pop("HUBS_BRIDGE_REDIS_PREFIX", None)
        if self.redis is not None:
            env["HUBS_BRIDGE_REDIS_URL"], env["HUBS_BRIDGE_REDIS_PREFIX"] = self.redis
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=log, env=env, cwd=Path(__file__).parent.parent
            )
        assert self.proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout=30):
            self.stop()
            raise RuntimeError(f"server did not start; see {self.log_path}")
        ready = json.loads(self.proc.stdout.readline() or b"{}")
        if "port" not in ready:
            raise RuntimeError(f"server did not start: {self.log_path.read_text()[-2000:]}")
        self.port, self.pid, self.loop = ready["port"], ready["pid"], ready["loop"]
        if self.cpus is not None:
            os.sched_setaffinity(self.pid, self.cpus)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._tmp.cleanup()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
        return json.loads(raw) if raw.startswith((b"{", b"[")) else raw.decode()

    def create_event(self, slug: str) -> None:
        self.request(
            "POST",
            "/api/events",
            {
                "slug": slug,
                "title": "Bench",
                "starts_at": "2026-01-01T00:00:00",
                "ends_at": "2026-01-10T00:00:00",
                "rooms": [{"slug": "r1", "title": "R1", "scene": "foyer"}],
            },
        )

    def metrics(self) -> dict[str, float]:
        """The Prometheus text of ``/metrics`` as {series: value}."""
        out: dict[str, float] = {}
        for line in str(self.request("GET", "/metrics")).splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                out[name] = float(value)
        return out

    def wait_sessions(self, n: int, timeout: float = 30.0) -> int:
        """Wait until the server holds ``n`` sessions (or the timeout); returns the count."""
        deadline = time.monotonic() + timeout
        count = -1
        while time.monotonic() < deadline:
            count = int(self.request("GET", "/bench/stats")["sessions"])
            if count == n:
                break
            time.sleep(0.2)
        return count
