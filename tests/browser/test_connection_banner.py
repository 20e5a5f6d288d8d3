"""The connection banner: only after the connection has been down for a few seconds (no
flicker on a short blip), and gone once it is back. Driven with Playwright's fake clock."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import new_page
from tests.harness.server_process import ServerProcess


def test_banner_waits_four_seconds_and_goes_when_back(
    browser: Any, server: ServerProcess, event: str
) -> None:
    page = new_page(browser)
    page.clock.install()
    page.goto(server.url + f"/e/{event}")
    expect(page.locator("#conn")).to_have_attribute("data-state", "open")
    banner = page.locator("#offline-banner")

    # A short blip: down, back within a second; the banner never shows.
    page.evaluate("window.__hbLive.ws.close()")
    expect(page.locator("#conn")).not_to_have_attribute("data-state", "open")
    page.clock.run_for(1500)  # the first reconnect comes within a second
    expect(page.locator("#conn")).to_have_attribute("data-state", "open")
    page.clock.run_for(5000)
    expect(banner).to_be_hidden()

    # A real outage: the indicator at once, the banner only after 4 s.
    page.context.set_offline(True)
    expect(page.locator("#conn")).not_to_have_attribute("data-state", "open")
    page.clock.run_for(2000)
    expect(banner).to_be_hidden()
    page.clock.run_for(2500)
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Verbindung ist unterbrochen")

    page.context.set_offline(False)
    page.clock.run_for(35_000)  # past the longest backoff
    expect(page.locator("#conn")).to_have_attribute("data-state", "open")
    expect(banner).to_be_hidden()
    assert page.js_errors == []
    page.context.close()
