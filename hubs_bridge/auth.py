"""Who is asking: staff, a moderator of some events, or a visitor.

Tokens are random (32 bytes) with a readable prefix; only their SHA-256 is
stored, so a leaked database does not leak access. The staff token from the
environment is compared in constant time. Every role check happens here, on
the server, whatever the pages show or hide.

Wrong tokens are limited per client address (``FAILURES_PER_MINUTE``): past
the allowance an address is refused (``rate_limited``, with a retry time)
before its token is even looked at, so guessing costs a minute per few tries
instead of a round trip. Only failures are counted: staff and moderators who
sign in correctly never use up anything, and visitors (no token) are never
limited here. The limiter is the shared one (Redis with several processes).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import SecretStr

from hubs_bridge.errors import Forbidden, RateLimited, Unauthorized
from hubs_bridge.ratelimits import Limiter
from hubs_bridge.store.base import TokenRecord, TokenRole, TokenStore

Role = Literal["staff", "moderator", "visitor"]
_PREFIX: dict[TokenRole, str] = {"staff": "hbs_", "moderator": "hbm_"}
MAX_TOKEN_LENGTH = 200
# Failed authentications per client address (a module constant, no setting yet):
# enough for a person mistyping a token a few times, useless for guessing 256 bits.
FAILURES_PER_MINUTE = 10
FAILURE_BURST = 10
FAILURE_KEY = "auth-failed:"


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

    def __init__(
        self, store: TokenStore, staff_token: SecretStr | None, failures: Limiter | None = None
    ) -> None:
        self._store = store
        self._staff_hash = (
            hash_token(staff_token.get_secret_value()) if staff_token is not None else None
        )
        self._failures = failures  # None: failed authentications are not limited

    async def authenticate(self, token: str | None, *, address: str | None = None) -> Principal:
        """The principal for ``token``; no token is a visitor, a wrong one is refused.

        With ``address`` (the client's, ``web/client_address.py``) a wrong token is
        counted against it, and an address past its allowance gets
        :class:`RateLimited` without its token being checked.
        """
        if token is None or token == "":
            return VISITOR
        failures = self._failures if address is not None else None
        key = FAILURE_KEY + (address or "")
        if failures is not None:
            wait_ms = await failures.blocked_ms(key, FAILURES_PER_MINUTE, FAILURE_BURST)
            if wait_ms > 0:
                raise _too_many_failures(wait_ms)
        try:
            return await self._check(token)
        except Unauthorized:
            if failures is not None:
                await failures.wait_ms(key, FAILURES_PER_MINUTE, FAILURE_BURST)
            raise

    async def _check(self, token: str) -> Principal:
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


def _too_many_failures(wait_ms: int) -> RateLimited:
    seconds = -(-wait_ms // 1000)
    return RateLimited(
        f"Zu viele falsche Anmeldungen von dieser Adresse; bitte in {seconds} s erneut "
        f"versuchen. / Too many failed sign-ins from this address; try again in {seconds} s.",
        retry_after_s=wait_ms / 1000,
        code="rate_limited",
    )


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header, or ``None``."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("use 'Authorization: Bearer <token>'", code="bad_authorization")
    return value.strip()
