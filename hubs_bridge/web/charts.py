"""Attendance over time as an SVG chart, drawn on the server for the staff dashboard.

:func:`attendance_svg` is pure: per-minute samples (the same ones
``/api/events/{event}/attendance-minutes.csv`` exports) and room titles go in,
SVG text comes out. It is built with :mod:`xml.etree.ElementTree`, so every
room title is escaped, and it holds no script: a browser shows it through
``<img>``. Lines are told apart by colour (Okabe-Ito, safe for colour-blind
readers), by dash pattern and by marker shape; ``<title>`` and ``<desc>`` say
what the chart shows for screen readers.

``GET /api/events/{event}/attendance.svg`` (staff) serves it; ``?lang=de|en``
picks the language of the labels, ``?room=`` one room.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from aiohttp import web

from hubs_bridge.auth import Principal
from hubs_bridge.core.attendance import AttendanceSample
from hubs_bridge.core.calendar import BERLIN, title_in
from hubs_bridge.errors import NotFound
from hubs_bridge.web.api import Api, QueryParam
from hubs_bridge.web.keys import CALENDAR, STORE

api = Api()
TAG = "attendance"
Lang = Literal["de", "en"]

WIDTH = 720
PLOT_TOP = 48
PLOT_HEIGHT = 240
LEFT = 64
RIGHT = 24
LEGEND_ROW = 24
# Okabe-Ito: distinguishable with the common colour-vision deficiencies, dark enough on white.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#000000", "#8C6D00", "#56B4E9")
DASHES = ("", "8 4", "2 4", "10 4 2 4", "4 4", "12 3 3 3 3 3")
MARKERS = ("circle", "square", "triangle", "diamond", "cross", "triangle-down")
MAX_MARKERS = 12
TIME_STEPS_MIN = (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440)

TEXTS: dict[str, dict[Lang, str]] = {
    "title": {"de": "Anwesenheit über die Zeit: {event}", "en": "Attendance over time: {event}"},
    "desc": {
        "de": "Personen pro Raum und Minute (Web und Hubs zusammen), {start} bis {end} Uhr "
        "(Europe/Berlin). {peaks}",
        "en": "People per room and minute (web and Hubs together), {start} to {end} "
        "(Europe/Berlin). {peaks}",
    },
    "peak": {"de": "{room}: höchstens {n} um {at} Uhr", "en": "{room}: at most {n} at {at}"},
    "empty": {"de": "Noch keine Daten", "en": "No data yet"},
    "empty_desc": {
        "de": "Für diese Veranstaltung wurde noch keine Anwesenheit gemessen.",
        "en": "No attendance has been measured for this event yet.",
    },
    "x_axis": {"de": "Uhrzeit (Europe/Berlin)", "en": "Time (Europe/Berlin)"},
    "y_axis": {"de": "Personen", "en": "People"},
}


@dataclass(frozen=True, slots=True)
class Series:
    """One room's line: its title and (minute, people) points in time order."""

    room: str
    title: str
    points: tuple[tuple[datetime, int], ...]


def series_of(
    samples: Sequence[AttendanceSample], titles: dict[str, str], room: str | None = None
) -> list[Series]:
    """Samples grouped into one line per room, in the order of ``titles`` (then by slug).

    Each point is web plus Hubs at that minute. Rooms without samples are left out.
    """
    grouped: dict[str, list[tuple[datetime, int]]] = {}
    for sample in samples:
        if room is None or sample.room == room:
            grouped.setdefault(sample.room, []).append((sample.minute, sample.web + sample.hubs))
    order = list(titles) + sorted(set(grouped) - set(titles))
    return [
        Series(slug, titles.get(slug, slug), tuple(sorted(grouped[slug])))
        for slug in order
        if slug in grouped
    ]


def _add(
    parent: ET.Element, tag: str, attrs: Mapping[str, str] | None = None, **more: object
) -> ET.Element:
    """A child element; ``stroke_width=2`` becomes the attribute ``stroke-width="2"``."""
    values = dict(attrs or {})
    values.update({k.replace("_", "-"): str(v) for k, v in more.items()})
    return ET.SubElement(parent, tag, values)


def _text(key: str, lang: Lang, **values: object) -> str:
    return TEXTS[key][lang].format(**values)


def _number(n: int, lang: Lang) -> str:
    text = f"{n:,}"
    return text.replace(",", ".") if lang == "de" else text


def _nice_max(value: int) -> tuple[int, int]:
    """A round upper bound for the y axis and its tick step (at most about 5 ticks)."""
    if value <= 4:
        return max(value, 1), 1
    raw = value / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return int(math.ceil(value / step) * step), int(step)


