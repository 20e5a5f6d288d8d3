"""A results report worded in one language: every text and number as the reader sees it.

The page, the Markdown and the PDF all draw from one :class:`ResultsView`, so the
three cannot tell different stories (or round a share differently). Texts come
from ``pages/i18n/results.toml``; times are Europe/Berlin. Texts from people
(questions, answers, poll options, announcements) stay plain strings here:
each renderer escapes them for its own format.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hubs_bridge.core.attendance import EVENT_ROOM
from hubs_bridge.core.calendar import BERLIN
from hubs_bridge.web.pages.i18n import Catalogue, Lang
from hubs_bridge.web.results_report import (
    WHOLE_EVENT,
    EventInfo,
    ReportedPoll,
    ResultsReport,
)

MONTHS: dict[Lang, tuple[str, ...]] = {
    "de": (
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}
NOTHING = "–"


# --- numbers and times, as each language writes them ---------------------------------------


def number(n: int, lang: Lang) -> str:
    text = f"{n:,}"
    return text.replace(",", ".") if lang == "de" else text


def decimal(value: float, lang: Lang) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if lang == "de" else text


def percent(share: float, lang: Lang) -> str:
    """A share of 0..1 as a whole percentage; German puts a space before the sign."""
    whole = round(share * 100)
    return f"{whole} %" if lang == "de" else f"{whole}%"


def date(at: datetime, lang: Lang) -> str:
    local = at.astimezone(BERLIN)
    month = MONTHS[lang][local.month - 1]
    return (
        f"{local.day}. {month} {local.year}"
        if lang == "de"
        else f"{local.day} {month} {local.year}"
    )


def clock(at: datetime) -> str:
    return at.astimezone(BERLIN).strftime("%H:%M")


def room_title(event: EventInfo, slug: str, lang: Lang) -> str:
    room = next((r for r in event.rooms if r.slug == slug), None)
    if room is None:
        return slug
    return room.title_en or room.title if lang == "en" else room.title


# --- the view ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Figure:
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class ReachRow:
    area: str
    peak: str
    peak_at: str
    unique: str
    web: str
    hubs: str
    dwell: str
    whole: bool


@dataclass(frozen=True, slots=True)
class QuestionView:
    number: int
    text: str
    count: str  # the votes as a number
    votes: str  # the votes in words ("14 Stimmen")
    where: str
    status: str
    answered: bool
    answer: str | None
    reply: str | None


@dataclass(frozen=True, slots=True)
class OptionView:
    label: str
    count: str
    share: str
    percent: float  # 0..100, the length of its bar
    rank: int  # 1 (most frequent) to 5, a word's size in the cloud


@dataclass(frozen=True, slots=True)
class PollView:
    question: str
    kind: str
    is_text: bool
    respondents: str
    average: str | None
    hidden: str | None  # why no counts are shown
    options: tuple[OptionView, ...]


@dataclass(frozen=True, slots=True)
class AnnouncementView:
    when: str
    where: str
    text: str


@dataclass(frozen=True, slots=True)
class ResultsView:
    lang: Lang
    slug: str
    title: str
    description: str
    when: str
    rooms: str
    published: str
    figures: tuple[Figure, ...]
    reach: tuple[ReachRow, ...]
    measured: bool  # any attendance at all
    series_titles: dict[str, str]
    questions: tuple[QuestionView, ...]
    not_approved: str | None
    polls: tuple[PollView, ...]
    announcements: tuple[AnnouncementView, ...]
    catalogue: Catalogue

    def t(self, key: str, **values: object) -> str:
        """A text of ``results.toml`` (or another page file) in the view's language."""
        text = self.catalogue.text(key, self.lang)
        return text.format(**values) if values else text


def _when(event: EventInfo, lang: Lang, catalogue: Catalogue) -> str:
    starts, ends = event.starts_at.astimezone(BERLIN), event.ends_at.astimezone(BERLIN)
    if starts.date() == ends.date():
        return catalogue.text("results.when.day", lang).format(
            date=date(starts, lang), start=clock(starts), end=clock(ends)
        )
    return catalogue.text("results.when.days", lang).format(
        start_date=date(starts, lang),
        start=clock(starts),
        end_date=date(ends, lang),
        end=clock(ends),
    )


