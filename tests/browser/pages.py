"""Driving the pages in the browser tests: open one, ask, find a question, sign in.

Shared by the browser test modules, which never import from each other.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import new_page
from tests.harness.server_process import ServerProcess


def open_event(browser: Any, server: ServerProcess, event: str, **options: Any) -> Any:
    """The visitor page of ``event`` in a fresh browser context, once it is connected."""
    page = new_page(browser, **options)
    page.goto(server.url + f"/e/{event}")
    expect(page.locator("#conn")).to_have_attribute("data-state", "open")
    return page


def ask(page: Any, text: str) -> None:
    page.locator("#ask-text").fill(text)
    page.locator("#ask-submit").click()


def question(page: Any, text: str) -> Any:
    return page.locator("#questions li.question", has=page.locator(".question-text", has_text=text))


def signed_in(browser: Any, server: ServerProcess, event: str, token: str, **options: Any) -> Any:
    """The moderator console of ``event``, signed in with ``token``."""
    page = new_page(browser, **options)
    page.goto(server.url + f"/m/{event}")
    page.locator("#signin-token").fill(token)
    page.locator("#signin-submit").click()
    expect(page.locator("#console")).to_be_visible()
    return page


# ---- live polls ----


def console_poll(console: Any, question_text: str) -> Any:
    """A poll in the moderator console's list, by its question."""
    return console.locator(
        "#poll-admin-list li.mod-poll",
        has=console.locator(".mod-poll-question", has_text=question_text),
    )


def draft_poll(console: Any, question_text: str, options: list[str], kind: str = "single") -> Any:
    """Fill the console's draft form and save it (no check that it was saved)."""
    form = console.locator("#poll-form")
    form.locator("#poll-question").fill(question_text)
    form.locator("#poll-kind").select_option(kind)
    rows = form.locator("#poll-options input")
    while rows.count() < len(options):
        form.locator("#poll-option-add").click()
    for index, option in enumerate(options):
        rows.nth(index).fill(option)
    form.locator("#poll-save").click()
    return console_poll(console, question_text)


def visitor_poll(page: Any, question_text: str) -> Any:
    """A poll on the visitor page, by its question."""
    return page.locator(
        "#polls li.poll", has=page.locator(".poll-question", has_text=question_text)
    )


def answer_poll(page: Any, question_text: str, *choices: str, text: str | None = None) -> Any:
    """Choose options by their label (or type a text) and send; the poll's locator."""
    poll = visitor_poll(page, question_text)
    if text is not None:
        poll.locator("input[type=text]").fill(text)
    for choice in choices:
        poll.locator("label", has_text=choice).first.click()
    poll.locator(".poll-submit").click()
    return poll


def bar_counts(scope: Any) -> Any:
    """The counts of a poll's bars (for ``expect(...).to_have_text([...])``)."""
    return scope.locator(".poll-bar-count")
