"""One pacer for every call of a process to Reticulum's throttled room API.

Reticulum throttles every ``HubController`` action (create, update, delete:
``plug RetWeb.Plugs.RateLimit`` in ``lib/ret_web/controllers/api/v1/hub_controller.ex``)
with PlugAttack (``lib/ret_web/rate_limit.ex``, rule "throttle by ip to 1
tps": ``throttle(conn.remote_ip, period: 1000, limit: 1, storage:
{PlugAttack.Storage.Ets, RetWeb.RateLimit.Storage})``). PlugAttack counts in
fixed windows (``div(now, period)``) in one ETS table keyed by the client
address, so the limit is shared by every throttled controller (scenes,
avatars, credentials too) and every caller from the same address. A request
over it is refused with PlugAttack's default ``block_action``:
``403`` and the text ``Forbidden\\n``.

Two requests in one window are less than a period apart, so spacing the
process's own requests by more than a period keeps it under the limit; the
margin (``hubs.create_interval_s``, 1.1 s by default) absorbs clock drift.
Other callers at the same address (a second hubs-bridge process behind one
NAT, someone's script) can still take a window: that 403 is retried by
:func:`~hubs_bridge.hubs.rooms_api.send` in a later window.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class Pacer:
    """Hands out turns at least ``interval_s`` apart, first come first served."""

    def __init__(
        self,
        interval_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval_s = interval_s
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")
        self._lock = asyncio.Lock()

    async def turn(self) -> None:
        """Wait until this process may send its next request, and take that turn."""
        async with self._lock:  # asyncio.Lock wakes waiters in order
            wait = self._next - self._clock()
            if wait > 0:
                await self._sleep(wait)
            self._next = self._clock() + self.interval_s

    def hold_off(self, seconds: float) -> None:
        """Let no turn start for ``seconds`` from now (the server said: throttled)."""
        self._next = max(self._next, self._clock() + seconds)
