"""hubs-bridge: a real-time companion server for Mozilla Hubs rooms."""

from __future__ import annotations

__version__ = "0.1.0"
