"""Fan-out between processes: pick the backend from the settings."""

from __future__ import annotations

from hubs_bridge.broker.base import Broker
from hubs_bridge.settings import Settings

__all__ = ["Broker", "open_broker"]


def open_broker(settings: Settings) -> Broker:
    if settings.redis_url is not None:
        from hubs_bridge.broker.redis import RedisBroker

        return RedisBroker.connect(
            settings.redis_url.get_secret_value(),
            settings.redis_prefix,
            history_size=settings.realtime.history_size,
        )
    from hubs_bridge.broker.memory import MemoryBroker

    return MemoryBroker(history_size=settings.realtime.history_size)
