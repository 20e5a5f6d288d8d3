"""While a visitor types, questions already asked that are like it, to support instead."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible
from tests.browser.pages import open_event
from tests.harness.server_process import ServerProcess


def test_a_similar_question_is_suggested_and_supported(
    browser: Any, server: ServerProcess, event: str
) -> None:
    anna = open_event(browser, server, event)
    asked = "Wann wird der Radweg an der Ringstraße fertig?"
    anna.locator("#ask-text").fill(asked)
    anna.locator("#ask-submit").click()
    expect(anna.locator("#questions li.question")).to_have_count(1)

    ben = open_event(browser, server, event)
    box = ben.locator("#ask-similar")
    expect(box).to_be_hidden()
    ben.locator("#ask-text").fill("Radwege Ringstraße: wann?")
    expect(box).to_be_visible()
    expect(box.locator(".ask-similar-title")).to_have_text("Ähnliche Fragen – lieber unterstützen?")
    suggestion = box.locator("li")
    expect(suggestion).to_have_count(1)
    expect(suggestion.locator(".similar-text")).to_have_text(asked)
    assert_accessible(ben)
    suggestion.get_by_role("button", name="Unterstützen").click()
    expect(suggestion.get_by_role("button", name="Unterstützt")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(suggestion).to_contain_text("1 Stimme")
    # The vote counts for everyone, as one given in the list.
    expect(anna.locator("#questions li.question .question-votes")).to_have_text("1")
    expect(anna.locator("#questions li.question .votes-label")).to_have_text("Stimme")  # one

    # Unrelated or short text: no suggestion.
    ben.locator("#ask-text").fill("Wo kann ich hier parken?")
    expect(box).to_be_hidden()
    ben.locator("#ask-text").fill("Radweg")
    expect(box).to_be_hidden()
    anna.context.close()
    ben.context.close()
