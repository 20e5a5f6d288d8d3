"""The token GraphQL API of the Hubs server simulator (``/api/v2_alpha``).

graphql-core executes the SDL ``reticulum.graphql`` (transcribed from
Reticulum's Absinthe schema: ``lib/ret_web/schema.ex``,
``lib/ret_web/schema/room_types.ex``, ``scene_types.ex``,
``types/custom/json.ex``), so a query for a field Reticulum does not have
(``url``) or an argument of the wrong type fails validation as it does there.
The rest follows Reticulum:

- ``RetWeb.Plugs.RequirePublicApiAccess``: with ``public_api_access`` off (the
  default, ``features|public_api_access``) every request is 404 with an
  empty body. GraphQL is not throttled.
- ``RetWeb.ApiTokenAuthPipeline`` + ``RetWeb.AddAbsintheContext`` +
  ``RetWeb.Middleware.HandleApiTokenAuthErrors`` (``put_error_result``): no
  ``Authorization: Bearer`` header answers every field with
  ``type: api_access_token_not_found``; an unknown token with ``type:
  invalid_token`` ("Invalid token error. Could not find credentials."); a
  revoked one ``token_revoked``. HTTP 200, ``data`` null for the field.
- ``lib/ret/api/can_credentials.ex``: ``createRoom``/``updateRoom`` need the
  ``write_rooms`` scope, queries ``read_rooms``; otherwise the error message
  is ``invalid_credentials`` (``{:error, :invalid_credentials}``). An app
  token may update any room; an account token only its account's rooms.
- ``Ret.Api.Rooms.authed_create_room`` -> ``Hub.create_room``: an app token
  leaves the room without creator (``creatorAssignmentToken`` set), an
  account token makes its account the creator. ``sceneUrl`` on this host at
  ``/scenes/<sid>`` picks that scene, any other URL becomes
  ``defaultEnvironmentGltfBundleUrl`` (no listing). An invalid changeset gives
  one error per field, ``"<field>: <Ecto template>"``
  (``HandleChangesetErrors``) and ``data`` null.
- ``Ret.Api.Rooms.authed_update_room``: unknown id: ``"Cannot find room with
  id: <id>"``; success broadcasts ``hub_refresh`` with ``stale_fields`` = the
  changed keys to the room.
- ``Json`` takes only a JSON-encoded string as input (``decode/1``) and
  returns the stored value as is.

Error messages of GraphQL validation are graphql-core's (single quotes where
Absinthe writes double quotes).
"""

from __future__ import annotations

import json
import math
import secrets
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import graphql
from aiohttp import web
from graphql import GraphQLSchema, ValueNode

from hubs_bridge.hubs.sim_auth import SimAccount, parse_bearer
from hubs_bridge.hubs.sim_changeset import (
    BLANK,
    Changeset,
    cast,
    member_permissions_to_map,
    validate_hub_attrs,
)
from hubs_bridge.hubs.sim_state import DEFAULT_MEMBER_PERMISSIONS, SimHub, SimScene

if TYPE_CHECKING:
    from hubs_bridge.hubs.simulator import HubsSimulator

ENDPOINT = "/api/v2_alpha"
SDL_PATH = Path(__file__).with_name("reticulum.graphql")
NOT_FOUND = (
    "Failed to find api access token when searching for header "
    "'Authorization: Bearer <your_api_access_token>'"
)
Info = Any  # graphql.GraphQLResolveInfo (generic from graphql-core 3.3 on)
INVALID_TOKEN = "Invalid token error. Could not find credentials."
PAGE_SIZE = 20  # Ret.Repo: use Scrivener, page_size: 20
_ADJECTIVES = ("Handsome", "Joyful", "Quiet", "Gleaming", "Brave", "Tidy", "Lively", "Sunny")
_NOUNS = ("Meetup", "Gathering", "Picnic", "Conference", "Space", "Plaza", "Get-together")
_ATTRS = {"name": "string", "description": "string", "user_data": "map", "room_size": "integer"}


@dataclass(slots=True)
class ApiCredentials:
    """``Ret.Api.Credentials``: scopes, ``subject_type`` (app or account), revocation."""

    scopes: frozenset[str]
    account_id: str | None = None  # None: an app token
    revoked: bool = False


API_TOKENS: web.AppKey[dict[str, ApiCredentials]] = web.AppKey("hubs_simulator_api_tokens")
_SIM: web.AppKey[HubsSimulator] = web.AppKey("hubs_simulator_graphql")


