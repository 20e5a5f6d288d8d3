"""The Hubs-side services of the app: provisioning jobs, the overflow doorman, the closer.

:func:`install` puts them in typed app state and appends their lifetime to
``cleanup_ctx``: one HTTP client session to the Hubs server (made on first
use), the scheduler's loop, and the jobs still running, all stopped with the
app (before the backends close).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from hubs_bridge.core.calendar import Event, HubsRoomLink, Room
from hubs_bridge.errors import ConfigError
from hubs_bridge.hubs.jobs import ProvisionJobs
from hubs_bridge.hubs.overflow import Doorman, MakeTwin
from hubs_bridge.hubs.provision import OnResult, RoomResult, provision_event, provision_twin
from hubs_bridge.hubs.rooms_api import HubsApi, new_session
from hubs_bridge.hubs.scheduler import RoomCloser
from hubs_bridge.ratelimits import MemoryLimiter
from hubs_bridge.web.keys import BROKER, CALENDAR, SCENES, SETTINGS

PROVISION_JOBS: web.AppKey[ProvisionJobs] = web.AppKey("provision_jobs")
DOORMAN: web.AppKey[Doorman] = web.AppKey("doorman")
CLOSER: web.AppKey[RoomCloser] = web.AppKey("room_closer")
# The room API with the process's one pacer; None without a Hubs server.
HUBS_API: web.AppKey[HubsApi | None] = web.AppKey("hubs_api")
# /go per client address, in this process (like new visitor ids in web/ws.py).
GO_LIMITER: web.AppKey[MemoryLimiter] = web.AppKey("go_limiter")
_HTTP: web.AppKey[_Http] = web.AppKey("hubs_http")


class _Http:
    """One client session to the Hubs server, made inside the running loop when first needed."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def __call__(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = new_session()
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def install(app: web.Application) -> None:
    """Create the services (call from ``create_app``, after the backends are in app state)."""
    settings, calendar, broker, library = app[SETTINGS], app[CALENDAR], app[BROKER], app[SCENES]
    http = _Http()
    # One for every room API call of this process: Reticulum throttles per address.
    api = HubsApi(settings.hubs, http) if settings.hubs.url is not None else None

    async def run(event: str, on_result: OnResult) -> list[RoomResult]:
        return await provision_event(
            calendar, library, settings, _needs(api), event, progress=None, on_result=on_result
        )

    make_twin: MakeTwin | None = None
    if api is not None and settings.public_url is not None:

        async def twin(event: Event, room: Room) -> HubsRoomLink:
            return await provision_twin(calendar, library, settings, api, event, room)

        make_twin = twin

    app[_HTTP] = http
    app[HUBS_API] = api
    app[PROVISION_JOBS] = ProvisionJobs(broker, run, calendar.now, time.time)
    app[DOORMAN] = Doorman(calendar, broker, make_twin, settings.hubs.arrival_window_s)
    app[CLOSER] = RoomCloser(settings.hubs, calendar, broker, api)
    app[GO_LIMITER] = MemoryLimiter()
    app.cleanup_ctx.append(_lifetime)


def _needs(api: HubsApi | None) -> HubsApi:
    if api is None:
        raise ConfigError("hubs.url", "no Hubs server is configured (HUBS_BRIDGE_HUBS__URL)")
    return api


async def _lifetime(app: web.Application) -> AsyncIterator[None]:
    closer = asyncio.create_task(app[CLOSER].run(), name="hubs room closer")
    yield
    closer.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await closer
    await app[PROVISION_JOBS].close()
    await app[_HTTP].close()
