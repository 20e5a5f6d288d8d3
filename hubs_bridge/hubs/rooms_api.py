"""Reticulum's room API as the bridge uses it: create a room, close a room (PROTOCOL.md §5).

Two ways to create: ``POST /api/v1/hubs`` (anonymous creation, 1 request per
second per address), or, when ``hubs.api_token`` is set, the token GraphQL
API (``graphql.py``). Closing is ``DELETE /api/v1/hubs/<hub_id>`` with the
admin key. Every failure becomes :class:`HubsRequestFailed` with a message
for people, saying which of the three it was: unreachable, rate limited,
refused.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

import aiohttp

from hubs_bridge.core.calendar import is_http_url
from hubs_bridge.settings import HubsSettings

RATE_LIMIT_RETRIES = 4
MAX_RETRY_AFTER_S = 30.0
REQUEST_TIMEOUT_S = 15.0
ADMIN_KEY_HEADER = "x-ret-admin-access-key"
# What a stored link takes (``HubsRoomLink``); a hub id also goes into a URL path.
HUB_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_URL = 500
MAX_DETAIL = 200


class HubsRequestFailed(Exception):
    """A request to the Hubs server failed; ``str(exc)`` is for people."""


class HubsRefused(HubsRequestFailed):
    """The Hubs server answered with an error status."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"the Hubs server refused with status {status}: {detail}")
        self.status = status


@dataclass(frozen=True, slots=True)
class HubSpec:
    """What a new Hubs room should be."""

    name: str
    scene_url: str
    room_size: int


@dataclass(frozen=True, slots=True)
class NewHub:
    """A room the Hubs server has just created."""

    hub_id: str
    url: str

    def __post_init__(self) -> None:
        if not valid_hub_id(self.hub_id):
            raise HubsRequestFailed(
                f"the Hubs server answered a room id that cannot be stored: {self.hub_id[:80]!r}"
            )
        if len(self.url) > MAX_URL:
            raise HubsRequestFailed(
                f"the Hubs server answered a room URL longer than {MAX_URL} characters"
            )
        if not is_http_url(self.url):
            raise HubsRequestFailed(
                f"the Hubs server answered a room URL that is not http(s): {self.url[:80]!r}"
            )


def valid_hub_id(hub_id: str) -> bool:
    return HUB_ID.fullmatch(hub_id) is not None


def new_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S))


async def create_hub(
    session: aiohttp.ClientSession, hubs_url: str, settings: HubsSettings, spec: HubSpec
) -> NewHub:
    """Create one room: with the token GraphQL API when a token is set, else ``POST``."""
    if settings.api_token is not None:
        from hubs_bridge.hubs.graphql import create_room

        return await create_room(
            session, hubs_url, settings.api_token.get_secret_value(), spec, settings
        )
    body = {
        "hub": {
            "name": spec.name,
            "default_environment_gltf_bundle_url": spec.scene_url,
            "room_size": spec.room_size,
        }
    }
    data = await send(
        session, "POST", f"{hubs_url}/api/v1/hubs", hubs_url, settings.create_interval_s, json=body
    )
    hub_id = data.get("hub_id") if isinstance(data, dict) else None
    url = data.get("url") if isinstance(data, dict) else None
    if not isinstance(hub_id, str) or not hub_id or not isinstance(url, str) or not url:
        raise HubsRequestFailed("the Hubs server's answer has no hub_id and url")
    return NewHub(hub_id, url)


async def close_hub(
    session: aiohttp.ClientSession, hubs_url: str, admin_key: str, hub_id: str
) -> None:
    """``DELETE`` a room with the admin key: entry mode deny, for good (§5).

    A room the server no longer knows (404) counts as closed.
    """
    if not valid_hub_id(hub_id):
        raise HubsRequestFailed(f"not a Hubs room id: {hub_id[:80]!r}")
    try:
        await send(
            session,
            "DELETE",
            f"{hubs_url}/api/v1/hubs/{hub_id}",
            hubs_url,
            1.0,
            headers={ADMIN_KEY_HEADER: admin_key},
        )
    except HubsRefused as exc:
        if exc.status != 404:
            raise


async def send(
    session: aiohttp.ClientSession,
    method: str,
    endpoint: str,
    hubs_url: str,
    interval_s: float,
    **kwargs: Any,
) -> Any:
    """One request, its JSON answer; 429s are retried after a growing wait.

    Redirects are not followed: the admin key or API token must never reach
    another host, so a 3xx is a refusal.
    """
    for attempt in range(RATE_LIMIT_RETRIES + 1):
        try:
            async with session.request(method, endpoint, allow_redirects=False, **kwargs) as resp:
                if resp.status == 429:
                    if attempt == RATE_LIMIT_RETRIES:
                        raise HubsRequestFailed(
                            f"rate limited by the Hubs server (429) after {attempt + 1} tries"
                        )
                    await asyncio.sleep(_retry_wait(resp, interval_s, attempt))
                    continue
                if resp.status >= 300:
                    raise HubsRefused(resp.status, await _detail(resp))
                try:
                    return await resp.json(content_type=None)
                except ValueError:
                    raise HubsRequestFailed(
                        "the Hubs server answered with something not JSON"
                    ) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise HubsRequestFailed(
                f"the Hubs server at {hubs_url} is unreachable: {exc or type(exc).__name__}"
            ) from None
    raise AssertionError("unreachable")


async def _detail(resp: aiohttp.ClientResponse) -> str:
    """The start of an error answer's body, for the message (whatever its bytes)."""
    if 300 <= resp.status < 400:
        return f"redirect to {resp.headers.get('Location', '?')[:MAX_DETAIL]!r} not followed"
    try:
        text = await resp.text(errors="replace")
    except LookupError:  # a charset Python does not know
        return "(an answer in an unknown charset)"
    return text[:MAX_DETAIL]


def _retry_wait(resp: aiohttp.ClientResponse, interval_s: float, attempt: int) -> float:
    header = resp.headers.get("Retry-After")
    if header is not None:
        try:
            return min(max(float(header), 0.0), MAX_RETRY_AFTER_S)
        except ValueError:
            pass
    return float(min(max(interval_s, 0.05) * 2 ** (attempt + 1), MAX_RETRY_AFTER_S))
