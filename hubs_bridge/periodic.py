"""One way to run background work periodically: a failure is logged, never the end.

Every loop of the server (attendance ticks, presence refresh, pings, the vote
flusher, the Hubs bridge's sync, the room closer) runs through :func:`every`.
A background task that dies on an unexpected error is never restarted (nobody
awaits it until shutdown), so the loop catches everything but cancellation:
backend outages (:class:`~hubs_bridge.errors.HubsBridgeError`) as a warning,
anything else with its traceback.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from hubs_bridge.errors import HubsBridgeError

log = logging.getLogger("hubs_bridge.periodic")


async def every(
    seconds: float,
    work: Callable[[], Awaitable[object]],
    *,
    first_delay: float | None = None,
    logger: logging.Logger = log,
) -> None:
    """Run ``work`` every ``seconds`` (start to start) until cancelled; the first run
    after ``first_delay`` (default: ``seconds``)."""
    await asyncio.sleep(seconds if first_delay is None else first_delay)
    while True:
        started = time.monotonic()
        await run_safely(work, logger)
        await asyncio.sleep(max(0.0, seconds - (time.monotonic() - started)))


async def run_safely(work: Callable[[], Awaitable[object]], logger: logging.Logger = log) -> None:
    """Run ``work`` once; a failure is logged (the caller goes on)."""
    try:
        await work()
    except HubsBridgeError as exc:
        logger.warning("background work failed, retrying later: %s", exc)
    except Exception:
        logger.exception("background work crashed, retrying later")
