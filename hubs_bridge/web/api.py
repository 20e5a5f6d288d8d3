"""Declared JSON operations: one place that parses bodies, checks sizes and encodes replies.

Each handler is declared with :meth:`Api.operation`, naming its request and
response models. The same declarations produce ``/api/openapi.json``
(``openapi.py``), so the document cannot drift from the routes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError

from hubs_bridge.auth import Principal, bearer_token
from hubs_bridge.core.event_commands import validation_details
from hubs_bridge.errors import BadRequest, PayloadTooLarge, ValidationFailed
from hubs_bridge.web.client_address import client_address
from hubs_bridge.web.keys import AUTH, SETTINGS

AuthNeed = Literal["none", "optional", "staff", "moderator"]
Reply = BaseModel | web.StreamResponse | None
Handler = Callable[..., Awaitable[Reply]]
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True)
class QueryParam:
    """An optional query parameter of a route, for the docs (the handler reads it)."""

    name: str
    description: str
    values: tuple[str, ...] = ()  # the allowed values, if it is one of a few


@dataclass(frozen=True)
class Operation:
    """One JSON route as declared: what it takes, what it answers, who may call it."""

    method: str
    path: str
    summary: str
    handler: Handler
    tag: str
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    auth: AuthNeed = "none"
    # Other content types answered instead of JSON (e.g. text/csv), for the docs.
    produces: tuple[str, ...] = ()
    errors: tuple[int, ...] = ()
    query: tuple[QueryParam, ...] = ()


@dataclass
class Api:
    operations: list[Operation] = field(default_factory=list)

    def operation(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        tag: str,
        body: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        auth: AuthNeed = "none",
        produces: tuple[str, ...] = (),
        errors: tuple[int, ...] = (),
        query: tuple[QueryParam, ...] = (),
    ) -> Callable[[H], H]:
        def register(handler: H) -> H:
            self.operations.append(
                Operation(
                    method,
                    path,
                    summary,
                    handler,
                    tag,
                    body,
                    response,
                    status,
                    auth,
                    produces,
                    errors,
                    query,
                )
            )
            return handler

        return register

    def add_routes(self, app: web.Application) -> None:
        for op in self.operations:
            app.router.add_route(op.method, op.path, _wrap(op))


def _wrap(op: Operation) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        kwargs: dict[str, Any] = {}
        if op.auth != "none":
            principal = await principal_of(request)
            # The role before the body: a caller without the right learns nothing about
            # what the body should look like (and pays no parsing). Handlers check again.
            if op.auth == "staff":
                principal.require_staff()
            elif op.auth == "moderator" and "event" in request.match_info:
                principal.require_moderator(request.match_info["event"])
            kwargs["principal"] = principal
        if op.body is not None:
            kwargs["body"] = await parse_body(request, op.body)
        reply = await op.handler(request, **kwargs)
        if isinstance(reply, web.StreamResponse):
            return reply
        if reply is None:
            return web.Response(status=204)
        return json_response(reply, status=op.status)

    handle.__name__ = op.handler.__name__
    return handle


async def principal_of(request: web.Request) -> Principal:
    token = bearer_token(request.headers.get("Authorization"))
    # Wrong tokens count against the client's address (auth.py: 429 past the allowance).
    return await request.app[AUTH].authenticate(token, address=client_address(request))


M = TypeVar("M", bound=BaseModel)


async def parse_body(request: web.Request, model: type[M]) -> M:
    """The request body as ``model``: 413 past the size limit, 400 unless JSON, 422 if invalid."""
    limit = request.app[SETTINGS].limits.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"the request body may be at most {limit} bytes")
    raw = await request.content.read(limit + 1)
    if len(raw) > limit:
        raise PayloadTooLarge(f"the request body may be at most {limit} bytes")
    if request.content_type not in ("application/json", "application/octet-stream", ""):
        raise BadRequest("send the body as application/json", code="unsupported_media_type")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}", code="malformed_json") from None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object", code="malformed_json")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(
            "the request is not valid", code="invalid_request", details=validation_details(exc)
        ) from None


def json_response(model: BaseModel | dict[str, Any], *, status: int = 200) -> web.Response:
    payload = model.model_dump(mode="json") if isinstance(model, BaseModel) else model
    return web.Response(body=orjson.dumps(payload), status=status, content_type="application/json")
