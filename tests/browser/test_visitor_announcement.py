"""A new announcement shows where the visitor is reading, also far down a phone's page."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import call, new_page
from tests.harness.server_process import ServerProcess

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def test_an_announcement_is_seen_while_reading_further_down(
    browser: Any, server: ServerProcess, event: str
) -> None:
    page = new_page(browser, **PHONE)
    page.goto(server.url + f"/e/{event}")
    expect(page.locator("#conn")).to_have_attribute("data-state", "open")
    # Down at the questions, below the rooms: the first screen is far above.
    page.locator("#qa-title").scroll_into_view_if_needed()
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    assert page.evaluate("window.scrollY") > 0
    call(server, "POST", f"/api/events/{event}/announcements", {"text": "Pause bis 15 Uhr"})
    text = page.locator("#announcement .announcement-text")
    expect(text).to_have_text("Pause bis 15 Uhr")
    expect(page.locator("#announcement")).to_be_in_viewport()
    page.context.close()
