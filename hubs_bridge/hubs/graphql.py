"""Creating rooms with Reticulum's token GraphQL API (PROTOCOL.md §5): the documents and answers.

When the server has ``features|public_api_access`` on (off by default; else
``RetWeb.Plugs.RequirePublicApiAccess`` answers 404), an admin makes API
tokens with scopes (``write_rooms`` creates rooms). Requests go to
``/api/v2_alpha`` with ``Authorization: Bearer <token>``; they are not
throttled (the router's ``:graphql`` pipeline has no ``RateLimit``).

What the schema has (``lib/ret_web/schema/room_types.ex``, transcribed in
``hubs_bridge/hubs/reticulum.graphql`` and checked by a test): ``createRoom``
takes ``name, description, roomSize, sceneId, sceneUrl, memberPermissions,
userData``; the ``Room`` type has ``id`` and ``creatorAssignmentToken`` but
**no** ``url``: the link is built from the server URL and the id.

Errors come in the body of a 200 answer (``{"data": {"createRoom": null},
"errors": [{"message", "type"?}]}``), a missing or wrong token too
(``RetWeb.Middleware.HandleApiTokenAuthErrors``: type
``api_access_token_not_found``, ``token_revoked``...); a token without the
scope gets ``invalid_credentials`` (``Ret.Api.Rooms.authed_create_room``).
This module does no I/O: ``rooms_api.HubsApi`` sends what it builds.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from hubs_bridge.hubs.room_specs import HubSpec, HubsRequestFailed, NewHub, room_url

ENDPOINT = "/api/v2_alpha"
CREATE_ROOM = """
mutation CreateRoom($name: String!, $roomSize: Int, $sceneUrl: String) {
  createRoom(name: $name, roomSize: $roomSize, sceneUrl: $sceneUrl) {
    id
    creatorAssignmentToken
  }
}
""".strip()
# Every document the bridge sends, for the schema test.
DOCUMENTS = (CREATE_ROOM,)
_TOKEN_ERRORS = frozenset({"api_access_token_not_found", "token_revoked", "invalid_token"})


class _Room(BaseModel):
    id: str
    creatorAssignmentToken: str | None = None  # the GraphQL field's name


class _Error(BaseModel):
    message: str = "unknown error"
    type: str | None = None


class _Data(BaseModel):
    createRoom: _Room | None = None


class _Answer(BaseModel):
    data: _Data | None = None
    errors: list[_Error] = []


def create_room_body(spec: HubSpec) -> dict[str, Any]:
    """The request body of ``createRoom`` with the room's name, size and scene URL."""
    variables = {"name": spec.name, "roomSize": spec.room_size, "sceneUrl": spec.scene_url}
    return {"query": CREATE_ROOM, "variables": variables}


def read_created_room(raw: Any, hubs_url: str) -> NewHub:
    """The new room from a ``createRoom`` answer; :class:`HubsRequestFailed` for errors."""
    try:
        answer = _Answer.model_validate(raw)
    except ValidationError:
        raise HubsRequestFailed("the Hubs server's GraphQL answer has an unknown shape") from None
    if answer.errors:
        first = answer.errors[0]
        if first.type in _TOKEN_ERRORS:
            raise HubsRequestFailed(
                f"the Hubs server refused the API token ({first.type}); "
                "check HUBS_BRIDGE_HUBS__API_TOKEN"
            )
        if "invalid_credentials" in first.message:
            raise HubsRequestFailed(
                "the Hubs server refused createRoom for this API token (invalid_credentials: "
                "it needs the write_rooms scope)"
            )
        kind = f" ({first.type})" if first.type else ""
        raise HubsRequestFailed(f"the Hubs server refused createRoom{kind}: {first.message[:200]}")
    room = answer.data.createRoom if answer.data is not None else None
    if room is None or not room.id:
        raise HubsRequestFailed("the Hubs server's createRoom answer has no room")
    # sceneUrl on another host becomes the room's own scene URL (Hub.create_room,
    # scene_change_from_params): no default listing is attached on this path.
    return NewHub(room.id, room_url(hubs_url, room.id), creator_token=room.creatorAssignmentToken)
