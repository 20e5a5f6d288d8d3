"""In-memory broker: one process, nothing to reach, always ready."""

from __future__ import annotations


class MemoryBroker:
    backend = "memory"

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None
