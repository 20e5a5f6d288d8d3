"""HTTP side of the Hubs server simulator: ``/api/v1/meta`` and ``/api/v1/hubs``.

- ``GET /api/v1/meta`` is ``Ret.Meta`` (``lib/ret/meta.ex`` ``base_meta``):
  ``phx_host`` the host (the request's), ``phx_port`` the endpoint's internal
  https port as a string (``"4000"`` on CE: the ``phx_port`` option), never
  the port clients reach the socket on.
- ``/api/v1/hubs`` is ``RetWeb.Api.V1.HubController``
  (``lib/ret_web/controllers/api/v1/hub_controller.ex``) behind the router's
  pipelines (``lib/ret_web/router.ex``): ``POST`` and ``DELETE`` under
  ``auth_optional`` (a bearer token that is not a valid account token: 401
  ``{"error": "invalid_token"}``), ``PATCH`` under ``auth_required`` (no
  token: 401 ``{"error": "unauthenticated"}``), both from
  ``RetWeb.Guardian.AuthErrorHandler``. Then every action passes
  ``RetWeb.Plugs.RateLimit`` (:mod:`hubs_bridge.hubs.sim_throttle`: 403
  ``Forbidden\\n``), ``DELETE`` then ``RetWeb.Plugs.HeaderAuthorization``.
  Crashes of the controller (a missing ``"hub"`` is Phoenix's
  ``ActionClauseError``: 400; a function clause that does not match: 500) are
  answered with their status.

The token GraphQL API (``/api/v2_alpha``) is in :mod:`hubs_bridge.hubs.sim_graphql`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from hubs_bridge.hubs.sim_auth import SimAccount, parse_bearer
from hubs_bridge.hubs.sim_changeset import (
    Changeset,
    cast,
    hub_attrs_changeset,
    member_permissions_to_map,
)
from hubs_bridge.hubs.sim_channel import apply_attrs
from hubs_bridge.hubs.sim_graphql import add_graphql_routes

if TYPE_CHECKING:
    from hubs_bridge.hubs.simulator import HubsSimulator

ADMIN_KEY_HEADER = "x-ret-admin-access-key"
SIM_KEY: web.AppKey[HubsSimulator] = web.AppKey("hubs_simulator")


class _Halt(Exception):
    """A plug halted the request with this response."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def _text(status: int, text: str) -> web.Response:
    """``send_resp(conn, status, text)``."""
    return web.Response(status=status, text=text, content_type="text/plain")


def _auth_error(kind: str) -> web.Response:
    """``RetWeb.Guardian.AuthErrorHandler``: 401 ``Poison.encode!(%{error: type})``."""
    return web.Response(status=401, text=json.dumps({"error": kind}, separators=(",", ":")))


def bearer_token(request: web.Request) -> str | None:
    """``Guardian.Plug.VerifyHeader, scheme: "Bearer"``: the token after ``Bearer`` (any case)."""
    return parse_bearer(request.headers.get("Authorization", ""))


def _account(request: web.Request, *, required: bool) -> SimAccount | None:
    """``AuthOptionalPipeline`` / ``AuthPipeline`` (``lib/ret_web/auth_*pipeline.ex``)."""
    sim = request.app[SIM_KEY]
    token = bearer_token(request)
    if token is None:
        if required:  # Guardian.Plug.EnsureAuthenticated
            raise _Halt(_auth_error("unauthenticated"))
        return None
    account = sim.account_for_token(token)
    if account is None:
        raise _Halt(_auth_error("invalid_token"))
    return account


def _rate_limit(request: web.Request) -> None:
    """``plug RetWeb.Plugs.RateLimit`` of ``HubController``: 403 ``Forbidden\\n``."""
    sim = request.app[SIM_KEY]
    if not sim.throttle.allow(request.remote or "?"):
        raise _Halt(_text(403, "Forbidden\n"))


async def _params(request: web.Request) -> dict[str, Any]:
    """``Plug.Parsers`` (400 on bad JSON) and the ``%{"hub" => _}`` match (400)."""
    raw = await request.read()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise _Halt(_text(400, "Bad Request")) from None
    if not isinstance(body, dict) or "hub" not in body:
        raise _Halt(_text(400, "Bad Request"))  # Phoenix.ActionClauseError
    return body


async def _meta(request: web.Request) -> web.Response:
    """``Ret.Meta.base_meta``: ``{version, phx_host, phx_port, pool}``."""
    sim = request.app[SIM_KEY]
    return web.json_response(
        {
            "version": sim.version,
            "phx_host": request.url.host or sim.host,
            "phx_port": str(sim.phx_port),
            "pool": "hubs",
        }
    )


