"""A new announcement shows where the visitor is reading, also far down a phone's page."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import call, new_page
from tests.browser.pages import ask, open_event
from tests.harness.server_process import ServerProcess

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def test_an_announcement_is_seen_while_reading_further_down(
    browser: Any, server: ServerProcess, event: str
) -> None:
    page = new_page(browser, **PHONE)
    page.goto(server.url + f"/e/{event}")
    expect(page.locator("#conn")).to_have_attribute("data-state", "open")
    # Enough questions (three each, the rate limit) to read further down the phone's page.
    other = open_event(browser, server, event)
    for n in range(3):
        ask(page, f"Eine längere Frage Nummer {n}, damit die Liste über den Bildschirm reicht?")
        ask(other, f"Noch eine Frage von jemand anderem, Nummer {n}, mit etwas mehr Text darin?")
    expect(page.locator("#questions li.question")).to_have_count(6)
    # Down at the end of the questions: the first screen is far above.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    assert page.evaluate("window.scrollY") > 300
    expect(page.locator("#ask-form")).not_to_be_in_viewport()
    call(server, "POST", f"/api/events/{event}/announcements", {"text": "Pause bis 15 Uhr"})
    text = page.locator("#announcement .announcement-text")
    expect(text).to_have_text("Pause bis 15 Uhr")
    expect(page.locator("#announcement")).to_be_in_viewport()
    page.context.close()
    other.context.close()
