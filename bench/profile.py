"""Where the server's time goes: py-spy samples of the server during a scenario.

py-spy is not a dependency; ``.venv/bin/pip install py-spy`` enables ``--profile``.
Its ``raw`` output with ``--threads`` is one line per distinct stack,
``thread (tid): Name;frame;frame;... count``. Sampling is ``--nonblocking`` (the
server is not paused), so a few stacks are torn; shares are still sound.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

# Frames every event loop sample has; left out of the inclusive list.
_ROOTS = frozenset(
    {
        "<frozen runpy>:_run_module_as_main",
        "<frozen runpy>:_run_code",
        "bench/server.py:<module>",
        "bench/server.py:main",
        "asyncio/runners.py:Runner.run",
    }
)


def py_spy() -> str | None:
    """The py-spy executable next to this Python, or on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


class Sampler:
    """``py-spy record`` of one process for a bounded time, in the background."""

    def __init__(self, pid: int, seconds: float, out: Path) -> None:
        exe = py_spy()
        if exe is None:
            raise RuntimeError("py-spy is not installed: .venv/bin/pip install py-spy")
        self.out = out
        self._proc = subprocess.Popen(
            [exe, "record", "--pid", str(pid), "--duration", str(int(seconds) + 1),
             "--rate", "200", "--nonblocking", "--threads", "--format", "raw",
             "--output", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip

    def finish(self) -> dict[str, Any]:
        """Stop sampling (py-spy writes its output on SIGINT) and summarize."""
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGINT)
        try:
            _, err = self._proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            _, err = self._proc.communicate()
        if not self.out.exists():
            return {"error": err.decode(errors="replace")[-500:]}
        return summarize(self.out)


def _name(frame: str) -> str:
    """``func (path/to/module.py:12)`` -> ``module.py:func``, dropping line numbers."""
    func, _, where = frame.partition(" (")
    file = where.rsplit(":", 1)[0].rstrip(")")
    parts = Path(file).parts
    if "site-packages" in parts:
        parts = parts[parts.index("site-packages") + 1 :]
    elif "hubs_bridge" in parts:
        parts = parts[parts.index("hubs_bridge") :]
    return f"{'/'.join(parts[-2:])}:{func}"


def summarize(path: Path, top: int = 15) -> dict[str, Any]:
    """Self and inclusive shares of the event loop thread's samples, the ``top`` of each.

    Samples of other threads (aiosqlite's worker) are counted apart.
    """
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = other_threads = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        thread, _, rest = stack.partition(";")
        if not thread.endswith("MainThread"):
            other_threads += n  # aiosqlite's worker thread, the default executor
            continue
        frames = [_name(f) for f in rest.split(";") if f]
        total += n
        if frames:
            own[frames[-1]] += n
        for name in set(frames) - _ROOTS:
            inclusive[name] += n
    if not total:
        return {"samples": 0, "other_thread_samples": other_threads}

    def share(c: Counter[str]) -> list[tuple[str, float]]:
        return [(name, round(100 * n / total, 1)) for name, n in c.most_common(top)]

    return {
        "samples": total,
        "other_thread_samples": other_threads,
        "self_pct": share(own),
        "inclusive_pct": share(inclusive),
    }
