"""The address a request comes from, also behind a reverse proxy.

Per-address limits (new visitor ids on ``/ws``, ``/go``) must see the visitor,
not the proxy in front of the server: behind the proxy of docker-compose every
visitor would otherwise share one limit, and a busy event would lock itself
out. ``X-Forwarded-For`` is believed only when the request comes from a
configured proxy (``trusted_proxies``); the address taken is the rightmost one
in it that is not itself a trusted proxy, since a client may put anything at
the left of the header.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network

from aiohttp import web

from hubs_bridge.web.keys import SETTINGS

MAX_HOPS = 20  # a header longer than this is not read further


def _trusted(address: str, proxies: Sequence[IPv4Network | IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(request: web.Request) -> str:
    remote = request.remote or "?"
    proxies = request.app[SETTINGS].trusted_proxies
    if not proxies or not _trusted(remote, proxies):
        return remote
    # Every X-Forwarded-For line, in order: a proxy may append its own line after one the
    # client sent (haproxy's ``option forwardfor`` does), and HTTP makes several lines of
    # one header equal to one line joined by commas (RFC 9110, 5.3).
    joined = ",".join(request.headers.getall("X-Forwarded-For", ()))
    hops = [h.strip() for h in joined.split(",")]
    for hop in reversed([h for h in hops if h][-MAX_HOPS:]):
        if not _trusted(hop, proxies):
            return hop[:64]
    return remote
