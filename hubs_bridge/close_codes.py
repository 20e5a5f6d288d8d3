"""Every websocket close code the server uses, in one place, shared with the pages.

The pages read the same numbers from ``web/pages/static/js/close-codes.js``,
which is generated from this enum (``python -m hubs_bridge.close_codes``) and
checked against it by a test, so the two cannot drift apart. What each code
means for a client is in docs/protocol.md, "Close codes and reconnecting".
"""

from __future__ import annotations

import enum


class CloseCode(enum.IntEnum):
    NORMAL = 1000  # idle, event deleted, or the server ended the session
    POLICY = 1008  # too many refused frames
    TOO_BIG = 1009  # a message over the read cap (sent by aiohttp itself)
    RESTART = 1012  # the process is restarting (after a bye with reconnect_after_ms)
    TRY_AGAIN = 1013  # the store or the broker does not answer
    SLOW = 4008  # the page did not read fast enough
    BAD_HELLO = 4400  # bad first frame
    UNAUTHORIZED = 4401  # token refused at hello, or revoked while open
    UNKNOWN_EVENT = 4404  # no such event
    TOO_MANY = 4429  # too many sessions, new visitor ids or wrong tokens


# One table: a refused hello's error, by its HTTP status (errors.py), and the close code
# it gets on the websocket. An HTTP answer and a close say the same thing.
CLOSE_FOR_STATUS: dict[int, CloseCode] = {
    400: CloseCode.BAD_HELLO,
    401: CloseCode.UNAUTHORIZED,
    403: CloseCode.UNAUTHORIZED,
    404: CloseCode.UNKNOWN_EVENT,
    409: CloseCode.BAD_HELLO,
    413: CloseCode.TOO_BIG,
    422: CloseCode.BAD_HELLO,
    429: CloseCode.TOO_MANY,
    503: CloseCode.TRY_AGAIN,
}


def close_for_status(status: int) -> CloseCode:
    """The close code of a hello refused with an error of this HTTP status."""
    return CLOSE_FOR_STATUS.get(status, CloseCode.BAD_HELLO)


def javascript_module() -> str:
    """The text of ``close-codes.js``."""
    lines = [
        "// Generated from hubs_bridge/close_codes.py (python -m hubs_bridge.close_codes);",
        "// tests/test_close_codes.py fails when the two differ. Do not edit by hand.",
        "export const CLOSE = Object.freeze({",
        *(f"  {code.name}: {code.value}," for code in CloseCode),
        "});",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(javascript_module(), end="")
