"""Security headers for every answer, and the Content-Security-Policy of the pages.

The policy allows scripts, styles, images and connections from this origin
only: no inline script or style (``'unsafe-inline'`` is never used), nothing
from another host, no framing. A question or a name can therefore never run as
script, even if a bug ever put one into the page as HTML.
"""

from __future__ import annotations

from aiohttp import web

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        # 'self' covers ws:/wss: to the same host in CSP level 3 browsers.
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: every answer, also streamed files (a scene's 200 is
    sent piece by piece, so a middleware would see it already prepared) and errors."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith("/static/"):
        # Revalidated every time (cheap 304s), so a new release is seen at once.
        response.headers.setdefault("Cache-Control", "no-cache")