def _time_ticks(start: datetime, end: datetime) -> list[datetime]:
    """Round Berlin times between ``start`` and ``end``, at most about 7 of them."""
    span_min = max(1.0, (end - start).total_seconds() / 60)
    step = next((s for s in TIME_STEPS_MIN if span_min / s <= 7), TIME_STEPS_MIN[-1])
    local = start.astimezone(BERLIN)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    offset = (local - midnight).total_seconds() / 60
    first = (midnight + timedelta(minutes=math.ceil(offset / step) * step)).astimezone(UTC)
    ticks = []
    tick = first
    while tick <= end:
        ticks.append(tick)
        tick = tick + timedelta(minutes=step)
    return ticks


def _clock(at: datetime, lang: Lang, with_date: bool) -> str:
    local = at.astimezone(BERLIN)
    if not with_date:
        return local.strftime("%H:%M")
    return local.strftime("%d.%m. %H:%M" if lang == "de" else "%d/%m %H:%M")


def _marker(parent: ET.Element, shape: str, x: float, y: float, colour: str) -> None:
    r = 4.5
    attrs = {"fill": colour, "stroke": "#ffffff", "stroke-width": "1"}
    if shape == "circle":
        _add(parent, "circle", attrs, cx=f"{x:.1f}", cy=f"{y:.1f}", r=f"{r}")
        return
    if shape == "square":
        points = [(x - r, y - r), (x + r, y - r), (x + r, y + r), (x - r, y + r)]
    elif shape == "triangle":
        points = [(x, y - r - 1), (x + r + 1, y + r), (x - r - 1, y + r)]
    elif shape == "triangle-down":
        points = [(x, y + r + 1), (x + r + 1, y - r), (x - r - 1, y - r)]
    elif shape == "diamond":
        points = [(x, y - r - 1), (x + r + 1, y), (x, y + r + 1), (x - r - 1, y)]
    else:  # cross
        d = r
        path = (
            f"M{x - d:.1f},{y - d:.1f}L{x + d:.1f},{y + d:.1f}"
            f"M{x - d:.1f},{y + d:.1f}L{x + d:.1f},{y - d:.1f}"
        )
        _add(parent, "path", d=path, stroke=colour, fill="none", stroke_width="2.5")
        return
    _add(parent, "polygon", attrs, points=" ".join(f"{px:.1f},{py:.1f}" for px, py in points))


