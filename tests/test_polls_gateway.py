"""Live polls over HTTP and websockets, in one process, against the real store.

Moderators draft, open and close over HTTP; visitors answer over the websocket
(acknowledged after the store has the answer); every page sees the results,
coalesced, as its role may see them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness.ws_app import STAFF, Harness, make_harness
from tests.harness.ws_client import WsClient

AUTH = {"Authorization": f"Bearer {STAFF}"}
THEMES = ["Radwege", "Spielplätze", "Glasfaser"]


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with make_harness(tmp_path) as harness:
        yield harness


async def api(
    h: Harness, method: str, path: str, status: int, body: Any = None, token: str | None = STAFF
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    resp = await h.http.request(
        method, h.server.make_url(f"/api/events/kirmes{path}"), json=body, headers=headers
    )
    assert resp.status == status, await resp.text()
    return None if status == 204 else await resp.json()


async def draft(h: Harness, **fields: Any) -> str:
    body = {"question": "Welches Thema zuerst?", "kind": "single", "options": THEMES, **fields}
    created = await api(h, "POST", "/polls", 201, body)
    assert created["poll"]["state"] == "draft"
    poll_id: str = created["poll"]["id"]
    return poll_id


async def opened(h: Harness, **fields: Any) -> str:
    poll_id = await draft(h, **fields)
    await api(h, "POST", f"/polls/{poll_id}/open", 200)
    return poll_id


async def answer(client: WsClient, poll: str, ref: str, **fields: Any) -> dict[str, Any]:
    await client.send({"type": "poll_answer", "poll": poll, "client_msg_id": ref, **fields})
    while True:
        frame = await client.recv()
        assert frame is not None
        if frame.get("ref") == ref and frame["type"] in ("ack", "error"):
            return frame


def counts_are(expected: list[int]) -> Any:
    return lambda f: f["results"].get("counts") == expected


async def test_a_poll_from_draft_to_results(h: Harness) -> None:
    mod = await h.client()
    await mod.hello("kirmes", token=STAFF)
    anna, ben = await h.visitor(), await h.visitor()
    poll_id = await draft(h)
    # A draft is the moderators' alone: visitors learn only that a position passed.
    assert (await mod.next("poll"))["poll"]["state"] == "draft"
    assert (await anna.next("poll"))["poll"] == {"id": poll_id, "hidden": True}
    listed = await api(h, "GET", "/polls", 200, token=None)
    assert listed["polls"] == []

    await api(h, "POST", f"/polls/{poll_id}/open", 200)
    seen = await anna.next("poll", where=lambda f: f["poll"].get("state") == "open")
    assert seen["poll"]["options"] == THEMES and "event" not in seen["poll"]

    ack = await answer(anna, poll_id, "a1", choices=[0])
    assert ack["type"] == "ack"
    assert ack["answer"] == {"poll": poll_id, "choices": [0], "text": None, "held": False}
    assert (await answer(ben, poll_id, "b1", choices=[0]))["type"] == "ack"
    await mod.next("poll_results", where=counts_are([2, 0, 0]))
    # Ben changes his mind: his answer replaces the first, the counts stay exact.
    assert (await answer(ben, poll_id, "b2", choices=[2]))["type"] == "ack"
    final = await anna.next("poll_results", where=counts_are([1, 0, 1]))
    assert final["results"]["respondents"] == 2

    closed = await api(h, "POST", f"/polls/{poll_id}/close", 200)
    assert closed["poll"]["state"] == "closed" and closed["results"]["counts"] == [1, 0, 1]
    late = await answer(anna, poll_id, "a2", choices=[1])
    assert late["type"] == "error" and late["code"] == "poll_not_open"
    listed = await api(h, "GET", "/polls", 200, token=None)
    assert [p["results"]["counts"] for p in listed["polls"]] == [[1, 0, 1]]


async def test_an_answer_retried_with_its_id_counts_once(h: Harness) -> None:
    poll_id = await opened(h)
    anna = await h.visitor()
    first = await answer(anna, poll_id, "same", choices=[1])
    newer = await answer(anna, poll_id, "newer", choices=[2])
    # A late retry of the first answer (after a reconnect) must not undo the newer one.
    again = await answer(anna, poll_id, "same", choices=[1])
    assert first["answer"]["choices"] == [1]
    assert newer["answer"]["choices"] == again["answer"]["choices"] == [2]
    listed = await api(h, "GET", "/polls", 200)
    assert listed["polls"][0]["results"]["counts"] == [0, 0, 1]


async def test_bad_answers_get_clear_errors_and_change_nothing(h: Harness) -> None:
    poll_id = await opened(h, kind="multiple", max_choices=2)
    anna = await h.visitor()
    cases = [
        ({"choices": [0, 1, 2]}, "too_many_choices"),
        ({"choices": [7]}, "choice_out_of_range"),
        ({"choices": []}, "choices_required"),
        ({"text": "Radwege"}, "choices_required"),
    ]
    for n, (fields, code) in enumerate(cases):
        refused = await answer(anna, poll_id, f"bad{n}", **fields)
        assert (refused["type"], refused["code"]) == ("error", code), refused
    missing = await answer(anna, "nope", "m", choices=[0])
    assert missing["code"] == "poll_not_found"
    listed = await api(h, "GET", "/polls", 200)
    assert listed["polls"][0]["results"]["respondents"] == 0


async def test_hidden_results_until_the_poll_closes(h: Harness) -> None:
    poll_id = await opened(h, hide_results=True)
    mod = await h.client()
    await mod.hello("kirmes", token=STAFF)
    anna = await h.visitor()
    await answer(anna, poll_id, "a", choices=[1])
    hidden = await anna.next("poll_results", where=lambda f: f["results"]["respondents"] == 1)
    assert hidden["results"] == {"poll": poll_id, "respondents": 1, "hidden": True}
    await mod.next("poll_results", where=counts_are([0, 1, 0]))
    public = await api(h, "GET", "/polls", 200, token=None)
    assert "counts" not in public["polls"][0]["results"]
    await api(h, "POST", f"/polls/{poll_id}/close", 200)
    await anna.next("poll_results", where=counts_are([0, 1, 0]))


async def test_the_snapshot_carries_polls_and_the_visitors_own_answer(h: Harness) -> None:
    poll_id = await opened(h)
    await draft(h, question="Noch ein Entwurf?")
    anna = await h.visitor()
    await answer(anna, poll_id, "a", choices=[2])
    await anna.next("poll_results", where=counts_are([0, 0, 1]))
    visitor_id = anna.welcome["visitor"] if anna.welcome else None
    again = await h.visitor(visitor=visitor_id)
    assert again.welcome is not None
    snapshot = again.welcome["snapshot"]["polls"]
    assert [p["poll"]["id"] for p in snapshot["polls"]] == [poll_id]  # no draft
    assert snapshot["polls"][0]["results"]["counts"] == [0, 0, 1]
    assert snapshot["answers"][poll_id]["choices"] == [2]
    mod = await h.client()
    await mod.hello("kirmes", token=STAFF)
    assert mod.welcome is not None
    assert len(mod.welcome["snapshot"]["polls"]["polls"]) == 2


async def test_resume_covers_poll_frames(h: Harness) -> None:
    anna = await h.visitor()
    assert anna.welcome is not None
    epoch, seq = anna.welcome["epoch"], anna.welcome["seq"]
    await anna.close()
    poll_id = await opened(h)
    back = await h.visitor(visitor=anna.welcome["visitor"], resume={"epoch": epoch, "seq": seq})
    assert back.welcome is not None and back.welcome["recovered"] is True
    seen = await back.next("poll", where=lambda f: f["poll"].get("state") == "open")
    assert seen["poll"]["id"] == poll_id


async def test_free_text_held_by_the_word_filter_until_a_moderator_decides(h: Harness) -> None:
    poll_id = await opened(h, kind="text", options=[])
    anna, ben = await h.visitor(), await h.visitor()
    assert (await answer(anna, poll_id, "a", text="Mehr Radwege bitte"))["type"] == "ack"
    held = await answer(ben, poll_id, "b", text="Radwege Arschloch")
    assert held["answer"]["held"] is True
    results = (await api(h, "GET", "/polls", 200))["polls"][0]["results"]
    assert results["held"] == 1 and results["respondents"] == 1
    assert ["radwege", 1] in results["words"]
    waiting = await api(h, "GET", f"/polls/{poll_id}/held", 200)
    [entry] = waiting["answers"]
    assert entry["text"] == "Radwege Arschloch" and len(entry["id"]) == 16
    await api(h, "POST", f"/polls/{poll_id}/held/{entry['id']}", 204, {"keep": False})
    await api(h, "POST", f"/polls/{poll_id}/held/{entry['id']}", 404, {"keep": True})
    results = (await api(h, "GET", "/polls", 200))["polls"][0]["results"]
    assert results["held"] == 0 and results["respondents"] == 1


async def test_only_moderators_run_polls(h: Harness) -> None:
    body = {"question": "Thema?", "kind": "single", "options": THEMES}
    await api(h, "POST", "/polls", 401, body, token=None)
    await api(h, "POST", "/polls", 401, body, token="wrong-token-0123456789")
    poll_id = await draft(h)
    await api(h, "POST", f"/polls/{poll_id}/open", 401, token=None)
    await api(h, "GET", f"/polls/{poll_id}/held", 401, token=None)
    await api(h, "GET", "/polls.csv", 401, token=None)


async def test_drafts_are_checked_with_clear_codes(h: Harness) -> None:
    cases = [
        ({"kind": "single", "options": ["Nur eine"]}, 422, "options_count"),
        ({"kind": "single", "options": ["A", "a"]}, 422, "options_repeat"),
        ({"kind": "rating", "options": ["A", "B"]}, 422, "options_not_allowed"),
        ({"kind": "multiple", "options": ["A", "B"], "max_choices": 3}, 422, None),
        ({"kind": "single", "options": THEMES, "rooms": ["nirgends"]}, 422, "unknown_room"),
        ({"kind": "umfrage", "options": THEMES}, 422, "invalid_request"),
        ({"kind": "single", "options": THEMES, "extra": 1}, 422, "invalid_request"),
    ]
    for fields, status, code in cases:
        refused = await api(h, "POST", "/polls", status, {"question": "Frage?", **fields})
        if code is not None:
            assert refused["code"] == code, (fields, refused)
    assert (await api(h, "GET", "/polls", 200))["polls"] == []


async def test_every_problem_of_a_draft_at_once(h: Harness) -> None:
    # A form marks every wrong field after one round trip, not one at a time.
    body = {
        "question": " ",
        "kind": "multiple",
        "options": ["Radwege", "radwege", "x" * 81],
        "max_choices": 5,
        "rooms": ["info", "nirgends"],
    }
    refused = await api(h, "POST", "/polls", 422, body)
    fields = {(d["field"], d["type"]) for d in refused["details"]}
    assert fields == {
        ("question", "text_empty"),
        ("options.1", "options_repeat"),
        ("options.2", "text_too_long"),
        ("max_choices", "max_choices_out_of_range"),
        ("rooms", "unknown_room"),
    }, refused
    assert refused["code"] == "text_empty"


async def test_only_drafts_change_and_polls_move_forward(h: Harness) -> None:
    poll_id = await draft(h)
    edited = await api(h, "PUT", f"/polls/{poll_id}", 200, {"question": "Neu?", "kind": "rating"})
    assert edited["poll"]["kind"] == "rating" and edited["results"]["counts"] == [0] * 5
    await api(h, "POST", f"/polls/{poll_id}/close", 409)
    await api(h, "POST", f"/polls/{poll_id}/open", 200)
    refused = await api(h, "PUT", f"/polls/{poll_id}", 409, {"question": "X?", "kind": "rating"})
    assert refused["code"] == "poll_not_draft"
    await api(h, "POST", f"/polls/{poll_id}/open", 409)
    await api(h, "DELETE", f"/polls/{poll_id}", 204)
    await api(h, "DELETE", f"/polls/{poll_id}", 404)
    log = await api(h, "GET", "/moderation-log", 200)
    actions = [e["action"] for e in log["entries"]]
    assert actions == ["poll_draft", "poll_edit", "poll_open", "poll_delete"]


async def test_exports_carry_aggregates_only(h: Harness) -> None:
    poll_id = await opened(h)
    await draft(h, question="Nie gestellt?")
    anna = await h.visitor()
    await answer(anna, poll_id, "a", choices=[1])
    exported = await api(h, "GET", "/polls.json", 200)
    [record] = exported["polls"]
    assert record["respondents"] == 1
    assert [a["count"] for a in record["answers"]] == [0, 1, 0]
    assert anna.welcome is not None
    resp = await h.http.get(h.server.make_url("/api/events/kirmes/polls.csv"), headers=AUTH)
    text = await resp.text()
    assert resp.status == 200 and resp.content_type == "text/csv"
    assert text.count("Welches Thema zuerst?") == 3 and "Nie gestellt" not in text
    for secret in (anna.welcome["visitor"], "a"):
        assert f",{secret}," not in text
