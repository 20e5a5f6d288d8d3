"""Reticulum's request throttle, as the Hubs server simulator applies it.

``RetWeb.Plugs.RateLimit`` (``lib/ret_web/rate_limit.ex``) is PlugAttack's
``throttle(conn.remote_ip, period: 1000, limit: 1, storage: {PlugAttack.Storage.Ets,
RetWeb.RateLimit.Storage})``: fixed windows ``div(now, period)``, one counter
per address and window in one table shared by every throttled controller
(``hub_controller.ex`` plugs it for every action). Over the limit PlugAttack's
default block action answers ``403`` with the text ``Forbidden\\n``.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class FixedWindowThrottle:
    """At most ``limit`` requests per key in each window ``int(now / period_s)``.

    ``period_s <= 0`` switches the throttle off (the simulator's lenient mode).
    """

    def __init__(
        self, period_s: float, *, limit: int = 1, clock: Callable[[], float] = time.time
    ) -> None:
        self.period_s = period_s
        self.limit = limit
        self.clock = clock
        self._counts: dict[tuple[str, int], int] = {}

    def window(self) -> int:
        return int(self.clock() / self.period_s) if self.period_s > 0 else 0

    def allow(self, key: str) -> bool:
        """Count a request of ``key``; False when it is over the limit of its window."""
        if self.period_s <= 0:
            return True
        window = self.window()
        # Expired windows go, as the ETS storage's cleaner removes them.
        for old in [k for k in self._counts if k[1] < window]:
            del self._counts[old]
        count = self._counts.get((key, window), 0) + 1
        self._counts[(key, window)] = count
        return count <= self.limit
