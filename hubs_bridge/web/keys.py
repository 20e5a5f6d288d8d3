"""Typed application state of the aiohttp app (``web.AppKey``, never string keys)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from hubs_bridge.auth import Authenticator
    from hubs_bridge.broker.base import Broker
    from hubs_bridge.calendar_service import CalendarService
    from hubs_bridge.hubs.bridge import HubsBridge
    from hubs_bridge.metrics import Metrics
    from hubs_bridge.poll_service import PollService
    from hubs_bridge.qa_service import QaService
    from hubs_bridge.realtime.service import RealtimeService
    from hubs_bridge.scenes.library import SceneLibrary
    from hubs_bridge.settings import Settings
    from hubs_bridge.store.base import Store

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
STORE: web.AppKey[Store] = web.AppKey("store")
BROKER: web.AppKey[Broker] = web.AppKey("broker")
SCENES: web.AppKey[SceneLibrary] = web.AppKey("scenes")
AUTH: web.AppKey[Authenticator] = web.AppKey("auth")
CALENDAR: web.AppKey[CalendarService] = web.AppKey("calendar")
REALTIME: web.AppKey[RealtimeService] = web.AppKey("realtime")
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
QA: web.AppKey[QaService] = web.AppKey("qa")
HUBS: web.AppKey[HubsBridge] = web.AppKey("hubs")
POLLS: web.AppKey[PollService] = web.AppKey("polls")
