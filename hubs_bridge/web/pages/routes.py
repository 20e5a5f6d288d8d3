"""Routes of the pages: ``/e/{event}``, ``/m/{event}``, ``/stage/{event}/{room}``, ``/admin``.

Each handler only renders the shell; the page's script fetches the live state
over ``/ws`` (and, for staff, the JSON API) itself. An unknown event or room
answers a 404 page in the visitor's language, not JSON.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

import segno
from aiohttp import web

from hubs_bridge.errors import NotFound
from hubs_bridge.web.keys import CALENDAR, SETTINGS
from hubs_bridge.web.pages.i18n import load_catalogue
from hubs_bridge.web.pages.render import (
    CATALOGUE,
    STATIC_DIR,
    TEMPLATES,
    render_page,
    template_environment,
)


def add_routes(app: web.Application) -> None:
    app[CATALOGUE] = load_catalogue()
    app[TEMPLATES] = template_environment()
    app.router.add_get("/e/{event}", visitor_page, name="visitor_page")
    app.router.add_get("/e/{event}/qr.svg", visitor_qr, name="visitor_qr")
    app.router.add_get("/m/{event}", moderator_page, name="moderator_page")
    app.router.add_get("/stage/{event}/{room}", stage_page, name="stage_page")
    app.router.add_get("/admin", admin_page, name="admin_page")
    app.router.add_static("/static/", STATIC_DIR, name="static", follow_symlinks=False)


def _not_found(request: web.Request) -> web.Response:
    return render_page(
        request,
        "not_found.html",
        sections=(),
        title_key="common.not_found.title",
        script="common.js",
        page={},
        status=404,
    )


async def _event_or_none(request: web.Request) -> Any:
    try:
        return await request.app[CALENDAR].get(request.match_info["event"])
    except NotFound:
        return None


def public_base(request: web.Request) -> str:
    """The address visitors use: ``public_url`` when set (behind a proxy), else this request's."""
    configured = request.app[SETTINGS].public_url
    return configured if configured is not None else f"{request.scheme}://{request.host}"


async def _event_shell(request: web.Request, name: str, **context: Any) -> web.Response:
    """The shell of an event's page (``visitor``, ``moderator``), or the 404 page."""
    event = await _event_or_none(request)
    if event is None:
        return _not_found(request)
    return render_page(
        request,
        f"{name}.html",
        # Both pages show live polls: their texts are shared with the stage view.
        sections=(name, "polls"),
        title_key=f"{name}.title",
        script=f"{name}.js",
        page={"event": event.slug},
        event=event,
        **context,
    )


async def visitor_page(request: web.Request) -> web.Response:
    slug = request.match_info["event"]
    return await _event_shell(request, "visitor", page_url=f"{public_base(request)}/e/{slug}")


async def visitor_qr(request: web.Request) -> web.Response:
    """An SVG QR code of the event page's address, for posters in the lab."""
    event = await _event_or_none(request)
    if event is None:
        raise NotFound("no such event", code="event_not_found")
    url = f"{public_base(request)}/e/{event.slug}"

    def draw() -> bytes:
        buffer = io.BytesIO()
        qr = segno.make(url, error="m", micro=False)
        qr.save(buffer, kind="svg", scale=8, border=2, dark="#000", light="#fff", title=url)
        return buffer.getvalue()

    body = await asyncio.to_thread(draw)
    # Without public_url the address comes from the request's Host header: a shared
    # cache must not keep one client's Host for everyone (issue 11).
    cache = "public, max-age=300" if request.app[SETTINGS].public_url else "no-store"
    return web.Response(body=body, content_type="image/svg+xml", headers={"Cache-Control": cache})


async def moderator_page(request: web.Request) -> web.Response:
    return await _event_shell(request, "moderator")


async def stage_page(request: web.Request) -> web.Response:
    event = await _event_or_none(request)
    room = None if event is None else event.room(request.match_info["room"])
    if event is None or room is None:
        return _not_found(request)
    return render_page(
        request,
        "stage.html",
        sections=("stage", "polls"),
        title_key="stage.title",
        script="stage.js",
        page={"event": event.slug, "room": room.slug},
        event=event,
        room=room,
        # How to join, shown on the projector: the event page's address and its QR code.
        join_url=f"{public_base(request)}/e/{event.slug}",
    )


async def admin_page(request: web.Request) -> web.Response:
    return render_page(
        request,
        "admin.html",
        sections=("admin",),
        title_key="admin.title",
        script="admin.js",
        page={"public_base": public_base(request)},
    )
