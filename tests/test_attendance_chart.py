"""The attendance chart: SVG drawn on the server from the per-minute samples."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hubs_bridge.core.attendance import AttendanceSample
from hubs_bridge.web.app import create_app
from hubs_bridge.web.charts import Series, attendance_svg, series_of
from hubs_bridge.web.keys import STORE
from tests.conftest import make_settings

SVG = "{http://www.w3.org/2000/svg}"
# 14:00 UTC in December is 15:00 in Berlin (CET); in July 14:00 UTC is 16:00 (CEST).
WINTER = datetime(2026, 12, 5, 14, 0, tzinfo=UTC)
SUMMER = datetime(2026, 7, 5, 14, 0, tzinfo=UTC)


def samples(start: datetime, rooms: dict[str, int], minutes: int = 30) -> list[AttendanceSample]:
    return [
        AttendanceSample("kirmes", room, start + timedelta(minutes=i), web=base + i % 4, hubs=i % 2)
        for room, base in rooms.items()
        for i in range(minutes)
    ]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_one_line_per_room_with_legend_title_and_desc() -> None:
    titles = {"info": "Info-Foyer", "daten": "Offene Daten", "leer": "Leerer Raum"}
    series = series_of(samples(WINTER, {"info": 3, "daten": 8}), titles)
    root = parse(attendance_svg(series, event_title="Digitale Kirmes", lang="de"))
    assert root.tag == f"{SVG}svg"
    lines = root.findall(f".//{SVG}polyline")
    assert len(lines) == 2  # the room without samples is left out
    rooms = [g.get("data-room") for g in root.iter(f"{SVG}g") if g.get("class") == "series"]
    assert rooms == ["info", "daten"]
    legend = [
        "".join(t.itertext())
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "legend-item"
        for t in g.iter(f"{SVG}text")
    ]
    assert legend == ["Info-Foyer", "Offene Daten"]
    assert root.find(f"{SVG}title") is not None
    assert "Digitale Kirmes" in (root.find(f"{SVG}title").text or "")  # type: ignore[union-attr]
    desc = root.find(f"{SVG}desc").text or ""  # type: ignore[union-attr]
    assert "Info-Foyer" in desc and "Offene Daten" in desc
    # Colour and dash differ, so the lines are told apart without colour too.
    assert lines[0].get("stroke") != lines[1].get("stroke")
    assert lines[0].get("stroke-dasharray") != lines[1].get("stroke-dasharray")


def test_points_are_web_plus_hubs() -> None:
    series = series_of(samples(WINTER, {"info": 3}, minutes=2), {"info": "Info"})
    assert series == [Series("info", "Info", ((WINTER, 3), (WINTER + timedelta(minutes=1), 5)))]


def test_no_script_and_titles_escaped() -> None:
    nasty = 'Raum <script>alert("x")</script> & Co'
    svg = attendance_svg(
        series_of(samples(WINTER, {"info": 1}), {"info": nasty}), event_title="A & B <i>"
    )
    assert "<script" not in svg
    assert "&lt;script&gt;" in svg and "&amp; Co" in svg and "A &amp; B &lt;i&gt;" in svg
    root = parse(svg)
    assert not list(root.iter(f"{SVG}script"))
    assert not any(a.startswith("on") for e in root.iter() for a in e.attrib)
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert nasty in texts


def test_empty_data_is_a_calm_chart() -> None:
    root = parse(attendance_svg([], event_title="Kirmes", lang="de"))
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert "Noch keine Daten" in texts
    assert not root.findall(f".//{SVG}polyline")
    english = parse(attendance_svg([], event_title="Kirmes", lang="en"))
    assert "No data yet" in ["".join(t.itertext()) for t in english.iter(f"{SVG}text")]


def time_labels(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text") if t.get("class") == "time"]


def test_time_labels_in_berlin_winter_and_summer() -> None:
    winter = parse(attendance_svg(series_of(samples(WINTER, {"a": 1}), {}), event_title="W"))
    assert time_labels(winter)[0] == "15:00"
    summer = parse(attendance_svg(series_of(samples(SUMMER, {"a": 1}), {}), event_title="S"))
    assert time_labels(summer)[0] == "16:00"
    assert all(":" in label for label in time_labels(summer))


def test_one_room_picked_and_english_labels() -> None:
    data = samples(WINTER, {"info": 1, "daten": 2})
    root = parse(
        attendance_svg(
            series_of(data, {"info": "Info", "daten": "Data"}, "daten"), event_title="K", lang="en"
        )
    )
    assert len(root.findall(f".//{SVG}polyline")) == 1
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert "People" in texts and "Time (Europe/Berlin)" in texts


STAFF = "staff-token-for-chart-tests-0123456789"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    app = await create_app(make_settings(tmp_path, staff_token=STAFF))
    async with TestClient(TestServer(app)) as client:
        yield client


async def test_chart_over_http_for_staff_only(client: TestClient[Any, Any]) -> None:
    auth = {"Authorization": f"Bearer {STAFF}"}
    event = {
        "slug": "kirmes",
        "title": "Digitale Kirmes",
        "starts_at": "2026-12-05T15:00:00",
        "ends_at": "2026-12-05T19:00:00",
        "rooms": [{"slug": "info", "title": "Info & <Foyer>", "scene": "foyer"}],
    }
    assert (await client.post("/api/events", json=event, headers=auth)).status == 201
    store = client.app[STORE]  # type: ignore[index]
    await store.add_attendance([], samples(WINTER, {"info": 2}, minutes=5))

    resp = await client.get("/api/events/kirmes/attendance.svg")
    assert resp.status == 401
    resp = await client.get("/api/events/kirmes/attendance.svg", headers=auth)
    assert resp.status == 200
    assert resp.content_type == "image/svg+xml"
    root = parse(await resp.text())
    assert len(root.findall(f".//{SVG}polyline")) == 1
    assert "Info & <Foyer>" in ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]

    resp = await client.get("/api/events/kirmes/attendance.svg?lang=en&room=info", headers=auth)
    assert resp.status == 200 and "People" in await resp.text()
    resp = await client.get("/api/events/kirmes/attendance.svg?room=nope", headers=auth)
    assert resp.status == 404
    resp = await client.get("/api/events/nope/attendance.svg", headers=auth)
    assert resp.status == 404
