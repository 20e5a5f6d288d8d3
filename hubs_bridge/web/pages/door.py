"""What a visitor's browser sees when ``/go`` cannot let them in: a page, not JSON.

``/go/{event}/{room}`` is the link behind "Raum betreten". Scripts and tests
get the JSON refusal (stable ``code``); a browser navigating there (``Accept``
with ``text/html``) gets the same status with a short page in the visitor's
language: when the doors open, that the event has ended, that the room is not
open yet or full, with a way back to the event page and, where it may help,
to try again.
"""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from hubs_bridge.core.calendar import BERLIN, Event
from hubs_bridge.web.pages.render import render_page, wants_html

__all__ = ["door_page", "wants_html"]


def _berlin(moment: datetime) -> dict[str, str]:
    local = moment.astimezone(BERLIN)
    return {"date": local.strftime("%d.%m.%Y"), "time": local.strftime("%H:%M")}


def door_page(
    request: web.Request, status: int, code: str, event: Event, room_title: str
) -> web.Response:
    """The refusal of ``/go`` as a page; ``code`` picks the text (``door.<code>``)."""
    values = {"room": room_title, **_berlin(event.doors_open_at)}
    return render_page(
        request,
        "door.html",
        sections=("door",),
        title_key=f"door.{code}.title",
        script="server-drawn.js",
        page={"event": event.slug},
        status=status,
        code=code,
        event=event,
        values=values,
        retry=code in ("room_full", "not_provisioned"),
        request_path=request.path,
    )
