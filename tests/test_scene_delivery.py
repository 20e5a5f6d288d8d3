"""Conditional and range requests for content-addressed files, decided without a server."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hubs_bridge.scenes.delivery import (
    UNSATISFIABLE,
    Delivery,
    etag_matches,
    parse_range,
    plan_delivery,
)

TAG = "ab" * 32
SIZE = 1000


def plan(method: str = "GET", **headers: str) -> Delivery:
    return plan_delivery(method=method, size=SIZE, etag=TAG, **headers)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", (0, 100)),
        ("bytes=100-", (100, SIZE)),
        ("bytes=-500", (500, SIZE)),
        ("bytes=-5000", (0, SIZE)),
        ("bytes=990-5000", (990, SIZE)),
        ("Bytes = 5-5", (5, 6)),
        ("bytes=999-", (999, SIZE)),
        ("bytes=1000-", UNSATISFIABLE),
        ("bytes=5000-6000", UNSATISFIABLE),
        ("bytes=-0", UNSATISFIABLE),
        ("bytes=5-2", None),
        ("bytes=0-1,5-6", None),
        ("bytes=-", None),
        ("bytes=abc", None),
        ("items=0-5", None),
        ("0-5", None),
        ("bytes=" + "9" * 40 + "-", None),
    ],
)
def test_parse_range(header: str, expected: object) -> None:
    assert parse_range(header, SIZE) == expected


@pytest.mark.parametrize(
    ("header", "weak", "expected"),
    [
        (f'"{TAG}"', False, True),
        (f'W/"{TAG}"', True, True),
        (f'W/"{TAG}"', False, False),
        (f'"other", "{TAG}"', True, True),
        (f'"other" ,  W/"{TAG}" ', True, True),
        ("*", False, True),
        (' "other"', True, False),
        (TAG, True, False),  # unquoted is not an entity tag
        (f'garbage, "{TAG}"', True, False),
    ],
)
def test_etag_matches(header: str, weak: bool, expected: bool) -> None:
    assert etag_matches(header, TAG, weak=weak) is expected


def test_plain_get_sends_everything() -> None:
    assert plan() == Delivery(200, SIZE, 0, SIZE)
    assert plan().content_range is None


def test_if_none_match_gives_304_for_get_and_head() -> None:
    assert plan(if_none_match=f'"{TAG}"').status == 304
    assert plan("HEAD", if_none_match=f'W/"{TAG}"').status == 304
    assert plan(if_none_match='"other"').status == 200


def test_not_modified_wins_over_range() -> None:
    assert plan(if_none_match="*", range_header="bytes=0-1").status == 304


def test_if_match_failure_gives_412() -> None:
    assert plan(if_match='"other"').status == 412
    assert plan(if_match=f'W/"{TAG}"').status == 412  # If-Match compares strongly
    assert plan(if_match=f'"{TAG}"').status == 200


def test_range_gives_206_with_content_range() -> None:
    result = plan(range_header="bytes=10-19")
    assert (result.status, result.start, result.length) == (206, 10, 10)
    assert result.content_range == f"bytes 10-19/{SIZE}"


def test_unsatisfiable_range_gives_416() -> None:
    result = plan(range_header="bytes=2000-")
    assert result.status == 416
    assert result.content_range == f"bytes */{SIZE}"


def test_range_is_for_get_only() -> None:
    assert plan("HEAD", range_header="bytes=0-9").status == 200


def test_if_range_must_match_strongly() -> None:
    assert plan(range_header="bytes=0-9", if_range=f'"{TAG}"').status == 206
    assert plan(range_header="bytes=0-9", if_range='"old"').status == 200
    assert plan(range_header="bytes=0-9", if_range=f'W/"{TAG}"').status == 200
    dated = plan(range_header="bytes=0-9", if_range="Wed, 21 Oct 2015 07:28:00 GMT")
    assert dated.status == 200


@given(st.integers(0, 3000), st.text(max_size=30))
def test_any_range_header_stays_inside_the_file(size: int, header: str) -> None:
    result = plan_delivery(method="GET", size=size, etag=TAG, range_header=header)
    assert result.status in (200, 206, 416)
    if result.status == 206:
        assert 0 <= result.start <= result.end < size
        assert result.length >= 1


@given(st.integers(1, 3000), st.integers(0, 4000), st.integers(0, 4000) | st.none())
def test_numeric_ranges(size: int, first: int, last: int | None) -> None:
    header = f"bytes={first}-{'' if last is None else last}"
    result = parse_range(header, size)
    if last is not None and last < first:
        assert result is None
    elif first >= size:
        assert result == UNSATISFIABLE
    else:
        assert result == (first, size if last is None else min(last + 1, size))
