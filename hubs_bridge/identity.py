"""Pseudonymous visitor ids, signed by the server, and keyed hashes for the record.

A visitor id is random and means nothing outside this installation; the page
keeps it (localStorage) and sends it in ``hello`` so a reconnect or a second
tab is the same visitor. The signature stops a client from choosing another
visitor's id (to vote twice or read their pending questions).

The attendance record never stores the id itself, only a keyed hash per event,
so records of two events cannot be joined into a profile.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from hubs_bridge.settings import Settings
from hubs_bridge.store.base import MetaStore

_VERSION = "v1"
SECRET_META_KEY = "secret_key"


class VisitorIds:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the secret key must have at least 16 bytes")
        self._secret = secret

    def _sign(self, visitor: str) -> str:
        digest = hmac.new(self._secret, f"visitor:{visitor}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:12]).decode().rstrip("=")

    def issue(self) -> tuple[str, str]:
        """A new visitor id and its signed token."""
        visitor = secrets.token_urlsafe(12)
        return visitor, f"{_VERSION}.{visitor}.{self._sign(visitor)}"

    def verify(self, token: str) -> str | None:
        """The visitor id in a signed token, or ``None`` if it was not signed here."""
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != _VERSION or not parts[1]:
            return None
        if not hmac.compare_digest(parts[2], self._sign(parts[1])):
            return None
        return parts[1]

    def record_hash(self, event: str, who: str) -> str:
        """A keyed hash of a visitor or Hubs session id for one event's record."""
        digest = hmac.new(self._secret, f"record:{event}:{who}".encode(), hashlib.sha256)
        return digest.hexdigest()[:20]


async def resolve_secret(settings: Settings, store: MetaStore) -> bytes:
    """``HUBS_BRIDGE_SECRET_KEY``, else one generated once and kept in the store.

    With SQLite the store is the file in the data directory; with Redis every
    process shares the same generated key.
    """
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    stored = await store.set_meta_if_absent(SECRET_META_KEY, secrets.token_hex(32))
    return stored.encode()