def add_api_token(
    sim: HubsSimulator,
    token: str,
    scopes: tuple[str, ...] = ("read_rooms", "write_rooms"),
    account: str | SimAccount | None = None,
) -> None:
    """An admin makes an API token (admin panel, "API Access").

    ``account=None`` is an app token (``subject_type: :app``); an account (or
    its id) makes an account token acting as that account.
    """
    account_id = account.account_id if isinstance(account, SimAccount) else account
    sim.app[API_TOKENS][token] = ApiCredentials(frozenset(scopes), account_id)


def revoke_api_token(sim: HubsSimulator, token: str) -> None:
    sim.app[API_TOKENS][token].revoked = True


class ResolverError(Exception):
    """``{:error, ...}`` of a resolver: one answer error per message."""

    def __init__(self, messages: list[str], kind: str | None = None) -> None:
        super().__init__(messages[0])
        self.messages = messages
        self.kind = kind


@dataclass(slots=True)
class _Context:
    sim: HubsSimulator
    credentials: ApiCredentials | None
    auth_errors: list[tuple[str, str]] = field(default_factory=list)


def _authed(info: Info) -> ApiCredentials:
    """``HandleApiTokenAuthErrors``, run before every field's resolver."""
    ctx: _Context = info.context
    if ctx.auth_errors:
        kind, message = ctx.auth_errors[0]
        raise ResolverError([message], kind)
    if ctx.credentials is None:
        raise ResolverError([NOT_FOUND], "api_access_token_not_found")
    if ctx.credentials.revoked:
        raise ResolverError(["Token is revoked"], "token_revoked")
    return ctx.credentials


def _account(sim: HubsSimulator, credentials: ApiCredentials) -> SimAccount | None:
    return sim.accounts.get(credentials.account_id) if credentials.account_id else None


def _may(sim: HubsSimulator, credentials: ApiCredentials, scope: str, action: str,
         hub: SimHub | None = None) -> bool:  # fmt: skip
    """``Canada.Can`` for ``Ret.Api.Credentials`` (``lib/ret/api/can_credentials.ex``)."""
    if credentials.revoked or scope not in credentials.scopes:
        return False
    account = _account(sim, credentials)
    if credentials.account_id is None:  # can?(:reticulum_app_token, ...)
        if action == "embed_hub":
            return hub is not None and not hub.requires_oauth
        return action in ("create_hub", "update_hub", "get_public_rooms")
    if account is None:
        return False
    if action == "create_hub":
        return sim.may_create_hub(account)
    if action == "get_public_rooms":
        return True
    assert hub is not None
    return sim.perms(hub, account)[action]


def _snake(args: dict[str, Any]) -> dict[str, Any]:
    """Absinthe's adapter: the arguments under their snake_case names."""
    out: dict[str, Any] = {}
    for key, value in args.items():
        name = "".join("_" + c.lower() if c.isupper() else c for c in key)
        if name == "member_permissions" and isinstance(value, dict):
            value = _snake(value)
        out[name] = value
    return out


def _random_room_name(sim: HubsSimulator) -> str:
    """``Ret.RandomRoomNames.generate_room_name``."""
    rng = sim.rng
    return f"{rng.choice(_ADJECTIVES)} {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"


_NILIFY = object()


def _scene_change(sim: HubsSimulator, params: dict[str, Any], cs: Changeset) -> Any:
    """``Hub.scene_change_from_params``: None (unchanged), _NILIFY, a scene or a URL."""
    has_id, has_url = "scene_id" in params, "scene_url" in params
    scene_id, url = params.get("scene_id"), params.get("scene_url")
    if has_id and has_url:
        if scene_id is None and url is None:
            return _NILIFY
        cs.add_error("scene_id", "Cannot specify both scene_id and scene_url. "
                                 "Choose one or the other (or neither).")  # fmt: skip
        return None
    if (has_url and url is None) or (has_id and scene_id is None):
        return _NILIFY
    if has_url:
        url = str(url)
        parts = urlsplit(url)
        if parts.hostname == sim.endpoint_host and parts.path.startswith("/scenes/"):
            found = sim.scenes.get(parts.path.removeprefix("/scenes/").split("/")[0])
            if found is None:
                cs.add_error("scene_url", "Cannot find scene with url: " + url)
            return found
        return str(url)
    if has_id:
        scene_id = str(scene_id)
        found = sim.scenes.get(scene_id)
        if found is None:
            cs.add_error("scene_id", "Cannot find scene with id: " + scene_id)
        return found
    return None


