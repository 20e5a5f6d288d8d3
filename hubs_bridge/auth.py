"""Who is asking: staff, a moderator of some events, or a visitor.

Tokens are random (32 bytes) with a readable prefix; only their SHA-256 is
stored, so a leaked database does not leak access. The staff token from the
environment is compared in constant time. Every role check happens here, on
the server, whatever the pages show or hide.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import SecretStr

from hubs_bridge.errors import Forbidden, Unauthorized
from hubs_bridge.store.base import Store, TokenRecord, TokenRole

Role = Literal["staff", "moderator", "visitor"]
_PREFIX: dict[TokenRole, str] = {"staff": "hbs_", "moderator": "hbm_"}
MAX_TOKEN_LENGTH = 200


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(
    role: TokenRole, *, events: tuple[str, ...], label: str, now: datetime
) -> tuple[str, TokenRecord]:
    """A fresh token (to show once) and the record to store (without the secret)."""
    if role == "moderator" and not events:
        raise ValueError("a moderator token needs at least one event")
    secret = _PREFIX[role] + secrets.token_urlsafe(32)
    record = TokenRecord(
        token_id=secrets.token_hex(4),
        token_hash=hash_token(secret),
        role=role,
        events=events if role == "moderator" else (),
        label=label,
        created_at=now,
    )
    return secret, record


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller's role, checked by every action."""

    role: Role
    events: frozenset[str] = frozenset()
    token_id: str | None = None
    # The stored token's hash, so that a long-lived session can see it revoked.
    token_hash: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role == "staff"

    def may_moderate(self, event: str) -> bool:
        return self.role == "staff" or (self.role == "moderator" and event in self.events)

    def require_staff(self) -> None:
        if self.role == "visitor":
            raise Unauthorized("this needs a staff token", code="token_required")
        if self.role != "staff":
            raise Forbidden("only staff may do this", code="staff_only")

    def require_moderator(self, event: str) -> None:
        if self.role == "visitor":
            raise Unauthorized("this needs a moderator or staff token", code="token_required")
        if not self.may_moderate(event):
            raise Forbidden(f"this token may not moderate event {event[:64]!r}", code="wrong_event")


VISITOR = Principal(role="visitor")


class Authenticator:
    """Turns a presented token into a :class:`Principal`."""

    def __init__(self, store: Store, staff_token: SecretStr | None) -> None:
        self._store = store
        self._staff_hash = (
            hash_token(staff_token.get_secret_value()) if staff_token is not None else None
        )

    async def authenticate(self, token: str | None) -> Principal:
        """The principal for ``token``; no token is a visitor, a wrong one is refused."""
        if token is None or token == "":
            return VISITOR
        if len(token) > MAX_TOKEN_LENGTH:
            raise Unauthorized("the token is not valid", code="bad_token")
        digest = hash_token(token)
        if self._staff_hash is not None and hmac.compare_digest(digest, self._staff_hash):
            return Principal(role="staff", token_id="env")
        record = await self._store.find_token(digest)
        # Compare again in constant time: the lookup found it by hash equality.
        if record is None or record.revoked or not hmac.compare_digest(record.token_hash, digest):
            raise Unauthorized("the token is not valid", code="bad_token")
        return Principal(
            role=record.role,
            events=frozenset(record.events),
            token_id=record.token_id,
            token_hash=record.token_hash,
        )

    async def still_valid(self, principal: Principal) -> bool:
        """Whether a stored token seen earlier (a websocket's ``hello``) is still not revoked.

        HTTP requests authenticate every time; a websocket session authenticated
        once at ``hello`` asks this before each moderator action, so revoking a
        token takes its rights away from pages already open with it.
        """
        if principal.token_hash is None:
            return True  # a visitor, or the staff token of the environment
        record = await self._store.find_token(principal.token_hash)
        return record is not None and not record.revoked


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header, or ``None``."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("use 'Authorization: Bearer <token>'", code="bad_authorization")
    return value.strip()
