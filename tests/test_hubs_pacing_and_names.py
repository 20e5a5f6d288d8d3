"""The pacer that keeps a process under Reticulum's throttle, and room names within 64."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hubs_bridge.hubs.pacer import Pacer
from hubs_bridge.hubs.room_names import MAX_HUB_NAME, hub_name, hub_names, shorten


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_turns_are_at_least_an_interval_apart() -> None:
    time = FakeTime()
    pacer = Pacer(1.1, clock=time.clock, sleep=time.sleep)
    starts = []
    for _ in range(4):
        await pacer.turn()
        starts.append(time.now)
    assert [round(b - a, 6) for a, b in itertools.pairwise(starts)] == [1.1] * 3


async def test_a_throttle_refusal_holds_off_the_next_turn() -> None:
    time = FakeTime()
    pacer = Pacer(1.0, clock=time.clock, sleep=time.sleep)
    await pacer.turn()
    time.now += 5  # long after: the next turn would be at once
    pacer.hold_off(1.0)
    await pacer.turn()
    assert time.slept == [1.0]


def test_short_names_stay_as_they_are() -> None:
    assert hub_name("Digitale Kirmes", "Info") == "Digitale Kirmes – Info"
    assert hub_name("Digitale Kirmes", "Info", 2) == "Digitale Kirmes – Info (2)"


def test_long_titles_are_cut_at_a_word_with_an_ellipsis() -> None:
    event = "Digitale Kirmes der Innovationslabore mittelgroßer Städte in Nordrhein-Westfalen"
    room = "Offene Daten und Bürgerbeteiligung"
    name = hub_name(event, room)
    assert len(name) <= MAX_HUB_NAME
    assert name.endswith("– Offene Daten und Bürgerbeteiligung")
    assert "…" in name and not name.startswith("…")
    twin = hub_name(event, room, 3)
    assert len(twin) <= MAX_HUB_NAME and twin.endswith(" (3)")


def test_two_rooms_that_would_be_named_alike_are_numbered() -> None:
    event = "E" * 30
    rooms = [("a", "Werkstatt " + "x" * 60 + " eins"), ("b", "Werkstatt " + "x" * 60 + " zwei")]
    names = hub_names(event, rooms)
    assert len(set(names.values())) == 2
    assert all(len(n) <= MAX_HUB_NAME for n in names.values())


@given(
    st.text(min_size=1, max_size=120).filter(str.strip),
    st.text(min_size=1, max_size=120).filter(str.strip),
    st.none() | st.integers(min_value=2, max_value=12),
)
def test_every_name_fits_reticulum(event: str, room: str, twin: int | None) -> None:
    # lib/ret/hub.ex: validate_length(:name, max: 64)
    assert 0 < len(hub_name(event, room, twin)) <= MAX_HUB_NAME


@pytest.mark.parametrize("limit", [1, 2, 10, 30])
def test_shorten_respects_its_limit(limit: int) -> None:
    assert len(shorten("ein sehr langer Titel mit vielen Wörtern darin", limit)) <= limit
