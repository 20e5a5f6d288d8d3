"""Retry delays of the official Hubs client (PROTOCOL.md §1), with jitter.

Pure functions: the random source is passed in, so tests use a seeded
``random.Random`` and get the same delays every run. ``attempt`` counts from 1
and is reset by the driver after a success.
"""

from __future__ import annotations

import random

RECONNECT_SCHEDULE = (0.01, 0.05, 0.1, 0.15, 0.2, 0.25, 0.5, 1.0, 2.0)  # phoenix.js
RECONNECT_MAX = 5.0
REJOIN_SCHEDULE = (1.0, 2.0, 5.0)  # phoenix.js
REJOIN_MAX = 10.0
JITTER = 0.2


def _backoff(
    schedule: tuple[float, ...], ceiling: float, attempt: int, rng: random.Random, jitter: float
) -> float:
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, got {attempt}")
    if not 0.0 <= jitter < 1.0:
        raise ValueError(f"jitter must be in [0, 1), got {jitter}")
    base = schedule[attempt - 1] if attempt <= len(schedule) else ceiling
    return base * (1.0 + jitter * (2.0 * rng.random() - 1.0))


def reconnect_delay(attempt: int, rng: random.Random, *, jitter: float = JITTER) -> float:
    """Seconds to wait before reconnect ``attempt`` (1, 2, ...).

    The phoenix.js schedule, then every 5 s, each spread by ±``jitter`` so that
    bridges cut off by one deploy (``ret-deploy``, §4) do not return at once.
    """
    return _backoff(RECONNECT_SCHEDULE, RECONNECT_MAX, attempt, rng, jitter)


def rejoin_delay(attempt: int, rng: random.Random, *, jitter: float = JITTER) -> float:
    """Seconds to wait before rejoin ``attempt`` of a channel: 1, 2, 5, then 10 s, ±jitter."""
    return _backoff(REJOIN_SCHEDULE, REJOIN_MAX, attempt, rng, jitter)
