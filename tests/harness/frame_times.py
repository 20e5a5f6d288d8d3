"""Pages with a thousand questions: a server without rate limits, question texts, and
frame times and long tasks measured in the browser while something happens.

A test installs the measuring script once (:data:`MEASURE_JS`), then calls
:func:`measure` around each action: requestAnimationFrame deltas give the frame
times, a PerformanceObserver the long tasks (over 50 ms).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.harness.server_process import ServerProcess, running_server, server_env

MANY = "1000000"

MEASURE_JS = """
() => {
  window.__perf = {frames: [], longtasks: [], on: false};
  new PerformanceObserver((list) => {
    if (!window.__perf.on) return;
    for (const e of list.getEntries()) window.__perf.longtasks.push(e.duration);
  }).observe({type: "longtask"});
  let last = performance.now();
  const tick = (now) => {
    if (window.__perf.on) window.__perf.frames.push(now - last);
    last = now;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}
"""


@contextmanager
def unlimited_server(tmp: Path, staff: str) -> Iterator[ServerProcess]:
    """A server that lets one visitor ask and vote as fast as it likes, so a thousand
    questions are there within seconds instead of a thousand visitors' minutes."""
    env = server_env(
        tmp / "data",
        HUBS_BRIDGE_STAFF_TOKEN=staff,
        HUBS_BRIDGE_SEED_DIR="",
        HUBS_BRIDGE_QA__QUESTIONS_PER_MINUTE=MANY,
        HUBS_BRIDGE_QA__QUESTION_BURST=MANY,
        HUBS_BRIDGE_QA__VOTES_PER_MINUTE=MANY,
        HUBS_BRIDGE_QA__VOTE_BURST=MANY,
        HUBS_BRIDGE_REALTIME__FRAMES_PER_SECOND=MANY,
        HUBS_BRIDGE_REALTIME__FRAMES_BURST=MANY,
        HUBS_BRIDGE_QA__WORD_FILTER_DIR="",
    )
    with running_server(env, log_dir=tmp) as process:
        yield process


def question_texts(n: int, *, long_tail: str = "") -> list[str]:
    """``n`` different questions of the lengths people type (one to three lines)."""
    topics = ("Radweg", "Glasfaser", "Stadtpark", "Bücherei", "Marktplatz", "Busverbindung")
    tails = (
        "?",
        " – und wer entscheidet darüber?",
        ", und wie können Bürgerinnen und Bürger dabei mitreden, bevor es beschlossen ist?"
        + long_tail,
    )
    return [f"Frage {i}: Was wird aus dem Thema {topics[i % 6]}{tails[i % 3]}" for i in range(n)]


def measure(page: Any, action: Callable[[], Any], *, min_frames: int = 10) -> dict[str, float]:
    """Frame times and long tasks while ``action`` runs (after :data:`MEASURE_JS`)."""
    page.evaluate("() => Object.assign(window.__perf, {frames: [], longtasks: [], on: true})")
    action()
    page.evaluate("() => new Promise((r) => setTimeout(r, 300))")  # the last frames land
    perf = page.evaluate("() => { window.__perf.on = false; return window.__perf; }")
    frames = sorted(perf["frames"][1:])
    assert len(frames) > min_frames, perf
    return {
        "frames": len(frames),
        "p50_ms": round(frames[len(frames) // 2], 1),
        "p95_ms": round(frames[int(len(frames) * 0.95)], 1),
        "max_frame_ms": round(frames[-1], 1),
        "long_tasks": len(perf["longtasks"]),
        "max_long_task_ms": round(max(perf["longtasks"], default=0), 1),
    }
