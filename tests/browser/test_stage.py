"""The stage view /stage/{event}/{room}: the pinned question, live, read-only."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, call, new_page
from tests.browser.pages import ask_details, open_event, question
from tests.harness.server_process import ServerProcess

EMPTY = "Ihre Frage ist gefragt!"


def ask_in(page: Any, text: str, room: str) -> str:
    """Ask through the visitor page (room "" = the whole event); the question's id."""
    ask_details(page)
    page.locator("#ask-room").select_option(room)
    page.locator("#ask-text").fill(text)
    page.locator("#ask-submit").click()
    item = question(page, text)
    expect(item).to_have_attribute("data-status", "approved")
    return str(item.get_attribute("data-id"))


def moderate(server: ServerProcess, event: str, question_id: str, action: str) -> None:
    call(
        server,
        "POST",
        f"/api/events/{event}/questions/{question_id}/moderate",
        {"action": action},
    )


def test_stage_shows_the_pinned_question_live(
    browser: Any, server: ServerProcess, event: str
) -> None:
    stage = new_page(browser, viewport={"width": 1280, "height": 720})
    sent: list[str] = []
    stage.on("websocket", lambda ws: ws.on("framesent", lambda f: sent.append(str(f))))
    stage.goto(server.url + f"/stage/{event}/info")
    expect(stage.locator("#conn")).to_have_attribute("data-state", "open")
    expect(stage.locator("#pinned-text")).to_have_text(EMPTY)
    expect(stage.locator(".stage-title")).to_contain_text("Info-Foyer")
    expect(stage.locator("#clock")).not_to_be_empty()

    visitor = open_event(browser, server, event)
    in_room = ask_in(visitor, "Wie wird der Platz im Info-Foyer künftig genutzt?", "info")
    for_all = ask_in(visitor, "Wann gibt es die nächste Kirmes?", "")
    other_room = ask_in(visitor, "Eine Frage im anderen Raum", "daten")

    # The event's pin shows while the room has none; a pin in another room does not.
    moderate(server, event, other_room, "pin")
    moderate(server, event, for_all, "pin")
    expect(stage.locator("#pinned-text")).to_have_text("Wann gibt es die nächste Kirmes?")
    # The room's own pin wins, live.
    moderate(server, event, in_room, "pin")
    expect(stage.locator("#pinned-text")).to_have_text(
        "Wie wird der Platz im Info-Foyer künftig genutzt?"
    )
    expect(stage.locator("#pinned-votes")).to_have_text("0")
    question(visitor, "Info-Foyer").locator("button.question-vote").click()
    expect(stage.locator("#pinned-votes")).to_have_text("1")
    expect(question(visitor, "Info-Foyer").locator(".question-pinned")).to_be_visible()
    assert_accessible(stage)

    moderate(server, event, in_room, "unpin")
    expect(stage.locator("#pinned-text")).to_have_text("Wann gibt es die nächste Kirmes?")
    moderate(server, event, for_all, "unpin")
    expect(stage.locator("#pinned-text")).to_have_text(EMPTY)
    expect(stage.locator("#pinned-votes")).to_have_text("")

    # Read-only: nothing but hello and pings, and it counts in no room.
    kinds = {frame.split('"type":"')[1].split('"')[0] for frame in sent}
    assert kinds <= {"hello", "ping"}, kinds
    assert '"room":null' in sent[0]
    assert stage.js_errors == []
    stage.context.close()
    visitor.context.close()


def test_stage_fits_a_small_window_and_speaks_english(
    browser: Any, server: ServerProcess, event: str
) -> None:
    visitor = open_event(browser, server, event)
    long_text = "Eine sehr lange Frage " * 20
    qid = ask_in(visitor, long_text.strip(), "info")
    moderate(server, event, qid, "pin")
    stage = new_page(browser, lang="en", viewport={"width": 400, "height": 500})
    stage.goto(server.url + f"/stage/{event}/info")
    expect(stage.locator("#pinned-text")).to_have_text(long_text.strip())
    expect(stage.locator("#pinned-text")).to_have_class("stage-text user-text len-xl")
    assert stage.evaluate("document.documentElement.scrollWidth") <= 400
    expect(stage.locator(".stage-title")).to_contain_text("Info foyer")
    moderate(server, event, qid, "unpin")
    expect(stage.locator("#pinned-text")).to_have_text("Your question counts!")
    stage.context.close()
    visitor.context.close()


def test_stage_of_a_deleted_event_says_so_and_stops(
    browser: Any, server: ServerProcess, event: str
) -> None:
    stage = new_page(browser)
    stage.clock.install()
    stage.goto(server.url + f"/stage/{event}/info")
    expect(stage.locator("#conn")).to_have_attribute("data-state", "open")
    call(server, "DELETE", f"/api/events/{event}")
    expect(stage.locator("#fatal")).to_contain_text("gibt es nicht")
    stage.clock.run_for(6000)
    expect(stage.locator("#offline-banner")).to_be_hidden()
    stage.keyboard.press("l")  # no language button on a projector: a key instead
    expect(stage.locator("#fatal")).to_contain_text("does not exist")
    stage.context.close()


def test_stage_tells_the_room_how_to_join(browser: Any, server: ServerProcess, event: str) -> None:
    visitor = open_event(browser, server, event)
    stage = new_page(browser, viewport={"width": 1920, "height": 1080})
    stage.goto(server.url + f"/stage/{event}/info")
    expect(stage.locator("#conn")).to_have_attribute("data-state", "open")
    join = stage.locator("#join")
    # Nothing pinned: the invitation, the event page's address and its QR code, large.
    expect(join).to_have_attribute("data-size", "large")
    expect(stage.locator("#join-url")).to_have_text(server.url + f"/e/{event}")
    qr = join.locator("img.stage-join-qr")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    # A projector shows no connection badge and no language button.
    expect(stage.locator("#conn")).to_be_hidden()
    expect(stage.locator("#lang-switch")).to_be_hidden()
    assert_accessible(stage)
    # A question on stage: the way to join moves small into a corner, still readable.
    qid = ask_in(visitor, "Wie komme ich zur Bühne?", "info")
    moderate(server, event, qid, "pin")
    expect(stage.locator("#pinned-text")).to_have_text("Wie komme ich zur Bühne?")
    expect(join).to_have_attribute("data-size", "small")
    expect(join).to_be_in_viewport()
    box = join.bounding_box()
    assert box is not None and box["width"] < 1920 / 3
    stage.context.close()
    visitor.context.close()
