"""What the bridge asks of Reticulum's room API and what it gets back: plain values.

Kept apart from ``rooms_api.py`` (the I/O) so that ``graphql.py`` and the
provisioner share them without importing each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hubs_bridge.core.calendar import is_http_url

# What a stored link takes (``HubsRoomLink``); a hub id also goes into a URL path.
HUB_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_URL = 500
MAX_TOKEN = 200


class HubsRequestFailed(Exception):
    """A request to the Hubs server failed; ``str(exc)`` is for people."""


class HubsRefused(HubsRequestFailed):
    """The Hubs server answered with an error status."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"the Hubs server refused with status {status}: {detail}")
        self.status = status
        self.detail = detail


class HubsThrottled(HubsRequestFailed):
    """Refused by the throttle (403 ``Forbidden``, or 429 from a proxy) try after try."""


@dataclass(frozen=True, slots=True)
class HubSpec:
    """What a new Hubs room should be."""

    name: str
    scene_url: str
    room_size: int


@dataclass(frozen=True, slots=True)
class NewHub:
    """A room the Hubs server has just created.

    ``creator_token`` is Reticulum's ``creator_assignment_token`` (a secret: whoever
    signs in with it becomes the room's owner; null when an account created it).
    ``default_scene`` is true when Reticulum attaches a default scene listing.
    """

    hub_id: str
    url: str
    creator_token: str | None = field(default=None, repr=False)
    default_scene: bool = False

    def __post_init__(self) -> None:
        if not valid_hub_id(self.hub_id):
            raise HubsRequestFailed(
                f"the Hubs server answered a room id that cannot be stored: {self.hub_id[:80]!r}"
            )
        if len(self.url) > MAX_URL:
            raise HubsRequestFailed(
                f"the Hubs server answered a room URL longer than {MAX_URL} characters"
            )
        if not is_http_url(self.url):
            raise HubsRequestFailed(
                f"the Hubs server answered a room URL that is not http(s): {self.url[:80]!r}"
            )
        if self.creator_token is not None and not 0 < len(self.creator_token) <= MAX_TOKEN:
            raise HubsRequestFailed("the Hubs server answered an unusable creator token")


def valid_hub_id(hub_id: str) -> bool:
    return HUB_ID.fullmatch(hub_id) is not None


def room_url(hubs_url: str, hub_id: str) -> str:
    """A room's link: ``<server>/<hub_sid>`` (the slug after it is optional)."""
    return f"{hubs_url}/{hub_id}"
