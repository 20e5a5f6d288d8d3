"""The issue's main scenario across pages, in a pre-moderated event: a visitor asks; a
moderator in another browser approves and pins; the visitor sees it approved and votes;
the stage view shows it."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import make_event, moderator_token, new_page
from tests.harness.server_process import ServerProcess


def test_ask_approve_pin_vote_stage(browser: Any, server: ServerProcess) -> None:
    event = make_event(server, premoderation=True)
    text = "Wann wird die Brücke am Markt saniert?"

    visitor = new_page(browser)
    visitor.goto(server.url + f"/e/{event}")
    expect(visitor.locator("#conn")).to_have_attribute("data-state", "open")
    visitor.locator("#ask-text").fill(text)
    visitor.locator("#ask-submit").click()
    asked = visitor.locator(
        "#questions li.question", has=visitor.locator(".question-text", has_text=text)
    )
    expect(asked).to_have_attribute("data-status", "pending")
    question = asked.get_attribute("data-id")
    assert question

    moderator = new_page(browser)
    moderator.goto(server.url + f"/m/{event}")
    moderator.locator("#signin-token").fill(moderator_token(server, event))
    moderator.locator("#signin-submit").click()
    pending = moderator.locator(f"#queue-pending li.question[data-id='{question}']")
    expect(pending.locator(".question-text")).to_have_text(text)
    pending.locator('button[data-action="approve"]').click()
    approved = moderator.locator(f"#queue-approved li.question[data-id='{question}']")
    expect(approved).to_have_attribute("data-status", "approved")
    approved.locator('button[data-action="pin"]').click()
    expect(approved.locator(".question-pinned")).to_be_visible()

    expect(asked).to_have_attribute("data-status", "approved")
    expect(asked.locator(".question-pinned")).to_be_visible()
    asked.locator("button.question-vote").click()
    expect(asked.locator("button.question-vote")).to_have_attribute("aria-pressed", "true")
    expect(asked.locator(".question-votes")).to_have_text("1")
    expect(approved.locator(".question-votes")).to_have_attribute("data-votes", "1")

    stage = new_page(browser)
    stage.goto(server.url + f"/stage/{event}/info")
    expect(stage.locator("#pinned-text")).to_have_text(text)

    for page in (visitor, moderator, stage):
        assert page.js_errors == []
        page.context.close()
