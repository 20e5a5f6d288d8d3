"""Small things of the visitor page people notice: the tab's title, a one-day schedule
written once, and 'waiting for approval' going once the question is approved."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import call, make_event
from tests.browser.pages import open_event
from tests.harness.server_process import ServerProcess


def test_the_tab_names_the_event_and_one_day_is_written_once(
    browser: Any, server: ServerProcess
) -> None:
    day = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    event = make_event(server, starts_at=f"{day}T10:00", ends_at=f"{day}T12:30")
    page = open_event(browser, server, event)
    expect(page).to_have_title("Digitale Kirmes Test – Veranstaltung")
    rows = page.locator("#schedule .schedule-row dd")
    expect(rows.nth(0)).to_contain_text(re.compile(r"\d{4}.*09:45"))  # doors: with the day
    expect(rows.nth(1)).to_have_text("10:00")  # the start: the same day, so the time only
    expect(rows.nth(2)).to_have_text("12:30")  # the end: likewise
    page.get_by_role("button", name="English").click()
    expect(page).to_have_title("Digital fair test – Event")
    page.get_by_role("link", name="All events").click()
    expect(page).to_have_url(server.url + "/")
    page.context.close()


def test_waiting_for_approval_goes_once_approved(browser: Any, server: ServerProcess) -> None:
    event = make_event(server, premoderation=True)
    anna = open_event(browser, server, event)
    anna.locator("#ask-text").fill("Bitte freigeben")
    anna.locator("#ask-submit").click()
    status = anna.locator("#ask-status")
    expect(status).to_contain_text("wartet auf Freigabe")
    mine = anna.locator("#questions li.question")
    expect(mine).to_have_attribute("data-status", "pending")
    listed = call(server, "GET", f"/api/events/{event}/questions")
    (question,) = listed["questions"]
    call(
        server,
        "POST",
        f"/api/events/{event}/questions/{question['id']}/moderate",
        {"action": "approve"},
    )
    expect(mine).to_have_attribute("data-status", "approved")
    expect(status).to_have_text("Ihre Frage ist freigegeben.")
    anna.context.close()


def test_a_question_over_the_rate_limit_stays_visible_with_its_countdown(
    browser: Any, server: ServerProcess, event: str
) -> None:
    page = open_event(browser, server, event)
    texts = [f"Schnelle Frage {n}" for n in range(1, 6)]
    for text in texts:
        page.locator("#ask-text").fill(text)
        page.locator("#ask-submit").click()
    # Three at once (the burst); the others wait, shown with when they go.
    waiting = page.locator("#outbox li")
    expect(waiting.first).to_contain_text(re.compile(r"wird in \d+ s gesendet"))
    expect(page.locator("#ask-status")).to_contain_text("gleich")
    for text in texts:
        expect(page.locator("#questions li.question .question-text", has_text=text)).to_have_count(
            1, timeout=60_000
        )
    expect(page.locator("#outbox-box")).to_be_hidden()
    page.context.close()
