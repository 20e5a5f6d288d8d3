"""Browser tests: a real server process and Debian's Chromium driven by Playwright.

Sync Playwright in plain (non-async) tests: pytest-asyncio runs no loop there.
Outside CI a missing Chromium or Playwright skips these tests; under CI=true it
fails them (``need_service``), so a green CI run always drove a real browser.
"""

from __future__ import annotations

import json
import os
import secrets
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.browser.hubs_thread import SimThread
from tests.conftest import REPO, free_port, need_service
from tests.harness.server_process import ServerProcess, running_server, server_env
from tests.harness.waiting import eventually_sync

CHROMIUM = Path(os.environ.get("HB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
STAFF = "browser-tests-staff-token-" + secrets.token_hex(8)
# Screenshots of each page; `HB_SCREENSHOT_DIR=docs/screenshots` refreshes the committed ones.
SCREENSHOT_DIR = Path(os.environ.get("HB_SCREENSHOT_DIR", REPO / "test-artifacts" / "screenshots"))
TIMEOUT_MS = 10_000


def _browser_problem() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"playwright is not installed ({exc})"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module: sync Playwright keeps an event loop running while it
    is open, which pytest-asyncio's tests in later modules must not find."""
    need_service("Chromium", _browser_problem())
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def hubs() -> Iterator[SimThread]:
    """The Hubs server of the browser tests: a simulator the tests can put people into."""
    sim = SimThread()
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, hubs: SimThread) -> Iterator[ServerProcess]:
    """One server for all browser tests (each test makes its own event), bridged to the
    simulated Hubs server; rooms are provisioned only when a test asks for it."""
    tmp = tmp_path_factory.mktemp("browser-server")
    port = free_port()
    env = server_env(
        tmp / "data",
        HUBS_BRIDGE_STAFF_TOKEN=STAFF,
        HUBS_BRIDGE_SEED_DIR="",
        HUBS_BRIDGE_PUBLIC_URL=f"http://127.0.0.1:{port}",
        HUBS_BRIDGE_REALTIME__ATTENDANCE_INTERVAL_S="0.3",
        HUBS_BRIDGE_HUBS__URL=hubs.sim.base_url,
        HUBS_BRIDGE_HUBS__CREATE_INTERVAL_S="0.25",
        HUBS_BRIDGE_HUBS__ACCOUNT_TOKEN=hubs.account.token,
    )
    with running_server(env, log_dir=tmp, port=port) as process:
        yield process


def call(
    server: ServerProcess, method: str, path: str, body: Any = None, token: str = STAFF
) -> Any:
    """The JSON API, as staff by default."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(server.url + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read()
    return json.loads(text) if text else None


def make_event(
    server: ServerProcess, *, premoderation: bool = False, provision: bool = False, **changes: Any
) -> str:
    """An open event (doors open, ends in two hours) with two rooms; returns its slug.

    ``provision=True`` creates its Hubs rooms on the simulator (and waits for them).
    """
    slug = "test-" + secrets.token_hex(4)
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "slug": slug,
        "title": "Digitale Kirmes Test",
        "title_en": "Digital fair test",
        "description": "Eine Veranstaltung für die Browser-Tests.",
        "description_en": "An event for the browser tests.",
        "starts_at": (now - timedelta(minutes=10)).isoformat(),
        "ends_at": (now + timedelta(hours=2)).isoformat(),
        "doors_open_minutes": 15,
        "qa": {"premoderation": premoderation},
        "rooms": [
            {"slug": "info", "title": "Info-Foyer", "title_en": "Info foyer", "scene": "foyer"},
            {
                "slug": "daten",
                "title": "Offene Daten",
                "title_en": "Open data",
                "scene": "kirmes-stand",
            },
        ],
    }
    body.update(changes)
    call(server, "POST", "/api/events", body)
    if provision:
        provision_rooms(server, slug)
    return slug


def provision_rooms(server: ServerProcess, event: str) -> dict[str, Any]:
    """Create the event's Hubs rooms and wait until the job is done."""
    started = call(server, "POST", f"/api/events/{event}/provision")

    def ended() -> dict[str, Any] | None:
        status = call(server, "GET", f"/api/events/{event}/provision")
        return None if status["state"] == "running" else dict(status)

    status = started if started["state"] != "running" else None
    status = status or eventually_sync(ended, what=f"the provisioning of {event}", timeout=20)
    assert status["state"] == "done", status
    return dict(status)


def moderator_token(server: ServerProcess, event: str) -> str:
    created = call(
        server,
        "POST",
        "/api/tokens",
        {"role": "moderator", "events": [event], "label": "browser test"},
    )
    return str(created["token"])


@pytest.fixture
def event(server: ServerProcess) -> str:
    return make_event(server)


def new_page(browser: Any, *, lang: str | None = None, **context_options: Any) -> Any:
    """A page in a fresh context (its own storage, like another person's browser)."""
    context = browser.new_context(**context_options)
    context.set_default_timeout(TIMEOUT_MS)
    if lang is not None:
        context.add_cookies([{"name": "hb_lang", "value": lang, "url": "http://127.0.0.1"}])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: _console(errors, msg))
    page.js_errors = errors  # checked by tests that want a clean console
    return page


def _console(errors: list[str], message: Any) -> None:
    # HTTP error statuses and failed socket connections (the browser offline) show up as
    # console errors too; they are the network's doing, and tests check those themselves.
    network = ("Failed to load resource", "WebSocket connection to")
    if message.type == "error" and not message.text.startswith(network):
        errors.append(message.text)


def screenshot(page: Any, name: str) -> None:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=True)


def assert_accessible(page: Any) -> None:
    """axe-core finds no serious or critical violation (WCAG 2 A/AA rules)."""
    from axe_playwright_python.sync_playwright import Axe

    options = {
        "resultTypes": ["violations"],
        "runOnly": {
            "type": "tag",
            "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
        },
    }
    results = Axe().run(page, options=options)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    summary = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
        for v in bad
    ]
    assert not bad, "accessibility violations:\n" + "\n".join(summary)