async def _create(request: web.Request) -> web.Response:
    """``HubController.create``: ``Hub.create_new_room(params["hub"], false)`` + ``exec_create``."""
    sim = request.app[SIM_KEY]
    sim.room_api_calls.append("POST")
    try:
        account = _account(request, required=False)
        _rate_limit(request)
        params = (await _params(request))["hub"]
    except _Halt as halt:
        return halt.response
    if not isinstance(params, dict) or "name" not in params:
        return _text(500, "Internal Server Error")  # create_new_room(%{"name" => _}, false)
    # get_scene_or_scene_listing: no "scene_id" -> a random default listing
    scene_id = params.get("scene_id")
    if scene_id is None:
        scene = sim.random_default_listing()
    else:
        scene = sim.scenes.get(scene_id) if isinstance(scene_id, str) else None
    # changeset(nil): cast default_environment_gltf_bundle_url, add_attrs_to_changeset
    bundle = cast(Changeset({}), params, {"default_environment_gltf_bundle_url": "string"})
    cs = hub_attrs_changeset({}, params, max_room_size=sim.max_room_size)
    cs.errors.update(bundle.errors)
    if not sim.may_create_hub(account):
        return _text(401, "unauthorized")
    if not cs.valid:
        return _text(422, "invalid hub")
    hub = sim.new_hub(str(cs.changes["name"]), scene=scene)
    apply_attrs(hub, cs, default_room_size=sim.default_room_size)
    hub.gltf_bundle_url = bundle.changes.get("default_environment_gltf_bundle_url")
    if account is not None:  # Hub.add_account_to_changeset
        hub.creator_account_id = account.account_id
        hub.creator_assignment_token = None
    return web.json_response(
        {
            "status": "ok",
            "hub_id": hub.hub_id,
            "url": sim.hub_url(hub),
            "creator_assignment_token": hub.creator_assignment_token,
            "embed_token": hub.embed_token,
        }
    )


async def _patch(request: web.Request) -> web.Response:
    """``HubController.update``: owners only; tells nobody in the room."""
    sim = request.app[SIM_KEY]
    sim.room_api_calls.append("PATCH")
    try:
        account = _account(request, required=True)
        _rate_limit(request)
        params = (await _params(request))["hub"]
    except _Halt as halt:
        return halt.response
    room = sim.rooms.get(request.match_info["hub_id"])
    if room is None:
        return _text(404, "not found")
    hub = room.hub
    if not sim.perms(hub, account)["update_hub"]:
        return _text(401, "You cannot update this hub")
    if not isinstance(params, dict):
        return _text(500, "Internal Server Error")
    scene = None
    if params.get("scene_id") is not None:
        scene = sim.scenes.get(params["scene_id"]) if isinstance(params["scene_id"], str) else None
        if scene is None:
            return _text(422, "scene not found")
    data = {"name": hub.name, "description": hub.description, "user_data": hub.user_data,
            "room_size": hub.room_size}  # fmt: skip
    cs = hub_attrs_changeset(data, params, max_room_size=sim.max_room_size)
    permissions = None
    if "member_permissions" in params:  # maybe_add_member_permissions: merged, then to int
        given = params["member_permissions"]
        if not isinstance(given, dict):
            return _text(500, "Internal Server Error")
        permissions = member_permissions_to_map({**hub.member_permissions, **given})
        if permissions is None:
            return _text(500, "Internal Server Error")  # ArgumentError: Invalid permission
    if not cs.valid:  # Repo.update! raises Ecto.InvalidChangesetError (phoenix_ecto: 422)
        return _text(422, "Unprocessable Entity")
    apply_attrs(hub, cs, default_room_size=sim.default_room_size)
    if scene is not None:
        hub.scene = scene
    if permissions is not None:
        hub.member_permissions = permissions
    if "allow_promotion" in params and sim.perms(hub, account)["update_hub_promotion"]:
        hub.allow_promotion = bool(params.get("allow_promotion") or False)
    embeddable = sim.perms(hub, account)["embed_hub"]
    return web.json_response(sim.refresh_payload(hub, embeddable))


async def _delete(request: web.Request) -> web.Response:
    """``HubController.delete`` behind ``HeaderAuthorization``: deny, tell nobody."""
    sim = request.app[SIM_KEY]
    sim.room_api_calls.append("DELETE")
    try:
        _account(request, required=False)
        _rate_limit(request)
    except _Halt as halt:
        return halt.response
    # plugs/header_authorization.ex: exactly one header equal to header_value;
    # CE configures no header_value, so nothing matches.
    values = request.headers.getall(ADMIN_KEY_HEADER, [])
    if sim.admin_key is None or values != [sim.admin_key]:
        return web.Response(status=401, body=b"")
    room = sim.rooms.get(request.match_info["hub_id"])
    if room is None:  # changeset_for_entry_mode(nil, :deny): FunctionClauseError
        return _text(500, "Internal Server Error")
    room.hub.entry_mode = "deny"
    return _text(200, "OK")


def add_http_routes(app: web.Application, sim: HubsSimulator) -> None:
    """Mount ``/api/v1/meta``, ``/api/v1/hubs`` and the GraphQL API on the simulator's app."""
    app[SIM_KEY] = sim
    app.router.add_get("/api/v1/meta", _meta)
    app.router.add_post("/api/v1/hubs", _create)
    app.router.add_patch("/api/v1/hubs/{hub_id}", _patch)
    app.router.add_put("/api/v1/hubs/{hub_id}", _patch)
    app.router.add_delete("/api/v1/hubs/{hub_id}", _delete)
    add_graphql_routes(app, sim)
