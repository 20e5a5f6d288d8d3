"""``/`` in a browser: the events, each with a link to its page (scripts get the JSON index)."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from hubs_bridge.core.calendar import BERLIN, title_in
from hubs_bridge.web.keys import CALENDAR
from hubs_bridge.web.pages.render import render_page, request_lang

# Events that ended more than this long ago are no longer listed for visitors.
SHOW_ENDED_FOR = timedelta(days=1)


async def events_page(request: web.Request) -> web.Response:
    calendar = request.app[CALENDAR]
    now = calendar.now()
    lang = request_lang(request)
    events = []
    for event in sorted(await calendar.store.list_events(), key=lambda e: e.starts_at):
        if event.ends_at + SHOW_ENDED_FOR < now:
            continue
        starts = event.starts_at.astimezone(BERLIN)
        ends = event.ends_at.astimezone(BERLIN)
        events.append(
            {
                "slug": event.slug,
                "title": title_in(event, lang),
                "phase": event.phase(now),
                "when": f"{starts:%d.%m.%Y %H:%M} – {ends:%H:%M}"
                if starts.date() == ends.date()
                else f"{starts:%d.%m.%Y %H:%M} – {ends:%d.%m.%Y %H:%M}",
            }
        )
    return render_page(
        request,
        "landing.html",
        sections=("landing",),
        title_key="landing.title",
        script="server-drawn.js",
        page={},
        events=events,
    )