def _apply_scene(hub: SimHub, change: Any, cs: Changeset) -> None:
    """``add_scene_changes`` on a valid changeset, recording the changed keys."""
    if change is None:
        return
    old_scene, old_url = hub.scene, hub.gltf_bundle_url
    if change is _NILIFY:
        hub.scene, hub.gltf_bundle_url = None, None
    elif isinstance(change, SimScene):
        hub.scene, hub.gltf_bundle_url = change, None
    else:
        hub.scene, hub.gltf_bundle_url = None, str(change)
    for kind in ("scene", "scene_listing"):
        before = old_scene if old_scene is not None and old_scene.kind == kind else None
        after = hub.scene if hub.scene is not None and hub.scene.kind == kind else None
        if before is not after:
            cs.changes[kind] = after
    if old_url != hub.gltf_bundle_url:
        cs.changes["default_environment_gltf_bundle_url"] = hub.gltf_bundle_url


def _check_url(change: Any, cs: Changeset) -> None:
    """``validate_required([:default_environment_gltf_bundle_url])`` of a URL change."""
    if isinstance(change, str) and change.strip() == "":
        cs.add_error("default_environment_gltf_bundle_url", BLANK)


def _create_room(info: Info, **args: Any) -> SimHub:
    """``createRoom`` -> ``authed_create_room`` -> ``Hub.create_room(params, account)``."""
    credentials = _authed(info)
    sim: HubsSimulator = info.context.sim
    if not _may(sim, credentials, "write_rooms", "create_hub"):
        raise ResolverError(["invalid_credentials"])
    params = _snake(args)
    permissions = dict(DEFAULT_MEMBER_PERMISSIONS)
    if params.get("member_permissions") is not None:
        permissions = member_permissions_to_map(params["member_permissions"]) or permissions
    merged = {"name": _random_room_name(sim), "room_size": sim.default_room_size, **params}
    cs = cast(Changeset({}), merged, _ATTRS)  # type: ignore[arg-type]
    change = _scene_change(sim, params, cs)
    _check_url(change, cs)
    if cs.get("room_size") is None and "room_size" not in cs.errors:
        cs.add_error("room_size", BLANK)  # validate_required(@required_keys)
    validate_hub_attrs(cs, max_room_size=sim.max_room_size)
    if not cs.valid:
        raise ResolverError(cs.messages())
    hub = sim.new_hub(str(cs.changes["name"]), member_permissions=permissions)
    for key, value in cs.changes.items():
        setattr(hub, key, value)
    _apply_scene(hub, change, cs)
    account = _account(sim, credentials)
    if account is not None:  # Hub.add_account_to_changeset
        hub.creator_account_id = account.account_id
        hub.creator_assignment_token = None
    return hub


def _update_room(info: Info, **args: Any) -> SimHub:
    """``updateRoom`` -> ``authed_update_room``: changes, then ``hub_refresh`` to the room."""
    credentials = _authed(info)
    sim: HubsSimulator = info.context.sim
    hub_id = args["id"]
    room = sim.rooms.get(hub_id)
    if room is None:
        raise ResolverError(["Cannot find room with id: " + hub_id])
    hub = room.hub
    if not _may(sim, credentials, "write_rooms", "update_hub", hub):
        raise ResolverError(["invalid_credentials"])
    params = _snake({k: v for k, v in args.items() if k != "id"})
    data = {"name": hub.name, "description": hub.description, "user_data": hub.user_data,
            "room_size": hub.room_size}  # fmt: skip
    cs = cast(Changeset(data), params, _ATTRS)  # type: ignore[arg-type]
    validate_hub_attrs(cs, max_room_size=sim.max_room_size)
    permissions = None
    if params.get("member_permissions") is not None:  # maybe_add_member_permissions: merged
        permissions = member_permissions_to_map(
            {**hub.member_permissions, **params["member_permissions"]}
        )
    change = _scene_change(sim, params, cs)
    _check_url(change, cs)
    if not cs.valid:
        raise ResolverError(cs.messages())
    for key, value in cs.changes.items():
        setattr(hub, key, sim.default_room_size if key == "room_size" and value is None else value)
    if permissions is not None and permissions != hub.member_permissions:
        hub.member_permissions = permissions
        cs.changes["member_permissions"] = permissions
    _apply_scene(hub, change, cs)
    account = _account(sim, credentials)
    embeddable = not hub.requires_oauth if account is None else sim.perms(hub, account)["embed_hub"]
    sim.channels.broadcast_hub_refresh_from_api(room, embeddable, sorted(cs.changes))
    return hub


