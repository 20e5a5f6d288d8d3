"""A Hubs simulator in a thread of its own, for the sync browser tests.

Playwright's sync API owns the test thread, so the simulator runs its asyncio
loop in a background thread; tests act on it (add avatars, raise hands, say
things in the chat) through :meth:`SimThread.call`, which runs a function on
that loop and waits for its result.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from hubs_bridge.hubs.simulator import HubsSimulator

T = TypeVar("T")


class SimThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="hubs-sim", daemon=True)
        # Strict, with a short throttle window so that provisioning stays quick; the
        # Hubs server's own host is not the bridge's (127.0.0.1), as in production.
        self.sim = HubsSimulator(throttle_period_s=0.2, endpoint_host="hubs.test")
        self.account = self.sim.add_account("hubs-bridge@stadt.example")

    def start(self) -> str:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.sim.start(0), self.loop).result(10)
        return self.sim.base_url

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        async def run() -> T:
            return fn(*args, **kwargs)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.sim.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()
