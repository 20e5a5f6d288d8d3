"""The token GraphQL API of the Hubs server simulator (PROTOCOL.md §5).

``POST /api/v2_alpha`` with ``Authorization: Bearer <token>`` and a JSON body
``{"query", "variables"?}``. Tokens are registered with
:func:`add_api_token` and carry scopes (``read_rooms``, ``write_rooms``).
A missing or unknown token is refused with 401 before GraphQL runs; every
other failure is a 200 answer with ``errors`` beside ``data``, as GraphQL
servers do. Mutations: ``createRoom`` and ``updateRoom`` (which, unlike
``PATCH``, pushes ``hub_refresh`` to the people in the room).

The parser understands the part of GraphQL a client of this API sends: one
operation, variables, arguments (literals, variables, input objects) and a
flat selection of fields; no fragments or directives.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from hubs_bridge.hubs.sim_state import HUB_REFRESH, MAX_ROOM_SIZE, SimHub, SimScene

if TYPE_CHECKING:
    from hubs_bridge.hubs.simulator import HubsSimulator

ENDPOINT = "/api/v2_alpha"
API_TOKENS: web.AppKey[dict[str, frozenset[str]]] = web.AppKey("hubs_simulator_api_tokens")
_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<num>-?\d+(?:\.\d+)?)|(?P<var>\$[_A-Za-z]\w*)'
    r"|(?P<name>[_A-Za-z]\w*)|(?P<punct>[{}()\[\]:!=,])|(?P<comment>#[^\n]*))"
)


class GraphQLError(Exception):
    """An error reported in the answer's ``errors``."""

    def __init__(self, message: str, kind: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind


def add_api_token(
    sim: HubsSimulator, token: str, scopes: tuple[str, ...] = ("read_rooms", "write_rooms")
) -> None:
    """Let ``token`` use the API with ``scopes`` (an admin making a token)."""
    sim.app[API_TOKENS][token] = frozenset(scopes)


class _Parser:
    def __init__(self, text: str, variables: dict[str, Any]) -> None:
        self.tokens: list[str] = []
        pos = 0
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None:
                if text[pos:].strip():
                    raise GraphQLError(f"Syntax error near {text[pos : pos + 10]!r}")
                break
            pos = match.end()
            if match.lastgroup != "comment":
                self.tokens.append(match.group(match.lastgroup or 0))
        self.i = 0
        self.variables = variables

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise GraphQLError(f"Syntax error: expected {expected or 'more'}, got {token!r}")
        self.i += 1
        return token

    def document(self) -> tuple[str, list[tuple[str, str, dict[str, Any]]]]:
        kind = "query"
        if self.peek() in ("query", "mutation"):
            kind = self.take()
            if self.peek() not in ("(", "{"):
                self.take()  # the operation's name
            if self.peek() == "(":
                self._skip_variable_definitions()
        fields = self.selection()
        if self.peek() is not None:
            raise GraphQLError("only one operation per document is supported")
        return kind, fields

    def _skip_variable_definitions(self) -> None:
        depth = 0
        while True:
            token = self.take()
            depth += {"(": 1, ")": -1}.get(token, 0)
            if depth == 0:
                return

    def selection(self) -> list[tuple[str, str, dict[str, Any]]]:
        """``(alias, field, arguments)`` of a selection set; nested sets are skipped."""
        self.take("{")
        fields: list[tuple[str, str, dict[str, Any]]] = []
        while self.peek() != "}":
            alias = name = self.take()
            if self.peek() == ":":
                self.take()
                name = self.take()
            args: dict[str, Any] = {}
            if self.peek() == "(":
                self.take()
                while self.peek() != ")":
                    key = self.take()
                    self.take(":")
                    args[key] = self.value()
                    if self.peek() == ",":
                        self.take()
                self.take(")")
            if self.peek() == "{":
                args["__fields__"] = [f for _, f, _ in self.selection()]
            fields.append((alias, name, args))
            if self.peek() == ",":
                self.take()
        self.take("}")
        return fields

    def value(self) -> Any:
        token = self.take()
        if token.startswith("$"):
            return self.variables.get(token[1:])
        if token.startswith('"'):
            return json.loads(token)
        if token[0].isdigit() or token[0] == "-":
            return float(token) if "." in token else int(token)
        if token in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[token]
        if token == "{":
            obj: dict[str, Any] = {}
            while self.peek() != "}":
                key = self.take()
                self.take(":")
                obj[key] = self.value()
                if self.peek() == ",":
                    self.take()
            self.take("}")
            return obj
        if token == "[":
            items: list[Any] = []
            while self.peek() != "]":
                items.append(self.value())
                if self.peek() == ",":
                    self.take()
            self.take("]")
            return items
        return token  # an enum value


def _room(sim: HubsSimulator, hub: SimHub, fields: list[str]) -> dict[str, Any]:
    members, lobby = sim.room(hub.hub_id).counts()
    known: dict[str, Any] = {
        "id": hub.hub_id,
        "name": hub.name,
        "slug": hub.slug,
        "description": hub.description,
        "url": f"{sim.base_url}/{hub.hub_id}/{hub.slug}",
        "roomSize": hub.room_size,
        "memberCount": members,
        "lobbyCount": lobby,
        "embedToken": hub.embed_token,
        "entryMode": hub.entry_mode.upper(),
        "memberPermissions": dict(hub.member_permissions),
        "userData": hub.user_data,
        "allowPromotion": hub.allow_promotion,
    }
    unknown = [f for f in fields if f not in known and f != "__typename"]
    if unknown:
        raise GraphQLError(f'Cannot query field "{unknown[0]}" on type "Room".')
    return {f: ("Room" if f == "__typename" else known[f]) for f in fields}


def _apply(sim: HubsSimulator, hub: SimHub, args: dict[str, Any]) -> None:
    size = args.get("roomSize")
    if size is not None:
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise GraphQLError("roomSize must be a non-negative integer")
        hub.room_size = min(size, MAX_ROOM_SIZE)
    for arg, attr in (("name", "name"), ("description", "description"), ("userData", "user_data")):
        if args.get(arg) is not None:
            setattr(hub, attr, args[arg])
    if isinstance(args.get("memberPermissions"), dict):
        hub.member_permissions.update({k: bool(v) for k, v in args["memberPermissions"].items()})
    if args.get("sceneId"):
        scene_id = str(args["sceneId"])
        hub.scene = SimScene(scene_id, scene_id, f"{sim.base_url}/scenes/{scene_id}.glb")
        hub.gltf_bundle_url = None
    elif args.get("sceneUrl"):
        hub.scene, hub.gltf_bundle_url = None, str(args["sceneUrl"])


def _resolve(
    sim: HubsSimulator, scopes: frozenset[str], name: str, args: dict[str, Any]
) -> dict[str, Any] | None:
    fields = args.pop("__fields__", ["id"])
    if name == "createRoom":
        if "write_rooms" not in scopes:
            raise GraphQLError("the token lacks the write_rooms scope", "insufficient_scope")
        if not isinstance(args.get("name") or "", str):
            raise GraphQLError("name must be a string")
        hub = sim.create_hub(args.get("name") or "New Room")
        _apply(sim, hub, args)
        return _room(sim, hub, fields)
    if name == "updateRoom":
        if "write_rooms" not in scopes:
            raise GraphQLError("the token lacks the write_rooms scope", "insufficient_scope")
        hub_id = args.get("id")
        if not isinstance(hub_id, str) or hub_id not in sim.hubs:
            raise GraphQLError("Room not found", "not_found")
        hub = sim.hubs[hub_id]
        _apply(sim, hub, args)
        # §5: updateRoom DOES tell the people in the room.
        sim.room(hub_id).broadcast(
            HUB_REFRESH, {"hubs": [sim.hub_wire(hub_id)], "stale_fields": sorted(args)}
        )
        return _room(sim, hub, fields)
    raise GraphQLError(f'Cannot query field "{name}" on type "RootMutationType".')


async def _graphql(request: web.Request) -> web.Response:
    from hubs_bridge.hubs.sim_http import SIM_KEY

    sim = request.app[SIM_KEY]
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    scopes = request.app[API_TOKENS].get(token)
    if scopes is None:
        return web.json_response(
            {"errors": [{"type": "invalid_token", "message": "API token missing or invalid"}]},
            status=401,
        )
    try:
        body = await request.json()
    except ValueError:
        return web.json_response({"errors": [{"message": "body is not JSON"}]}, status=400)
    query = body.get("query") if isinstance(body, dict) else None
    variables = body.get("variables") if isinstance(body, dict) else None
    if not isinstance(query, str):
        return web.json_response({"errors": [{"message": "No query document supplied"}]})
    data: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    try:
        kind, fields = _Parser(query, variables or {}).document()
    except GraphQLError as exc:
        return web.json_response({"errors": [{"message": str(exc)}]})
    if kind != "mutation":
        return web.json_response({"errors": [{"message": "only mutations are simulated"}]})
    for alias, name, args in fields:
        try:
            data[alias] = _resolve(sim, scopes, name, args)
        except GraphQLError as exc:
            data[alias] = None
            error: dict[str, Any] = {"message": str(exc), "path": [alias]}
            if exc.kind is not None:
                error["type"] = exc.kind
            errors.append(error)
    answer: dict[str, Any] = {"data": data}
    if errors:
        answer["errors"] = errors
    return web.json_response(answer)


def add_graphql_routes(app: web.Application) -> None:
    app[API_TOKENS] = {}
    app.router.add_post(ENDPOINT, _graphql)
