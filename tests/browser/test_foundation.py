"""The page shells: served with a strict CSP, in German by default, 404 page for unknown events."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, new_page
from tests.harness.server_process import ServerProcess


def test_unknown_event_is_a_404_page_in_german(browser: Any, server: ServerProcess) -> None:
    page = new_page(browser)
    response = page.goto(server.url + "/e/gibt-es-nicht")
    assert response.status == 404
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.locator("h1").inner_text() == "Nicht gefunden"
    page.locator("#lang-switch").click()
    page.locator("h1", has_text="Not found").wait_for()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.js_errors == []
    page.context.close()


def test_qr_code_is_svg(browser: Any, server: ServerProcess, event: str) -> None:
    page = new_page(browser)
    response = page.goto(server.url + f"/e/{event}/qr.svg")
    assert response.status == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert f"/e/{event}" in response.text()
    page.context.close()


def test_the_root_lists_the_events_for_a_browser(
    browser: Any, server: ServerProcess, event: str
) -> None:
    page = new_page(browser)
    response = page.goto(server.url + "/")
    assert response.status == 200 and "text/html" in response.headers["content-type"]
    link = page.locator(f'#events li[data-event="{event}"] a')
    expect(link).to_have_attribute("href", f"/e/{event}")
    expect(link).to_have_text("Digitale Kirmes Test")
    assert_accessible(page)
    page.locator("#lang-switch").click()  # the list comes again, in English
    expect(page.locator("h1")).to_have_text("Events")
    expect(page.locator(f'#events li[data-event="{event}"] a')).to_have_text("Digital fair test")
    link = page.locator(f'#events li[data-event="{event}"] a')
    link.click()
    expect(page).to_have_url(server.url + f"/e/{event}")
    assert page.js_errors == []
    page.context.close()
