"""Waiting for a condition, never for a time: one poll with a deadline and a clear failure.

A test that sleeps and then asserts is slow when the machine is idle and flaky
when it is busy. :func:`eventually` asks the question again until the answer
is yes, and when the deadline passes it fails naming what it waited for and
the last answer it got. Something that must *not* happen is checked after a
condition that proves enough happened meanwhile (a later frame handled, N
heartbeats answered), not after a sleep.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar, overload

T = TypeVar("T")

TIMEOUT_S = 10.0
# The first polls come quickly, so a condition that holds at once costs nothing;
# then the pause grows, so a slow one does not keep the two shared cores busy.
FIRST_PAUSE_S = 0.002
LONGEST_PAUSE_S = 0.05


def _failure(what: str, timeout: float, last: object) -> AssertionError:
    return AssertionError(f"waited {timeout:g} s for {what}; the last check gave {last!r}")


@overload
async def eventually(
    check: Callable[[], Awaitable[T]], *, what: str, timeout: float = ...
) -> T: ...
@overload
async def eventually(check: Callable[[], T], *, what: str, timeout: float = ...) -> T: ...
async def eventually(
    check: Callable[[], T | Awaitable[T]], *, what: str, timeout: float = TIMEOUT_S
) -> T:
    """Poll ``check`` until it returns something true; return that.

    ``check`` may be a plain or an async callable. An exception it raises
    (an ``assert`` inside it included) ends the wait at once: only a false
    answer means "not yet".
    """
    deadline = time.monotonic() + timeout
    pause = FIRST_PAUSE_S
    while True:
        answer = check()
        result: T = await answer if inspect.isawaitable(answer) else answer
        if result:
            return result
        if time.monotonic() >= deadline:
            raise _failure(what, timeout, result)
        await asyncio.sleep(pause)
        pause = min(pause * 2, LONGEST_PAUSE_S)


def eventually_sync(check: Callable[[], T], *, what: str, timeout: float = TIMEOUT_S) -> T:
    """:func:`eventually` for code outside an event loop (starting processes, browser tests)."""
    deadline = time.monotonic() + timeout
    pause = FIRST_PAUSE_S
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise _failure(what, timeout, result)
        time.sleep(pause)
        pause = min(pause * 2, LONGEST_PAUSE_S)
