"""The live Q&A over websockets and HTTP, in one process, against the real store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hubs_bridge.web.keys import REALTIME
from tests.harness.ws_app import STAFF, Harness, make_harness
from tests.harness.ws_client import WsClient

AUTH = {"Authorization": f"Bearer {STAFF}"}


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with make_harness(tmp_path) as harness:
        yield harness


async def moderator(h: Harness) -> WsClient:
    client = await h.client()
    await client.hello("kirmes", token=STAFF)
    return client


async def moderator_token(h: Harness, event: str) -> str:
    resp = await h.http.post(
        h.server.make_url("/api/tokens"),
        json={"role": "moderator", "events": [event]},
        headers=AUTH,
    )
    token: str = (await resp.json())["token"]
    return token


async def premoderate(h: Harness, on: bool = True) -> None:
    resp = await h.http.patch(
        h.server.make_url("/api/events/kirmes"), json={"qa": {"premoderation": on}}, headers=AUTH
    )
    assert resp.status == 200, await resp.text()


async def test_ask_is_acknowledged_and_fanned_out(h: Harness) -> None:
    asker = await h.visitor()
    watcher = await h.visitor()
    await asker.send({"type": "ask", "text": "  Wann kommt Glasfaser?  ", "client_msg_id": "m1"})
    ack = await asker.next("ack")
    assert ack["ref"] == "m1" and ack["question"]["text"] == "Wann kommt Glasfaser?"
    assert ack["question"]["status"] == "approved"
    seen = await watcher.next("question")
    assert seen["question"]["id"] == ack["question"]["id"] and seen["question"]["votes"] == 0
    assert "mine" not in seen["question"]


async def test_ask_is_idempotent(h: Harness) -> None:
    asker = await h.visitor()
    await asker.send({"type": "ask", "text": "Frage?", "client_msg_id": "same"})
    first = (await asker.next("ack"))["question"]
    await asker.send({"type": "ask", "text": "Frage?", "client_msg_id": "same"})
    second = (await asker.next("ack"))["question"]
    assert first["id"] == second["id"]
    listed = await (await h.http.get(h.server.make_url("/api/events/kirmes/questions"))).json()
    assert len(listed["questions"]) == 1


async def test_premoderation_hides_pending_from_others(h: Harness) -> None:
    await premoderate(h)
    asker = await h.visitor()
    other = await h.visitor()
    mod = await moderator(h)
    await asker.send({"type": "ask", "text": "Geheim?", "client_msg_id": "p1", "name": "Anna"})
    qid = (await asker.next("ack"))["question"]["id"]
    mine = await asker.next("question")
    assert mine["question"]["status"] == "pending" and mine["question"]["mine"] is True
    hidden = await other.next("question")
    assert hidden["question"] == {"id": qid, "hidden": True}  # same seq, nothing revealed
    full = await mod.next("question")
    assert full["question"]["text"] == "Geheim?" and full["question"]["authors"] == ["Anna"]
    assert hidden["seq"] == mine["seq"] == full["seq"]

    await mod.send({"type": "moderate", "action": "approve", "question": qid, "ref": "r1"})
    assert (await mod.next("ack"))["ref"] == "r1"
    shown = await other.next("question")
    assert shown["question"]["text"] == "Geheim?" and shown["question"]["status"] == "approved"
    # A new page gets it in its snapshot; a pending one of someone else it does not.
    await asker.send({"type": "ask", "text": "Noch eine?", "client_msg_id": "p2"})
    await asker.next("ack")
    late = await h.visitor()
    assert late.welcome is not None
    texts = [q["text"] for q in late.welcome["snapshot"]["qa"]["questions"]]
    assert texts == ["Geheim?"]


async def test_votes_one_per_visitor_and_coalesced(h: Harness) -> None:
    asker = await h.visitor()
    await asker.send({"type": "ask", "text": "Abstimmen?", "client_msg_id": "v"})
    qid = (await asker.next("ack"))["question"]["id"]
    voters = [await h.visitor() for _ in range(5)]
    for voter in voters:
        await voter.send({"type": "vote", "question": qid, "up": True, "ref": "x"})
        await voter.send({"type": "vote", "question": qid, "up": True, "ref": "y"})
    acks = [await v.next("ack", ref="y") for v in voters]
    assert acks[-1]["votes"] == 5
    frame = await asker.next("votes")
    while frame["counts"].get(qid) != 5:
        frame = await asker.next("votes")
    await voters[0].send({"type": "vote", "question": qid, "up": False})
    assert (await voters[0].next("ack"))["votes"] == 4
    # The count other pages saw goes exact again, and counts stay distinct voters.
    frame = await asker.next("votes")
    while frame["counts"].get(qid) != 4:
        frame = await asker.next("votes")
    assert voters[1].welcome is not None
    again = await h.client()
    welcome = await again.hello("kirmes", visitor=voters[1].welcome["visitor"])
    assert welcome["snapshot"]["qa"]["voted"] == [qid]


async def test_vote_storm_is_coalesced(h: Harness) -> None:
    asker = await h.visitor()
    await asker.send({"type": "ask", "text": "Sturm?", "client_msg_id": "s"})
    qid = (await asker.next("ack"))["question"]["id"]
    voters = [await h.visitor() for _ in range(40)]
    await asyncio.gather(*(v.send({"type": "vote", "question": qid}) for v in voters))
    await asyncio.gather(*(v.next("ack") for v in voters))
    frame = await asker.next("votes", timeout=3)
    while frame["counts"].get(qid) != 40:
        frame = await asker.next("votes", timeout=3)
    vote_frames = [f for f in asker.frames if f["type"] == "votes"]
    assert len(vote_frames) < 40 / 4  # a few per second, not one per vote


async def test_hidden_questions_take_no_votes(h: Harness) -> None:
    await premoderate(h)
    asker = await h.visitor()
    await asker.send({"type": "ask", "text": "Wartend?", "client_msg_id": "w"})
    qid = (await asker.next("ack"))["question"]["id"]
    voter = await h.visitor()
    await voter.send({"type": "vote", "question": qid, "ref": "z"})
    error = await voter.next("error")
    assert error["code"] == "question_not_votable" and error["ref"] == "z"


async def test_visitor_cannot_moderate_and_moderator_is_scoped(h: Harness) -> None:
    asker = await h.visitor()
    await asker.send({"type": "ask", "text": "Hallo?", "client_msg_id": "h"})
    qid = (await asker.next("ack"))["question"]["id"]
    await asker.send({"type": "moderate", "action": "delete", "question": qid, "ref": "m"})
    error = await asker.next("error")
    assert error["code"] == "token_required" and error["ref"] == "m"
    await asker.send({"type": "announce", "text": "Ich bin der Chef"})
    assert (await asker.next("error"))["code"] == "token_required"
    # Over HTTP a moderator of another event is refused.
    other = {
        "slug": "andere",
        "title": "Andere",
        "starts_at": "2026-01-01T10:00",
        "ends_at": "2026-01-01T12:00",
    }
    await h.http.post(h.server.make_url("/api/events"), json=other, headers=AUTH)
    token = await moderator_token(h, "andere")
    resp = await h.http.post(
        h.server.make_url(f"/api/events/kirmes/questions/{qid}/moderate"),
        json={"action": "delete"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status == 403 and (await resp.json())["code"] == "wrong_event"
    listed = await (await h.http.get(h.server.make_url("/api/events/kirmes/questions"))).json()
    assert [q["id"] for q in listed["questions"]] == [qid]  # nothing changed


async def test_a_revoked_token_stops_moderating_on_open_pages(h: Harness) -> None:
    token = await moderator_token(h, "kirmes")
    listed = await (await h.http.get(h.server.make_url("/api/tokens"), headers=AUTH)).json()
    token_id = listed["tokens"][-1]["token_id"]
    asker = await h.visitor()
    await asker.send({"type": "ask", "text": "Hallo?", "client_msg_id": "r"})
    qid = (await asker.next("ack"))["question"]["id"]
    mod = await h.client()
    await mod.hello("kirmes", token=token)
    await mod.send({"type": "moderate", "action": "pin", "question": qid, "ref": "m1"})
    await mod.next("ack", ref="m1")
    resp = await h.http.delete(h.server.make_url(f"/api/tokens/{token_id}"), headers=AUTH)
    assert resp.status in (200, 204)
    # The page opened before the revocation may not act any more; it is closed as 4401.
    await mod.send({"type": "moderate", "action": "unpin", "question": qid, "ref": "m2"})
    error = await mod.next("error", ref="m2")
    assert error["code"] == "token_revoked"
    assert await mod.closed() == 4401
    listed_q = await (await h.http.get(h.server.make_url("/api/events/kirmes/questions"))).json()
    assert listed_q["questions"][0]["pinned"] is True  # the unpin did not happen


async def test_moderation_flow(h: Harness) -> None:
    a = await h.visitor()
    mod = await moderator(h)
    ids = []
    for n in range(3):
        await a.send({"type": "ask", "text": f"Frage {n}?", "client_msg_id": f"f{n}"})
        ids.append((await a.next("ack"))["question"]["id"])

    async def act(**frame: Any) -> dict[str, Any]:
        await mod.send({"type": "moderate", "ref": "r", **frame})
        return await mod.next("ack", timeout=5)

    await act(action="pin", question=ids[0])
    await act(action="pin", question=ids[1])  # replaces the pin in the same room (the event)
    listed = await (await h.http.get(h.server.make_url("/api/events/kirmes/questions"))).json()
    assert [q["id"] for q in listed["questions"] if q["pinned"]] == [ids[1]]
    await act(action="answer", question=ids[1], mode="written", text="Im Frühjahr.")
    await act(action="reply", question=ids[0], text="Danke!")
    await act(action="edit", question=ids[2], text="Frage zwei, umformuliert?")
    await act(action="reject", question=ids[2], reason="off_topic")
    await act(action="merge", question=ids[0], into=ids[1])
    await act(action="delete", question=ids[1])
    await act(action="undelete", question=ids[1])
    listed = await (await h.http.get(h.server.make_url("/api/events/kirmes/questions"))).json()
    by_id = {q["id"]: q for q in listed["questions"]}
    assert set(by_id) == {ids[1]}  # merged and rejected are hidden from visitors
    assert by_id[ids[1]]["answer"] == "Im Frühjahr." and by_id[ids[1]]["pinned"]
    assert listed["rejected"]["off_topic"] == 1
    transparency = await a.next("transparency")
    assert transparency["rejected"]["off_topic"] == 1
    log = await (
        await h.http.get(h.server.make_url("/api/events/kirmes/moderation-log"), headers=AUTH)
    ).json()
    assert [e["action"] for e in log["entries"]] == [
        "pin",
        "pin",
        "answer",
        "reply",
        "edit",
        "reject",
        "merge",
        "delete",
        "undelete",
    ]
    assert all(e["actor"] == "env" for e in log["entries"])
    await mod.send({"type": "announce", "text": "Gleich geht es los!", "rooms": ["info"]})
    note = await a.next("announcement")
    assert note["announcement"]["text"] == "Gleich geht es los!"
    assert note["announcement"]["rooms"] == ["info"]


async def test_hostile_text_stays_plain_text(h: Harness) -> None:
    asker = await h.visitor()
    hostile = [
        "<img src=x onerror=alert(1)>",
        "<script>alert('x')</script> & &amp; \"quotes\"",
        "Emoji 🎡🎢 mit עברית und Кириллица",
    ]
    for n, text in enumerate(hostile):
        await asker.send({"type": "ask", "text": text, "client_msg_id": f"x{n}"})
        assert (await asker.next("ack"))["question"]["text"] == text
    for bad, code in [
        ("a" * 10_000, "text_too_long"),
        ("zero\u200bwidth", "text_control_character"),
        ("rtl\u202eoverride", "text_bidi_control"),
        ("   ", "text_empty"),
    ]:
        await asker.send({"type": "ask", "text": bad, "client_msg_id": f"b{len(bad)}"})
        assert (await asker.next("error"))["code"] == code
    export = await (
        await h.http.get(h.server.make_url("/api/events/kirmes/questions.json"), headers=AUTH)
    ).json()
    assert [q["text"] for q in export["questions"]] == hostile
    assert "visitor" not in str(export)


async def test_rate_limit_questions(h: Harness) -> None:
    asker = await h.visitor()
    for n in range(4):
        await asker.send({"type": "ask", "text": f"Frage {n}?", "client_msg_id": f"r{n}"})
    frames = [await asker.next("ack"), await asker.next("ack"), await asker.next("ack")]
    assert len(frames) == 3
    error = await asker.next("error")
    assert error["code"] == "rate_limited_questions" and error["retry_after_ms"] > 0


async def test_exports(h: Harness) -> None:
    asker = await h.visitor()
    await asker.send({"type": "ask", "text": "Export?", "client_msg_id": "e", "name": "Eva"})
    await asker.next("ack")
    csv_resp = await h.http.get(h.server.make_url("/api/events/kirmes/questions.csv"), headers=AUTH)
    assert csv_resp.status == 200
    text = await csv_resp.text()
    assert text.splitlines()[0].startswith("id,room,text,authors")
    assert "Export?" in text and "Eva" in text
    assert (await h.http.get(h.server.make_url("/api/events/kirmes/questions.csv"))).status == 401


async def test_no_question_crosses_events(h: Harness) -> None:
    other = {
        "slug": "andere",
        "title": "Andere",
        "starts_at": "2026-01-01T10:00",
        "ends_at": "2026-01-01T12:00",
    }
    await h.http.post(h.server.make_url("/api/events"), json=other, headers=AUTH)
    elsewhere = await h.client()
    await elsewhere.hello("andere")
    asker = await h.visitor()
    await asker.send({"type": "ask", "text": "Nur hier?", "client_msg_id": "k"})
    await asker.next("ack")
    await asker.next("question")
    await elsewhere.send({"type": "ping", "t": 9.0})
    await elsewhere.next("pong")
    assert not [f for f in elsewhere.frames if f["type"] == "question"]
    listed = await (await h.http.get(h.server.make_url("/api/events/andere/questions"))).json()
    assert listed["questions"] == []


async def test_list_sorting_and_edit_log(h: Harness) -> None:
    askers = [await h.visitor() for _ in range(3)]
    ids = []
    for n, asker in enumerate(askers):
        await asker.send({"type": "ask", "text": f"Frage {n}?", "client_msg_id": f"s{n}"})
        ids.append((await asker.next("ack"))["question"]["id"])
    await askers[0].send({"type": "vote", "question": ids[2]})
    await askers[0].next("ack")
    top = await (
        await h.http.get(h.server.make_url("/api/events/kirmes/questions?sort=top"))
    ).json()
    assert [q["id"] for q in top["questions"]] == [ids[2], ids[0], ids[1]]
    new = await (
        await h.http.get(h.server.make_url("/api/events/kirmes/questions?sort=new"))
    ).json()
    assert [q["id"] for q in new["questions"]] == [ids[2], ids[1], ids[0]]
    resp = await h.http.get(h.server.make_url("/api/events/kirmes/questions?sort=random"))
    assert resp.status == 400
    resp = await h.http.post(
        h.server.make_url(f"/api/events/kirmes/questions/{ids[0]}/moderate"),
        json={"action": "edit", "text": "Frage null, klarer?"},
        headers=AUTH,
    )
    assert resp.status == 200
    log = await (
        await h.http.get(h.server.make_url("/api/events/kirmes/moderation-log"), headers=AUTH)
    ).json()
    assert log["entries"][-1]["details"]["original"] == "Frage 0?"


async def test_resume_replays_questions_tailored(h: Harness) -> None:
    await premoderate(h)
    watcher = await h.visitor()
    await watcher.send({"type": "ping", "t": 1.0})
    pong_seen = await watcher.next("pong")
    assert pong_seen["t"] == 1.0
    assert watcher.welcome is not None
    epoch, seq = watcher.welcome["epoch"], watcher.welcome["seq"]
    await watcher.close()
    asker = await h.visitor()
    await asker.send({"type": "ask", "text": "Privat?", "client_msg_id": "priv", "name": "Pia"})
    qid = (await asker.next("ack"))["question"]["id"]
    back = await h.client()
    welcome = await back.hello(
        "kirmes", visitor=watcher.welcome["visitor"], resume={"epoch": epoch, "seq": seq}
    )
    assert welcome["recovered"] is True
    replayed = await back.next("question")
    assert replayed["question"] == {"id": qid, "hidden": True}  # never the raw record
    assert "Privat" not in str(back.frames) and "Pia" not in str(back.frames)


async def test_big_welcome_is_not_cut_off(tmp_path: Path) -> None:
    async with make_harness(tmp_path, send_queue_bytes=4096) as h:
        askers = [await h.visitor() for _ in range(8)]
        for n, asker in enumerate(askers):
            await asker.send({"type": "ask", "text": f"{n} " + "lang " * 90, "client_msg_id": "b"})
            await asker.next("ack")
        late = await h.visitor()
        assert late.welcome is not None
        assert len(late.welcome["snapshot"]["qa"]["questions"]) == 8


async def test_partial_qa_settings_change(h: Harness) -> None:
    await h.http.patch(
        h.server.make_url("/api/events/kirmes"),
        json={"qa": {"max_question_chars": 100, "allow_names": False}},
        headers=AUTH,
    )
    await premoderate(h)
    event = await (await h.http.get(h.server.make_url("/api/events/kirmes"))).json()
    assert event["qa"] == {
        "premoderation": True,
        "max_question_chars": 100,
        "allow_names": False,
        "hubs_names": True,
    }


async def test_names_follow_the_text_rules(h: Harness) -> None:
    asker = await h.visitor()
    await asker.send({"type": "ask", "text": "Hallo?", "client_msg_id": "n1", "name": "Eve\u202e"})
    assert (await asker.next("error"))["code"] == "text_bidi_control"
    await asker.send({"type": "ask", "text": "Hallo?", "client_msg_id": "n2", "name": "Idiot"})
    ack = await asker.next("ack")
    assert ack["question"]["status"] == "pending"  # held for moderation because of the name


async def test_merge_only_into_approved(h: Harness) -> None:
    await premoderate(h)
    a, b = await h.visitor(), await h.visitor()
    await a.send({"type": "ask", "text": "Eins?", "client_msg_id": "1"})
    one = (await a.next("ack"))["question"]["id"]
    await b.send({"type": "ask", "text": "Zwei?", "client_msg_id": "2"})
    two = (await b.next("ack"))["question"]["id"]
    resp = await h.http.post(
        h.server.make_url(f"/api/events/kirmes/questions/{one}/moderate"),
        json={"action": "merge", "into": two},
        headers=AUTH,
    )
    assert resp.status == 422 and (await resp.json())["code"] == "question_not_approved"


async def test_csv_cells_never_run_as_formulas(h: Harness) -> None:
    asker = await h.visitor()
    await asker.send({"type": "ask", "text": '=HYPERLINK("http://x")', "client_msg_id": "f"})
    await asker.next("ack")
    text = await (
        await h.http.get(h.server.make_url("/api/events/kirmes/questions.csv"), headers=AUTH)
    ).text()
    assert "'=HYPERLINK" in text


async def test_announcements_come_back_from_the_store(h: Harness) -> None:
    mod = await moderator(h)
    await mod.send({"type": "announce", "text": "Pause bis 15 Uhr", "ref": "p"})
    ack = await mod.next("ack", ref="p")
    state = await h.server.app[REALTIME].load_state("kirmes")
    assert [a.text for a in state.announcements] == ["Pause bis 15 Uhr"]
    assert state.announcements[0].id == ack["announcement"]["id"]


async def test_deleted_event_leaves_nothing_behind(h: Harness) -> None:
    token = await moderator_token(h, "kirmes")
    asker = await h.visitor()
    await asker.send({"type": "ask", "text": "Alt?", "client_msg_id": "alt"})
    await asker.next("ack")
    assert (
        await h.http.delete(h.server.make_url("/api/events/kirmes"), headers=AUTH)
    ).status == 204
    assert (await asker.next("bye"))["reason"] == "event_deleted"
    again = {
        "slug": "kirmes",
        "title": "Neu",
        "starts_at": "2026-02-01T10:00",
        "ends_at": "2026-02-01T12:00",
    }
    assert (
        await h.http.post(h.server.make_url("/api/events"), json=again, headers=AUTH)
    ).status == 201
    listed = await (await h.http.get(h.server.make_url("/api/events/kirmes/questions"))).json()
    assert listed["questions"] == []
    resp = await h.http.get(
        h.server.make_url("/api/events/kirmes/questions.json"),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status == 401  # the old moderator token went with the old event


async def test_hostile_type_field(h: Harness) -> None:
    client = await h.visitor()
    await client.ws.send_str('{"type": [], "x": 1}')
    assert (await client.next("error"))["code"] == "unknown_type"
    await client.ws.send_str('{"type": {"a": 1}}')
    assert (await client.next("error"))["code"] == "unknown_type"
    await client.send({"type": "ping", "t": 3.0})
    assert (await client.next("pong"))["t"] == 3.0


async def test_a_revoked_token_also_stops_a_page_that_only_reads(h: Harness) -> None:
    """A moderator page that sends nothing still loses the moderator view: the periodic
    check (every minute; called directly here) closes its session as 4401."""
    token = await moderator_token(h, "kirmes")
    listed = await (await h.http.get(h.server.make_url("/api/tokens"), headers=AUTH)).json()
    token_id = listed["tokens"][-1]["token_id"]
    reader = await h.client()
    await reader.hello("kirmes", token=token)
    staff = await moderator(h)  # the environment's staff token cannot be revoked
    visitor = await h.visitor()
    realtime = h.server.app[REALTIME]
    await realtime._close_revoked()
    resp = await h.http.delete(h.server.make_url(f"/api/tokens/{token_id}"), headers=AUTH)
    assert resp.status in (200, 204)
    await realtime._close_revoked()
    assert await reader.closed() == 4401
    for still_open in (staff, visitor):
        await still_open.send({"type": "ping", "t": 1})
        assert (await still_open.next("pong"))["t"] == 1
