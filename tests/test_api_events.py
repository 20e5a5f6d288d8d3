"""Staff API over real HTTP: events, rooms, tokens, roles, errors, limits, OpenAPI."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hubs_bridge.core.calendar import Event, HubsRoomLink
from hubs_bridge.core.event_commands import set_room_hubs_link
from hubs_bridge.core.room_links import add_twin
from hubs_bridge.realtime.snapshots import public_event
from hubs_bridge.web.app import create_app
from hubs_bridge.web.keys import CALENDAR, STORE
from tests.conftest import make_settings

STAFF = "staff-token-for-tests-0123456789"
AUTH = {"Authorization": f"Bearer {STAFF}"}

EVENT = {
    "slug": "kirmes",
    "title": "Digitale Kirmes",
    "starts_at": "2026-12-05T15:00:00",
    "ends_at": "2026-12-05T19:00:00",
}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    app = await create_app(make_settings(tmp_path, staff_token=STAFF))
    async with TestClient(TestServer(app)) as client:
        yield client


async def test_create_event_minimal_with_defaults(client: TestClient[Any, Any]) -> None:
    resp = await client.post("/api/events", json=EVENT, headers=AUTH)
    assert resp.status == 201, await resp.text()
    event = await resp.json()
    # Naive input means Europe/Berlin (CET in December).
    assert event["starts_at"] == "2026-12-05T15:00:00+01:00"
    assert event["doors_open_minutes"] == 15
    assert event["rooms"] == [] and event["version"] == 1

    resp = await client.get("/api/events/kirmes")
    assert resp.status == 200 and (await resp.json())["title"] == "Digitale Kirmes"
    listed = await (await client.get("/api/events")).json()
    assert [e["slug"] for e in listed["events"]] == ["kirmes"]


async def test_room_crud(client: TestClient[Any, Any]) -> None:
    await client.post("/api/events", json=EVENT, headers=AUTH)
    room = {"slug": "offene-daten", "title": "Offene Daten", "scene": "kirmes-stand"}
    resp = await client.post("/api/events/kirmes/rooms", json=room, headers=AUTH)
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert body["capacity"] == 24
    assert body["member_permissions"]["text_chat"] is True
    assert body["member_permissions"]["fly"] is False

    resp = await client.post("/api/events/kirmes/rooms", json=room, headers=AUTH)
    assert resp.status == 409 and (await resp.json())["code"] == "room_exists"

    resp = await client.patch(
        "/api/events/kirmes/rooms/offene-daten",
        json={"capacity": 40, "member_permissions": {"fly": True}},
        headers=AUTH,
    )
    assert resp.status == 200
    changed = await resp.json()
    assert changed["capacity"] == 40 and changed["member_permissions"]["fly"] is True
    assert changed["member_permissions"]["voice_chat"] is True

    rooms = await (await client.get("/api/events/kirmes/rooms")).json()
    assert [r["slug"] for r in rooms["rooms"]] == ["offene-daten"]
    assert (
        await client.delete("/api/events/kirmes/rooms/offene-daten", headers=AUTH)
    ).status == 204
    resp = await client.get("/api/events/kirmes/rooms/offene-daten")
    assert resp.status == 404 and (await resp.json())["code"] == "room_not_found"


@pytest.mark.parametrize(
    ("room", "field", "code"),
    [
        ({"slug": "a", "title": "A", "scene": "nope"}, "scene", "unknown_scene"),
        (
            {"slug": "a", "title": "A", "scene": "foyer", "capacity": 51},
            "capacity",
            "invalid_request",
        ),
        (
            {"slug": "a", "title": "A", "scene": "foyer", "capacity": 0},
            "capacity",
            "invalid_request",
        ),
        ({"slug": "Not A Slug", "title": "A", "scene": "foyer"}, "slug", "invalid_request"),
        ({"slug": "a", "title": "", "scene": "foyer"}, "title", "invalid_request"),
        (
            {"slug": "a", "title": "A", "scene": "foyer", "member_permissions": {"teleport": True}},
            "member_permissions.teleport",
            "invalid_request",
        ),
    ],
)
async def test_room_validation(
    client: TestClient[Any, Any], room: dict[str, Any], field: str, code: str
) -> None:
    await client.post("/api/events", json=EVENT, headers=AUTH)
    resp = await client.post("/api/events/kirmes/rooms", json=room, headers=AUTH)
    assert resp.status == 422
    body = await resp.json()
    assert body["code"] == code
    assert any(d["field"] == field for d in body["details"]), body
    event = await (await client.get("/api/events/kirmes")).json()
    assert event["rooms"] == [] and event["version"] == 1  # nothing changed


async def test_event_validation_messages(client: TestClient[Any, Any]) -> None:
    resp = await client.post(
        "/api/events", json={**EVENT, "ends_at": "2026-12-05T14:00:00"}, headers=AUTH
    )
    assert resp.status == 422
    body = await resp.json()
    assert "ends_at must be after starts_at" in str(body["details"])
    resp = await client.post("/api/events", json={"slug": "x"}, headers=AUTH)
    fields = {d["field"] for d in (await resp.json())["details"]}
    assert {"title", "starts_at", "ends_at"} <= fields
    rooms = [{"slug": "a", "title": "A", "scene": "foyer"}] * 2
    resp = await client.post("/api/events", json={**EVENT, "rooms": rooms}, headers=AUTH)
    assert resp.status == 422 and "used twice" in await resp.text()


async def test_duplicate_event_conflicts(client: TestClient[Any, Any]) -> None:
    assert (await client.post("/api/events", json=EVENT, headers=AUTH)).status == 201
    resp = await client.post("/api/events", json=EVENT, headers=AUTH)
    assert resp.status == 409 and (await resp.json())["code"] == "event_exists"


async def test_patch_and_delete_event(client: TestClient[Any, Any]) -> None:
    await client.post("/api/events", json=EVENT, headers=AUTH)
    resp = await client.patch("/api/events/kirmes", json={"title_en": "Digital fair"}, headers=AUTH)
    assert resp.status == 200 and (await resp.json())["version"] == 2
    resp = await client.patch(
        "/api/events/kirmes", json={"ends_at": "2026-12-01T10:00:00+01:00"}, headers=AUTH
    )
    assert resp.status == 422
    assert (await client.delete("/api/events/kirmes", headers=AUTH)).status == 204
    assert (await client.delete("/api/events/kirmes", headers=AUTH)).status == 404


async def test_roles(client: TestClient[Any, Any]) -> None:
    resp = await client.post("/api/events", json=EVENT)
    assert resp.status == 401 and (await resp.json())["code"] == "token_required"
    resp = await client.post("/api/events", json=EVENT, headers={"Authorization": "Bearer wrong"})
    assert resp.status == 401 and (await resp.json())["code"] == "bad_token"
    resp = await client.post("/api/events", json=EVENT, headers={"Authorization": "Basic abc"})
    assert resp.status == 401 and (await resp.json())["code"] == "bad_authorization"

    await client.post("/api/events", json=EVENT, headers=AUTH)
    resp = await client.post(
        "/api/tokens",
        json={"role": "moderator", "events": ["kirmes"], "label": "Bühne"},
        headers=AUTH,
    )
    assert resp.status == 201
    created = await resp.json()
    moderator = {"Authorization": f"Bearer {created['token']}"}
    resp = await client.post("/api/events", json={**EVENT, "slug": "other"}, headers=moderator)
    assert resp.status == 403 and (await resp.json())["code"] == "staff_only"
    resp = await client.get("/api/tokens", headers=moderator)
    assert resp.status == 403

    listed = await (await client.get("/api/tokens", headers=AUTH)).json()
    assert listed["tokens"][0]["token_id"] == created["token_id"]
    assert "token" not in listed["tokens"][0] and "token_hash" not in listed["tokens"][0]

    assert (await client.delete(f"/api/tokens/{created['token_id']}", headers=AUTH)).status == 204
    resp = await client.post("/api/events", json={**EVENT, "slug": "other"}, headers=moderator)
    assert resp.status == 401 and (await resp.json())["code"] == "bad_token"


async def test_moderator_token_needs_known_event(client: TestClient[Any, Any]) -> None:
    resp = await client.post("/api/tokens", json={"role": "moderator"}, headers=AUTH)
    assert resp.status == 422 and (await resp.json())["code"] == "events_required"
    resp = await client.post(
        "/api/tokens", json={"role": "moderator", "events": ["nope"]}, headers=AUTH
    )
    assert resp.status == 404


async def test_hubs_links_hidden_from_visitors(client: TestClient[Any, Any]) -> None:
    from hubs_bridge.core import event_commands as cmds
    from hubs_bridge.core.calendar import HubsRoomLink
    from hubs_bridge.web.keys import CALENDAR

    await client.post("/api/events", json=EVENT, headers=AUTH)
    room = {"slug": "info", "title": "Info", "scene": "foyer"}
    await client.post("/api/events/kirmes/rooms", json=room, headers=AUTH)
    calendar = client.app[CALENDAR]  # type: ignore[index]
    link = HubsRoomLink(
        hub_id="abc1234", url="https://hubs.example/abc1234", provisioned_at=calendar.now()
    )
    await calendar.change(
        "kirmes", lambda e, now: cmds.set_room_hubs_link(e, "info", link, now=now)
    )
    public = await (await client.get("/api/events/kirmes")).json()
    assert public["rooms"][0]["hubs"] is None
    staff = await (await client.get("/api/events/kirmes", headers=AUTH)).json()
    assert staff["rooms"][0]["hubs"]["hub_id"] == "abc1234"


@pytest.mark.parametrize(
    ("data", "headers", "status", "code"),
    [
        (b"{not json", {}, 400, "malformed_json"),
        (b"[1, 2]", {}, 400, "malformed_json"),
        (b"\xff\xfe", {}, 400, "malformed_json"),
        (b'{"slug": "x"}', {"Content-Type": "text/html"}, 400, "unsupported_media_type"),
        (b"x" * 70_000, {}, 413, "payload_too_large"),
    ],
)
async def test_bad_bodies(
    client: TestClient[Any, Any], data: bytes, headers: dict[str, str], status: int, code: str
) -> None:
    hdrs = {"Content-Type": "application/json", **AUTH, **headers}
    resp = await client.post("/api/events", data=data, headers=hdrs)
    assert resp.status == status
    assert (await resp.json())["code"] == code
    assert (await (await client.get("/api/events")).json())["events"] == []


async def test_unknown_route_and_method_are_json(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/api/nope")
    assert resp.status == 404 and (await resp.json())["code"] == "not_found"
    resp = await client.put("/api/events", json={})
    assert resp.status == 405 and (await resp.json())["code"] == "method_not_allowed"


async def test_health_and_readiness(client: TestClient[Any, Any]) -> None:
    assert (await (await client.get("/healthz")).json()) == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status == 200
    assert (await ready.json())["checks"] == {"store": "ok", "broker": "ok"}


async def test_readiness_names_failed_store(client: TestClient[Any, Any]) -> None:
    from hubs_bridge.web.keys import STORE

    await client.app[STORE].close()  # type: ignore[index]
    ready = await client.get("/readyz")
    assert ready.status == 503
    body = await ready.json()
    assert body["checks"]["broker"] == "ok" and body["checks"]["store"] != "ok"


async def test_openapi_covers_every_route(client: TestClient[Any, Any]) -> None:
    doc = await (await client.get("/api/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    declared = {
        (route.method.lower(), route.resource.canonical)
        for route in client.app.router.routes()  # type: ignore[union-attr]
        if route.resource is not None
        and route.resource.canonical.startswith("/api/")
        and route.method not in ("HEAD", "OPTIONS")
        and route.resource.canonical != "/api/openapi.json"
    }
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert declared <= documented
    create = doc["paths"]["/api/events"]["post"]
    schema_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert set(schema["required"]) == {"slug", "title", "starts_at", "ends_at"}
    assert {"401", "403", "409", "413", "422"} <= set(create["responses"])


async def test_the_role_is_checked_before_the_body(client: TestClient[Any, Any]) -> None:
    """Without the right token the caller learns nothing about the body it would need."""
    resp = await client.post("/api/events", json={})
    assert resp.status == 401 and (await resp.json())["code"] == "token_required"
    bad = {"Authorization": "Bearer not-a-token-at-all"}
    resp = await client.post("/api/events", data=b"not json", headers=bad)
    assert resp.status == 401 and (await resp.json())["code"] == "bad_token"
    event = {"slug": "rolle", "title": "Rolle", "starts_at": "2026-12-01T10:00"}
    event["ends_at"] = "2026-12-01T12:00"
    assert (await client.post("/api/events", json=event, headers=AUTH)).status == 201
    created = await client.post(
        "/api/tokens", json={"role": "moderator", "events": ["rolle"]}, headers=AUTH
    )
    as_moderator = {"Authorization": f"Bearer {(await created.json())['token']}"}
    resp = await client.post("/api/events", json={}, headers=as_moderator)
    assert resp.status == 403 and (await resp.json())["code"] == "staff_only"
    other = {**event, "slug": "andere"}
    assert (await client.post("/api/events", json=other, headers=AUTH)).status == 201
    resp = await client.post("/api/events/andere/announcements", json={}, headers=as_moderator)
    assert resp.status == 403 and (await resp.json())["code"] == "wrong_event"


async def test_hubs_links_and_twins_never_reach_visitors(client: TestClient[Any, Any]) -> None:
    event = {"slug": "tueren", "title": "Türen", "starts_at": "2026-12-01T10:00"}
    event["ends_at"] = "2026-12-01T12:00"
    event["rooms"] = [{"slug": "saal", "title": "Saal", "scene": "foyer"}]
    assert (await client.post("/api/events", json=event, headers=AUTH)).status == 201
    now = datetime.now(UTC)
    link = HubsRoomLink(
        hub_id="own1234", url="https://hubs.example/own1234/saal", provisioned_at=now
    )
    twin = HubsRoomLink(
        hub_id="twin123", url="https://hubs.example/twin123/saal", provisioned_at=now
    )

    def linked(e: Event, at: datetime) -> Event:
        return set_room_hubs_link(e, "saal", link, now=at)

    def twinned(e: Event, at: datetime) -> Event:
        return add_twin(e, "saal", twin, now=at)

    await client.server.app[CALENDAR].change("tueren", linked)
    app_event = await client.server.app[CALENDAR].change("tueren", twinned)
    for path in ("/api/events", "/api/events/tueren", "/api/events/tueren/rooms"):
        body = await (await client.get(path)).text()
        assert "hubs.example" not in body, path
        staff = await (await client.get(path, headers=AUTH)).text()
        assert "twin123" in staff and "own1234" in staff, path
    public = public_event(app_event)
    assert "hubs.example" not in str(public)
    assert public["rooms"][0]["hubs_ready"] is True


async def test_the_root_answers_scripts_with_json_and_browsers_with_a_page(
    client: TestClient[Any, Any],
) -> None:
    index = await client.get("/")
    assert index.status == 200 and (await index.json())["links"]["events"] == "/api/events"
    page = await client.get("/", headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.status == 200 and page.content_type == "text/html"
    assert "Veranstaltungen" in await page.text()


@pytest.mark.parametrize(
    ("starts", "ends"),
    [
        ("0001-01-01T00:00", "0001-01-01T02:00"),
        ("9999-12-31T20:00", "9999-12-31T22:00"),
        ("1999-12-31T20:00", "1999-12-31T22:00"),
        ("2026-12-05T15:00", "2100-01-01T00:00"),
    ],
)
async def test_event_times_outside_this_century_are_refused(
    client: TestClient[Any, Any], starts: str, ends: str
) -> None:
    # doors_open_at of an event near year 1 overflowed and stopped every loop (issue 11).
    body = {**EVENT, "starts_at": starts, "ends_at": ends}
    resp = await client.post("/api/events", json=body, headers=AUTH)
    assert resp.status == 422, await resp.text()
    assert "between the years 2000 and 2099" in await resp.text()
    assert (await (await client.get("/api/events")).json())["events"] == []

    await client.post("/api/events", json=EVENT, headers=AUTH)
    patch = {"starts_at": starts, "ends_at": ends}
    resp = await client.patch("/api/events/kirmes", json=patch, headers=AUTH)
    assert resp.status == 422
    resp = await client.delete("/api/events/kirmes", headers=AUTH)
    assert resp.status in (200, 204)


async def test_an_unreadable_stored_event_is_left_out_and_the_rest_served(
    client: TestClient[Any, Any],
) -> None:
    resp = await client.post("/api/events", json=EVENT, headers=AUTH)
    assert resp.status == 201
    store = client.server.app[STORE]
    good = await store.get_event("kirmes")
    assert good is not None
    # As an older version could have stored it: a start near year 1.
    doc = good.model_dump(mode="json")
    doc.update(slug="alt", starts_at="0001-01-01T00:00:00+00:00")
    await store._writer.execute(  # type: ignore[attr-defined]
        "INSERT INTO events (slug, version, doc) VALUES (?, ?, ?)", ("alt", 1, json.dumps(doc))
    )
    listed = await (await client.get("/api/events")).json()
    assert [e["slug"] for e in listed["events"]] == ["kirmes"]
    resp = await client.get("/", headers={"Accept": "text/html"})
    assert resp.status == 200
    assert (await client.get("/api/events/alt")).status == 404


async def test_the_qr_code_is_cached_only_with_a_public_url(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    # Without public_url the code holds the request's Host: never kept by a shared cache.
    await client.post("/api/events", json=EVENT, headers=AUTH)
    resp = await client.get("/e/kirmes/qr.svg", headers={"Host": "evil.example"})
    assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
    settings = make_settings(tmp_path / "p", staff_token=STAFF, public_url="https://b.example")
    async with TestClient(TestServer(await create_app(settings))) as other:
        await other.post("/api/events", json=EVENT, headers=AUTH)
        resp = await other.get("/e/kirmes/qr.svg", headers={"Host": "evil.example"})
        assert resp.headers["Cache-Control"].startswith("public")
        assert "evil.example" not in await resp.text()
