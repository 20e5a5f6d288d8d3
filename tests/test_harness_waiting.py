"""The one wait of the suite: it returns the first true answer and fails naming what it awaited."""

from __future__ import annotations

import pytest

from tests.harness.waiting import eventually, eventually_sync


async def test_returns_the_first_true_answer_of_a_plain_or_async_check() -> None:
    answers = iter([0, [], 3, 4])
    assert await eventually(lambda: next(answers), what="a number") == 3

    calls: list[int] = []

    async def third_call() -> list[int] | None:
        calls.append(len(calls))
        return calls if len(calls) == 3 else None

    assert await eventually(third_call, what="the third call") == [0, 1, 2]


async def test_fails_naming_what_it_awaited_and_the_last_answer() -> None:
    door = "shut"
    with pytest.raises(AssertionError, match=r"waited 0.01 s for the door to open; .* gave False"):
        await eventually(lambda: door == "open", what="the door to open", timeout=0.01)
    with pytest.raises(AssertionError, match=r"for a page; the last check gave \[\]"):
        await eventually(lambda: [], what="a page", timeout=0)


async def test_an_exception_in_the_check_is_not_a_not_yet() -> None:
    def broken() -> bool:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        await eventually(broken, what="never", timeout=5)


def test_the_sync_variant_waits_and_fails_alike() -> None:
    answers = iter([None, None, "ready"])
    assert eventually_sync(lambda: next(answers), what="ready") == "ready"
    with pytest.raises(AssertionError, match="for a miracle"):
        eventually_sync(lambda: None, what="a miracle", timeout=0.01)
