"""Fan-out between processes: the backend is chosen by the scheme of the broker's URL."""

from __future__ import annotations

from hubs_bridge.broker.base import Broker
from hubs_bridge.settings import Settings, scheme_of

__all__ = ["Broker", "open_broker"]


def open_broker(settings: Settings) -> Broker:
    """``memory://`` (one process) or ``redis://...`` (``Settings.broker_target``)."""
    url = settings.broker_target()
    if scheme_of(url) == "memory":
        from hubs_bridge.broker.memory import MemoryBroker

        return MemoryBroker(history_size=settings.realtime.history_size)
    from hubs_bridge.broker.redis import RedisBroker

    return RedisBroker.connect(
        url, settings.redis_prefix, history_size=settings.realtime.history_size
    )
