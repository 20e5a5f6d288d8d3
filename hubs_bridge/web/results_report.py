"""What the results page of an event reports, gathered once and shown as HTML, Markdown and PDF.

:func:`build_report` is pure: records from the store go in, a
:class:`ResultsReport` comes out, in no language yet (``results_view.py`` words
it). It keeps only aggregates and what visitors saw in public anyway:

- attendance as counts (peak, unique visitors, median stay; per room, on the
  event page, for the whole event, and by source: web page or Hubs room),
  computed with :func:`~hubs_bridge.core.attendance.statistics_of` as the staff
  exports are; never a visitor id;
- the approved questions as every visitor saw them
  (:func:`~hubs_bridge.core.qa.public_view`), most votes first, without the
  names of those who asked: a name given for a live event is not given for a
  record on the town's website;
- the polls that were opened, as the exports report them
  (:func:`~hubs_bridge.web.polls.export_record`), counts hidden where the poll
  still hides them;
- the announcements of the moderation log.

Attendance is counted up to the end of the event: a stay still open then (someone
lingering, or a session whose leave was never recorded) ends there instead of
growing until the report is read, and the report (with its ETag) stays the same.
Questions and polls are read as they are now, since moderation can still change them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import orjson

from hubs_bridge.core import polls as polling
from hubs_bridge.core import qa
from hubs_bridge.core.attendance import (
    EVENT_ROOM,
    AttendanceMark,
    AttendanceSample,
    RoomStats,
    statistics_of,
)
from hubs_bridge.core.calendar import Event
from hubs_bridge.core.polls import Poll, Results
from hubs_bridge.poll_service import PollService
from hubs_bridge.store.base import Store
from hubs_bridge.web.polls import export_record

WHOLE_EVENT = "*"  # the area of the whole event (no room slug can be this)


@dataclass(frozen=True, slots=True)
class RoomInfo:
    slug: str
    title: str
    title_en: str | None


@dataclass(frozen=True, slots=True)
class EventInfo:
    """The event as the report names it (no Hubs links, no moderators)."""

    slug: str
    title: str
    title_en: str | None
    description: str
    description_en: str | None
    starts_at: datetime
    ends_at: datetime
    rooms: tuple[RoomInfo, ...]


@dataclass(frozen=True, slots=True)
class Reach:
    """Attendance of one area: the whole event, the event page or a room."""

    area: str  # WHOLE_EVENT, EVENT_ROOM ("") for the event page, or a room's slug
    peak: int
    peak_at: datetime | None
    unique: int
    unique_web: int
    unique_hubs: int
    dwell_median_s: float | None


@dataclass(frozen=True, slots=True)
class ReportedQuestion:
    text: str
    votes: int
    room: str | None
    answered: str | None  # "live", "written" or None
    answer: str | None
    reply: str | None


@dataclass(frozen=True, slots=True)
class ReportedOption:
    label: str  # an option, a rating ("1".."5") or a word of a text poll
    count: int
    share: float  # of respondents, 0..1


@dataclass(frozen=True, slots=True)
class ReportedPoll:
    question: str
    kind: str
    respondents: int
    hidden: bool  # counts withheld: the poll hides them until closed and was not closed
    average: float | None
    options: tuple[ReportedOption, ...]


@dataclass(frozen=True, slots=True)
class ReportedAnnouncement:
    text: str
    rooms: tuple[str, ...] | None  # None: every room
    at: datetime


@dataclass(frozen=True, slots=True)
class ResultsReport:
    event: EventInfo
    published_at: datetime
    attendance: tuple[Reach, ...]  # the whole event, the event page, then each room
    samples: tuple[AttendanceSample, ...]  # per minute, for the chart
    questions: tuple[ReportedQuestion, ...]  # most votes first
    not_approved: int  # questions asked but not approved (pending or rejected)
    polls: tuple[ReportedPoll, ...]
    announcements: tuple[ReportedAnnouncement, ...]

    def digest(self) -> str:
        """A hash of everything reported: the same data gives the same ETag in every process."""
        return hashlib.sha256(orjson.dumps(self, option=orjson.OPT_SORT_KEYS)).hexdigest()


def event_info(event: Event) -> EventInfo:
    return EventInfo(
        slug=event.slug,
        title=event.title,
        title_en=event.title_en,
        description=event.description,
        description_en=event.description_en,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        rooms=tuple(RoomInfo(r.slug, r.title, r.title_en) for r in event.rooms),
    )


def reach_of(marks: Sequence[AttendanceMark], rooms: Sequence[str], until: datetime) -> list[Reach]:
    """Attendance per area up to ``until``: the whole event, the event page, each room.

    The same statistics as the staff exports, once over all marks and once per
    source; for the whole event every mark is counted as one area, so a visitor
    who went through three rooms is one visitor of the event.
    """
    counted = [m for m in marks if m.at <= until]
    whole = [replace(m, room=WHOLE_EVENT) for m in counted]
    both = statistics_of([*counted, *whole], until)
    web = statistics_of((m for m in [*counted, *whole] if m.source == "web"), until)
    hubs = statistics_of((m for m in [*counted, *whole] if m.source == "hubs"), until)
    areas = [WHOLE_EVENT, EVENT_ROOM, *rooms]
    return [_reach(area, both.get(area), web.get(area), hubs.get(area)) for area in areas]


def _reach(
    area: str, both: RoomStats | None, web: RoomStats | None, hubs: RoomStats | None
) -> Reach:
    return Reach(
        area=area,
        peak=both.peak if both else 0,
        peak_at=both.peak_at if both else None,
        unique=both.unique_visitors if both else 0,
        unique_web=web.unique_visitors if web else 0,
        unique_hubs=hubs.unique_visitors if hubs else 0,
        dwell_median_s=both.dwell_median_s if both else None,
    )


def reported_questions(
    questions: Iterable[qa.Question], votes: Mapping[str, int]
) -> tuple[list[ReportedQuestion], int]:
    """The approved questions, most votes first (then the older), and how many were not."""
    shown = sorted((q for q in questions if q.visible), key=qa.sort_key("top", votes))
    reported = []
    for question in shown:
        # What every visitor saw of it; the names in it are left out (module docstring).
        seen = qa.public_view(question, votes.get(question.id, 0), "visitor")
        reported.append(
            ReportedQuestion(
                text=seen["text"],
                votes=seen["votes"],
                room=seen["room"],
                answered=seen["answered"],
                answer=seen["answer"],
                reply=seen["reply"],
            )
        )
    return reported, sum(1 for q in questions if q.status in ("pending", "rejected"))


def reported_poll(poll: Poll, results: Results) -> ReportedPoll:
    record: dict[str, Any] = export_record(poll, results)
    hidden = polling.results_hidden(poll)
    options = (
        ()
        if hidden
        else tuple(
            ReportedOption(str(a["answer"]), int(a["count"]), float(a["share"]))
            for a in record["answers"]
        )
    )
    return ReportedPoll(
        question=record["question"],
        kind=record["kind"],
        respondents=record["respondents"],
        hidden=hidden,
        average=None if hidden else record["average"],
        options=options,
    )


def reported_announcements(log: Iterable[qa.ModerationEntry]) -> list[ReportedAnnouncement]:
    """Announcements as the moderation log keeps them (as ``RealtimeService.load_state`` reads)."""
    said = []
    for entry in log:
        if entry.action != "announce":
            continue
        details = dict(entry.details)
        rooms = tuple(r for r in details.get("rooms", "").split(",") if r) or None
        said.append(ReportedAnnouncement(details.get("text", ""), rooms, entry.at))
    return [a for a in said if a.text.strip()]


def build_report(
    event: Event,
    *,
    published_at: datetime,
    marks: Sequence[AttendanceMark],
    samples: Sequence[AttendanceSample],
    questions: Sequence[qa.Question],
    votes: Mapping[str, int],
    polls: Sequence[tuple[Poll, Results]],
    log: Sequence[qa.ModerationEntry],
) -> ResultsReport:
    """The report from the event's records; attendance counted up to the event's end."""
    shown, not_approved = reported_questions(questions, votes)
    until = min(published_at, event.ends_at)
    return ResultsReport(
        event=event_info(event),
        published_at=published_at,
        attendance=tuple(reach_of(marks, [r.slug for r in event.rooms], until)),
        samples=tuple(s for s in samples if s.minute <= until),
        questions=tuple(shown),
        not_approved=not_approved,
        polls=tuple(reported_poll(p, r) for p, r in polls if p.state != "draft"),
        announcements=tuple(reported_announcements(log)),
    )


async def gather_report(
    store: Store, poll_service: PollService, event: Event, published_at: datetime
) -> ResultsReport:
    """Read the event's records and build its report."""
    asked = [p for p in await poll_service.polls_of(event.slug) if p.state != "draft"]
    polls = [(p, await poll_service.results(p)) for p in asked]
    return build_report(
        event,
        published_at=published_at,
        marks=await store.attendance_marks(event.slug),
        samples=await store.attendance_samples(event.slug),
        questions=await store.qa_questions(event.slug),
        votes=await store.qa_vote_counts(event.slug),
        polls=polls,
        log=await store.qa_log_entries(event.slug),
    )
