"""The broker: carries events between hubs-bridge processes and holds shared presence.

Two backends implement :class:`Broker`: in memory for one process (the
default) and Redis for several. They are picked from the settings
(``open_broker``) and imported only when used.
"""

from __future__ import annotations

from typing import Protocol


class Broker(Protocol):
    backend: str

    async def ping(self) -> None:
        """Raise :class:`~hubs_bridge.errors.BrokerUnavailable` unless the broker answers."""

    async def close(self) -> None: ...