def attendance_svg(series: Sequence[Series], *, event_title: str, lang: Lang = "de") -> str:
    """The chart as SVG text: axes, one ``<polyline>`` per room, a legend, title and desc."""
    legend_top = PLOT_TOP + PLOT_HEIGHT + 56
    height = legend_top + LEGEND_ROW * max(1, len(series)) + 8
    root = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "width": str(WIDTH),
            "height": str(height),
            "viewBox": f"0 0 {WIDTH} {height}",
            "role": "img",
            "aria-labelledby": "chart-title chart-desc",
            "font-family": "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif",
            "font-size": "13",
        },
    )
    title = _add(root, "title", id="chart-title")
    title.text = _text("title", lang, event=event_title)
    desc = _add(root, "desc", id="chart-desc")
    _add(root, "rect", x="0", y="0", width=str(WIDTH), height=str(height), fill="#ffffff")
    heading = _add(root, "text", x=str(LEFT), y="24", fill="#1a1a1a")
    heading.set("font-size", "16")
    heading.set("font-weight", "700")
    heading.text = title.text

    plot_w = WIDTH - LEFT - RIGHT
    bottom = PLOT_TOP + PLOT_HEIGHT
    points = [p for s in series for p in s.points]
    if not points:
        desc.text = _text("empty_desc", lang)
        _add(
            root,
            "rect",
            x=str(LEFT),
            y=str(PLOT_TOP),
            width=str(plot_w),
            height=str(PLOT_HEIGHT),
            fill="#f6f7f9",
            stroke="#c9ced6",
        )
        note = _add(
            root,
            "text",
            x=str(LEFT + plot_w // 2),
            y=str(PLOT_TOP + PLOT_HEIGHT // 2),
            fill="#4d4d4d",
        )
        note.set("text-anchor", "middle")
        note.set("font-size", "18")
        note.text = _text("empty", lang)
        return _serialise(root)

    start = min(at for at, _ in points)
    end = max(max(at for at, _ in points), start + timedelta(minutes=1))
    top, y_step = _nice_max(max(n for _, n in points))
    span = (end - start).total_seconds()
    with_date = start.astimezone(BERLIN).date() != end.astimezone(BERLIN).date()

    def x_of(at: datetime) -> float:
        return LEFT + (at - start).total_seconds() / span * plot_w

    def y_of(n: int) -> float:
        return bottom - n / top * PLOT_HEIGHT

    grid = _add(root, "g", stroke="#c9ced6")
    labels = _add(root, "g", fill="#1a1a1a")
    for n in range(0, top + 1, y_step):
        y = y_of(n)
        _add(grid, "line", x1=str(LEFT), x2=str(LEFT + plot_w), y1=f"{y:.1f}", y2=f"{y:.1f}")
        label = _add(labels, "text", x=str(LEFT - 8), y=f"{y + 4:.1f}")
        label.set("text-anchor", "end")
        label.text = _number(n, lang)
    for tick in _time_ticks(start, end):
        x = x_of(tick)
        _add(grid, "line", x1=f"{x:.1f}", x2=f"{x:.1f}", y1=str(bottom), y2=str(bottom + 5))
        label = _add(labels, "text", x=f"{x:.1f}", y=str(bottom + 20))
        label.set("text-anchor", "middle")
        label.set("class", "time")
        label.text = _clock(tick, lang, with_date)
    _add(
        root,
        "path",
        d=f"M{LEFT},{PLOT_TOP}V{bottom}H{LEFT + plot_w}",
        stroke="#1a1a1a",
        fill="none",
        stroke_width="1.5",
    )
    x_caption = _add(labels, "text", x=str(LEFT + plot_w // 2), y=str(bottom + 42))
    x_caption.set("text-anchor", "middle")
    x_caption.text = _text("x_axis", lang)
    y_caption = _add(
        labels,
        "text",
        x="16",
        y=str(PLOT_TOP + PLOT_HEIGHT // 2),
        transform=f"rotate(-90 16 {PLOT_TOP + PLOT_HEIGHT // 2})",
    )
    y_caption.set("text-anchor", "middle")
    y_caption.text = _text("y_axis", lang)

    peaks = []
    for i, line in enumerate(series):
        colour, dash, shape = (
            COLOURS[i % len(COLOURS)],
            DASHES[i % len(DASHES)],
            MARKERS[i % len(MARKERS)],
        )
        group = _add(root, "g", {"class": "series", "data-room": line.room})
        coords = [(x_of(at), y_of(n)) for at, n in line.points]
        polyline = _add(
            group,
            "polyline",
            points=" ".join(f"{x:.1f},{y:.1f}" for x, y in coords),
            fill="none",
            stroke=colour,
            stroke_width="2.5",
            stroke_linejoin="round",
        )
        if dash:
            polyline.set("stroke-dasharray", dash)
        every = max(1, math.ceil(len(coords) / MAX_MARKERS))
        for x, y in coords[i % every :: every]:  # staggered, so markers of lines do not overlap
            _marker(group, shape, x, y, colour)
        peak_at, peak = max(line.points, key=lambda p: (p[1], -p[0].timestamp()))
        peaks.append(
            _text(
                "peak",
                lang,
                room=line.title,
                n=_number(peak, lang),
                at=_clock(peak_at, lang, with_date),
            )
        )

        row_y = legend_top + i * LEGEND_ROW
        item = _add(root, "g", {"class": "legend-item"})
        sample = _add(
            item,
            "line",
            x1=str(LEFT),
            x2=str(LEFT + 36),
            y1=str(row_y),
            y2=str(row_y),
            stroke=colour,
        )
        sample.set("stroke-width", "2.5")
        if dash:
            sample.set("stroke-dasharray", dash)
        _marker(item, shape, LEFT + 18, row_y, colour)
        name = _add(item, "text", x=str(LEFT + 46), y=str(row_y + 4), fill="#1a1a1a")
        name.text = line.title

    desc.text = _text(
        "desc",
        lang,
        start=_clock(start, lang, with_date),
        end=_clock(end, lang, with_date),
        peaks="; ".join(peaks) + ".",
    )
    return _serialise(root)


def _serialise(root: ET.Element) -> str:
    return ET.tostring(root, encoding="unicode")


@api.operation(
    "GET",
    "/api/events/{event}/attendance.svg",
    summary="Attendance over time per room as an SVG chart (?lang=de|en, ?room=)",
    tag=TAG,
    auth="staff",
    produces=("image/svg+xml",),
    errors=(401, 403, 404),
    query=(
        QueryParam("lang", "the chart's language (default de)", ("de", "en")),
        QueryParam("room", "one room's slug, instead of every room"),
    ),
)
async def attendance_chart(request: web.Request, principal: Principal) -> web.Response:
    principal.require_staff()
    event = await request.app[CALENDAR].get(request.match_info["event"])
    lang: Lang = "en" if request.query.get("lang") == "en" else "de"
    room = request.query.get("room") or None
    if room is not None and event.room(room) is None:
        raise NotFound(f"event {event.slug!r} has no room {room[:64]!r}", code="room_not_found")
    titles = {r.slug: title_in(r, lang) for r in event.rooms}
    samples = await request.app[STORE].attendance_samples(event.slug)
    title = title_in(event, lang)
    svg = attendance_svg(series_of(samples, titles, room), event_title=title, lang=lang)
    return web.Response(
        text=svg,
        content_type="image/svg+xml",
        charset="utf-8",
        headers={"Cache-Control": "no-store"},
    )
