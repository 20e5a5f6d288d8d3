"""Prometheus metrics of one process, in a registry of its own (tests run several apps)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.sessions = Gauge(
            "hubs_bridge_sessions", "Open websocket sessions", ["event"], registry=r
        )
        self.frames_in = Counter(
            "hubs_bridge_frames_in", "Frames received from browsers", registry=r
        )
        self.bytes_in = Counter("hubs_bridge_bytes_in", "Bytes received from browsers", registry=r)
        self.frames_out = Counter(
            "hubs_bridge_frames_out", "Frames written to browsers", registry=r
        )
        self.bytes_out = Counter("hubs_bridge_bytes_out", "Bytes written to browsers", registry=r)
        self.fanout_seconds = Histogram(
            "hubs_bridge_fanout_seconds",
            "Time to write one stream frame to every local session of its event",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
            registry=r,
        )
        self.slow_closes = Counter(
            "hubs_bridge_slow_closes", "Sessions closed because they fell behind", registry=r
        )
        self.closes = Counter(
            "hubs_bridge_session_closes", "Sessions closed by the server", ["reason"], registry=r
        )
        self.published = Counter(
            "hubs_bridge_frames_published", "Stream frames published", ["type"], registry=r
        )

    def watch_broker(self, errors: Callable[[], int], reconnects: Callable[[], int]) -> None:
        """Report the broker's own error and reconnect counts at each scrape."""
        self.registry.register(_BrokerCollector(errors, reconnects))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _BrokerCollector(Collector):
    def __init__(self, errors: Callable[[], int], reconnects: Callable[[], int]) -> None:
        self._errors = errors
        self._reconnects = reconnects

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "hubs_bridge_broker_errors", "Broker operations that failed", value=self._errors()
        )
        yield CounterMetricFamily(
            "hubs_bridge_broker_reconnects",
            "Broker connections re-established",
            value=self._reconnects(),
        )

    def describe(self) -> Iterator[Metric]:
        return iter(())