def _dwell(seconds: float | None, lang: Lang, catalogue: Catalogue) -> str:
    if seconds is None:
        return NOTHING
    minutes = round(seconds / 60)
    if minutes < 60:
        return catalogue.text("results.minutes", lang).format(n=max(minutes, 1))
    return catalogue.text("results.hours", lang).format(h=minutes // 60, m=minutes % 60)


def _poll(poll: ReportedPoll, lang: Lang, catalogue: Catalogue) -> PollView:
    def t(key: str, **values: object) -> str:
        return catalogue.text(f"results.{key}", lang).format(**values)

    # A word's size in the cloud: how often it came up against the most frequent word.
    top = max((o.count for o in poll.options), default=0) or 1
    options = tuple(
        OptionView(
            label=o.label,
            count=number(o.count, lang),
            share=percent(o.share, lang),
            percent=round(o.share * 100, 1),
            rank=5 - min(4, int(4 * o.count / top)) if poll.kind == "text" else 1,
        )
        for o in poll.options
    )
    return PollView(
        question=poll.question,
        kind=t(f"polls.kind.{poll.kind}"),
        is_text=poll.kind == "text",
        respondents=t("polls.respondents", n=number(poll.respondents, lang)),
        average=None
        if poll.average is None
        else t("polls.average", value=decimal(poll.average, lang)),
        hidden=t("polls.hidden") if poll.hidden else None,
        options=options,
    )


def view_of(report: ResultsReport, lang: Lang, catalogue: Catalogue) -> ResultsView:
    """Every text and number of ``report`` in ``lang``."""

    def t(key: str, **values: object) -> str:
        return catalogue.text(f"results.{key}", lang).format(**values)

    event = report.event
    title = event.title_en or event.title if lang == "en" else event.title
    description = event.description_en or event.description if lang == "en" else event.description
    reach = []
    for area in report.attendance:
        if area.area == WHOLE_EVENT:
            label = t("attendance.whole")
        elif area.area == EVENT_ROOM:
            label = t("attendance.page")
        else:
            label = room_title(event, area.area, lang)
        reach.append(
            ReachRow(
                area=label,
                peak=number(area.peak, lang),
                peak_at=clock(area.peak_at) if area.peak_at else NOTHING,
                unique=number(area.unique, lang),
                web=number(area.unique_web, lang),
                hubs=number(area.unique_hubs, lang),
                dwell=_dwell(area.dwell_median_s, lang, catalogue),
                whole=area.area == WHOLE_EVENT,
            )
        )
    whole = report.attendance[0]
    questions = []
    for n, q in enumerate(report.questions, start=1):
        votes = t(
            "questions.votes.one" if q.votes == 1 else "questions.votes.other",
            n=number(q.votes, lang),
        )
        status = {"live": "questions.live", "written": "questions.written"}.get(
            q.answered or "", "questions.open"
        )
        where = room_title(event, q.room, lang) if q.room else t("questions.everywhere")
        questions.append(
            QuestionView(
                n,
                q.text,
                number(q.votes, lang),
                votes,
                where,
                t(status),
                q.answered is not None,
                q.answer,
                q.reply,
            )
        )
    announcements = [
        AnnouncementView(
            when=clock(a.at)
            if a.at.astimezone(BERLIN).date() == event.starts_at.astimezone(BERLIN).date()
            else f"{date(a.at, lang)}, {clock(a.at)}",
            where=", ".join(room_title(event, r, lang) for r in a.rooms)
            if a.rooms
            else t("announcements.everywhere"),
            text=a.text,
        )
        for a in report.announcements
    ]
    return ResultsView(
        lang=lang,
        slug=event.slug,
        title=title,
        description=description or "",
        when=_when(event, lang, catalogue),
        rooms=", ".join(room_title(event, r.slug, lang) for r in event.rooms) or t("rooms.none"),
        published=t(
            "published", date=date(report.published_at, lang), time=clock(report.published_at)
        ),
        figures=(
            Figure(number(whole.peak, lang), t("figure.peak")),
            Figure(number(whole.unique, lang), t("figure.unique")),
            Figure(number(len(report.questions), lang), t("figure.questions")),
            Figure(number(len(report.polls), lang), t("figure.polls")),
        ),
        reach=tuple(reach),
        measured=any(a.unique for a in report.attendance),
        series_titles={r.slug: room_title(event, r.slug, lang) for r in event.rooms},
        questions=tuple(questions),
        not_approved=t("questions.not_approved", n=number(report.not_approved, lang))
        if report.not_approved
        else None,
        polls=tuple(_poll(p, lang, catalogue) for p in report.polls),
        announcements=tuple(announcements),
        catalogue=catalogue,
    )
