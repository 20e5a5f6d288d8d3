"""One structured log line per request, without tokens, query strings or IP addresses."""

from __future__ import annotations

import logging
import time

from aiohttp import web
from aiohttp.typedefs import Handler

log = logging.getLogger("hubs_bridge.access")


@web.middleware
async def access_log_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        # The query string is left out: it is the one place a careless client puts a token.
        log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.rel_url.path,
                "status": status,
                "ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
