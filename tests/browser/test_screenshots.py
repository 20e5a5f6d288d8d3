"""Screenshots of the pages in use, for docs/screenshots (and a last look at each page).

A small event in progress: questions asked on the visitor page, votes from a
second visitor, one answered in writing and one pinned by the moderators, an
announcement, a poll running in one room, and a visitor in a room. Every page is
checked for script errors and accessibility once more in that state.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import (
    assert_accessible,
    call,
    make_event,
    moderator_token,
    new_page,
    screenshot,
)
from tests.browser.hubs_thread import SimThread
from tests.browser.pages import ask, open_event, question, signed_in
from tests.harness.server_process import ServerProcess

QUESTIONS = (
    "Wann kommt das Glasfaser-Netz nach Ostönnen?",
    "Kann ich meinen Anwohnerparkausweis künftig online verlängern?",
    "Wo finde ich die offenen Daten zum Radverkehr?",
)


def _question_id(page: Any, text: str) -> str:
    return str(question(page, text).get_attribute("data-id"))


def top(page: Any) -> None:
    """Scrolled to the top, animations done: a full-page screenshot as a person sees it
    (a sticky announcement at its place, no question caught mid-glide)."""
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_function(
        "() => document.getAnimations().every((a) => a.playState !== 'running'"
        " || a.effect.getTiming().iterations === Infinity)"
    )


def test_pages_in_use(browser: Any, server: ServerProcess, hubs: SimThread) -> None:
    event = make_event(
        server,
        provision=True,
        title="Digitale Kirmes Soest",
        title_en="Soest Digital Fair",
        description="Die Stadt zeigt an ihren Ständen, wie die Digitalisierung vor Ort "
        "vorankommt. Fragen Sie mit!",
    )
    rooms = call(server, "GET", f"/api/events/{event}")["rooms"]
    people = []
    for room, names in zip(rooms, (("Clara", "Dieter", "Emre"), ("Frieda", "Gül")), strict=True):
        for name in names:
            person = hubs.call(hubs.sim.add_avatar, room["hubs"]["hub_id"], name)
            if name != "Emre":  # Emre stays in the lobby
                hubs.call(person.enter)
            people.append(person)
    anna = open_event(browser, server, event, viewport={"width": 1280, "height": 900})
    for text in QUESTIONS:
        ask(anna, text)
        expect(question(anna, text)).to_have_attribute("data-status", "approved")
    ben = open_event(browser, server, event)
    for text in QUESTIONS[:2]:
        question(ben, text).locator("button.question-vote").click()
    question(ben, QUESTIONS[0]).locator("button.question-vote[aria-pressed=true]").wait_for()
    ben.locator('#rooms li.room[data-room="daten"] .room-enter').click()
    for popup in ben.context.pages[1:]:
        popup.close()

    base = f"/api/events/{event}/questions"
    call(server, "POST", f"{base}/{_question_id(anna, QUESTIONS[0])}/moderate", {"action": "pin"})
    call(
        server,
        "POST",
        f"{base}/{_question_id(anna, QUESTIONS[2])}/moderate",
        {
            "action": "answer",
            "mode": "written",
            "text": "Im Open-Data-Portal der Stadt, Rubrik Mobilität.",
        },
    )
    call(
        server,
        "POST",
        f"/api/events/{event}/announcements",
        {"text": "Um 15 Uhr beginnt die Fragerunde im Info-Foyer."},
    )
    poll = call(
        server,
        "POST",
        f"/api/events/{event}/polls",
        {
            "question": "Welche offenen Daten wünschen Sie sich zuerst?",
            "kind": "single",
            "options": ["Radverkehr", "Parkplätze", "Baustellen"],
            "rooms": ["daten"],
        },
    )["poll"]["id"]
    call(server, "POST", f"/api/events/{event}/polls/{poll}/open")
    expect(anna.locator("#announcement .announcement-text")).to_contain_text("15 Uhr")
    expect(question(anna, QUESTIONS[0]).locator(".question-pinned")).to_be_visible()
    expect(anna.locator("#polls li.poll")).to_be_visible()
    # "im Raum": the page that entered plus the people in the 3D room.
    daten = anna.locator('#rooms li.room[data-room="daten"] .room-count')
    expect(daten).to_have_attribute("data-web", "1")
    expect(daten).to_have_text("3", timeout=20_000)
    expect(anna.locator('#rooms li.room[data-room="info"] .room-count')).to_have_text("2")
    top(anna)
    screenshot(anna, "visitor")
    assert_accessible(anna)

    phone = open_event(browser, server, event, viewport={"width": 390, "height": 844})
    expect(question(phone, QUESTIONS[0]).locator(".question-pinned")).to_be_visible()
    expect(phone.locator("#polls li.poll")).to_be_visible()
    top(phone)
    screenshot(phone, "visitor-phone")

    # The moderator console: a question from the Hubs chat, one rejected, a raised hand.
    clara = people[0]
    hubs.call(clara.raise_hand)
    hubs.call(clara.say, "/frage Kann man die 3D-Räume auch mit der VR-Brille besuchen?")
    ask(ben, "Kauft billige Uhren bei mir!")
    spam = _question_id(ben, "Kauft billige Uhren bei mir!")
    call(server, "POST", f"{base}/{spam}/moderate", {"action": "reject", "reason": "off_topic"})
    console = signed_in(
        browser,
        server,
        event,
        moderator_token(server, event),
        viewport={"width": 1280, "height": 900},
    )
    expect(console.locator("#hands")).to_contain_text("Clara", timeout=20_000)
    # The people in Hubs with their actions, once the bridge owns the rooms.
    expect(
        console.locator('#hubs-people li.hubs-person button[data-action="mute"]').first
    ).to_be_enabled(timeout=20_000)
    expect(console.locator("li.question", has_text="VR-Brille")).to_be_visible(timeout=10_000)
    screenshot(console, "moderator")
    assert_accessible(console)

    stage = new_page(browser, viewport={"width": 1280, "height": 720})
    stage.goto(server.url + f"/stage/{event}/info")
    expect(stage.locator("#pinned-text")).to_have_text(QUESTIONS[0])
    top(stage)
    screenshot(stage, "stage")
    assert_accessible(stage)

    for person in people:
        hubs.call(person.leave)
    for page in (anna, ben, phone, stage, console):
        assert page.js_errors == []
        page.context.close()