def _page(hubs: list[SimHub], args: dict[str, Any]) -> dict[str, Any]:
    """``Repo.paginate`` (Scrivener): page 1 and 20 entries unless asked."""
    page = max(1, args.get("page") or 1)
    size = max(1, args.get("pageSize") or PAGE_SIZE)
    total = len(hubs)
    return {
        "totalEntries": total,
        "totalPages": max(1, math.ceil(total / size)),
        "pageNumber": page,
        "pageSize": size,
        "entries": hubs[(page - 1) * size : page * size],
    }


def _open(sim: HubsSimulator) -> list[SimHub]:
    hubs = [h for h in sim.hubs.values() if h.entry_mode in ("allow", "invite")]
    return sorted(hubs, key=lambda h: -h.created_seq)  # order_by: [desc: :inserted_at]


def _my_rooms(info: Info, **args: Any) -> dict[str, Any]:
    credentials = _authed(info)
    sim: HubsSimulator = info.context.sim
    if credentials.account_id is None:
        raise ResolverError(["Not implemented for app tokens"], "not_implemented")
    if "read_rooms" not in credentials.scopes or _account(sim, credentials) is None:
        raise ResolverError(["invalid_credentials"])
    mine = [h for h in _open(sim) if h.creator_account_id == credentials.account_id]
    return _page(mine, args)


def _favorite_rooms(info: Info, **args: Any) -> dict[str, Any]:
    credentials = _authed(info)
    if credentials.account_id is None:
        raise ResolverError(["Not implemented for app tokens"], "not_implemented")
    if "read_rooms" not in credentials.scopes:
        raise ResolverError(["invalid_credentials"])
    return _page([], args)  # favourites are not simulated


def _public_rooms(info: Info, **args: Any) -> dict[str, Any]:
    credentials = _authed(info)
    sim: HubsSimulator = info.context.sim
    if not _may(sim, credentials, "read_rooms", "get_public_rooms"):
        raise ResolverError(["invalid_credentials"])
    return _page([h for h in _open(sim) if h.allow_promotion], args)


def _embed_token(hub: SimHub, info: Info) -> str | None:
    """``authed_get_embed_token``: the token when the credentials may embed, else null."""
    ctx: _Context = info.context
    if ctx.credentials is None:
        return None
    may = _may(ctx.sim, ctx.credentials, "read_rooms", "embed_hub", hub)
    return hub.embed_token if may else None


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


_ROOM_FIELDS: dict[str, Any] = {
    "id": lambda hub, info: hub.hub_id,
    "name": lambda hub, info: hub.name,
    "slug": lambda hub, info: hub.slug,
    "description": lambda hub, info: hub.description,
    "allowPromotion": lambda hub, info: hub.allow_promotion,
    "entryCode": lambda hub, info: "000000",  # RoomResolver.entry_code
    "entryMode": lambda hub, info: hub.entry_mode,
    "host": lambda hub, info: info.context.sim.host,
    "port": lambda hub, info: info.context.sim.janus_port,  # Hub.janus_port
    "turn": lambda hub, info: {"enabled": False},  # Hub.generate_turn_info without coturn
    "embedToken": _embed_token,
    "creatorAssignmentToken": lambda hub, info: hub.creator_assignment_token,
    "memberPermissions": lambda hub, info: {
        _camel(k): v for k, v in hub.member_permissions.items()
    },
    "roomSize": lambda hub, info: hub.room_size,
    "memberCount": lambda hub, info: info.context.sim.room(hub.hub_id).counts()[0],
    "lobbyCount": lambda hub, info: info.context.sim.room(hub.hub_id).counts()[1],
    "scene": lambda hub, info: hub.scene,
    "defaultEnvironmentGltfBundleUrl": lambda hub, info: hub.gltf_bundle_url,
    "userData": lambda hub, info: hub.user_data,
}


def _parse_json_value(value: Any) -> Any:
    """``RetWeb.Schema.Types.Custom.JSON.decode``: only a string holding JSON."""
    if not isinstance(value, str):
        raise TypeError("Json takes a JSON-encoded string")
    return json.loads(value)


def _parse_json_literal(node: ValueNode, _variables: Any = None) -> Any:
    if isinstance(node, graphql.NullValueNode):
        return None
    if isinstance(node, graphql.StringValueNode):
        return json.loads(node.value)
    raise TypeError("Json takes a JSON-encoded string")


