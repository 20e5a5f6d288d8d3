"""Creating rooms with Reticulum's token GraphQL API (PROTOCOL.md §5).

When the server enables ``public_api_access``, an admin makes API tokens with
scopes (``write_rooms`` is the one creating rooms needs). Requests go to
``/api/v2_alpha`` with ``Authorization: Bearer <token>``. Unlike
``POST /api/v1/hubs`` the room is created by the token's account, and the
scene, size and name are set in the same mutation.

GraphQL reports most failures in the body of a 200 answer
(``{"data": {"createRoom": null}, "errors": [{"message", "type"?}]}``); a
missing or wrong token is refused before that, with 401.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from pydantic import BaseModel, ValidationError

from hubs_bridge.hubs.rooms_api import HubSpec, HubsRefused, HubsRequestFailed, NewHub, send
from hubs_bridge.settings import HubsSettings

ENDPOINT = "/api/v2_alpha"
CREATE_ROOM = """
mutation CreateRoom($name: String!, $roomSize: Int, $sceneUrl: String) {
  createRoom(name: $name, roomSize: $roomSize, sceneUrl: $sceneUrl) {
    id
    name
    url
  }
}
""".strip()


class _Room(BaseModel):
    id: str
    url: str | None = None


class _Error(BaseModel):
    message: str = "unknown error"
    type: str | None = None


class _Data(BaseModel):
    createRoom: _Room | None = None  # the GraphQL field's name


class _Answer(BaseModel):
    data: _Data | None = None
    errors: list[_Error] = []


async def create_room(
    session: aiohttp.ClientSession,
    hubs_url: str,
    token: str,
    spec: HubSpec,
    settings: HubsSettings,
) -> NewHub:
    """``createRoom`` with the room's name, size and scene URL; its id and URL."""
    variables: dict[str, Any] = {
        "name": spec.name,
        "roomSize": spec.room_size,
        "sceneUrl": spec.scene_url,
    }
    try:
        raw = await send(
            session,
            "POST",
            hubs_url + ENDPOINT,
            hubs_url,
            settings.create_interval_s,
            json={"query": CREATE_ROOM, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
    except HubsRefused as exc:
        if exc.status in (401, 403):
            raise HubsRequestFailed(
                f"the Hubs server refused the API token ({exc.status}); "
                "check HUBS_BRIDGE_HUBS__API_TOKEN and its write_rooms scope"
            ) from None
        if exc.status == 404:
            raise HubsRequestFailed(
                "the Hubs server has no token API (public_api_access off?); "
                "unset HUBS_BRIDGE_HUBS__API_TOKEN to create rooms without it"
            ) from None
        raise
    try:
        answer = _Answer.model_validate(raw)
    except ValidationError:
        raise HubsRequestFailed("the Hubs server's GraphQL answer has an unknown shape") from None
    if answer.errors:
        first = answer.errors[0]
        kind = f" ({first.type})" if first.type else ""
        raise HubsRequestFailed(f"the Hubs server refused createRoom{kind}: {first.message}")
    room = answer.data.createRoom if answer.data is not None else None
    if room is None or not room.id:
        raise HubsRequestFailed("the Hubs server's createRoom answer has no room")
    # The room's address is <server>/<hub_sid> (the slug after it is optional).
    return NewHub(room.id, room.url or f"{hubs_url}/{room.id}")
