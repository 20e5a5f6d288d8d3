"""Property-based fuzzing of every HTTP route, from the OpenAPI document the server serves.

Schemathesis reads ``/api/openapi.json`` from a real ``hubs-bridge serve``
process (on the embedded SQLite and on Redis) and sends generated requests,
valid and invalid, to every operation as staff, as a moderator and without a
token. Each answer must be documented: no 5xx, a documented status and
content type, a body matching the documented schema, errors in the one shape
``{code, message, details?}`` and no traceback, neither in the answer nor in
the server's log. Generation is derandomized with a fixed number of examples,
so CI sees the same requests on every run.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import hypothesis.strategies as st
import pytest
import redis
import requests
import schemathesis
from aiohttp.test_utils import TestClient, TestServer
from schemathesis import Case, CheckContext, Response
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from hubs_bridge.web.app import create_app, operations
from hubs_bridge.web.openapi import build_openapi
from tests.conftest import REDIS_URL, make_settings, need_service
from tests.harness.server_process import ServerProcess, running_server, server_env
from tests.harness.ws_client import WsClient

# 32 characters or more, as a staff token from the environment must have.
STAFF_TOKEN = "fuzz-staff-token-" + "0123456789abcdef" * 2
# Seeded by config/events: open now, its rooms "info" and "offene-daten".
KNOWN_EVENT = "digitale-kirmes"
KNOWN_ROOMS = ("info", "offene-daten")
ROLES = ("staff", "moderator", "anonymous")
# A library scene (room_scenes/), so generated rooms can be valid beyond their shape.
KNOWN_SCENE = "foyer"
QUESTIONS = ("Wann kommt Glasfaser?", "Gibt es WLAN im Rathaus?", "Wer pflegt die Daten?")

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 1101,
        "generation": {
            "mode": "all",
            # About 50 s for both stores on CI's two cores (the target is under 90 s).
            "max-examples": 80,
            "deterministic": True,
            "database": "none",
            # The test sets Authorization itself: a generated wrong token would count
            # against this client's address and turn every later request into a 429.
            "with-security-parameters": False,
        },
        # The examples and fuzzing phases; the coverage phase's hundreds of boundary
        # cases per operation would not fit CI's time for 39 operations on two stores.
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        # Invalid input is refused with one of the documented error statuses; 413 too,
        # when the invalid part is its size (parse_body checks the size first).
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": [400, 401, 403, 404, 409, 413, 422, 429]
            }
        },
    }
)


@dataclass
class KnownNames:
    """Names that exist on the server under test, for path parameters to hit real work."""

    questions: list[str] = field(default_factory=list)


KNOWN = KnownNames()


@dataclass
class FuzzTarget:
    """A running server, the tokens to call it with, and how far its log was read."""

    server: ServerProcess
    tokens: dict[str, str | None]
    log_read: int = 0

    def headers(self, role: str) -> dict[str, str]:
        token = self.tokens[role]
        return {} if token is None else {"Authorization": f"Bearer {token}"}

    def new_log(self) -> str:
        """What the server logged since the last call."""
        text = self.server.output()
        fresh, self.log_read = text[self.log_read :], len(text)
        return fresh


def _moderator_token(url: str) -> str:
    resp = requests.post(
        f"{url}/api/tokens",
        json={"role": "moderator", "events": [KNOWN_EVENT], "label": "fuzz"},
        headers={"Authorization": f"Bearer {STAFF_TOKEN}"},
        timeout=10,
    )
    assert resp.status_code == 201, resp.text
    token: str = resp.json()["token"]
    return token


async def _ask_questions(url: str) -> list[str]:
    """Questions asked as a visitor over the websocket (the only way to ask), their ids."""
    async with aiohttp.ClientSession() as session:
        visitor = await WsClient.connect(session, url.replace("http", "ws", 1) + "/ws")
        await visitor.hello(KNOWN_EVENT)
        ids = []
        for n, text in enumerate(QUESTIONS):
            await visitor.send({"type": "ask", "text": text, "client_msg_id": f"fuzz-{n}"})
            try:
                ack = await visitor.next("ack", ref=f"fuzz-{n}")
            except ConnectionError as exc:
                raise AssertionError(
                    f"no ack for {text!r}: {exc}; frames {visitor.frames}"
                ) from exc
            ids.append(ack["question"]["id"])
        await visitor.close()
        return ids


@pytest.fixture(scope="module", params=["sqlite", "redis"])
def fuzz_target(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    redis_available: str | None,
) -> Iterator[FuzzTarget]:
    """A real server on one store, seeded with the example events (one open now)."""
    tmp = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    extra = {"HUBS_BRIDGE_STAFF_TOKEN": STAFF_TOKEN}
    prefix = None
    if request.param == "redis":
        need_service("Redis", redis_available)
        prefix = f"hbtest-{secrets.token_hex(6)}"
        extra |= {"HUBS_BRIDGE_REDIS_URL": REDIS_URL, "HUBS_BRIDGE_REDIS_PREFIX": prefix}
    env = server_env(tmp / "data", **extra)
    # The seeded example events live in the repo's config/events (the default seed_dir).
    try:
        with running_server(env, log_dir=tmp) as server:
            tokens = {
                "staff": STAFF_TOKEN,
                "moderator": _moderator_token(server.url),
                "anonymous": None,
            }
            KNOWN.questions = asyncio.run(_ask_questions(server.url))
            yield FuzzTarget(server, tokens)
    finally:
        if prefix is not None:
            _drop_prefix(prefix)


def _drop_prefix(prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def _known_names(
    context: schemathesis.HookContext, path_parameters: dict[str, Any]
) -> st.SearchStrategy[dict[str, Any]]:
    """Path parameters as generated, or naming the open seeded event and its rooms.

    Random slugs only ever reach the 404; the known names reach the handlers'
    real work. Deletions keep random names so the event stays for the others.
    """
    operation = context.operation
    if operation is None or operation.method.upper() == "DELETE" or not path_parameters:
        return st.just(path_parameters)
    known = dict(path_parameters)
    if "event" in known:
        known["event"] = KNOWN_EVENT
    if "room" in known:
        return st.sampled_from([path_parameters, *({**known, "room": r} for r in KNOWN_ROOMS)])
    if "question" in known and KNOWN.questions:
        return st.sampled_from(
            [path_parameters, known, *({**known, "question": q} for q in KNOWN.questions)]
        )
    return st.sampled_from([path_parameters, known])


def _plausible(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with times in the calendar's range and a library scene: still schema-valid.

    Generated date-times span years 1 to 9999 and scenes are random slugs, so
    without this nearly every event or room would stop at the semantic 422.
    """
    body = dict(body)
    if "starts_at" in body:
        body["starts_at"] = "2030-05-04T18:00:00+02:00"
    if "ends_at" in body:
        body["ends_at"] = "2030-05-04T20:00:00+02:00"
    if "scene" in body:
        body["scene"] = KNOWN_SCENE
    if isinstance(body.get("rooms"), list):
        body["rooms"] = [
            _plausible(room) if isinstance(room, dict) else room for room in body["rooms"]
        ]
    return body