@cache
def schema() -> GraphQLSchema:
    """The executable schema: ``reticulum.graphql`` with the simulator's resolvers."""
    built = graphql.build_schema(SDL_PATH.read_text(encoding="utf-8"))
    json_type = built.type_map["Json"]
    assert isinstance(json_type, graphql.GraphQLScalarType)
    json_type.serialize = lambda value: value  # type: ignore[method-assign]
    json_type.parse_value = _parse_json_value  # type: ignore[method-assign]
    json_type.parse_literal = _parse_json_literal  # type: ignore[method-assign,assignment]
    union = built.type_map["SceneOrSceneListing"]
    assert isinstance(union, graphql.GraphQLUnionType)
    union.resolve_type = lambda obj, info, type_: (
        "Scene" if isinstance(obj, SimScene) and obj.kind == "scene" else "SceneListing"
    )
    for type_name in ("Scene", "SceneListing"):
        scene_type = built.type_map[type_name]
        assert isinstance(scene_type, graphql.GraphQLObjectType)
        scene_type.fields["id"].resolve = lambda scene, info: scene.scene_id
        scene_type.fields["name"].resolve = lambda scene, info: scene.name
    room = built.type_map["Room"]
    assert isinstance(room, graphql.GraphQLObjectType)
    for name, resolve in _ROOM_FIELDS.items():
        room.fields[name].resolve = resolve
    roots: dict[str, dict[str, Any]] = {
        "RootMutationType": {"createRoom": _create_room, "updateRoom": _update_room},
        "RootQueryType": {"myRooms": _my_rooms, "publicRooms": _public_rooms,
                          "favoriteRooms": _favorite_rooms},
    }  # fmt: skip
    for root_name, resolvers in roots.items():
        root = built.type_map[root_name]
        assert isinstance(root, graphql.GraphQLObjectType)
        for name, resolver in resolvers.items():
            root.fields[name].resolve = _root(resolver)
    return built


def _root(resolver: Any) -> Any:
    def resolve(_root_value: Any, info: Info, **args: Any) -> Any:
        return resolver(info, **args)

    return resolve


def _format(error: graphql.GraphQLError) -> list[dict[str, Any]]:
    """An Absinthe error: ``message``, ``locations``, ``path`` and the resolver's ``type``."""
    base: dict[str, Any] = {"message": error.message}
    if error.locations:
        base["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        base["path"] = list(error.path)
    original = error.original_error
    if not isinstance(original, ResolverError):
        return [base]
    out = []
    for message in original.messages:
        entry = {**base, "message": message}
        if original.kind is not None:
            entry["type"] = original.kind
        out.append(entry)
    return out


async def _graphql(request: web.Request) -> web.Response:
    """``/api/v2_alpha``: ``RequirePublicApiAccess``, the token context, ``Absinthe.Plug``."""
    sim = request.app[_SIM]
    if not sim.public_api_access:
        return web.Response(status=404, body=b"")
    body: Any = {}
    if request.method == "POST" and request.can_read_body:
        try:
            body = json.loads(await request.read() or b"{}")
        except ValueError:
            return web.Response(status=400, text="Bad Request", content_type="text/plain")
    if not isinstance(body, dict):
        body = {}
    query = body.get("query", request.query.get("query"))
    if not isinstance(query, str) or not query.strip():
        return web.Response(status=400, text="No query document supplied",
                            content_type="text/plain")  # fmt: skip
    variables = body.get("variables")
    if isinstance(variables, str):
        variables = json.loads(variables) if variables else None
    token = parse_bearer(request.headers.get("Authorization", ""))
    ctx = _Context(sim, None)
    if token is not None:
        credentials = request.app[API_TOKENS].get(token)
        if credentials is None:  # TokenModule.decode_token: {:error, :invalid_token}
            ctx.auth_errors.append(("invalid_token", INVALID_TOKEN))
        ctx.credentials = credentials
    result = await graphql.graphql(
        schema(),
        query,
        context_value=ctx,
        variable_values=variables if isinstance(variables, dict) else None,
        operation_name=body.get("operationName"),
    )
    answer: dict[str, Any] = {}
    if result.data is not None or result.errors is None:
        answer["data"] = result.data
    if result.errors:
        answer["errors"] = [entry for error in result.errors for entry in _format(error)]
    return web.json_response(answer)


def add_graphql_routes(app: web.Application, sim: HubsSimulator) -> None:
    app[API_TOKENS] = {}
    app[_SIM] = sim
    for path in (ENDPOINT, ENDPOINT + "/"):
        app.router.add_post(path, _graphql)
        app.router.add_get(path, _graphql)


def new_api_token() -> str:
    return secrets.token_urlsafe(24)
