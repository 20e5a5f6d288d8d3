"""The results page of an event (issue 14): published by staff, then public as HTML, Markdown, PDF.

- ``POST /api/events/{event}/results`` (staff) publishes, once the event has
  ended (``409 event_not_ended`` before); ``DELETE`` withdraws; ``GET`` tells
  the state. The state lives in the store's meta values
  (``results_publication.py``), so every process agrees on it.
- ``GET /r/{event}``: the page, German first (the language switch sets the
  same cookie as every page); ``/r/{event}.md`` and ``/r/{event}.pdf`` the
  downloads (``?lang=en`` for English). All three answer 404 until published.

Caching: the report of an event is gathered at most every ``REPORT_TTL_S``
seconds per process (questions can still change by moderation after the end,
so it is not kept for long), and for the same publication and event version
only. Its digest, with the language, the format and the code that renders it,
is the ETag: a client revalidates (``Cache-Control: no-cache``) and gets a 304
while nothing changed, and each rendering (the PDF takes a moment) is made
once per ETag. Publishing or withdrawing forgets the event's report here;
other processes see the new publication entry at their next request, and it
is part of the cache key there too.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from aiohttp import ETag, web
from markupsafe import Markup
from pydantic import BaseModel, Field

from hubs_bridge import __version__
from hubs_bridge.auth import Principal
from hubs_bridge.core.calendar import Event
from hubs_bridge.errors import Conflict, NotFound
from hubs_bridge.poll_service import PollService
from hubs_bridge.store.base import Store
from hubs_bridge.web import results_markdown
from hubs_bridge.web.api import Api
from hubs_bridge.web.charts import attendance_svg, series_of
from hubs_bridge.web.keys import CALENDAR, POLLS, STORE
from hubs_bridge.web.pages.i18n import I18N_DIR, Lang
from hubs_bridge.web.pages.render import (
    CATALOGUE,
    TEMPLATES,
    TEMPLATES_DIR,
    json_block,
    render_page,
    request_lang,
)
from hubs_bridge.web.results_publication import Publication, Publications
from hubs_bridge.web.results_report import ResultsReport, gather_report
from hubs_bridge.web.results_view import ResultsView, view_of

api = Api()
TAG = "results"
REPORT_TTL_S = 10.0
RENDERINGS_KEPT = 32  # renderings (pages, files) kept per process, the least used go first
FILE_NAMES = {"de": "ergebnisse", "en": "results"}
SLUG_IN_PATH = "{event:[a-z0-9-]+}"


class PublicationOut(BaseModel):
    """Whether the results page is public, since when, and where."""

    event: str
    published: bool
    published_at: datetime | None = Field(description="Since when, while published.")
    page: str | None = Field(description="The page's path, while published.")
    downloads: list[str] = Field(description="Markdown and PDF, while published.")


@dataclass(frozen=True, slots=True)
class _Gathered:
    expires: float
    key: tuple[int, int]  # (publication entry, event version)
    report: ResultsReport
    digest: str


def _code_digest() -> str:
    """A hash of what shapes the renderings: a release that changes them changes the ETags."""
    here = Path(__file__).parent
    sources = [
        TEMPLATES_DIR / "results.html",
        TEMPLATES_DIR / "base.html",
        I18N_DIR / "results.toml",
        I18N_DIR / "common.toml",
        *(here / f"{name}.py" for name in ("results_view", "results_markdown", "results_pdf")),
        here / "charts.py",
    ]
    digest = hashlib.sha256(__version__.encode())
    for path in sources:
        digest.update(path.read_bytes())
    return digest.hexdigest()


class ResultsPages:
    """The publication state and the per-process caches of reports and renderings."""

    def __init__(self, store: Store, polls: PollService) -> None:
        self.publications = Publications(store)
        self._store = store
        self._polls = polls
        self._gathered: dict[str, _Gathered] = {}
        self._renderings: OrderedDict[str, bytes] = OrderedDict()
        # One gathering and rendering per event at a time: a page shared on social media
        # after publication must not start a hundred identical PDF renderings at once.
        self._locks: dict[str, asyncio.Lock] = {}
        self.code = _code_digest()

    def lock(self, slug: str) -> asyncio.Lock:
        return self._locks.setdefault(slug, asyncio.Lock())

    def forget(self, slug: str) -> None:
        self._gathered.pop(slug, None)

    async def report(self, event: Event, publication: Publication) -> tuple[ResultsReport, str]:
        key = (publication.number, event.version)
        cached = self._gathered.get(event.slug)
        if cached is not None and cached.key == key and cached.expires > time.monotonic():
            return cached.report, cached.digest
        report = await gather_report(self._store, self._polls, event, publication.at)
        gathered = _Gathered(time.monotonic() + REPORT_TTL_S, key, report, report.digest())
        self._gathered[event.slug] = gathered
        return report, gathered.digest

    def rendering(self, etag: str) -> bytes | None:
        body = self._renderings.get(etag)
        if body is not None:
            self._renderings.move_to_end(etag)
        return body

    def keep(self, etag: str, body: bytes) -> None:
        self._renderings[etag] = body
        while len(self._renderings) > RENDERINGS_KEPT:
            self._renderings.popitem(last=False)


RESULTS: web.AppKey[ResultsPages] = web.AppKey("results_pages")


def add_page_routes(app: web.Application) -> None:
    """The public page and downloads (the JSON operations are in :data:`api`)."""
    app[RESULTS] = ResultsPages(app[STORE], app[POLLS])
    app.router.add_get(f"/r/{SLUG_IN_PATH}", results_page, name="results_page")
    app.router.add_get(f"/r/{SLUG_IN_PATH}.md", results_markdown_file, name="results_markdown")
    app.router.add_get(f"/r/{SLUG_IN_PATH}.pdf", results_pdf_file, name="results_pdf")


# --- publication (staff) -------------------------------------------------------------------


def _state(event: Event, publication: Publication | None) -> PublicationOut:
    shown = publication is not None and publication.shows(event)
    page = f"/r/{event.slug}"
    return PublicationOut(
        event=event.slug,
        published=shown,
        published_at=publication.at if shown and publication else None,
        page=page if shown else None,
        downloads=[f"{page}.md", f"{page}.pdf"] if shown else [],
    )


@api.operation(
    "GET",
    "/api/events/{event}/results",
    summary="Whether the event's results page (/r/{event}) is published",
    tag=TAG,
    response=PublicationOut,
    auth="staff",
    errors=(404,),
)
async def publication_state(request: web.Request, principal: Principal) -> PublicationOut:
    principal.require_staff()
    event = await request.app[CALENDAR].get(request.match_info["event"])
    return _state(event, await request.app[RESULTS].publications.current(event.slug))


@api.operation(
    "POST",
    "/api/events/{event}/results",
    summary="Publish the results page (/r/{event}, with Markdown and PDF) once the event has "
    "ended: attendance in aggregate, approved questions with answers, polls, announcements",
    tag=TAG,
    response=PublicationOut,
    auth="staff",
    errors=(404, 409),
)
async def publish_results(request: web.Request, principal: Principal) -> PublicationOut:
    principal.require_staff()
    calendar = request.app[CALENDAR]
    event = await calendar.get(request.match_info["event"])
    now = calendar.now()
    if event.phase(now) != "ended":
        raise Conflict("results are published after the event has ended", code="event_not_ended")
    return await _change(request, event, principal, published=True, now=now)


@api.operation(
    "DELETE",
    "/api/events/{event}/results",
    summary="Withdraw the results page: /r/{event} and its downloads answer 404 again",
    tag=TAG,
    response=PublicationOut,
    auth="staff",
    errors=(404,),
)
async def withdraw_results(request: web.Request, principal: Principal) -> PublicationOut:
    principal.require_staff()
    calendar = request.app[CALENDAR]
    event = await calendar.get(request.match_info["event"])
    return await _change(request, event, principal, published=False, now=calendar.now())


async def _change(
    request: web.Request, event: Event, principal: Principal, *, published: bool, now: datetime
) -> PublicationOut:
    pages = request.app[RESULTS]
    entry = await pages.publications.change(
        event, published=published, by=principal.token_id or "staff", now=now
    )
    pages.forget(event.slug)
    return _state(event, entry)


# --- the page and the downloads (public once published) ------------------------------------


@dataclass(frozen=True, slots=True)
class _Published:
    event: Event
    report: ResultsReport


def _lang_of(request: web.Request) -> Lang:
    """``?lang=`` for a download link's own language, else the page's (the cookie)."""
    asked = request.query.get("lang")
    return asked if asked in ("de", "en") else request_lang(request)  # type: ignore[return-value]


def _etag(pages: ResultsPages, digest: str, kind: str, lang: Lang) -> str:
    return hashlib.sha256(f"{digest}:{pages.code}:{kind}:{lang}".encode()).hexdigest()[:32]


def _not_modified(request: web.Request, etag: str) -> bool:
    asked = request.if_none_match
    return asked is not None and any(tag.value in (etag, "*") for tag in asked)


_HEADERS = {"Cache-Control": "no-cache", "Vary": "Cookie"}
Render = Callable[[web.Request, _Published, ResultsView], Awaitable[bytes]]


async def _body(
    request: web.Request, event: Event, kind: str, lang: Lang, render: Render
) -> tuple[str, bytes | None] | None:
    """``(etag, body)`` of a published event's rendering (``body`` ``None``: the client's
    copy is current); ``None`` while the results are not published."""
    pages = request.app[RESULTS]
    async with pages.lock(event.slug):
        publication = await pages.publications.current(event.slug)
        if publication is None or not publication.shows(event):
            return None
        report, digest = await pages.report(event, publication)
        etag = _etag(pages, digest, kind, lang)
        if _not_modified(request, etag):
            return etag, None
        body = pages.rendering(etag)
        if body is None:
            view = view_of(report, lang, request.app[CATALOGUE])
            body = await render(request, _Published(event, report), view)
            pages.keep(etag, body)
        return etag, body


async def _answer(
    request: web.Request,
    kind: str,
    content_type: str,
    render: Render,
    filename: str | None = None,
) -> web.StreamResponse:
    lang = request_lang(request) if kind == "html" else _lang_of(request)
    try:
        event = await request.app[CALENDAR].get(request.match_info["event"])
    except NotFound:
        found = None
    else:
        found = await _body(request, event, kind, lang, render)
    if found is None:
        if kind == "html":
            return render_page(
                request,
                "not_found.html",
                sections=(),
                title_key="common.not_found.title",
                script="common.js",
                page={},
                status=404,
            )
        raise NotFound("no published results for this event", code="results_not_published")
    etag, body = found
    headers = dict(_HEADERS)
    if body is None:
        response = web.Response(status=304, headers=headers)
    else:
        if filename is not None:
            name = f"{event.slug}-{FILE_NAMES[lang]}.{filename}"
            headers["Content-Disposition"] = f'attachment; filename="{name}"'
        response = web.Response(body=body, content_type=content_type, headers=headers)
        if content_type.startswith("text/"):
            response.charset = "utf-8"
    response.etag = ETag(etag, is_weak=True)  # equal content, not always equal bytes
    return response


async def _html(request: web.Request, published: _Published, view: ResultsView) -> bytes:
    lines = series_of(published.report.samples, view.series_titles)
    chart = None
    if lines:
        svg = attendance_svg(lines, event_title=view.title, lang=view.lang)
        chart = Markup(svg)  # noqa: S704 - ElementTree escaped every text in it; it holds no script
    slug = published.event.slug

    def t(key: str, **values: object) -> str:
        # The browser tab names the event: base.html shows t(title_key) without values.
        if key == "results.page_title":
            values = {"event": view.title, **values}
        return view.t(key, **values)

    html = (
        request.app[TEMPLATES]
        .get_template("results.html")
        .render(
            lang=view.lang,
            t=t,
            title_key="results.page_title",
            script="results.js",
            view=view,
            chart_svg=chart,
            markdown_url=f"/r/{slug}.md?lang={view.lang}",
            pdf_url=f"/r/{slug}.pdf?lang={view.lang}",
            i18n_json=json_block(request.app[CATALOGUE].section("common")),
            page_json=json_block({"event": slug, "lang": view.lang}),
        )
    )
    return html.encode()


async def _markdown(request: web.Request, published: _Published, view: ResultsView) -> bytes:
    return results_markdown.render_markdown(view).encode()


async def _pdf(request: web.Request, published: _Published, view: ResultsView) -> bytes:
    # fpdf2 and fontTools take about half a second to import: loaded with the first PDF
    # asked for, not at every start of a process (or of a test's app).
    from hubs_bridge.web import results_pdf

    report = published.report
    # Some tenths of a second of CPU: off the event loop.
    return await asyncio.to_thread(
        results_pdf.render_pdf, view, report.samples, report.published_at
    )


async def results_page(request: web.Request) -> web.StreamResponse:
    return await _answer(request, "html", "text/html", _html)


async def results_markdown_file(request: web.Request) -> web.StreamResponse:
    return await _answer(request, "md", "text/markdown", _markdown, filename="md")


async def results_pdf_file(request: web.Request) -> web.StreamResponse:
    return await _answer(request, "pdf", "application/pdf", _pdf, filename="pdf")
