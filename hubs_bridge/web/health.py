"""Liveness and readiness: ``/healthz`` (the process runs), ``/readyz`` (its backends answer)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from aiohttp import web
from pydantic import BaseModel

from hubs_bridge import __version__
from hubs_bridge.errors import HubsBridgeError
from hubs_bridge.web.api import Api, json_response
from hubs_bridge.web.keys import BROKER, STORE
from hubs_bridge.web.pages.landing import events_page
from hubs_bridge.web.pages.render import wants_html

api = Api()
TAG = "health"
CHECK_TIMEOUT_S = 2.0
log = logging.getLogger("hubs_bridge.web")


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]


@api.operation("GET", "/healthz", summary="The process is up", tag=TAG, response=Health)
async def healthz(request: web.Request) -> Health:
    return Health(status="ok")


async def _check(name: str, ping: Awaitable[None]) -> tuple[str, str]:
    try:
        await asyncio.wait_for(ping, CHECK_TIMEOUT_S)
    except TimeoutError:
        return name, "timeout"
    except HubsBridgeError as exc:
        # /readyz is public: which dependency, never where (the address stays in the log).
        log.warning("readiness: %s does not answer: %s", name, exc)
        return name, "unavailable"
    return name, "ok"


@api.operation(
    "GET",
    "/readyz",
    summary="Store and broker answer (503 names the one that does not)",
    tag=TAG,
    response=Readiness,
    errors=(503,),
)
async def readyz(request: web.Request) -> web.Response:
    results = await asyncio.gather(
        _check("store", request.app[STORE].ping()),
        _check("broker", request.app[BROKER].ping()),
    )
    checks = dict(results)
    ok = all(v == "ok" for v in checks.values())
    body = Readiness(status="ok" if ok else "unavailable", checks=checks)
    return json_response(body, status=200 if ok else 503)


class Index(BaseModel):
    name: str
    version: str
    links: dict[str, str]


@api.operation(
    "GET",
    "/",
    summary="What this server offers, with links (a browser gets the list of events)",
    tag=TAG,
    response=Index,
)
async def index(request: web.Request) -> Index | web.Response:
    if wants_html(request):
        return await events_page(request)
    return Index(
        name="hubs-bridge",
        version=__version__,
        links={
            "scenes": "/api/scenes",
            "events": "/api/events",
            "openapi": "/api/openapi.json",
            "websocket": "/ws",
            "health": "/healthz",
            "ready": "/readyz",
            "metrics": "/metrics",
        },
    )
