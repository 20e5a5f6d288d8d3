"""Pages open with a token that was revoked since lose it within a minute.

A websocket session is authenticated once, at ``hello``; moderator actions
check the token again (``ws.py``), but a page that only reads would keep
receiving the moderator view (pending and rejected questions, names) for as
long as it stays open. Every :data:`CHECK_EVERY_S` the tokens of the open
sessions are looked up again, one store read per distinct token, and the
sessions of a revoked one are closed as ``4401 bad_token``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from hubs_bridge.close_codes import CloseCode
from hubs_bridge.realtime.session import Session
from hubs_bridge.store.base import TokenStore

CHECK_EVERY_S = 60.0


async def revoked_sessions(sessions: Iterable[Session], store: TokenStore) -> list[Session]:
    """The sessions whose stored token is revoked or gone."""
    by_token: dict[str, list[Session]] = {}
    for session in sessions:
        token_hash = session.principal.token_hash
        if token_hash is not None:
            by_token.setdefault(token_hash, []).append(session)
    revoked: list[Session] = []
    for token_hash, holders in by_token.items():
        record = await store.find_token(token_hash)
        if record is None or record.revoked:
            revoked.extend(holders)
    return revoked


async def close_revoked(
    sessions: Iterable[Session],
    store: TokenStore,
    close: Callable[[Session, int, str], None],
) -> int:
    revoked = await revoked_sessions(list(sessions), store)
    for session in revoked:
        close(session, CloseCode.UNAUTHORIZED, "bad_token")
    return len(revoked)
