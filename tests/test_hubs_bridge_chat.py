"""The bridge's chat out and the raised hands, end to end against the Hubs simulator.

Pins, answers and announcements from the event's stream reach the rooms'
chat once, paced and coalesced per room, only where ``chat_bridge`` is on;
the closing notice comes when the event ends; moderators list raised hands.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hubs_bridge.broker.base import PresenceEntry
from hubs_bridge.core.attendance import AttendanceMark
from hubs_bridge.hubs.frames import CHAT_MAX_CHARS
from hubs_bridge.hubs.notices import CLOSING
from hubs_bridge.web.keys import BROKER, CALENDAR, QA, REALTIME, STORE
from tests.harness.hubs_rig import Rig, make_rig
from tests.harness.waiting import eventually
from tests.harness.ws_client import WsClient

PIN = "📌"
ANSWERED = "✅"
ANNOUNCED = "📣"


async def question_id(rig: Rig, words: str) -> str:
    listing = await rig.get("/api/events/kirmes/questions?sort=new")
    ids = [q["id"] for q in listing["questions"] if words in q["text"]]
    assert len(ids) == 1, listing
    return str(ids[0])


async def moderate(rig: Rig, qid: str, **body: Any) -> None:
    await rig.send("POST", f"/api/events/kirmes/questions/{qid}/moderate", body)


async def announce(rig: Rig, text: str, rooms: list[str] | None = None) -> None:
    await rig.send("POST", "/api/events/kirmes/announcements", {"text": text, "rooms": rooms})


async def test_pins_answers_and_announcements_reach_the_room_chat(tmp_path: Path) -> None:
    async with make_rig(tmp_path, chat_interval_s=0.2, link_info=True) as rig:
        assert rig.info is not None
        await rig.joined()
        daten, info = rig.chat(rig.hub), rig.chat(rig.info)
        anna = rig.sim.add_avatar(rig.hub.hub_id, "Anna")
        anna.say("/frage Wann kommt das   offene\nDatenportal?")
        await eventually(lambda: bool(daten.said("Danke")), what="the thanks in daten")
        qid = await question_id(rig, "Datenportal")

        # A room's pinned question goes to that room, once.
        await moderate(rig, qid, action="pin")
        await eventually(lambda: bool(daten.said(PIN)), what="the pin in daten")
        pinned = "📌 Angepinnte Frage / Pinned question: Wann kommt das offene Datenportal?"
        assert daten.said(PIN) == [pinned]

        # Answering changes the pinned record again: the answer is told, the pin is not.
        await moderate(rig, qid, action="answer", mode="written", text="Im Mai.")
        await eventually(lambda: bool(daten.said(ANSWERED)), what="the answer in daten")
        assert daten.said(ANSWERED) == [
            "✅ Beantwortet / Answered: Wann kommt das offene Datenportal?"
            " — Antwort/Answer: Im Mai."
        ]
        await moderate(rig, qid, action="reply", text="Danke für die Frage")
        # A question asked to the whole event, pinned: every bridged room hears it.
        event = await rig.server.app[CALENDAR].get("kirmes")
        stage = await rig.server.app[QA].ask(
            event=event, visitor="v-web", text="Gibt es Folien?", client_msg_id="m1"
        )
        await moderate(rig, stage.id, action="pin")
        await eventually(
            lambda: bool(info.said(PIN)) and len(daten.said(PIN)) == 2,
            what="the event-wide pin in both rooms",
        )
        assert info.said(PIN) == ["📌 Angepinnte Frage / Pinned question: Gibt es Folien?"]
        assert daten.said(PIN)[0] == pinned  # the room's own pin was not said again

        # An announcement to one room reaches only that room; one to all rooms both.
        await announce(rig, "Gleich geht es im Info-Raum weiter.", rooms=["info"])
        await announce(rig, "Pause bis 15 Uhr.")
        await eventually(
            lambda: len(info.said(ANNOUNCED)) == 2 and len(daten.said(ANNOUNCED)) == 1,
            what="the announcements",
        )
        assert daten.said(ANNOUNCED) == ["📣 Durchsage / Announcement: Pause bis 15 Uhr."]
        assert "Info-Raum" in info.said(ANNOUNCED)[0]
        assert not info.said(ANSWERED)  # a room's answer stays in the room
        assert len(daten.said(PIN)) == 2 and len(info.said(PIN)) == 1


async def test_chat_bridge_off_says_nothing_and_takes_nothing(tmp_path: Path) -> None:
    """Chat bridging off is a privacy switch both ways: no /frage line of that room becomes
    a question (names included), and no notice is posted there."""
    async with make_rig(tmp_path, chat_interval_s=0.2, link_info=True) as rig:
        assert rig.info is not None
        await rig.send("PATCH", "/api/events/kirmes/rooms/daten", {"chat_bridge": False})
        await rig.bridge.sync()
        await rig.joined()
        daten, info = rig.chat(rig.hub), rig.chat(rig.info)
        anna = rig.sim.add_avatar(rig.hub.hub_id, "Anna")
        bert = rig.sim.add_avatar(rig.info.hub_id, "Bert")
        anna.say("/frage Bleibt das privat?")
        bert.say("/frage Und hier im Foyer?")
        listing: dict[str, Any] = {}

        async def asked() -> bool:
            listing.update(await rig.get("/api/events/kirmes/questions"))
            return bool(listing["questions"])

        # One worker, in order: once Bert's question is there, Anna's line was handled.
        await eventually(asked, what="Bert's question")
        assert [q["text"] for q in listing["questions"]] == ["Und hier im Foyer?"]

        # A question asked on the web page to that room: pinning it says nothing there.
        page = await WsClient.connect(rig.http, rig.url("/ws"))
        try:
            await page.hello("kirmes")
            ask = {"type": "ask", "text": "Vom Web?", "client_msg_id": "w1", "room": "daten"}
            await page.send(ask)
            qid = str((await page.next("ack"))["question"]["id"])
        finally:
            await page.close()
        await moderate(rig, qid, action="pin")
        await moderate(rig, qid, action="answer", mode="live")
        await announce(rig, "An alle Räume.")
        # The other room hears the announcement: every earlier frame was handled by then.
        await eventually(lambda: bool(info.said(ANNOUNCED)), what="the announcement in info")
        # A second one comes a chat interval later: a notice wrongly queued for daten
        # alongside the first would have been said by then.
        await announce(rig, "Noch einmal an alle.")
        await eventually(lambda: len(info.said(ANNOUNCED)) == 2, what="the second announcement")
        assert daten.bodies == ["/frage Bleibt das privat?"]  # only Anna's own line
        assert not info.said(PIN) and not info.said(ANSWERED)


async def test_notices_are_paced_and_coalesced(tmp_path: Path) -> None:
    interval = 1.0
    async with make_rig(tmp_path, chat_interval_s=interval) as rig:
        await rig.joined()
        daten = rig.chat(rig.hub)
        await announce(rig, "Erste Durchsage.")
        await eventually(lambda: len(daten.bodies) == 1, what="the first announcement")
        long = [f"Durchsage {n}: " + "Wort " * 58 for n in (2, 3, 4)]
        for text in long:
            await announce(rig, text)
        await eventually(lambda: len(daten.bodies) == 2, what="the second message")
        # A later notice comes alone in the next message, a chat interval on: nothing
        # of the three was held back or sent apart.
        await announce(rig, "Letzte Durchsage.")
        await eventually(lambda: len(daten.bodies) == 3, what="the third message")
        assert daten.bodies[2] == "📣 Durchsage / Announcement: Letzte Durchsage.", daten.bodies
        assert daten.times[1] - daten.times[0] >= interval - 0.05
        assert daten.times[2] - daten.times[1] >= interval - 0.05
        message = daten.bodies[1]
        assert len(message) <= CHAT_MAX_CHARS
        # They do not all fit: the newest win, whole and in order.
        assert "Durchsage 2:" not in message
        assert message.index("Durchsage 3:") < message.index("Durchsage 4:")
        assert message.count(ANNOUNCED) == 2


async def test_closing_notice_when_the_event_ends(tmp_path: Path) -> None:
    async with make_rig(tmp_path, chat_interval_s=0.2) as rig:
        await rig.send("PATCH", "/api/events/kirmes/rooms/daten", {"chat_bridge": False})
        await rig.joined()
        daten = rig.chat(rig.hub)
        ends = datetime.now(UTC) - timedelta(seconds=1)
        await rig.send("PATCH", "/api/events/kirmes", {"ends_at": ends.isoformat()})
        await eventually(
            lambda: not rig.bridge.rooms and bool(daten.bodies),
            what="the closing notice and the bridge gone",
        )
        # Said before leaving, and said although the room's chat bridge is off.
        assert daten.bodies == [CLOSING]
        assert rig.bridge.say("kirmes", "daten", "zu spät") is False


async def test_say_queues_into_a_bridged_room(tmp_path: Path) -> None:
    async with make_rig(tmp_path, chat_interval_s=0.2) as rig:
        await rig.joined()
        daten = rig.chat(rig.hub)
        assert rig.bridge.say("kirmes", "daten", "Hallo! / Hello!")
        assert not rig.bridge.say("kirmes", "info", "no Hubs link")
        await eventually(lambda: daten.bodies == ["Hallo! / Hello!"], what="the line in daten")


async def test_raised_hands_for_moderators(tmp_path: Path) -> None:
    async with make_rig(tmp_path, link_info=True) as rig:
        assert rig.info is not None
        await rig.joined()
        zoe = rig.sim.add_avatar(rig.hub.hub_id, "Zoë", device="vr")
        bernd = rig.sim.add_avatar(rig.info.hub_id, "bernd", device="mobile")
        anna = rig.sim.add_avatar(rig.hub.hub_id, "Anna")
        rig.sim.add_avatar(rig.hub.hub_id, "Carl")  # no hand
        zoe.enter()
        zoe.raise_hand()
        anna.enter()
        anna.raise_hand()
        bernd.raise_hand()  # in the lobby
        token = (
            await rig.send("POST", "/api/tokens", {"role": "moderator", "events": ["kirmes"]})
        )["token"]
        expected = [
            {"room": "daten", "name": "Anna", "device": "desktop", "where": "room"},
            {"room": "daten", "name": "Zoë", "device": "vr", "where": "room"},
            {"room": "info", "name": "bernd", "device": "mobile", "where": "lobby"},
        ]
        body: dict[str, Any] = {}

        async def listed() -> bool:
            body.update(await rig.send("GET", "/api/events/kirmes/hands", token=token))
            return bool(body["hands"] == expected)

        await eventually(listed, what=f"the raised hands listed; last {body}")
        assert body["event"] == "kirmes"

        async with rig.http.get(rig.url("/api/events/kirmes/hands")) as resp:
            assert resp.status == 401
            assert (await resp.json())["code"] == "token_required"
        await rig.send(
            "POST",
            "/api/events",
            {
                "slug": "andere",
                "title": "Andere",
                "starts_at": "2031-01-01T10:00",
                "ends_at": "2031-01-01T12:00",
            },
        )
        other = (
            await rig.send("POST", "/api/tokens", {"role": "moderator", "events": ["andere"]})
        )["token"]
        async with rig.http.get(
            rig.url("/api/events/kirmes/hands"), headers={"Authorization": f"Bearer {other}"}
        ) as resp:
            assert resp.status == 403
            assert (await resp.json())["code"] == "wrong_event"


async def test_hubs_names_never_reach_the_record(tmp_path: Path) -> None:
    name = "Zebulon Quaxtrum"
    async with make_rig(tmp_path) as rig:
        await rig.joined()
        app = rig.server.app
        avatar = rig.sim.add_avatar(rig.hub.hub_id, name)
        avatar.enter()
        broker = app[BROKER]

        async def named() -> list[PresenceEntry]:
            return [e for e in await broker.presence_list("kirmes") if e.name == name]

        entries = await eventually(named, what="the avatar in the presence")
        # The bridge's process dies: its entries expire, and the attendance leader
        # records them as leaves (the only path by which Hubs presence is recorded).
        await rig.bridge.close()
        await broker.presence_put("kirmes", entries, 0.01)
        realtime = app[REALTIME]
        marks: list[AttendanceMark] = []

        async def hubs_marks_recorded() -> list[AttendanceMark]:
            # The test runs the leader's rounds, until the entries have expired.
            await realtime.leader.tick(app[CALENDAR].now())
            await realtime.presence.flush()
            marks[:] = await app[STORE].attendance_marks("kirmes")
            return [m for m in marks if m.source == "hubs"]

        hubs_marks = await eventually(hubs_marks_recorded, what="the expired entries as leaves")
        pseudonym = realtime.ids.record_hash("kirmes", entries[0].visitor)
        assert all(m.visitor == pseudonym for m in hubs_marks)
        assert not any(name in repr(m) for m in marks)
        # Nor anywhere in the database files (SQLite file, journal, WAL).
        data = tmp_path / "data"
        for path in data.rglob("*"):
            if path.is_file():
                raw = path.read_bytes()
                assert name.encode() not in raw, path
                assert name.encode("utf-16-le") not in raw, path


async def test_own_prefixes_anonymous_hubs_questions_and_the_bots_name(tmp_path: Path) -> None:
    """The question prefixes are a setting; an event that hides Hubs names gets anonymous
    questions from the chat; what the bot says carries its name as the sender."""
    settings = {"question_prefixes": ["?? "], "bot_name": "Stadtbot"}
    async with make_rig(tmp_path, chat_interval_s=0.2, hubs=settings) as rig:
        await rig.send("PATCH", "/api/events/kirmes", {"qa": {"hubs_names": False}})
        await rig.bridge.sync()
        await rig.joined()
        frames: list[dict[str, Any]] = []

        class Raw:
            def deliver(self, frame: Any) -> None:
                if frame.event == "message":
                    frames.append(dict(frame.payload))

        rig.sim.room(rig.hub.hub_id).subscribers["raw"] = Raw()
        anna = rig.sim.add_avatar(rig.hub.hub_id, "Anna")
        anna.say("/frage Das ist kein Präfix mehr")
        anna.say("?? Wer hat gefragt?")
        await eventually(
            lambda: any("Danke" in str(f.get("body")) for f in frames), what="the thanks"
        )
        listing = await rig.get("/api/events/kirmes/questions")
        assert [(q["text"], q["authors"]) for q in listing["questions"]] == [
            ("Wer hat gefragt?", [])
        ]
        thanks = next(f for f in frames if "Danke" in str(f.get("body")))
        assert thanks["from"] == "Stadtbot"


async def test_a_long_hubs_name_is_cut_not_the_question_refused(tmp_path: Path) -> None:
    async with make_rig(tmp_path, chat_interval_s=0.2) as rig:
        await rig.joined()
        long_name = "Sehr langer Anzeigename aus dem Hubs-Raum 1234567890"
        rig.sim.add_avatar(rig.hub.hub_id, long_name).say("/frage Geht das trotzdem?")

        async def questions() -> list[dict[str, Any]]:
            listing: dict[str, Any] = await rig.get("/api/events/kirmes/questions")
            return list(listing["questions"])

        question = (await eventually(questions, what="the question"))[0]
        assert question["text"] == "Geht das trotzdem?"
        assert question["authors"] == [long_name[:40].strip()]
