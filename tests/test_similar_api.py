"""GET /api/events/{event}/questions/similar: visible questions like a typed text."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hubs_bridge.web.app import create_app
from hubs_bridge.web.keys import CALENDAR, QA
from tests.conftest import make_settings

STAFF = "staff-token-for-similar-question-tests"
EVENT = {
    "slug": "forum",
    "title": "Bürgerforum",
    "starts_at": "2026-01-01T10:00:00",
    "ends_at": "2026-01-01T18:00:00",
}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    app = await create_app(make_settings(tmp_path, staff_token=STAFF))
    async with TestClient(TestServer(app)) as client:
        resp = await client.post(
            "/api/events", json=EVENT, headers={"Authorization": f"Bearer {STAFF}"}
        )
        assert resp.status == 201
        yield client


async def _ask(client: TestClient[Any, Any], visitor: str, text: str) -> str:
    app = client.server.app
    event = await app[CALENDAR].get("forum")
    question = await app[QA].ask(
        event=event, visitor=visitor, text=text, client_msg_id=f"m-{visitor}"
    )
    return question.id


async def _similar(client: TestClient[Any, Any], text: str) -> Any:
    return await client.get("/api/events/forum/questions/similar", params={"text": text})


async def test_visible_questions_like_the_text_best_first(client: TestClient[Any, Any]) -> None:
    radweg = await _ask(client, "v1", "Wann wird der Radweg an der Ringstraße fertig?")
    await _ask(client, "v2", "Gibt es mehr Bäume in der Innenstadt?")
    resp = await _similar(client, "Radwege Ringstraße – wann fertig?")
    assert resp.status == 200
    found = (await resp.json())["questions"]
    assert [q["id"] for q in found] == [radweg]
    assert found[0]["votes"] == 0 and 0 < found[0]["score"] <= 1
    assert "visitor" not in str(found) and "v1" not in str(found)  # no visitor ids


async def test_exclude_leaves_out_the_question_being_merged(
    client: TestClient[Any, Any],
) -> None:
    """A moderator merging an approved question: it is not offered as its own match, and
    its place goes to the next one."""
    merging = await _ask(client, "v1", "Wann wird der Radweg an der Ringstraße fertig?")
    twins = [
        await _ask(client, f"v{i}", text)
        for i, text in enumerate(
            (
                "Radweg Ringstraße: wann ist er fertig?",
                "Wird der Radweg an der Ringstraße bald fertig?",
                "Ist der Radweg an der Ringstraße dieses Jahr fertig?",
            ),
            start=2,
        )
    ]
    text = "Wann wird der Radweg an der Ringstraße fertig?"
    everything = (await (await _similar(client, text)).json())["questions"]
    assert merging in [q["id"] for q in everything] and len(everything) == 3
    resp = await client.get(
        "/api/events/forum/questions/similar", params={"text": text, "exclude": merging}
    )
    assert resp.status == 200
    found = [q["id"] for q in (await resp.json())["questions"]]
    assert merging not in found
    assert sorted(found) == sorted(twins)


async def test_hidden_questions_are_never_suggested(client: TestClient[Any, Any]) -> None:
    resp = await client.patch(
        "/api/events/forum",
        json={"qa": {"premoderation": True}},
        headers={"Authorization": f"Bearer {STAFF}"},
    )
    assert resp.status == 200
    await _ask(client, "v1", "Wann wird der Radweg an der Ringstraße fertig?")  # pending
    found = (await (await _similar(client, "Radweg Ringstraße fertig")).json())["questions"]
    assert found == []


@pytest.mark.parametrize(
    ("path", "text", "status", "code"),
    [
        ("/api/events/forum/questions/similar", "", 422, "text_empty"),
        ("/api/events/forum/questions/similar", "x" * 501, 422, "text_too_long"),
        ("/api/events/nope/questions/similar", "Radweg", 404, "event_not_found"),
    ],
)
async def test_bad_input_is_a_clear_error(
    client: TestClient[Any, Any], path: str, text: str, status: int, code: str
) -> None:
    resp = await client.get(path, params={"text": text})
    assert resp.status == status
    assert (await resp.json())["code"] == code
