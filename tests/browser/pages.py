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
