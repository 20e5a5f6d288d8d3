"""The results page in a real browser: German first, the English switch, printing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, call, make_event, new_page, screenshot
from tests.harness.server_process import ServerProcess


def test_results_page_switches_to_english_and_prints_without_navigation(
    browser: Any, server: ServerProcess
) -> None:
    now = datetime.now(UTC)
    slug = make_event(
        server,
        starts_at=(now - timedelta(hours=3)).isoformat(),
        ends_at=(now - timedelta(hours=1)).isoformat(),
    )
    assert call(server, "POST", f"/api/events/{slug}/results")["published"] is True

    page = new_page(browser)
    page.goto(server.url + f"/r/{slug}")
    expect(page.locator("#report-title")).to_have_text("Digitale Kirmes Test")
    expect(page.locator("#attendance-heading")).to_have_text("Anwesenheit")
    expect(page.locator("#download-pdf")).to_have_attribute("href", f"/r/{slug}.pdf?lang=de")
    expect(page.locator("#print")).to_be_visible()  # shown by the script
    assert_accessible(page)
    screenshot(page, "results")

    page.locator("#lang-switch").click()  # the page is drawn again, in English
    expect(page.locator("#report-title")).to_have_text("Digital fair test")
    expect(page.locator("#attendance-heading")).to_have_text("Attendance")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#download-md")).to_have_attribute("href", f"/r/{slug}.md?lang=en")

    navigation = ("header.topbar", "nav.toc", ".toolbar", "#lang-switch")
    for selector in navigation:
        expect(page.locator(selector)).to_be_visible()
    page.emulate_media(media="print")
    for selector in navigation:
        expect(page.locator(selector)).to_be_hidden()
    expect(page.locator("#report-title")).to_be_visible()
    expect(page.locator("#questions-heading")).to_be_visible()
    assert page.js_errors == []
    page.context.close()
