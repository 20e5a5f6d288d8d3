"""The visitor event page /e/{event}: event, rooms, attendance, Q&A, offline outbox, languages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import (
    assert_accessible,
    call,
    make_event,
    new_page,
    provision_rooms,
)
from tests.browser.hubs_thread import SimThread
from tests.browser.pages import ask, ask_details, open_event, question, show_rooms
from tests.harness.server_process import ServerProcess


def test_shows_event_rooms_and_schedule(browser: Any, server: ServerProcess, event: str) -> None:
    page = open_event(browser, server, event)
    expect(page.locator("h1")).to_have_text("Digitale Kirmes Test")
    expect(page.locator("#event-description")).to_have_text(
        "Eine Veranstaltung für die Browser-Tests."
    )
    expect(page.locator("#phase")).to_contain_text("Läuft")
    expect(page.locator("#schedule dt")).to_have_count(3)
    expect(page.locator("#rooms li.room")).to_have_count(2)
    info = page.locator('#rooms li.room[data-room="info"]')
    expect(info).to_contain_text("Info-Foyer")
    # One number per room: everyone in the 3D room plus the pages that entered it.
    expect(info.locator(".room-count")).to_have_text("0")
    expect(info.locator(".room-people")).to_contain_text("0 im Raum")
    # No Hubs room yet: the door is shown closed, with the reason.
    expect(info.locator("button.room-enter")).to_be_disabled()
    expect(info.locator(".room-countdown")).to_have_text("Der 3D-Raum wird noch vorbereitet.")
    provision_rooms(server, event)  # the page hears of it live (an `event` frame)
    enter = info.locator("a.room-enter")
    # The door carries the page's signed visitor id: /go counts only open pages.
    expect(enter).to_have_attribute("href", re.compile(rf"^/go/{event}/info\?v=v1\."))
    expect(enter).to_have_attribute("target", "_blank")
    expect(info.locator(".room-countdown")).to_have_text("")
    expect(page.locator("#announcement")).to_be_hidden()
    expect(page.locator(".qr img")).to_have_attribute("src", f"/e/{event}/qr.svg")
    assert_accessible(page)
    assert page.js_errors == []
    page.context.close()

    narrow = open_event(browser, server, event, viewport={"width": 320, "height": 640})
    ask(narrow, "Eine recht lange Frage ohne Leerzeichen: " + "x" * 80)
    expect(narrow.locator("#questions li.question")).to_have_count(1)
    width = narrow.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"the page is {width} px wide at 320 px"
    assert_accessible(narrow)
    # On a narrow screen the rooms are the second tab.
    expect(narrow.locator("#rooms")).to_be_hidden()
    show_rooms(narrow)
    expect(narrow.locator("#tab-rooms")).to_have_attribute("aria-selected", "true")
    expect(narrow.locator('#rooms li.room[data-room="info"]')).to_be_visible()
    expect(narrow.locator("#ask-text")).to_be_hidden()
    assert narrow.evaluate("document.documentElement.scrollWidth") <= 320
    assert_accessible(narrow)
    narrow.context.close()


def test_ask_vote_and_a_second_visitor_sees_it(
    browser: Any, server: ServerProcess, event: str
) -> None:
    anna = open_event(browser, server, event)
    ben = open_event(browser, server, event)
    expect(anna.locator("#ask-counter")).to_contain_text("0 von 500")
    anna.locator("#ask-text").fill("Wann kommt Glasfaser? 🚀")
    expect(anna.locator("#ask-counter")).to_contain_text("23 von 500")
    anna.locator("#ask-submit").click()
    mine = question(anna, "Wann kommt Glasfaser?")
    expect(mine).to_have_attribute("data-status", "approved")
    expect(mine.locator(".question-text")).to_have_text("Wann kommt Glasfaser? 🚀")
    expect(anna.locator("#ask-text")).to_have_value("")

    theirs = question(ben, "Wann kommt Glasfaser?")
    expect(theirs.locator(".question-votes")).to_have_text("0")
    mine.locator("button.question-vote").click()
    expect(mine.locator("button.question-vote")).to_have_attribute("aria-pressed", "true")
    expect(mine.locator(".question-votes")).to_have_text("1")
    expect(theirs.locator(".question-votes")).to_have_text("1")
    theirs.locator("button.question-vote").click()
    expect(theirs.locator(".question-votes")).to_have_text("2")
    expect(mine.locator(".question-votes")).to_have_text("2")
    # A vote is a toggle.
    mine.locator("button.question-vote").click()
    expect(mine.locator("button.question-vote")).to_have_attribute("aria-pressed", "false")
    expect(mine.locator(".question-votes")).to_have_text("1")
    expect(theirs.locator(".question-votes")).to_have_text("1")

    # Newest first, with the tabs.
    ask(ben, "Zweite Frage")
    expect(anna.locator("#questions li.question")).to_have_count(2)
    anna.locator("#sort-new").click()
    expect(anna.locator("#sort-new")).to_have_attribute("aria-selected", "true")
    expect(anna.locator("#sort-top")).to_have_attribute("aria-selected", "false")
    expect(anna.locator("#questions li.question").first.locator(".question-text")).to_have_text(
        "Zweite Frage"
    )
    anna.locator("#sort-top").click()
    expect(anna.locator("#questions li.question").first.locator(".question-text")).to_have_text(
        "Wann kommt Glasfaser? 🚀"
    )
    assert anna.js_errors == [] and ben.js_errors == []
    anna.context.close()
    ben.context.close()


def test_premoderated_question_is_pending_for_its_author_only(
    browser: Any, server: ServerProcess
) -> None:
    event = make_event(server, premoderation=True)
    anna = open_event(browser, server, event)
    ben = open_event(browser, server, event)
    expect(anna.locator("#ask-rules")).to_contain_text("freigegeben")
    ask(anna, "Eine Frage zur Freigabe")
    mine = question(anna, "Eine Frage zur Freigabe")
    expect(mine).to_have_attribute("data-status", "pending")
    expect(mine).to_contain_text("Wartet auf Freigabe")
    expect(mine.locator("button.question-vote")).to_have_count(0)
    # Ben gets nothing; a question of his own shows that his page is up to date.
    ask(ben, "Bens Frage")
    expect(question(ben, "Bens Frage")).to_have_count(1)
    expect(ben.locator("#questions li.question")).to_have_count(1)
    anna.context.close()
    ben.context.close()


def test_markup_in_a_question_is_text(browser: Any, server: ServerProcess, event: str) -> None:
    dialogs: list[str] = []
    anna = open_event(browser, server, event)
    ben = open_event(browser, server, event)
    for page in (anna, ben):
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    text = "<img src=x onerror=alert(1)>"
    ask(anna, text)
    for page in (anna, ben):
        node = page.locator("#questions li.question .question-text")
        expect(node).to_have_count(1)
        assert node.evaluate("n => n.textContent") == text
        assert page.locator("#questions img").count() == 0
    anna.wait_for_timeout(300)
    assert dialogs == []
    anna.context.close()
    ben.context.close()


def test_language_switch_and_it_is_remembered(
    browser: Any, server: ServerProcess, event: str
) -> None:
    page = open_event(browser, server, event)
    page.locator("#lang-switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#rooms-title")).to_have_text("Rooms")
    expect(page.locator("h1")).to_have_text("Digital fair test")
    expect(page.locator("#phase")).to_contain_text("Live now")
    expect(page.locator('li.room[data-room="info"] .room-enter')).to_have_text("Enter room")
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#rooms-title")).to_have_text("Rooms")
    expect(page.locator("#qa-title")).to_have_text("Questions & answers")
    page.locator("#lang-switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("#rooms-title")).to_have_text("Räume")
    expect(page.locator("h1")).to_have_text("Digitale Kirmes Test")
    assert page.js_errors == []
    page.context.close()


def test_entering_a_room_shows_in_the_attendance_of_others(
    browser: Any, server: ServerProcess, hubs: SimThread
) -> None:
    event = make_event(server, provision=True)
    anna = open_event(browser, server, event)
    ben = open_event(browser, server, event)
    count = ben.locator('li.room[data-room="daten"] .room-count')
    expect(count).to_have_text("0")
    # The attendance leader picks up a new event within its refresh (10 s): wait for its
    # first frame, so what follows measures the change and not the start.
    ben.wait_for_function("() => window.__hbLive.seq > 0", timeout=15_000)
    with anna.context.expect_page() as opened:
        anna.locator('li.room[data-room="daten"] a.room-enter').click()
    hub_id = call(server, "GET", f"/api/events/{event}")["rooms"][1]["hubs"]["hub_id"]
    assert opened.value.url.startswith(f"{hubs.sim.base_url}/{hub_id}")  # /go sent her there
    opened.value.close()
    expect(count).to_have_text("1")
    expect(count).to_have_attribute("data-web", "1")
    # And she arrives in the Hubs room (simulated): the bridge counts her there too, and
    # "im Raum" counts both (the page's entry and the Hubs session).
    avatar = hubs.call(hubs.sim.add_avatar, hub_id, "Anna")
    hubs.call(avatar.enter)
    expect(count).to_have_attribute("data-hubs", "1", timeout=15_000)
    expect(count).to_have_text("2")
    hubs.call(avatar.leave)
    expect(count).to_have_text("1", timeout=15_000)
    expect(anna.locator("#here")).to_contain_text("Offene Daten")
    expect(anna.locator('li.room[data-room="daten"]')).to_contain_text("Sie sind hier")
    anna.locator("#here button").click()
    expect(count).to_have_text("0")
    expect(anna.locator("#here")).to_be_hidden()
    anna.context.close()
    ben.context.close()


def test_question_typed_offline_arrives_once(
    browser: Any, server: ServerProcess, event: str
) -> None:
    anna = open_event(browser, server, event)
    ben = open_event(browser, server, event)
    text = "Frage ohne Netz"
    anna.context.set_offline(True)
    # The page gives its socket up on the browser's "offline" event, without waiting for a
    # closing handshake that cannot finish.
    expect(anna.locator("#conn")).not_to_have_attribute("data-state", "open")
    ask(anna, text)
    expect(anna.locator("#outbox")).to_be_visible()
    expect(anna.locator("#outbox")).to_contain_text(text)
    expect(anna.locator("#outbox")).to_contain_text("sobald die Verbindung zurück ist")
    anna.context.set_offline(False)
    expect(anna.locator("#conn")).to_have_attribute("data-state", "open", timeout=15_000)
    expect(question(anna, text)).to_have_count(1)
    expect(anna.locator("#outbox")).to_be_hidden()
    expect(question(ben, text)).to_have_count(1)
    anna.reload()
    expect(anna.locator("#conn")).to_have_attribute("data-state", "open")
    expect(question(anna, text)).to_have_count(1)
    expect(question(ben, text)).to_have_count(1)
    ask(ben, "Noch eine")
    expect(question(anna, "Noch eine")).to_have_count(1)
    expect(question(anna, text)).to_have_count(1)
    anna.context.close()
    ben.context.close()


def test_doors_closed_and_event_ended(browser: Any, server: ServerProcess) -> None:
    now = datetime.now(UTC)
    later = make_event(
        server,
        starts_at=(now + timedelta(hours=2)).isoformat(),
        ends_at=(now + timedelta(hours=4)).isoformat(),
    )
    page = open_event(browser, server, later)
    enter = page.locator('li.room[data-room="info"] .room-enter')
    expect(enter).to_be_disabled()
    countdown = page.locator('li.room[data-room="info"] .room-countdown')
    expect(countdown).to_contain_text("Öffnet in 01:")
    before = countdown.inner_text()
    expect(countdown).not_to_have_text(before)  # it ticks
    expect(page.locator("#phase")).to_contain_text("Demnächst")
    page.context.close()

    ended = make_event(
        server,
        starts_at=(now - timedelta(hours=4)).isoformat(),
        ends_at=(now - timedelta(hours=2)).isoformat(),
    )
    page = open_event(browser, server, ended)
    expect(page.locator("#phase")).to_contain_text("Diese Veranstaltung ist beendet")
    expect(page.locator('li.room[data-room="info"] .room-enter')).to_be_disabled()
    page.context.close()


def test_unknown_event_over_the_socket(browser: Any, server: ServerProcess, event: str) -> None:
    page = new_page(browser)
    page.clock.install()  # timers run normally; run_for() jumps past the banner's 4 s
    page.goto(server.url + f"/e/{event}")
    expect(page.locator("#conn")).to_have_attribute("data-state", "open")
    # The event is deleted while the page is open: the server says so, and a hello would too.
    from tests.browser.conftest import call

    call(server, "DELETE", f"/api/events/{event}")
    page.evaluate("window.__hbLive.ws && window.__hbLive.ws.close()")
    expect(page.locator("#fatal")).to_contain_text("gibt es nicht")
    # It never reconnects, so no "we reconnect automatically" banner, not even later.
    page.clock.run_for(6000)
    expect(page.locator("#offline-banner")).to_be_hidden()
    assert page.evaluate("window.__hbLive.stopped && window.__hbLive.ws === null")
    page.locator("#lang-switch").click()
    expect(page.locator("#fatal")).to_contain_text("does not exist")
    page.context.close()


def test_keyboard_vote_keeps_the_focus_and_names_the_question(
    browser: Any, server: ServerProcess, event: str
) -> None:
    page = open_event(browser, server, event)
    ask(page, "Wo ist der Ausgang?")
    item = question(page, "Wo ist der Ausgang?")
    expect(item).to_have_attribute("data-status", "approved")
    qid = item.get_attribute("data-id")
    button = item.locator("button.question-vote")
    text_id = button.get_attribute("aria-describedby")
    assert text_id == f"q-text-{qid}"
    expect(page.locator(f"#{text_id}")).to_have_text("Wo ist der Ausgang?")
    button.focus()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(item.locator(".question-votes")).to_have_text("1")
    expect(button).not_to_have_attribute("aria-disabled", "true")
    focused = page.evaluate(
        "() => { const a = document.activeElement; return a.classList.contains('question-vote')"
        " ? a.closest('li.question').dataset.id : a.tagName; }"
    )
    assert focused == qid
    # Enter again withdraws the vote: the focus is still there.
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(item.locator(".question-votes")).to_have_text("0")
    assert page.evaluate("document.activeElement.classList.contains('question-vote')")
    page.context.close()


def test_a_dismissed_announcement_stays_dismissed(
    browser: Any, server: ServerProcess, event: str
) -> None:
    from tests.browser.conftest import call

    anna = open_event(browser, server, event)
    ben = open_event(browser, server, event)
    # Only the text is a live region, so the language switch does not read the label again.
    assert anna.locator("#announcement-region").get_attribute("aria-live") is None
    text = anna.locator("#announcement .announcement-text")
    expect(text).to_have_attribute("aria-live", "polite")
    call(server, "POST", f"/api/events/{event}/announcements", {"text": "Für alle"})
    expect(anna.locator("#announcement .announcement-text")).to_have_text("Für alle")
    anna.locator("#announcement-close").click()
    expect(anna.locator("#announcement")).to_be_hidden()
    # One for a room Anna is not in: it must not bring the dismissed one back.
    call(server, "POST", f"/api/events/{event}/announcements", {"text": "Foyer", "rooms": ["info"]})
    ask(ben, "Danach gestellt")  # frames arrive in order: once Anna has it, she had the other
    expect(question(anna, "Danach gestellt")).to_have_count(1)
    expect(anna.locator("#announcement")).to_be_hidden()
    # A new one for everybody shows again.
    call(server, "POST", f"/api/events/{event}/announcements", {"text": "Wieder für alle"})
    expect(anna.locator("#announcement .announcement-text")).to_have_text("Wieder für alle")
    anna.context.close()
    ben.context.close()


def test_form_messages_follow_the_language_switch(
    browser: Any, server: ServerProcess, event: str
) -> None:
    page = open_event(browser, server, event)
    page.locator("#ask-submit").click()
    expect(page.locator("#ask-error")).to_have_text("Bitte geben Sie einen Text ein.")
    page.locator("#lang-switch").click()
    expect(page.locator("#ask-error")).to_have_text("Please enter a text.")
    ask(page, "Eine Frage")
    expect(page.locator("#ask-status")).to_have_text("Your question has been posted.")
    expect(page.locator("#ask-error")).to_have_text("")
    page.locator("#lang-switch").click()
    expect(page.locator("#ask-status")).to_have_text("Ihre Frage ist gestellt.")
    page.context.close()


def test_moderation_marks_announcements_and_names(browser: Any, server: ServerProcess) -> None:
    event = make_event(server, provision=True)  # anna goes into a room below
    anna = open_event(browser, server, event)
    ben = open_event(browser, server, event)
    ask_details(anna)
    anna.locator("#ask-name").fill("Anna")
    ask(anna, "Erste Frage")
    ask(anna, "Zweite Frage")
    ask(ben, "Unpassende Frage")
    first = question(anna, "Erste Frage")
    expect(first).to_contain_text("Anna")
    ids = {
        text: question(anna, text).get_attribute("data-id")
        for text in ("Erste Frage", "Zweite Frage", "Unpassende Frage")
    }

    def moderate(text: str, body: dict[str, Any]) -> None:
        call(server, "POST", f"/api/events/{event}/questions/{ids[text]}/moderate", body)

    moderate("Zweite Frage", {"action": "pin"})
    moderate("Erste Frage", {"action": "answer", "mode": "written", "text": "Im Frühjahr."})
    moderate("Unpassende Frage", {"action": "reject", "reason": "off_topic"})
    expect(anna.locator("#questions li.question").first).to_have_attribute(
        "data-id", str(ids["Zweite Frage"])
    )
    expect(question(anna, "Zweite Frage").locator(".question-pinned")).to_be_visible()
    expect(first.locator(".question-answered")).to_be_visible()
    expect(first).to_contain_text("Im Frühjahr.")
    expect(question(anna, "Unpassende Frage")).to_have_count(0)
    rejected = question(ben, "Unpassende Frage")
    expect(rejected).to_have_attribute("data-status", "rejected")
    expect(rejected).to_contain_text("nicht zum Thema")
    expect(anna.locator("#transparency")).to_have_text("1 Frage abgelehnt: 1 nicht zum Thema")

    # Announcements: to the whole event, and to a room only the pages in it see.
    call(server, "POST", f"/api/events/{event}/announcements", {"text": "Gleich geht es los!"})
    for page in (anna, ben):
        expect(page.locator("#announcement .announcement-text")).to_have_text("Gleich geht es los!")
    with anna.context.expect_page() as opened:
        anna.locator('li.room[data-room="info"] a.room-enter').click()
    opened.value.close()
    body = {"text": "Nur im Foyer", "rooms": ["info"]}
    call(server, "POST", f"/api/events/{event}/announcements", body)
    expect(anna.locator("#announcement .announcement-text")).to_have_text("Nur im Foyer")
    ben.wait_for_timeout(500)
    expect(ben.locator("#announcement .announcement-text")).to_have_text("Gleich geht es los!")
    anna.locator("#announcement-close").click()
    expect(anna.locator("#announcement")).to_be_hidden()

    # The name is remembered.
    anna.reload()
    expect(anna.locator("#ask-name")).to_have_value("Anna")
    assert_accessible(anna)
    assert anna.js_errors == [] and ben.js_errors == []
    anna.context.close()
    ben.context.close()
