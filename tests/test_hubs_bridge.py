"""The Hubs bridge end to end: simulator rooms -> presence, attendance and Q&A of the app."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from hubs_bridge.core.calendar import Event
from hubs_bridge.core.event_commands import set_room_hubs_link
from hubs_bridge.hubs.chat_in import question_text
from hubs_bridge.hubs.chat_out import reply_text
from hubs_bridge.web.keys import BROKER, CALENDAR
from tests.harness.hubs_rig import Attendance, ChatRecorder, make_rig
from tests.harness.waiting import eventually
from tests.harness.ws_client import WsClient


def test_question_text_and_replies() -> None:
    assert question_text("/frage Wann kommt das?") == "Wann kommt das?"
    assert question_text("/QUESTION  When? ") == "When?"
    assert question_text("/frage ") is None
    assert question_text("Hallo /frage x") is None
    assert question_text("/fragen x") is None
    assert "3 Fragen" in reply_text(3, []) and "3 questions" in reply_text(3, [])
    assert reply_text(0, ["nein / no"]) == "nein / no"


async def test_presence_questions_and_stale_rooms(tmp_path: Path) -> None:
    async with make_rig(tmp_path) as rig:
        sim, hub, bridge = rig.sim, rig.hub, rig.bridge
        await eventually(
            lambda: hub.hub_id in bridge.rooms and bridge.client.connected,
            what="the bridge connected and in the room",
        )

        def fresh_presence() -> bool:
            presence = bridge.client.presence(hub.hub_id)
            return presence is not None and not presence.stale

        await eventually(fresh_presence, what="fresh presence of the room")
        page = await WsClient.connect(rig.http, rig.url("/ws"))
        try:
            await page.hello("kirmes")
            attendance = Attendance(page)

            anna = sim.add_avatar(hub.hub_id, "Anna", device="vr")
            bernd = sim.add_avatar(hub.hub_id, "Bernd", device="mobile")
            sim.add_avatar(hub.hub_id, "Clara")
            anna.enter()
            anna.raise_hand()
            bernd.enter()
            counts = await attendance.until(
                "daten", lambda r: r.get("hubs_room") == 2 and r.get("hands") == 1
            )
            assert counts["hubs_lobby"] == 1 and counts["vr"] == 1 and counts["mobile"] == 1
            assert not counts.get("stale")
            live = await rig.get("/api/events/kirmes/live")
            assert live["rooms"]["daten"]["hubs"] == 3
            assert live["rooms"]["daten"]["occupancy"] == 2
            assert live["rooms"]["info"]["hubs"] == 0
            # No Hubs session id in shared presence; the display name only in the live
            # entry (for the list of raised hands), see test_hubs_names_never_reach_the_record.
            entries = await rig.server.app[BROKER].presence_list("kirmes")
            hubs_entries = [e for e in entries if e.source == "hubs"]
            assert len(hubs_entries) == 3
            assert sorted(str(e.name) for e in hubs_entries) == ["Anna", "Bernd", "Clara"]
            for entry in hubs_entries:
                assert entry.room == "daten"
                assert entry.session == "hubs:" + entry.visitor
                assert anna.session_id not in entry.session

            # Questions from the chat, confirmed in the room (coalesced, at most every 2 s).
            chat = ChatRecorder()
            sim.room(hub.hub_id).subscribers["test-recorder"] = chat
            anna.say("/frage Wann kommt das offene Datenportal?")
            await eventually(lambda: any("Danke" in b for b in chat.bodies), what="the thanks")
            assert chat.bodies[-1].startswith("Danke! Deine Frage ist angekommen.")
            sent = len(chat.bodies)
            bernd.say("/Question When will the slides be online?")
            anna.say("Hallo zusammen!")  # ordinary chat: ignored
            anna.say("/frage Gibt es die Folien als PDF?")
            await eventually(
                lambda: any("2 Fragen" in b for b in chat.bodies[sent:]),
                what="one thanks for two questions",
            )
            listing = await rig.get("/api/events/kirmes/questions?sort=new")
            questions = listing["questions"]
            assert len(questions) == 3
            assert all(q["source"] == "hubs" and q["room"] == "daten" for q in questions)
            by_text = {q["text"]: q for q in questions}
            assert by_text["Wann kommt das offene Datenportal?"]["authors"] == ["Anna"]
            assert by_text["When will the slides be online?"]["authors"] == ["Bernd"]
            assert "Hallo zusammen!" not in by_text

            # The rate limit (3 per minute) turns into a short reply, not into a question.
            for n in range(3):
                anna.say(f"/frage Noch eine Frage Nummer {n}?")
            await eventually(
                lambda: any("langsamer" in b for b in chat.bodies), what="the slow-down reply"
            )
            listing = await rig.get("/api/events/kirmes/questions")
            assert len(listing["questions"]) == 4

            # Socket lost: counts are marked stale (kept), then fresh after the rejoin.
            dora = sim.add_avatar(hub.hub_id, "Dora")
            await attendance.until("daten", lambda r: r.get("hubs_lobby") == 2)
            await sim.drop_all_sockets()
            dora.leave()
            stale = await attendance.until("daten", lambda r: r.get("stale") is True)
            assert stale["hubs_room"] == 2
            fresh = await attendance.until(
                "daten", lambda r: not r.get("stale") and r.get("hubs_lobby") == 1
            )
            assert fresh["hubs_room"] == 2 and fresh["hands"] == 1
            assert not bridge.stale_rooms.of("kirmes")

            # People leave: their entries go.
            anna.leave()
            await attendance.until("daten", lambda r: r.get("hubs_room") == 1)
        finally:
            await page.close()


async def test_rooms_are_left_when_the_link_goes(tmp_path: Path) -> None:
    async with make_rig(tmp_path) as rig:
        sim, hub, bridge = rig.sim, rig.hub, rig.bridge
        await eventually(lambda: hub.hub_id in bridge.client.rooms, what="the bridge in the room")
        sim.add_avatar(hub.hub_id, "Anna")
        broker = rig.server.app[BROKER]

        async def hubs_entries() -> int:
            return sum(e.source == "hubs" for e in await broker.presence_list("kirmes"))

        async def anna_counted() -> bool:
            return await hubs_entries() == 1

        await eventually(anna_counted, what="Anna in the presence as a Hubs entry")

        def unlinked(e: Event, at: datetime) -> Event:
            return set_room_hubs_link(e, "daten", None, now=at)

        await rig.server.app[CALENDAR].change("kirmes", unlinked)
        await bridge.sync()
        assert hub.hub_id not in bridge.client.rooms and not bridge.rooms
        assert await hubs_entries() == 0
