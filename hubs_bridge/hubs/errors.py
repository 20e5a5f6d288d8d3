"""Errors of the Hubs client core.

    HubsBridgeError               (hubs_bridge.errors)
    └── HubsError                 talking to a Hubs server went wrong
        ├── ProtocolError         the server sent a frame the bridge cannot read
        └── InvalidState          the caller asked for something the channel's state forbids

A ``ProtocolError`` means the peer is not the Reticulum described in
``docs/reticulum/PROTOCOL.md`` (or the frame was damaged): the driver logs it
and, for frames on the socket, closes and reconnects. ``InvalidState`` is a bug
in the driver (pushing on a channel that is not joined), never caused by the
server.
"""

from __future__ import annotations

from hubs_bridge.errors import HubsBridgeError


class HubsError(HubsBridgeError):
    """Root of the errors raised while talking to a Hubs server."""


class ProtocolError(HubsError):
    """A frame or payload from the Hubs server is malformed."""


class InvalidState(HubsError):
    """The command does not fit the channel's current state (a driver bug)."""
