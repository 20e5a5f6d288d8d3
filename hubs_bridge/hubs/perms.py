"""What the bridge may do in a Hubs room, as Reticulum says in its ``perms_token``.

Reticulum answers a room join, and a ``sign_in`` on the room's channel, with a
``perms_token``: a JWT whose claims are ``Hub.perms_for_account`` for the
socket's account plus ``account_id`` and ``hub_id`` (``hub_channel.ex``
``get_perms_token``; ``lib/ret/hub.ex`` ``perms_for_account``). The owner
actions ``update_hub``, ``close_hub``, ``kick_users`` and ``mute_users`` are
granted to a room's owners only (``@owner_actions``: the creator account, or
one in ``hub_role_memberships``); an anonymous session has none of them.

The bridge reads the claims without checking the signature: it cannot (the
key is the server's) and need not, because Reticulum checks every action
again; the claims only tell the bridge, and staff, what it may try.
"""

from __future__ import annotations

import base64
import binascii

import orjson
from pydantic import ValidationError

from hubs_bridge.hubs.frames import Flag, WirePayload

MAX_TOKEN_CHARS = 8192


class HubPerms(WirePayload):
    """The owner actions of one session in one room (all false when unknown)."""

    join_hub: Flag = False
    update_hub: Flag = False
    close_hub: Flag = False
    kick_users: Flag = False
    mute_users: Flag = False
    account_id: str | None = None

    @property
    def signed_in(self) -> bool:
        return bool(self.account_id)


def perms_from_token(token: str | None) -> HubPerms:
    """The claims of a ``perms_token``; nothing allowed when it is missing or unreadable."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return HubPerms()
    parts = token.split(".")
    if len(parts) != 3:
        return HubPerms()
    body = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(body))
        if not isinstance(claims, dict):
            return HubPerms()
        if claims.get("account_id") in ("", None):
            claims["account_id"] = None
        else:
            claims["account_id"] = str(claims["account_id"])
        return HubPerms.model_validate(claims, strict=True)  # "yes" is not a right
    except (binascii.Error, ValueError, ValidationError):
        return HubPerms()
