"""What the bridge reads from perms_token and does as a room's owner: pure, no event loop."""

from __future__ import annotations

import base64
import json

import pytest

from hubs_bridge.core.calendar import Room
from hubs_bridge.hubs import ownership
from hubs_bridge.hubs.frames import Hub
from hubs_bridge.hubs.perms import HubPerms, perms_from_token

OWNER = {
    "join_hub": True,
    "update_hub": True,
    "close_hub": True,
    "kick_users": True,
    "mute_users": True,
    "account_id": "42",
    "hub_id": "abc1234",
}


def token(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.signature"


def test_perms_token_claims_are_read() -> None:
    perms = perms_from_token(token(OWNER))
    assert perms.close_hub and perms.kick_users and perms.mute_users and perms.update_hub
    assert perms.signed_in and perms.account_id == "42"


@pytest.mark.parametrize(
    "bad", [None, "", "x", "a.b", "a.!!!.c", token({"close_hub": "yes"}), "x" * 9000]
)
def test_unreadable_perms_grant_nothing(bad: str | None) -> None:
    assert perms_from_token(bad) == HubPerms()


def test_anonymous_claims_are_not_signed_in() -> None:
    # hub_channel.ex get_perms_token: account_id |> to_string, "" without an account.
    perms = perms_from_token(token({"join_hub": True, "account_id": ""}))
    assert perms.join_hub and not perms.signed_in and not perms.close_hub


def _hub(**fields: object) -> Hub:
    base: dict[str, object] = {
        "hub_id": "abc1234",
        "name": "Kirmes – Info",
        "entry_mode": "allow",
        "room_size": 24,
        "member_permissions": {"voice_chat": True, "text_chat": True, "fly": False},
    }
    return Hub.model_validate({**base, **fields})


ROOM = Room(slug="info", title="Info", scene="foyer", capacity=24)
SCENE = {"scene_id": "xyz", "name": "Wide Open Space", "type": "scene_listing"}


def test_a_default_listing_is_replaced_by_the_library_scene_only_by_an_owner() -> None:
    url = "https://bridge.example/scenes/abc.glb"
    listed = _hub(scene=SCENE)
    assert ownership.scene_state(listed) == "hubs_scene"
    assert ownership.scene_push(listed, HubPerms.model_validate(OWNER), url) == {"url": url}
    assert ownership.scene_push(listed, HubPerms(), url) is None
    assert ownership.scene_push(_hub(), HubPerms.model_validate(OWNER), url) is None
    # On the Hubs host itself Reticulum would look /scenes/ up among its own: never sent.
    same = "https://hubs.example/scenes/abc.glb"
    owner = HubPerms.model_validate(OWNER)
    assert ownership.scene_push(listed, owner, same, "https://hubs.example:443") is None


def test_settings_are_pushed_whole_when_they_differ() -> None:
    owner = HubPerms.model_validate(OWNER)
    same = _hub(member_permissions=dict(ROOM.member_permissions))
    assert ownership.settings_push(same, owner, ROOM, 50) is None
    bigger = ROOM.model_copy(update={"capacity": 40})
    push = ownership.settings_push(same, owner, bigger, 30)
    # Reticulum's update_hub casts name, description, room_size and maps member
    # permissions from the payload: every one is sent, the size within the maximum.
    assert push is not None
    assert push["room_size"] == 30 and push["name"] == "Kirmes – Info"
    assert set(push) == {
        "name",
        "description",
        "room_size",
        "member_permissions",
        "allow_promotion",
    }
    assert ownership.settings_push(same, HubPerms(), bigger, 30) is None


def test_capabilities_explain_why_not() -> None:
    owner = ownership.capabilities(
        HubPerms.model_validate(OWNER),
        joined=True,
        failed_reason=None,
        account_configured=True,
        admin_key_configured=False,
    )
    assert owner == ownership.Capabilities(True, True, True, True, None)
    anonymous = ownership.capabilities(
        HubPerms(join_hub=True),
        joined=True,
        failed_reason=None,
        account_configured=False,
        admin_key_configured=True,
    )
    assert anonymous.close and not anonymous.moderate and not anonymous.settings
    assert anonymous.why_not is not None and "ACCOUNT_TOKEN" in anonymous.why_not
    refused = ownership.capabilities(
        HubPerms(join_hub=True, account_id="7"),
        joined=True,
        failed_reason=None,
        account_configured=True,
        admin_key_configured=False,
    )
    assert refused.why_not is not None and "does not own" in refused.why_not
    waiting = ownership.capabilities(
        None, joined=False, failed_reason=None, account_configured=True, admin_key_configured=False
    )
    assert not waiting.join and waiting.why_not is not None
