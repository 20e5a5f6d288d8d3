"""Reticulum's room API as the bridge uses it: create and close rooms (PROTOCOL.md §5).

:class:`HubsApi` is the one way a process calls it. Two ways to create:

- ``POST /api/v1/hubs`` (``RetWeb.Api.V1.HubController.create``): anonymous,
  or with ``Authorization: bearer <account token>`` when
  ``hubs.account_token`` is set (then that account is the room's creator,
  ``Hub.add_account_to_changeset``). Without a ``scene_id`` Reticulum attaches a
  random default scene listing (``Hub.create_new_room`` ->
  ``get_scene_or_scene_listing``), which the Hubs client shows instead of
  ``default_environment_gltf_bundle_url``: the bridge sets the library's
  scene once it owns the room (``update_scene``), and says so meanwhile.
- the token GraphQL API (``graphql.py``) when ``hubs.api_token`` is set:
  ``createRoom(sceneUrl: ...)`` sets the scene; preferred.

Closing is ``DELETE /api/v1/hubs/<hub_id>`` with the admin key
(``plug RetWeb.Plugs.HeaderAuthorization when action in [:delete]``); stock
Hubs CE configures no key, so every DELETE is 401 there, and an unknown hub
is a 500 (``Repo.get_by`` gives nil to ``changeset_for_entry_mode``).

Every call of the process goes through one :class:`~hubs_bridge.hubs.pacer.Pacer`
(Reticulum's throttle is per client address across all room actions), and a
throttle refusal (403 ``Forbidden``) waits for a later window. Every failure
becomes :class:`HubsRequestFailed` with a message for people.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp

from hubs_bridge.hubs import graphql
from hubs_bridge.hubs.pacer import Pacer
from hubs_bridge.hubs.room_specs import (
    HubSpec,
    HubsRefused,
    HubsRequestFailed,
    HubsThrottled,
    NewHub,
    valid_hub_id,
)
from hubs_bridge.settings import HubsSettings

RATE_LIMIT_RETRIES = 4
# A 403 "Forbidden" is PlugAttack's refusal: another caller at our address took the
# window. Each retry waits for a later window; with a second process provisioning at
# the same time each gets every other window, so this is generous.
THROTTLE_RETRIES = 12
MAX_RETRY_AFTER_S = 30.0
REQUEST_TIMEOUT_S = 15.0
ADMIN_KEY_HEADER = "x-ret-admin-access-key"
MAX_DETAIL = 200
__all__ = ["HubSpec", "HubsApi", "HubsRefused", "HubsRequestFailed", "HubsThrottled", "NewHub"]


def new_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S))


class HubsApi:
    """The room API of the town's Hubs server, for one process (one pacer for all calls)."""

    def __init__(
        self,
        settings: HubsSettings,
        http: Callable[[], aiohttp.ClientSession],
        *,
        pacer: Pacer | None = None,
    ) -> None:
        if settings.url is None:
            raise ValueError("HubsApi needs settings.url")
        self.settings = settings
        self.url: str = settings.url
        self._http = http
        self.pacer = pacer if pacer is not None else Pacer(settings.create_interval_s)

    @property
    def can_close(self) -> bool:
        """Whether ``DELETE`` may work at all: an admin key is configured here."""
        return self.settings.admin_access_key is not None

    async def create(self, spec: HubSpec) -> NewHub:
        """Create one room: with the token GraphQL API when a token is set, else ``POST``."""
        spec = HubSpec(spec.name, spec.scene_url, min(spec.room_size, self.settings.max_room_size))
        if self.settings.api_token is not None:
            return await self._create_with_token(self.settings.api_token.get_secret_value(), spec)
        body = {
            "hub": {
                "name": spec.name,
                "default_environment_gltf_bundle_url": spec.scene_url,
                "room_size": spec.room_size,
            }
        }
        headers = {}
        if self.settings.account_token is not None:
            # HubController.create: the signed-in account becomes the room's creator.
            headers["Authorization"] = f"bearer {self.settings.account_token.get_secret_value()}"
        try:
            data = await self.send(
                "POST", "/api/v1/hubs", json=body, headers=headers, throttled=True
            )
        except HubsRefused as exc:
            raise HubsRequestFailed(_create_refusal(exc)) from None
        hub_id = data.get("hub_id") if isinstance(data, dict) else None
        url = data.get("url") if isinstance(data, dict) else None
        token = data.get("creator_assignment_token") if isinstance(data, dict) else None
        if not isinstance(hub_id, str) or not hub_id or not isinstance(url, str) or not url:
            raise HubsRequestFailed("the Hubs server's answer has no hub_id and url")
        return NewHub(
            hub_id,
            url,
            creator_token=token if isinstance(token, str) and token else None,
            default_scene=True,  # no scene_id: Hub.create_new_room attaches a listing
        )

    async def _create_with_token(self, token: str, spec: HubSpec) -> NewHub:
        """``createRoom`` on the token GraphQL API (not throttled by Reticulum)."""
        try:
            raw = await self.send(
                "POST",
                graphql.ENDPOINT,
                json=graphql.create_room_body(spec),
                headers={"Authorization": f"Bearer {token}"},
                throttled=False,
            )
        except HubsRefused as exc:
            if exc.status == 404:
                raise HubsRequestFailed(
                    "the Hubs server has no token API (404: public_api_access is off in its "
                    "admin panel); switch it on or unset HUBS_BRIDGE_HUBS__API_TOKEN"
                ) from None
            raise
        return graphql.read_created_room(raw, self.url)

    async def close(self, hub_id: str) -> None:
        """``DELETE`` a room with the admin key: entry mode deny, for good, telling nobody.

        Raises :class:`HubsRequestFailed`; a 401 says the key is missing or not
        the server's, which no retry mends.
        """
        if not valid_hub_id(hub_id):
            raise HubsRequestFailed(f"not a Hubs room id: {hub_id[:80]!r}")
        key = self.settings.admin_access_key
        if key is None:
            raise HubsRequestFailed("no admin key configured (HUBS_BRIDGE_HUBS__ADMIN_ACCESS_KEY)")
        try:
            await self.send(
                "DELETE",
                f"/api/v1/hubs/{hub_id}",
                headers={ADMIN_KEY_HEADER: key.get_secret_value()},
                throttled=True,
                json_answer=False,
            )
        except HubsRefused as exc:
            if exc.status == 401:
                raise HubsRequestFailed(
                    "the Hubs server refused the admin key (401): stock Hubs CE configures "
                    "none (RetWeb.Plugs.HeaderAuthorization); close rooms as their owner instead"
                ) from None
            if exc.status == 500:
                raise HubsRequestFailed(
                    "the Hubs server failed to close the room (500; it answers so for a "
                    "room it does not know)"
                ) from None
            raise

    async def send(
        self,
        method: str,
        path: str,
        *,
        throttled: bool,
        json_answer: bool = True,
        **kwargs: Any,
    ) -> Any:
        """One request to the Hubs server, its JSON answer (or ``None``).

        ``throttled`` calls wait for the process's pacer first and retry a 403
        ``Forbidden`` in a later window; a 429 (a proxy in front) is retried
        after a growing wait. Redirects are not followed: the admin key or
        API token must never reach another host, so a 3xx is a refusal.
        """
        endpoint = self.url + path
        throttle_tries = rate_tries = 0
        while True:
            if throttled:
                await self.pacer.turn()
            try:
                async with self._http().request(
                    method, endpoint, allow_redirects=False, **kwargs
                ) as resp:
                    if resp.status == 429:
                        rate_tries += 1
                        if rate_tries > RATE_LIMIT_RETRIES:
                            raise HubsThrottled(
                                f"rate limited by the Hubs server (429) after {rate_tries} tries"
                            )
                        await asyncio.sleep(_retry_wait(resp, self.pacer.interval_s, rate_tries))
                        continue
                    if resp.status >= 300:
                        detail = await _detail(resp)
                        if throttled and _is_throttle_refusal(resp.status, detail):
                            throttle_tries += 1
                            if throttle_tries > THROTTLE_RETRIES:
                                raise HubsThrottled(
                                    "throttled by the Hubs server (403 Forbidden) "
                                    f"{throttle_tries} times: another client at this address "
                                    "keeps calling its room API"
                                )
                            self.pacer.hold_off(self.pacer.interval_s)
                            continue
                        raise HubsRefused(resp.status, detail)
                    if not json_answer:
                        return None
                    try:
                        return await resp.json(content_type=None)
                    except ValueError:
                        raise HubsRequestFailed(
                            "the Hubs server answered with something not JSON"
                        ) from None
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise HubsRequestFailed(
                    f"the Hubs server at {self.url} is unreachable: {exc or type(exc).__name__}"
                ) from None


def _is_throttle_refusal(status: int, detail: str) -> bool:
    """PlugAttack's block action: ``send_resp(conn, :forbidden, "Forbidden\\n")``."""
    return status == 403 and detail.strip() == "Forbidden"


def _create_refusal(exc: HubsRefused) -> str:
    if exc.status == 422:
        return (
            "the Hubs server refused the room as invalid (422 invalid hub: a name over "
            "64 characters or a room size over its maximum, hubs.max_room_size?)"
        )
    if exc.status == 401:
        return (
            "the Hubs server does not let this bridge create rooms (401: room creation "
            "is limited to admins there; set HUBS_BRIDGE_HUBS__ACCOUNT_TOKEN of an admin "
            "account or HUBS_BRIDGE_HUBS__API_TOKEN)"
        )
    return str(exc)


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
    return float(min(max(interval_s, 0.05) * 2**attempt, MAX_RETRY_AFTER_S))
