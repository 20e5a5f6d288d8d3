"""``GET /api/openapi.json``: the API described from the declared operations and their models."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from hubs_bridge import __version__
from hubs_bridge.errors import CONTEXT_KEYS
from hubs_bridge.web.api import Operation, json_response

_ERROR_TEXT = {
    400: "Malformed request",
    401: "No or bad token",
    403: "Wrong role",
    404: "Not found",
    409: "Conflict",
    413: "Body too large",
    422: "Invalid content",
    429: "Rate limited",
    503: "A backend is unavailable",
}

FIELD_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["field", "message", "type"],
    "additionalProperties": False,
    "properties": {
        "field": {
            "type": "string",
            "minLength": 1,
            "description": 'Dotted path of the input field ("rooms.0.scene"); "body" for the '
            "whole input",
        },
        "message": {"type": "string"},
        "type": {"type": "string", "description": "Stable kind of problem (pydantic's types)"},
    },
}


def _context_property(kind: str, form: str | None, description: str) -> dict[str, Any]:
    schema = {"type": kind, "description": description}
    return schema | ({"format": form} if form else {})


# One shape for every error (errors.py): details only ever lists field problems; the
# context of a refusal is a documented top-level key, from the same table the code uses.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["code", "message"],
    "additionalProperties": False,
    "properties": {
        "code": {"type": "string", "description": "Stable machine-readable error code"},
        "message": {"type": "string"},
        "details": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/FieldProblem"},
            "description": "One entry per wrong input field",
        },
        **{name: _context_property(*spec) for name, spec in CONTEXT_KEYS.items()},
    },
}


# What this document leaves out, said in it (and in the README) so nobody looks for it here.
NOT_DESCRIBED = (
    "Not described here: the websocket GET /ws (docs/protocol.md), GET /metrics "
    "(Prometheus text format), the HTML pages GET /e/{event}, /m/{event}, "
    "/stage/{event}/{room}, /admin and the published results /r/{event} with their "
    "downloads /r/{event}.md and /r/{event}.pdf, the QR code GET /e/{event}/qr.svg, and "
    "the page assets under GET /static/."
)


def build_openapi(operations: Iterable[Operation]) -> dict[str, Any]:
    ops = list(operations)
    models: set[type[BaseModel]] = set()
    for op in ops:
        models.update(m for m in (op.body, op.response) if m is not None)
    ordered = sorted(models, key=lambda m: m.__name__)
    keyed = [
        (m, "validation" if any(o.body is m for o in ops) else "serialization") for m in ordered
    ]
    refs, defs = models_json_schema(keyed, ref_template="#/components/schemas/{model}")  # type: ignore[arg-type]
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    schemas["Error"] = ERROR_SCHEMA
    schemas["FieldProblem"] = FIELD_PROBLEM_SCHEMA

    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        entry: dict[str, Any] = {
            "summary": op.summary,
            "operationId": op.handler.__name__,
            "tags": [op.tag],
        }
        params: list[dict[str, Any]] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"{(\w+)}", op.path)
        ]
        for query in op.query:
            schema: dict[str, Any] = {"type": "string"}
            if query.values:
                schema["enum"] = list(query.values)
            params.append(
                {
                    "name": query.name,
                    "in": "query",
                    "required": False,
                    "description": query.description,
                    "schema": schema,
                }
            )
        if params:
            entry["parameters"] = params
        if op.body is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
            }
        responses: dict[str, Any] = {}
        if op.status == 204:
            responses["204"] = {"description": "Done, no content"}
        elif 300 <= op.status < 400:
            responses[str(op.status)] = {
                "description": "Redirect to the Location",
                "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}},
            }
        else:
            content: dict[str, Any] = {}
            if op.response is not None:
                content["application/json"] = {"schema": refs[(op.response, "serialization")]}
            for media in op.produces:
                content[media] = {"schema": {"type": "string"}}
            responses[str(op.status)] = {"description": "Success", "content": content}
        errors = set(op.errors) | {400}
        if op.body is not None:
            errors |= {413, 422}
        # 429: too many wrong tokens from the caller's address (auth.py).
        if op.auth in ("staff", "moderator"):
            errors |= {401, 403, 429}
        elif op.auth == "optional":
            errors |= {401, 429}
        for status in sorted(errors):
            responses[str(status)] = {
                "description": _ERROR_TEXT.get(status, "Error"),
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        entry["responses"] = responses
        if op.auth in ("staff", "moderator"):
            entry["security"] = [{"bearer": []}]
        elif op.auth == "optional":
            entry["security"] = [{}, {"bearer": []}]
        paths.setdefault(op.path, {})[op.method.lower()] = entry

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "hubs-bridge",
            "version": __version__,
            "description": "Companion server for Mozilla Hubs rooms: scenes, events, rooms, "
            "attendance and moderated Q&A. Errors are JSON {code, message, details?} "
            "(details: a list of {field, message, type}), with some context keys beside them "
            "(retry_after_s, opens_at, ...: see the Error schema). " + NOT_DESCRIBED,
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def openapi_handler(operations: list[Operation]) -> web.Handler:  # type: ignore[name-defined]
    document: dict[str, Any] | None = None

    async def openapi(request: web.Request) -> web.Response:
        nonlocal document
        if document is None:  # built once, on first request, from the final route list
            document = build_openapi(operations)
        return json_response(document)

    return openapi
