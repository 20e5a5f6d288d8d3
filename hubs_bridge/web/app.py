"""The aiohttp application: backends opened, routes declared, lifetimes owned."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from hubs_bridge.auth import Authenticator
from hubs_bridge.broker import open_broker
from hubs_bridge.calendar_service import CalendarService
from hubs_bridge.core.room_links import close_links
from hubs_bridge.hubs.bridge import HubsBridge
from hubs_bridge.identity import VisitorIds, resolve_secret
from hubs_bridge.metrics import CONTENT_TYPE, Metrics
from hubs_bridge.poll_service import PollService
from hubs_bridge.qa_service import QaService, load_word_filter
from hubs_bridge.ratelimits import open_limiter
from hubs_bridge.realtime.service import RealtimeService
from hubs_bridge.scene_catalog import open_catalog
from hubs_bridge.scenes.library import SceneLibrary
from hubs_bridge.scenes.urls import glb_url
from hubs_bridge.seed import seed_events
from hubs_bridge.settings import Settings
from hubs_bridge.store import open_store
from hubs_bridge.web import (
    attendance,
    charts,
    doors,
    events,
    health,
    hubs_rooms,
    hubs_services,
    polls,
    questions,
    results,
    scene_uploads,
    scenes,
    tokens,
)
from hubs_bridge.web.access_log import access_log_middleware
from hubs_bridge.web.api import Operation
from hubs_bridge.web.errors import error_middleware
from hubs_bridge.web.keys import (
    AUTH,
    BROKER,
    CALENDAR,
    HUBS,
    METRICS,
    POLLS,
    QA,
    REALTIME,
    SCENES,
    SETTINGS,
    STORE,
)
from hubs_bridge.web.openapi import openapi_handler
from hubs_bridge.web.pages import routes as pages
from hubs_bridge.web.pages.security import add_security_headers
from hubs_bridge.web.scenes import SCENE_CATALOG
from hubs_bridge.web.ws import install_ws

log = logging.getLogger("hubs_bridge.app")

API_MODULES = (
    health,
    events,
    tokens,
    attendance,
    questions,
    polls,
    doors,
    charts,
    hubs_rooms,
    scene_uploads,
    results,
)


def operations() -> list[Operation]:
    """Every declared JSON operation, for routing and for the OpenAPI document."""
    return [op for module in API_MODULES for op in module.api.operations] + scenes.OPERATIONS


async def create_app(settings: Settings) -> web.Application:
    """Open the backends, load the scene library, seed, and wire every route."""
    store = await open_store(settings)
    # The pack folders and the uploaded versions (in the store, their files in the shared
    # blob folder) as the one library everything else holds (scene_catalog.py).
    catalog = await open_catalog(settings, store)
    library = catalog.library
    broker = open_broker(settings)
    calendar = CalendarService(store, lambda: library.scenes.keys(), settings.limits)
    if settings.seed_dir is not None:
        await seed_events(calendar, settings.seed_dir)
    ids = VisitorIds(await resolve_secret(settings, store))
    metrics = Metrics()
    metrics.watch_broker(
        lambda: getattr(broker, "errors", 0), lambda: getattr(broker, "reconnects", 0)
    )
    realtime = RealtimeService(settings, broker, store, calendar, ids, metrics)
    calendar.changed.append(realtime.event_changed)
    limiter, close_limiter = open_limiter(settings)
    word_filter = await asyncio.to_thread(load_word_filter, settings.qa.word_filter_dir)
    qa_service = QaService(
        store,
        settings.qa,
        limiter,
        word_filter,
        publish=realtime.publish,
        clock=calendar.now,
        is_known=realtime.knows_question,
    )
    poll_service = PollService(
        store,
        limiter,
        word_filter,
        publish=realtime.publish,
        clock=calendar.now,
        answers_per_minute=settings.qa.poll_answers_per_minute,
        answer_burst=settings.qa.poll_answer_burst,
        flush_s=settings.qa.poll_flush_s,
        seen=realtime.poll_seen,
        leases=broker,
    )

    app = web.Application(
        client_max_size=settings.limits.max_body_bytes,
        middlewares=[access_log_middleware, error_middleware],
    )
    app.on_response_prepare.append(add_security_headers)
    app[SETTINGS] = settings
    app[SCENES] = library
    app[SCENE_CATALOG] = catalog
    app[STORE] = store
    app[BROKER] = broker
    # Wrong tokens are limited per address, shared by every process (auth.py).
    app[AUTH] = Authenticator(store, settings.staff_token, failures=limiter)
    app[CALENDAR] = calendar
    app[METRICS] = metrics
    app[REALTIME] = realtime
    app[QA] = qa_service
    app[POLLS] = poll_service

    for module in API_MODULES:
        module.api.add_routes(app)
    scenes.add_routes(app)
    pages.add_routes(app)
    results.add_page_routes(app)  # /r/{event}, .md, .pdf
    app.router.add_get("/api/openapi.json", openapi_handler(operations()))
    install_ws(app)  # /ws, and its per-address gate for sessions before hello
    app.router.add_get("/metrics", _metrics)
    # Order matters: backends close last, after the real-time loops have stopped.
    app.cleanup_ctx.append(_backends_closed_at_exit)
    app.cleanup_ctx.append(_realtime)
    app.cleanup_ctx.append(_vote_flusher)
    app.cleanup_ctx.append(_poll_flusher)
    app.cleanup_ctx.append(_scene_refresher)
    hubs_services.install(app)  # provisioning jobs, overflow twins, closing at the end
    if settings.hubs.url is not None:
        app[HUBS] = build_bridge(app)
        app.cleanup_ctx.append(_hubs_bridge)
    app.on_cleanup.append(lambda _app: close_limiter())
    app.on_shutdown.append(_say_bye)
    return app


def build_bridge(app: web.Application, **options: Any) -> HubsBridge:
    """The Hubs bridge of the app, from its state; ``options`` go to :class:`HubsBridge`."""
    settings, calendar, realtime = app[SETTINGS], app[CALENDAR], app[REALTIME]
    return HubsBridge(
        settings.hubs,
        store=app[STORE],
        broker=app[BROKER],
        ids=realtime.ids,
        qa=app[QA],
        polls=app[POLLS],
        stale_rooms=realtime.leader.stale_rooms,
        presence_ttl_s=settings.realtime.presence_ttl_s,
        now=calendar.now,
        streams=realtime.registry,
        scene_url=_library_url(settings, app[SCENES]),
        close_links=functools.partial(_close_links, calendar),
        **options,
    )


def _library_url(
    settings: Settings, library: SceneLibrary
) -> Callable[[str, str | None], str | None]:
    """The absolute GLB URL of a room's scene version (its pinned digest, else the latest),
    for the rooms the bridge owns (None: unknown)."""

    def url(scene: str, sha256: str | None) -> str | None:
        found = library.pinned(scene, sha256)
        if found is None or settings.public_url is None:
            return None
        return glb_url(settings.public_url, found)

    return url


async def _close_links(calendar: CalendarService, event: str, hub_ids: set[str]) -> None:
    """Mark Hubs links closed once Hubs confirmed the bridge closed the rooms as owner."""
    await calendar.change(event, lambda current, now: close_links(current, hub_ids, now=now))


async def _metrics(request: web.Request) -> web.Response:
    body = request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


async def _realtime(app: web.Application) -> AsyncIterator[None]:
    async for _ in app[REALTIME].run():
        yield


async def _vote_flusher(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(app[QA].run_vote_flusher())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await app[QA].flush_votes()


async def _poll_flusher(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(app[POLLS].run_results_flusher())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await app[POLLS].flush_results()


async def _scene_refresher(app: web.Application) -> AsyncIterator[None]:
    """Another process's uploads reach this one's library within seconds."""
    task = asyncio.create_task(app[SCENE_CATALOG].run(), name="scene catalog refresher")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _hubs_bridge(app: web.Application) -> AsyncIterator[None]:
    await app[HUBS].start()
    yield
    await app[HUBS].close()


async def _say_bye(app: web.Application) -> None:
    realtime = app[REALTIME]
    pages = len(realtime.sessions)
    log.info("stopping: telling %d open pages when to come back", pages)
    await realtime.shutdown()


async def _backends_closed_at_exit(app: web.Application) -> AsyncIterator[None]:
    yield
    await app[BROKER].close()
    await app[STORE].close()
    log.info("stopped: store and broker closed")
