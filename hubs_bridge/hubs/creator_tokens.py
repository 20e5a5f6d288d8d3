"""The ``creator_assignment_token`` of each Hubs room the bridge made: a secret kept in the store.

Whoever signs in on a room's channel with it becomes the room's creator and so
its owner (``hub_channel.ex`` ``sign_in`` -> ``Hub.changeset_for_creator_assignment``;
owners may close the room, change its settings, mute and kick:
``@owner_actions`` in ``lib/ret/hub.ex``). It is kept with the installation's
other secrets (``Store.set_meta_if_absent``, as the generated secret key) and
never in the event document, so it reaches no API answer, page, log line or
export. Reticulum forgets it once used (``add_account_to_changeset`` puts nil),
so keeping it after the bridge became owner does no harm; it dies with the room.
"""

from __future__ import annotations

from hubs_bridge.store.base import MetaStore

PREFIX = "hubs-creator-token:"


async def keep(store: MetaStore, hub_id: str, token: str) -> None:
    await store.set_meta_if_absent(PREFIX + hub_id, token)


async def find(store: MetaStore, hub_id: str) -> str | None:
    return await store.get_meta(PREFIX + hub_id)
