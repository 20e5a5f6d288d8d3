"""Websocket frames as bytes, built once and written to many transports.

A server's frames are never masked (RFC 6455 section 5.1), so a text frame is
the same bytes for every recipient: the header is built once per broadcast
and the whole frame is handed to each transport as it is.
"""

from __future__ import annotations

import struct

_FIN_TEXT = 0x81
_FIN_CLOSE = 0x88


def _header(first: int, length: int) -> bytes:
    # RFC 6455 section 5.2: 7-bit length, or 126 + 16-bit, or 127 + 64-bit.
    if length < 126:
        return struct.pack("!BB", first, length)
    if length < 1 << 16:
        return struct.pack("!BBH", first, 126, length)
    return struct.pack("!BBQ", first, 127, length)


def text_frame(payload: bytes) -> bytes:
    """A complete unmasked, unfragmented text frame carrying ``payload`` (UTF-8 JSON)."""
    return _header(_FIN_TEXT, len(payload)) + payload


def close_frame(code: int, reason: str) -> bytes:
    """A close frame (RFC 6455 section 5.5.1) with a status code and a short reason."""
    body = struct.pack("!H", code) + reason.encode()[:123]
    return _header(_FIN_CLOSE, len(body)) + body


# A ping with no payload (RFC 6455 section 5.5.2); the browser answers with a pong.
PING_FRAME = _header(0x89, 0)
