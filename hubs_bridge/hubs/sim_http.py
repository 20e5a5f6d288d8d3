"""HTTP side of the Hubs server simulator (PROTOCOL.md §1 meta, §5 rooms).

- ``GET /api/v1/meta`` -> ``{version, phx_host, phx_port, pool}`` pointing at itself;
- ``POST /api/v1/hubs`` creates a room; 1 request per ``create_interval_s``
  per client IP, else 429 with a JSON error;
- ``PATCH /api/v1/hubs/<hub_id>`` stores changes and tells nobody in the room;
- ``DELETE /api/v1/hubs/<hub_id>`` needs ``x-ret-admin-access-key`` and sets
  entry mode deny silently (a closed room cannot be reopened).

Authentication of ``POST``/``PATCH`` (bearer account tokens) is not simulated.
The token GraphQL API (``/api/v2_alpha``) is in ``sim_graphql.py``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from hubs_bridge.hubs.sim_graphql import add_graphql_routes
from hubs_bridge.hubs.sim_state import MAX_ROOM_SIZE, SimScene

if TYPE_CHECKING:
    from hubs_bridge.hubs.simulator import HubsSimulator

ADMIN_KEY_HEADER = "x-ret-admin-access-key"
SIM_KEY: web.AppKey[HubsSimulator] = web.AppKey("hubs_simulator")
_LAST_CREATE: web.AppKey[dict[str, float]] = web.AppKey("hubs_simulator_last_create")


def _error(status: int, reason: str, message: str) -> web.Response:
    return web.json_response({"error": reason, "message": message}, status=status)


async def _hub_params(request: web.Request) -> dict[str, Any] | web.Response:
    try:
        body = await request.json()
    except ValueError:
        return _error(400, "bad_request", "body is not JSON")
    hub = body.get("hub") if isinstance(body, dict) else None
    if not isinstance(hub, dict):
        return _error(400, "bad_request", 'body must be {"hub": {...}}')
    room_size = hub.get("room_size")
    if room_size is not None and (
        not isinstance(room_size, int) or isinstance(room_size, bool) or room_size < 0
    ):
        return _error(422, "invalid", "room_size must be a non-negative integer")
    for key in ("name", "description", "scene_id", "default_environment_gltf_bundle_url"):
        if hub.get(key) is not None and not isinstance(hub[key], str):
            return _error(422, "invalid", f"{key} must be a string")
    if hub.get("user_data") is not None and not isinstance(hub["user_data"], dict):
        return _error(422, "invalid", "user_data must be an object")
    return hub


async def _meta(request: web.Request) -> web.Response:
    sim = request.app[SIM_KEY]
    return web.json_response(
        {
            "version": sim.version,
            "phx_host": request.url.host or sim.host,
            "phx_port": str(sim.port),
            "pool": "hubs",
        }
    )


async def _create(request: web.Request) -> web.Response:
    sim = request.app[SIM_KEY]
    last = request.app[_LAST_CREATE]
    ip = request.remote or "?"
    now = time.monotonic()
    if ip in last and now - last[ip] < sim.create_interval_s:
        return _error(429, "too_many_requests", "at most 1 room per second per address")
    last[ip] = now
    hub = await _hub_params(request)
    if isinstance(hub, web.Response):
        return hub
    name, scene_id = hub.get("name"), hub.get("scene_id")
    bundle = hub.get("default_environment_gltf_bundle_url")
    if not name:
        return _error(422, "invalid", "name is required")
    if not scene_id and not bundle:
        return _error(422, "invalid", "scene_id or default_environment_gltf_bundle_url needed")
    created = sim.create_hub(
        name,
        scene_id=scene_id or None,
        scene_url=bundle,
        description=hub.get("description"),
        room_size=min(hub.get("room_size") or 24, MAX_ROOM_SIZE),
        user_data=hub.get("user_data"),
    )
    return web.json_response(
        {
            "status": "ok",
            "hub_id": created.hub_id,
            "url": f"{sim.base_url}/{created.hub_id}/{created.slug}",
            "creator_assignment_token": created.creator_assignment_token,
            "embed_token": created.embed_token,
        }
    )


async def _patch(request: web.Request) -> web.Response:
    sim = request.app[SIM_KEY]
    hub_id = request.match_info["hub_id"]
    if hub_id not in sim.hubs:
        return _error(404, "not_found", "No such Hub")
    params = await _hub_params(request)
    if isinstance(params, web.Response):
        return params
    hub = sim.hubs[hub_id]
    for key in ("name", "description", "user_data", "allow_promotion"):
        if key in params and params[key] is not None:
            setattr(hub, key, params[key])
    if params.get("room_size") is not None:
        hub.room_size = min(params["room_size"], MAX_ROOM_SIZE)
    if isinstance(params.get("member_permissions"), dict):
        hub.member_permissions.update({k: bool(v) for k, v in params["member_permissions"].items()})
    if params.get("scene_id"):
        scene_id = params["scene_id"]
        hub.scene = SimScene(scene_id, scene_id, f"{sim.base_url}/scenes/{scene_id}.glb")
        hub.gltf_bundle_url = None
    elif params.get("default_environment_gltf_bundle_url"):
        hub.scene = None
        hub.gltf_bundle_url = params["default_environment_gltf_bundle_url"]
    # §5: PATCH does NOT tell people already in the room.
    return web.json_response({"hubs": [sim.hub_wire(hub_id)]})


async def _delete(request: web.Request) -> web.Response:
    sim = request.app[SIM_KEY]
    key = request.headers.get(ADMIN_KEY_HEADER)
    if sim.admin_key is None or key != sim.admin_key:
        return _error(401, "unauthorized", f"{ADMIN_KEY_HEADER} missing or wrong")
    hub_id = request.match_info["hub_id"]
    if hub_id not in sim.hubs:
        return _error(404, "not_found", "No such Hub")
    sim.hubs[hub_id].entry_mode = "deny"  # silently (§5)
    return web.json_response({"status": "ok"})


def add_http_routes(app: web.Application, sim: HubsSimulator) -> None:
    """Mount the §5 routes and ``/api/v1/meta`` on the simulator's app."""
    app[SIM_KEY] = sim
    app[_LAST_CREATE] = {}
    app.router.add_get("/api/v1/meta", _meta)
    app.router.add_post("/api/v1/hubs", _create)
    app.router.add_patch("/api/v1/hubs/{hub_id}", _patch)
    app.router.add_delete("/api/v1/hubs/{hub_id}", _delete)
    add_graphql_routes(app)
