"""/go in a browser: a page in the visitor's language when it cannot let them in."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, make_event, new_page
from tests.harness.server_process import ServerProcess


def test_room_not_ready_is_a_page_and_json_for_scripts(
    browser: Any, server: ServerProcess, event: str
) -> None:
    page = new_page(browser)
    response = page.goto(server.url + f"/go/{event}/info")
    assert response.status == 409
    expect(page.locator("h1")).to_have_text("Der Raum ist noch nicht bereit")
    expect(page.locator("#door-text")).to_contain_text("„Info-Foyer“")
    expect(page.get_by_role("link", name="Zurück zur Veranstaltung")).to_have_attribute(
        "href", f"/e/{event}"
    )
    assert_accessible(page)
    page.locator("#lang-switch").click()
    expect(page.locator("h1")).to_have_text("The room is not ready yet")
    assert page.js_errors == []
    page.context.close()

    request = urllib.request.Request(server.url + f"/go/{event}/info")
    request.add_header("Accept", "application/json")
    try:
        urllib.request.urlopen(request, timeout=10)
        raise AssertionError("expected a refusal")
    except urllib.error.HTTPError as refusal:
        assert refusal.code == 409
        assert json.loads(refusal.read())["code"] == "not_provisioned"


def test_doors_closed_and_ended_pages(browser: Any, server: ServerProcess) -> None:
    now = datetime.now(UTC)
    later = make_event(
        server,
        starts_at=(now + timedelta(hours=3)).isoformat(),
        ends_at=(now + timedelta(hours=5)).isoformat(),
    )
    page = new_page(browser, lang="en")
    response = page.goto(server.url + f"/go/{later}/daten")
    assert response.status == 409
    expect(page.locator("h1")).to_have_text("The doors are not open yet")
    expect(page.locator("#door-text")).to_contain_text("“Open data”")  # the room's English title
    page.locator("#lang-switch").click()  # drawn again in German, title included
    expect(page.locator("#door-text")).to_contain_text("„Offene Daten“")
    expect(page.locator("#door-text")).to_contain_text("Uhr")

    over = make_event(
        server,
        starts_at=(now - timedelta(hours=5)).isoformat(),
        ends_at=(now - timedelta(hours=3)).isoformat(),
    )
    response = page.goto(server.url + f"/go/{over}/info")
    assert response.status == 410
    expect(page.locator("h1")).to_have_text("Die Veranstaltung ist beendet")
    assert page.js_errors == []
    page.context.close()
