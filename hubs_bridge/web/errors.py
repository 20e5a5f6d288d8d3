"""The one place where errors become HTTP answers: JSON ``{code, message, details?, ...}``.

The body's shape (``details`` a list of ``{field, message, type}``, context
as documented top-level keys) is built by :func:`hubs_bridge.errors.error_body`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler

from hubs_bridge.errors import (
    BrokerUnavailable,
    ClientError,
    ContextValue,
    FieldProblem,
    HubsBridgeError,
    StoreUnavailable,
    error_body,
)

log = logging.getLogger("hubs_bridge.web")

# aiohttp's own HTTP errors (unknown route, wrong method, body too large) get stable codes too.
_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


def unavailable_message(exc: HubsBridgeError) -> str:
    """Which dependency is away, for clients: never its address or its own words."""
    if isinstance(exc, StoreUnavailable):
        return "the store is unavailable; try again in a moment"
    if isinstance(exc, BrokerUnavailable):
        return "the broker is unavailable; try again in a moment"
    return "a service is unavailable; try again in a moment"


def error_response(
    status: int,
    code: str,
    message: str,
    details: Sequence[FieldProblem] | None = None,
    context: Mapping[str, ContextValue] | None = None,
) -> web.Response:
    body = error_body(code, message, details=details, context=context)
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await _answer(request, handler)
    if response.status >= 400 and not response.prepared and request.path.startswith(_CORS_PATHS):
        # A Hubs client on another host must be able to read why a scene failed.
        from hubs_bridge.web.scenes import cors_headers

        response.headers.update(cors_headers(request))
    return response


_CORS_PATHS = ("/scenes/", "/api/scenes")


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ClientError as exc:
        response = error_response(exc.status, exc.code, exc.message, exc.details, exc.context)
        retry = getattr(exc, "retry_after_s", None)
        if retry is not None:
            response.headers["Retry-After"] = str(max(1, round(retry)))
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, f"http_{exc.status}")
        response = error_response(exc.status, code, exc.reason)
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except HubsBridgeError as exc:
        # A backend is down: the caller may retry; say which, never where (the
        # backend's own message names its address: logs only).
        log.warning("service unavailable: %s", exc)
        return error_response(503, "unavailable", unavailable_message(exc))
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "an internal error occurred")
