"""Accounts, tokens and permissions of the Hubs server simulator.

- :class:`SimAccount` is a ``Ret.Account``; its ``token`` stands for the
  ``Ret.Guardian`` account JWT the Hubs web client keeps after the e-mail
  sign-in (``lib/ret/guardian.ex``; 12 weeks in ``config/prod.exs``). The
  simulator signs it with its own secret (HS512) and accepts it only while the
  account exists (``Ret.Guardian.resource_from_token``).
- :func:`perms_for_account` is ``Hub.perms_for_account`` with the
  ``Canada.Can`` implementations of ``lib/ret/hub.ex`` for ``Ret.Account``
  and for anonymous sessions (``Atom``); :func:`roles_for_account` is
  ``Hub.roles_for_account``. Rooms bound to an OAuth channel
  (``requires_oauth``) grant the owner actions to nobody (no Discord/Slack
  identities are simulated).
- :func:`perms_token` is ``hub_channel.ex`` ``get_perms_token`` +
  ``Ret.PermsToken.token_for_perms`` (``lib/ret/perms_token.ex``): a JWT whose
  claims are the permissions, ``Account.add_global_perms_for_account``,
  ``account_id`` (``""`` when anonymous) and ``hub_id``, audience
  ``ret_perms``, 5 minutes valid. Reticulum signs it RS512 with its perms key;
  the simulator signs HS256 with its own secret (clients only read claims).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hubs_bridge.hubs.sim_state import SimHub

OWNER_ACTIONS = ("update_hub", "close_hub", "embed_hub", "kick_users", "mute_users",
                 "amplify_audio")  # fmt: skip
OBJECT_ACTIONS = ("spawn_and_move_media", "spawn_camera", "spawn_drawing", "pin_objects",
                  "spawn_emoji", "fly", "voice_chat", "text_chat")  # fmt: skip
# The key order of Hub.perms_for_account.
PERMS_ORDER = ("join_hub", "update_hub", "update_hub_promotion", "update_roles", "close_hub",
               "embed_hub", "kick_users", "mute_users", "amplify_audio", "spawn_camera",
               "spawn_drawing", "spawn_and_move_media", "pin_objects", "spawn_emoji", "fly",
               "voice_chat", "text_chat")  # fmt: skip
PERMS_TOKEN_TTL_S = 5 * 60  # Ret.PermsToken.token_for_perms: ttl {5, :minutes}
ACCOUNT_TOKEN_TTL_S = 12 * 7 * 24 * 3600  # config/prod.exs: Ret.Guardian ttl {12, :weeks}


@dataclass(slots=True)
class SimAccount:
    """A Hubs account (``Ret.Account``) and its sign-in token."""

    account_id: str
    name: str
    token: str
    admin: bool = False


def parse_bearer(header: str) -> str | None:
    """``Guardian.Plug.VerifyHeader`` (scheme ``Bearer``, any case): the token, or None."""
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.rstrip(":").lower() != "bearer" or not token:
        return None
    return token


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_jwt(claims: dict[str, Any], secret: bytes, alg: str = "HS256") -> str:
    """A compact JWS: base64url(header).base64url(claims).base64url(HMAC)."""
    digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}[alg]
    header = _b64(json.dumps({"alg": alg, "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(secret, f"{header}.{body}".encode(), digest).digest()
    return f"{header}.{body}.{_b64(signature)}"


def verify_jwt(token: object, secret: bytes) -> dict[str, Any] | None:
    """The claims of a token this simulator signed and that has not expired, else None."""
    if not isinstance(token, str) or token.count(".") != 2:
        return None
    header, body, signature = token.split(".")
    try:
        alg = json.loads(_unb64(header)).get("alg")
        digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}[alg]
        expected = hmac.new(secret, f"{header}.{body}".encode(), digest).digest()
        if not hmac.compare_digest(expected, _unb64(signature)):
            return None
        claims = json.loads(_unb64(body))
    except (ValueError, KeyError, AttributeError, TypeError):
        return None
    if not isinstance(claims, dict) or claims.get("exp", 0) < time.time():
        return None
    return claims


def account_token(account_id: str, secret: bytes) -> str:
    """A ``Ret.Guardian`` access token for an account (``sub`` = account id)."""
    now = int(time.time())
    claims = {"aud": "ret", "iss": "ret", "sub": account_id, "typ": "access", "iat": now,
              "nbf": now - 1, "exp": now + ACCOUNT_TOKEN_TTL_S,
              "jti": secrets.token_hex(8)}  # fmt: skip
    return sign_jwt(claims, secret, "HS512")


def perms_for_account(
    hub: SimHub, account: SimAccount | None, *, require_account_for_join: bool
) -> dict[str, bool]:
    """``Hub.perms_for_account`` (``lib/ret/hub.ex``), every ``can?`` as Reticulum rules it."""
    perms: dict[str, bool] = {}
    closed = hub.entry_mode == "deny"
    bound = hub.requires_oauth
    member = hub.member_permissions
    if account is None:  # defimpl Canada.Can, for: Atom
        for action in PERMS_ORDER:
            if action == "join_hub":
                perms[action] = not closed and not bound and not require_account_for_join
            elif action in OBJECT_ACTIONS:
                perms[action] = bool(member.get(action))
            else:
                perms[action] = False
        return perms
    owner = hub.is_owner(account.account_id)  # defimpl Canada.Can, for: Ret.Account
    for action in PERMS_ORDER:
        if action == "join_hub":
            perms[action] = not closed and not bound  # bound: member_of_channel? (none here)
        elif action == "update_hub_promotion":
            perms[action] = account.admin  # features|public_rooms is off by default
        elif bound:
            perms[action] = False
        elif action == "update_roles":
            perms[action] = hub.is_creator(account.account_id)
        elif action in OWNER_ACTIONS:
            perms[action] = owner
        else:
            perms[action] = bool(member.get(action)) or owner
    return perms


def roles_for_account(hub: SimHub, account: SimAccount | None) -> dict[str, bool]:
    """``Hub.roles_for_account``."""
    if account is None:
        return {"owner": False, "creator": False, "signed_in": False}
    return {
        "owner": hub.is_owner(account.account_id),
        "creator": hub.is_creator(account.account_id),
        "signed_in": True,
    }


def perms_token(
    hub: SimHub,
    account: SimAccount | None,
    secret: bytes,
    *,
    require_account_for_join: bool,
    disable_room_creation: bool,
) -> str:
    """``get_perms_token`` of ``hub_channel.ex`` for an account or an anonymous session."""
    claims: dict[str, Any] = dict(
        perms_for_account(hub, account, require_account_for_join=require_account_for_join)
    )
    # Account.add_global_perms_for_account
    claims["tweet"] = False
    claims["create_hub"] = (account is not None and account.admin) or not disable_room_creation
    if account is not None and account.admin:
        claims["postgrest_role"] = "ret_admin"
    account_id = account.account_id if account is not None else ""
    now = int(time.time())
    claims.update({"account_id": account_id, "hub_id": hub.hub_id, "aud": "ret_perms",
                   "iss": "ret", "sub": f"{account_id}_{hub.hub_id}", "typ": "access",
                   "iat": now, "nbf": now - 1, "exp": now + PERMS_TOKEN_TTL_S,
                   "jti": secrets.token_hex(8)})  # fmt: skip
    return sign_jwt(claims, secret)
