"""The pure calendar core: no event loop, no clock, no store."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from hubs_bridge.core import event_commands as cmds
from hubs_bridge.core.calendar import (
    BERLIN,
    Event,
    EventCreate,
    EventUpdate,
    HubsRoomLink,
    RoomCreate,
    RoomUpdate,
)
from hubs_bridge.errors import Conflict, NotFound, ValidationFailed
from hubs_bridge.hubs.rooms_api import HubsRequestFailed, NewHub
from hubs_bridge.seed import parse_seed
from tests.conftest import REPO

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
SCENES = {"foyer", "kirmes-stand"}


def event(**kw: object) -> Event:
    values: dict[str, object] = {
        "slug": "kirmes",
        "title": "Kirmes",
        "starts_at": "2026-12-05T15:00",
        "ends_at": "2026-12-05T19:00",
    }
    values.update(kw)
    return cmds.create_event(
        EventCreate.model_validate(values), now=NOW, scenes=SCENES, max_rooms=3
    )


def test_naive_times_are_berlin_across_dst() -> None:
    winter = event()
    assert winter.starts_at.utcoffset() == timedelta(hours=1)
    summer = event(starts_at="2027-07-01T15:00", ends_at="2027-07-01T19:00")
    assert summer.starts_at.utcoffset() == timedelta(hours=2)
    aware = event(starts_at="2026-12-05T15:00Z", ends_at="2026-12-05T19:00Z")
    assert aware.starts_at == datetime(2026, 12, 5, 15, tzinfo=UTC)


def test_phase_and_doors() -> None:
    e = event(doors_open_minutes=30)
    starts = datetime(2026, 12, 5, 15, tzinfo=BERLIN)
    assert e.phase(starts - timedelta(minutes=31)) == "scheduled"
    assert e.phase(starts - timedelta(minutes=30)) == "open"
    assert e.phase(datetime(2026, 12, 5, 18, 59, tzinfo=BERLIN)) == "open"
    assert e.phase(datetime(2026, 12, 5, 19, 0, tzinfo=BERLIN)) == "ended"


def test_end_after_start_and_max_length() -> None:
    with pytest.raises(ValidationError, match="ends_at must be after starts_at"):
        EventCreate.model_validate(
            {
                "slug": "a",
                "title": "A",
                "starts_at": "2026-12-05T15:00",
                "ends_at": "2026-12-05T15:00",
            }
        )
    with pytest.raises(ValidationError, match="14 days"):
        EventCreate.model_validate(
            {
                "slug": "a",
                "title": "A",
                "starts_at": "2026-12-05T15:00",
                "ends_at": "2027-01-05T15:00",
            }
        )


def test_room_commands() -> None:
    e = event()
    e2 = cmds.add_room(
        e, RoomCreate(slug="a", title="A", scene="foyer"), now=NOW, scenes=SCENES, max_rooms=3
    )
    assert e2.version == 2 and e.rooms == ()  # the input is never changed
    with pytest.raises(Conflict):
        cmds.add_room(
            e2, RoomCreate(slug="a", title="A", scene="foyer"), now=NOW, scenes=SCENES, max_rooms=3
        )
    with pytest.raises(ValidationFailed) as info:
        cmds.add_room(
            e2, RoomCreate(slug="b", title="B", scene="mond"), now=NOW, scenes=SCENES, max_rooms=3
        )
    assert info.value.code == "unknown_scene"
    e3 = cmds.update_room(e2, "a", RoomUpdate(capacity=50), now=NOW, scenes=SCENES)
    assert e3.room("a") is not None and e3.room("a").capacity == 50  # type: ignore[union-attr]
    with pytest.raises(NotFound):
        cmds.update_room(e3, "zz", RoomUpdate(capacity=5), now=NOW, scenes=SCENES)
    with pytest.raises(ValidationFailed):
        cmds.update_room(e3, "a", RoomUpdate(scene="mond"), now=NOW, scenes=SCENES)
    assert cmds.remove_room(e3, "a", now=NOW).rooms == ()


def test_room_limit() -> None:
    rooms = [{"slug": f"r{i}", "title": "R", "scene": "foyer"} for i in range(4)]
    with pytest.raises(ValidationFailed) as info:
        event(rooms=rooms)
    assert info.value.code == "too_many_rooms"


def test_update_event_revalidates() -> None:
    e = event()
    with pytest.raises(ValidationFailed):
        cmds.update_event(e, EventUpdate(ends_at=datetime(2026, 12, 5, 10, tzinfo=BERLIN)), now=NOW)
    later = NOW + timedelta(hours=1)
    changed = cmds.update_event(e, EventUpdate(title="Neu"), now=later)
    assert changed.title == "Neu" and changed.updated_at == later and changed.created_at == NOW


@given(st.integers(min_value=-300, max_value=300), st.integers(min_value=1, max_value=600))
def test_relative_seed_times(minutes: int, duration: int) -> None:
    cmd = parse_seed(
        {
            "slug": "a",
            "title": "A",
            "when": {"minutes_from_now": minutes, "duration_minutes": duration},
        },
        NOW,
    )
    assert cmd.ends_at - cmd.starts_at == timedelta(minutes=duration)
    assert abs(cmd.starts_at - (NOW + timedelta(minutes=minutes))) < timedelta(minutes=15)


def test_shipped_seed_files_are_valid() -> None:
    files = sorted((REPO / "config" / "events").glob("*.toml"))
    assert len(files) >= 3
    slugs = set()
    for path in files:
        cmd = parse_seed(tomllib.loads(path.read_text()), NOW)
        slugs.add(cmd.slug)
        assert cmd.rooms, path
    kirmes = parse_seed(tomllib.loads(files[0].read_text()), NOW)
    assert len([r for r in kirmes.rooms if r.scene == "kirmes-stand"]) >= 4
    # The fair is open on the first start, so a new user sees a live event.
    assert kirmes.starts_at <= NOW < kirmes.ends_at
    assert len(slugs) == len(files)


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "JAVASCRIPT://x", "file:///etc/passwd", "//host/x", "https://"]
)
def test_room_links_are_http_only(url: str) -> None:
    with pytest.raises(ValidationError):
        HubsRoomLink(hub_id="abc", url=url, provisioned_at=datetime.now(UTC))
    with pytest.raises(HubsRequestFailed, match="not http"):
        NewHub("abc", url)
    assert NewHub("abc", "HTTPS://hubs.example/abc/raum").url.startswith("HTTPS")
