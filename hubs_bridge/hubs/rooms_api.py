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
from dataclasses import dataclass
from typing import Any

import aiohttp

from hubs_bridge.core.calendar import is_http_url
from hubs_bridge.settings import HubsSettings

RATE_LIMIT_RETRIES = 4
MAX_RETRY_AFTER_S = 30.0
REQUEST_TIMEOUT_S = 15.0
ADMIN_KEY_HEADER = "x-ret-admin-access-key"


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
        if not is_http_url(self.url):
            raise HubsRequestFailed(
                f"the Hubs server answered a room URL that is not http(s): {self.url[:80]!r}"
            )


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
    """One request, its JSON answer; 429s are retried after a growing wait."""
    for attempt in range(RATE_LIMIT_RETRIES + 1):
        try:
            async with session.request(method, endpoint, **kwargs) as resp:
                if resp.status == 429:
                    if attempt == RATE_LIMIT_RETRIES:
                        raise HubsRequestFailed(
                            f"rate limited by the Hubs server (429) after {attempt + 1} tries"
                        )
                    await asyncio.sleep(_retry_wait(resp, interval_s, attempt))
                    continue
                if resp.status >= 300:
                    raise HubsRefused(resp.status, (await resp.text())[:200])
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


def _retry_wait(resp: aiohttp.ClientResponse, interval_s: float, attempt: int) -> float:
    header = resp.headers.get("Retry-After")
    if header is not None:
        try:
            return min(max(float(header), 0.0), MAX_RETRY_AFTER_S)
        except ValueError:
            pass
    return float(min(max(interval_s, 0.05) * 2 ** (attempt + 1), MAX_RETRY_AFTER_S))
