"""Publishing an event's results report from the dashboard (issue 14): not before the event
has ended (the reason beside the disabled button), then the public page /r/{event} with its
Markdown and PDF, and withdrawing it again (the page answers 404)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, call, make_event
from tests.browser.pages import admin_open_event, admin_section, admin_signed_in
from tests.harness.server_process import ServerProcess


def _ended_event(server: ServerProcess) -> str:
    now = datetime.now(UTC)
    return make_event(
        server,
        starts_at=(now - timedelta(hours=3)).isoformat(),
        ends_at=(now - timedelta(hours=1)).isoformat(),
    )


def test_publish_open_and_withdraw_the_results_report(browser: Any, server: ServerProcess) -> None:
    running, ended = make_event(server), _ended_event(server)
    page = admin_signed_in(browser, server)
    state = page.locator("#results-state")
    publish = page.locator("#results-publish")
    withdraw = page.locator("#results-withdraw")

    # Before the end: disabled, and why (the reason is the button's description).
    admin_open_event(page, running)
    admin_section(page, "exports")
    expect(state).to_have_text("Nicht veröffentlicht.")
    expect(publish).to_be_disabled()
    expect(page.locator("#results-why")).to_contain_text("Erst nach dem Ende der Veranstaltung")
    expect(publish).to_have_attribute("aria-describedby", "results-why")
    assert_accessible(page)

    # After the end: publish; the page's link and the downloads appear.
    admin_open_event(page, ended)
    expect(page.locator("#panel-exports")).to_be_visible()
    expect(publish).to_be_enabled()
    expect(page.locator("#results-why")).to_be_hidden()
    publish.click()
    expect(state).to_contain_text("Veröffentlicht seit")
    expect(withdraw).to_be_focused()
    link = page.locator("#results-page-link")
    expect(link).to_have_attribute("href", f"/r/{ended}")
    links = page.locator("#results-links a")
    expect(links).to_have_count(3)
    assert links.nth(1).get_attribute("href") == f"/r/{ended}.md?lang=de"
    assert links.nth(2).get_attribute("href") == f"/r/{ended}.pdf?lang=de"
    pdf = page.request.get(server.url + f"/r/{ended}.pdf?lang=de")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    assert call(server, "GET", f"/api/events/{ended}/results")["published"] is True
    assert_accessible(page)

    # The link opens the public page in a new tab.
    with page.context.expect_page() as opened:
        link.click()
    results = opened.value
    results.wait_for_load_state()
    assert results.url == f"{server.url}/r/{ended}"
    expect(results.locator("#report-title")).to_have_text("Digitale Kirmes Test")

    # English: the state and the downloads follow the language.
    page.locator("#lang-switch").click()
    expect(state).to_contain_text("Published since")
    assert links.nth(1).get_attribute("href") == f"/r/{ended}.md?lang=en"
    page.locator("#lang-switch").click()

    # Withdrawn: gone from the dashboard, and the page answers 404.
    withdraw.click()
    expect(state).to_have_text("Nicht veröffentlicht.")
    expect(page.locator("#results-links")).to_be_hidden()
    expect(publish).to_be_focused()
    response = results.reload()
    assert response is not None and response.status == 404
    assert page.request.get(server.url + f"/r/{ended}.md").status == 404
    assert page.js_errors == []
    page.context.close()
