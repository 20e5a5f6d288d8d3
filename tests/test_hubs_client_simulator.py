"""The client driver against the simulator: the two sides of the protocol agree."""

from __future__ import annotations

from hubs_bridge.hubs.client import ReticulumClient
from hubs_bridge.hubs.client_events import ChatReceived, PresenceChanged, RoomEvent, RoomJoined
from hubs_bridge.hubs.simulator import HubsSimulator
from tests.harness.waiting import eventually


async def test_presence_and_chat_through_the_simulator() -> None:
    sim = HubsSimulator()
    await sim.start()
    hub = sim.create_hub("Digitale Kirmes: Offene Daten")
    events: list[RoomEvent] = []
    counts: list[tuple[int, int, int]] = []

    def on_event(event: RoomEvent) -> None:
        events.append(event)
        if isinstance(event, PresenceChanged):
            c = event.presence.counts()
            counts.append((c.lobby, c.room, c.hands))

    client = ReticulumClient(
        sim.base_url, bot_name="StadtLABOR", bot_access_key=None, on_event=on_event
    )
    try:
        async with client:
            client.join_room(hub.hub_id)
            await eventually(
                lambda: any(isinstance(e, RoomJoined) for e in events),
                what="the room joined",
                timeout=5,
            )
            anna = sim.add_avatar(hub.hub_id, "Anna", device="vr")
            await eventually(
                lambda: bool(counts) and counts[-1] == (1, 0, 0),
                what="one person in the lobby",
                timeout=5,
            )
            anna.enter()
            anna.raise_hand()
            await eventually(
                lambda: counts[-1] == (0, 1, 1),
                what="one person in the room, hand raised",
                timeout=5,
            )
            anna.say("/frage Wann kommt das offene Datenportal?")
            await eventually(
                lambda: any(isinstance(e, ChatReceived) for e in events),
                what="the chat line",
                timeout=5,
            )
            chat = next(e for e in events if isinstance(e, ChatReceived))
            assert chat.display_name == "Anna" and chat.body.startswith("/frage ")
            client.send_chat(hub.hub_id, "Danke, Ihre Frage ist angekommen.")
            anna.leave()
            await eventually(lambda: counts[-1] == (0, 0, 0), what="nobody left", timeout=5)
            # The bot stays in the lobby and is no person: the simulator counts no member for it.
            assert all(p.display_name != "StadtLABOR" for p in client.presence(hub.hub_id).people())
    finally:
        await sim.stop()
