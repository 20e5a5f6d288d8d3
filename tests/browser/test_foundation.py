"""The page shells: served with a strict CSP, in German by default, 404 page for unknown events."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import new_page
from tests.server_process import ServerProcess


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
