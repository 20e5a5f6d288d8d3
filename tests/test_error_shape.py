"""One shape for every HTTP error body (issue 11): ``details`` lists ``{field, message, type}``.

Context that is not about a field (when to retry, when the doors open, a text's
limit) is a documented top-level key; the OpenAPI ``Error`` schema lists them
all, and every representative error here is checked against that schema.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hubs_bridge.core.qa_text import clean_text
from hubs_bridge.errors import CONTEXT_KEYS, ClientError, RateLimited, ValidationFailed, error_body
from hubs_bridge.store.qa_rules import duplicate_client_msg, version_conflict
from hubs_bridge.web.app import create_app
from hubs_bridge.web.doors import GO_BURST
from tests.conftest import make_settings

STAFF = "staff-token-for-tests-0123456789"
AUTH = {"Authorization": f"Bearer {STAFF}"}
JSON = {"Accept": "application/json"}
# Far ahead, so the doors are closed whenever the test runs (times stop at 2099).
LATER = {"starts_at": "2090-06-01T18:00:00", "ends_at": "2090-06-01T20:00:00"}
EVENT = {"slug": "forum", "title": "Forum", **LATER}
ROOM = {"slug": "saal", "title": "Saal", "scene": "foyer"}


def _schema_type_ok(kind: str, form: str | None, value: Any) -> bool:
    if kind == "string":
        if not isinstance(value, str):
            return False
        return form != "date-time" or datetime.fromisoformat(value).tzinfo is not None
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, int | float) and not isinstance(value, bool)


def assert_error_shape(body: Any, schema: dict[str, Any]) -> None:
    """``body`` matches the OpenAPI Error schema (a hand check: no jsonschema here)."""
    assert isinstance(body, dict), body
    assert set(schema["required"]) <= body.keys(), body
    assert body.keys() <= schema["properties"].keys(), body
    assert isinstance(body["code"], str) and isinstance(body["message"], str)
    for problem in body.get("details", []):
        assert set(problem) == {"field", "message", "type"}, body
        assert all(isinstance(v, str) for v in problem.values()), body
        assert problem["field"], body  # never "": a form must know which field to mark
    assert isinstance(body.get("details", []), list), body
    for key, value in body.items():
        if key in CONTEXT_KEYS:
            prop = schema["properties"][key]
            assert _schema_type_ok(prop["type"], prop.get("format"), value), (key, value)


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    app = await create_app(make_settings(tmp_path, staff_token=STAFF))
    async with TestClient(TestServer(app)) as client:
        yield client


async def _error_schema(client: TestClient[Any, Any]) -> dict[str, Any]:
    document = await (await client.get("/api/openapi.json")).json()
    schemas = document["components"]["schemas"]
    error = schemas["Error"]
    assert error["properties"]["details"]["items"] == {"$ref": "#/components/schemas/FieldProblem"}
    assert schemas["FieldProblem"]["required"] == ["field", "message", "type"]
    return dict(error)


async def test_representative_errors_share_one_shape(client: TestClient[Any, Any]) -> None:
    schema = await _error_schema(client)
    seen: dict[str, dict[str, Any]] = {}

    async def error(resp: Any, status: int) -> dict[str, Any]:
        assert resp.status == status, await resp.text()
        body = await resp.json()
        assert_error_shape(body, schema)
        seen[body["code"]] = body
        return dict(body)

    # Validation: every missing field listed.
    body = await error(await client.post("/api/events", json={"slug": "x"}, headers=AUTH), 422)
    assert {"title", "starts_at", "ends_at"} <= {d["field"] for d in body["details"]}

    # End before start: reported with field "" before; now names the field to correct.
    wrong = {**EVENT, "ends_at": "2090-06-01T17:00:00"}
    body = await error(await client.post("/api/events", json=wrong, headers=AUTH), 422)
    assert body["details"] == [
        {
            "field": "ends_at",
            "message": "ends_at must be after starts_at",
            "type": "ends_before_start",
        }
    ]

    # Doors closed: opens_at and ends_at were an object in details; now top-level keys.
    event = {**EVENT, "rooms": [ROOM]}
    assert (await client.post("/api/events", json=event, headers=AUTH)).status == 201
    body = await error(await client.get("/go/forum/saal", headers=JSON), 409)
    assert body["code"] == "doors_closed" and "details" not in body
    opens_at = datetime.fromisoformat(body["opens_at"])
    assert opens_at < datetime.fromisoformat(body["ends_at"])

    # A text over its limit: the limit beside details, not inside an entry.
    long = {"text": "x" * 501}
    resp = await client.post("/api/events/forum/announcements", json=long, headers=AUTH)
    body = await error(resp, 422)
    assert body["code"] == "text_too_long" and body["max_chars"] == 500
    assert body["details"][0]["field"] == "text"

    # Rate limited: retry_after_s was {"retry_after_s": ..} in details.
    for _ in range(GO_BURST):
        await client.get("/go/forum/saal", headers=JSON)
    body = await error(await client.get("/go/forum/saal", headers=JSON), 429)
    assert body["retry_after_s"] > 0 and "details" not in body

    # aiohttp's own errors and a bad token go through the same place.
    await error(await client.get("/api/nothing-here"), 404)
    await error(await client.post("/api/events", json=EVENT, headers={"Authorization": "x"}), 401)
    wanted = {"doors_closed", "text_too_long", "rate_limited", "not_found", "bad_authorization"}
    assert wanted <= seen.keys(), seen.keys()


@pytest.mark.parametrize(
    "exc",
    [
        RateLimited("slow down", retry_after_s=2.34),
        version_conflict("q1"),
        duplicate_client_msg("q2"),
        ValidationFailed(
            "bad", details=[{"field": "title", "message": "too long", "type": "too_long"}]
        ),
    ],
)
async def test_every_client_error_builds_the_documented_shape(
    client: TestClient[Any, Any], exc: ClientError
) -> None:
    assert_error_shape(exc.to_body(), await _error_schema(client))


def test_text_checks_give_full_details() -> None:
    for raw, code in [("   ", "text_empty"), ("a\u202eb", "text_bidi_control"), ("x" * 21, "")]:
        with pytest.raises(ValidationFailed) as info:
            clean_text(raw, max_chars=20)
        body = info.value.to_body()
        assert [set(p) for p in body["details"]] == [{"field", "message", "type"}]
        assert body["code"] == (code or "text_too_long")
    assert body["max_chars"] == 20


def test_an_undocumented_context_key_is_refused() -> None:
    # A new key must be added to CONTEXT_KEYS, which documents it in the OpenAPI schema.
    with pytest.raises(ValueError, match="undocumented"):
        error_body("x", "y", context={"seconds": 3})
    with pytest.raises(ValueError, match="undocumented"):
        ClientError("y", context={"seconds": 3})