def error_body_shape(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """Every error is JSON ``{code, message, details?}``; details lists field problems."""
    if response.status_code < 400:
        return None
    media = response.headers.get("content-type", [""])[0]
    assert media.startswith("application/json"), f"error answered as {media!r}: {response.text}"
    body = response.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("code"), str) and body["code"], body
    assert isinstance(body.get("message"), str) and body["message"], body
    details = body.get("details")
    if details is not None:
        assert isinstance(details, list), f"details must be a list: {body}"
        for problem in details:
            assert isinstance(problem, dict), body
            assert {"field", "message", "type"} <= problem.keys(), body
            assert all(isinstance(problem[k], str) for k in ("field", "message", "type")), body
    return True


def no_traceback(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    assert "Traceback (most recent call last)" not in response.text, response.text
    return True


# The document the server serves is built from the same declarations (openapi.py), so
# the operations are known at collection time: one test per operation and store.
# test_the_fuzzed_document_is_the_served_one holds the two together.
DOCUMENT = build_openapi(operations())
# Who may call each operation, as declared: the answers to a wrong role are exact.
AUTH_NEED = {(op.method.upper(), op.path): op.auth for op in operations()}
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)
schema.hook("flatmap_path_parameters")(_known_names)


@schema.parametrize()
@schema.given(role=st.sampled_from(ROLES), plausible=st.booleans())
def test_every_route_answers_as_documented(
    case: Case[Any], role: str, plausible: bool, fuzz_target: FuzzTarget
) -> None:
    meta = case.meta
    positive = meta is not None and meta.generation.mode == schemathesis.GenerationMode.POSITIVE
    if plausible and positive and isinstance(case.body, dict):
        # Only valid bodies: an invalid one must stay invalid for negative_data_rejection.
        case.body = _plausible(case.body)
    response = case.call_and_validate(
        base_url=fuzz_target.server.url,
        headers=fuzz_target.headers(role),
        # Redirects are answers too: /go's 302 points at a Hubs server that is not here.
        allow_redirects=False,
        timeout=10,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
            negative_data_rejection,
            error_body_shape,
            no_traceback,
        ],
    )
    need = AUTH_NEED[(case.method.upper(), case.path)]
    if role == "anonymous" and need in ("staff", "moderator"):
        assert response.status_code == 401, f"{case.method} {case.formatted_path} without a token"
    if role == "moderator" and (
        need == "staff"
        or (need == "moderator" and (case.path_parameters or {}).get("event") != KNOWN_EVENT)
    ):
        assert response.status_code == 403, f"{case.method} {case.formatted_path} as moderator"
    # The server logs an unhandled error before it answers, so it is in the log by now.
    logged = fuzz_target.new_log()
    assert "Traceback" not in logged, f"{case.method} {case.formatted_path} as {role}:\n{logged}"


def test_the_fuzzed_document_is_the_served_one(fuzz_target: FuzzTarget) -> None:
    served = requests.get(f"{fuzz_target.server.url}/api/openapi.json", timeout=10)
    assert served.status_code == 200
    assert served.json() == DOCUMENT


async def test_every_api_route_is_in_the_document(tmp_path: Path) -> None:
    """A JSON route added beside ``api.operation`` would escape the fuzzing: none exists."""
    app = await create_app(make_settings(tmp_path))
    async with TestClient(TestServer(app)):
        routes = {
            (route.method, route.resource.canonical)
            for route in app.router.routes()
            if route.resource is not None
            and route.resource.canonical.startswith("/api/")
            # HEAD comes with every GET, OPTIONS is the scenes' CORS preflight.
            and route.method not in ("HEAD", "OPTIONS")
        }
    assert ("GET", "/api/events") in routes  # the router was read, not an empty set
    documented = {(m.upper(), path) for path, ms in DOCUMENT["paths"].items() for m in ms}
    assert routes - {("GET", "/api/openapi.json")} <= documented
