"""Where a Hubs server's socket is: ``GET /api/v1/meta`` and the socket URL (PROTOCOL.md §1).

The host comes from meta's ``phx_host``, the port from the web URL, as the
Hubs web client does (``src/utils/phoenix-utils.js``,
``refreshDirectReticulumHostAndPort``: ``host = RETICULUM_SOCKET_SERVER ||
reticulumMeta.phx_host``, ``port = new URL(RETICULUM_SERVER).port`` or 443).
Meta's ``phx_port`` is the endpoint's internal https port
(``lib/ret/meta.ex``, ``base_meta``: ``RetWeb.Endpoint[:https][:port]``), 4000
on Hubs Community Edition, whose ingress exposes only 443: connecting there
would never reach the socket. ``phx_port`` is read (it must be a port) but
never used.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import aiohttp
from pydantic import BaseModel, ConfigDict, Field

from hubs_bridge.hubs.frames import parse_payload

SOCKET_PATH = "/socket/websocket"
PHOENIX_VSN = "2.0.0"


class ServerMeta(BaseModel):
    """``GET /api/v1/meta``; ``phx_port`` arrives as a string (``"443"``) and is coerced."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    phx_host: str = Field(min_length=1)
    phx_port: int = Field(ge=1, le=65535)


def check_base_url(base_url: str) -> str:
    """``base_url`` without a trailing slash; ``ValueError`` unless it is an http(s) URL."""
    split = urlsplit(base_url)
    if split.scheme not in ("http", "https") or not split.netloc:
        raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
    return base_url.rstrip("/")


def socket_url(base_url: str, meta: ServerMeta, session_token: str | None) -> str:
    """The websocket URL on ``phx_host`` and the web URL's port (never ``phx_port``).

    ``wss`` for an ``https`` web host, ``ws`` for a local ``http`` one; without
    a port in the web URL, the scheme's default (443 or 80), as the browser does.
    """
    web = urlsplit(base_url)
    scheme = "wss" if web.scheme == "https" else "ws"
    host = f"[{meta.phx_host}]" if ":" in meta.phx_host else meta.phx_host  # IPv6 literal
    port = f":{web.port}" if web.port is not None else ""
    query = {"vsn": PHOENIX_VSN}
    if session_token is not None:
        query["session_token"] = session_token  # keeps the same session_id (§1)
    return f"{scheme}://{host}{port}{SOCKET_PATH}?{urlencode(query)}"


async def fetch_meta(http: aiohttp.ClientSession, base_url: str) -> ServerMeta:
    """Ask the web host where the socket is; it may be another host (§1).

    Raises ``aiohttp.ClientError``, ``TimeoutError`` (the session's timeout)
    or ``ProtocolError``.
    """
    async with http.get(f"{base_url}/api/v1/meta") as response:
        response.raise_for_status()
        return parse_payload(ServerMeta, await response.json(content_type=None))
