"""The moderator console /m/{event}: sign-in, the queue and its actions, shortcuts,
announcements, attendance, accessibility and a narrow screen."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from playwright.sync_api import expect
from websockets.sync.client import ClientConnection, connect

from tests.browser.conftest import (
    STAFF,
    assert_accessible,
    call,
    make_event,
    moderator_token,
    new_page,
    screenshot,
)
from tests.server_process import ServerProcess


@contextmanager
def visitor_socket(
    server: ServerProcess, event: str, room: str | None = None
) -> Iterator[tuple[ClientConnection, dict[str, Any]]]:
    """A visitor's websocket (no Origin header, like a bot): yields it and its welcome."""
    with connect(server.url.replace("http://", "ws://") + "/ws") as ws:
        ws.send(json.dumps({"type": "hello", "event": event, "room": room}))
        welcome = json.loads(ws.recv(timeout=5))
        assert welcome["type"] == "welcome", welcome
        yield ws, welcome


def ask(server: ServerProcess, event: str, text: str, room: str | None = None) -> str:
    """A question from a new visitor (each its own, so no rate limit); returns its id."""
    with visitor_socket(server, event) as (ws, _):
        ref = secrets.token_hex(8)
        ws.send(json.dumps({"type": "ask", "text": text, "client_msg_id": ref, "room": room}))
        while True:
            frame = json.loads(ws.recv(timeout=5))
            if frame.get("ref") == ref:
                assert frame["type"] == "ack", frame
                return str(frame["question"]["id"])


def moderate(server: ServerProcess, event: str, question: str, action: str, **extra: Any) -> None:
    call(
        server,
        "POST",
        f"/api/events/{event}/questions/{question}/moderate",
        {"action": action, **extra},
    )


def signed_in(browser: Any, server: ServerProcess, event: str, token: str, **options: Any) -> Any:
    page = new_page(browser, **options)
    page.goto(server.url + f"/m/{event}")
    page.locator("#signin-token").fill(token)
    page.locator("#signin-submit").click()
    expect(page.locator("#console")).to_be_visible()
    return page


def item(page: Any, question: str) -> Any:
    return page.locator(f'li.question[data-id="{question}"]')


def test_sign_in_refuses_bad_and_foreign_tokens(browser: Any, server: ServerProcess) -> None:
    event = make_event(server)
    other = make_event(server)
    page = new_page(browser)
    page.goto(server.url + f"/m/{event}")
    expect(page.locator("#signin-token")).to_be_visible()
    assert page.locator("#signin-token").get_attribute("type") == "password"
    assert_accessible(page)

    page.locator("#signin-token").fill("not-a-real-token")
    page.locator("#signin-submit").click()
    expect(page.locator("#signin-error")).to_have_text("Dieser Schlüssel gilt nicht.")
    expect(page.locator("#console")).to_be_hidden()
    expect(page.locator("#offline-banner")).to_be_hidden()

    page.locator("#signin-token").fill(moderator_token(server, other))
    page.locator("#signin-submit").click()
    expect(page.locator("#signin-error")).to_have_text(
        "Dieser Schlüssel gilt nicht für diese Seite."
    )
    expect(page.locator("#console")).to_be_hidden()
    expect(page.locator("#signin-token")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0

    page.locator("#signin-token").fill(STAFF)
    page.locator("#signin-submit").click()
    expect(page.locator("#console")).to_be_visible()
    expect(page.locator("#role-badge")).to_have_text("Personal")
    assert page.js_errors == []
    page.context.close()


def test_token_stays_in_the_tab_not_in_the_url(browser: Any, server: ServerProcess) -> None:
    event = make_event(server)
    token = moderator_token(server, event)
    page = signed_in(browser, server, event, token)
    expect(page.locator("#role-badge")).to_have_text("Moderation")
    assert token not in page.url
    page.reload()
    expect(page.locator("#console")).to_be_visible()
    expect(page.locator("#signin")).to_be_hidden()
    assert token not in page.url

    stranger = new_page(browser)  # another context: nothing carried over
    stranger.goto(server.url + f"/m/{event}")
    expect(stranger.locator("#signin-token")).to_be_visible()
    expect(stranger.locator("#console")).to_be_hidden()
    stranger.context.close()

    page.locator("#signout").click()
    expect(page.locator("#signin-token")).to_be_focused()
    page.reload()
    expect(page.locator("#signin-token")).to_be_visible()
    expect(page.locator("#console")).to_be_hidden()
    assert page.js_errors == []
    page.context.close()


def test_approve_reject_pin_answer(browser: Any, server: ServerProcess) -> None:
    event = make_event(server, premoderation=True)
    first = ask(server, event, "Wann kommt der Bus?", room="info")
    second = ask(server, event, "Völlig daneben")
    page = signed_in(browser, server, event, moderator_token(server, event))
    expect(page.locator(f"#queue-pending li.question[data-id='{first}']")).to_be_visible()
    expect(page.locator("#count-pending")).to_have_text("2")
    expect(item(page, first).locator(".question-room")).to_have_text("Info-Foyer")
    late = ask(server, event, "Noch eine Frage zum Schluss")
    expect(page.locator(f"#queue-pending li.question[data-id='{late}']")).to_be_visible()
    expect(page.locator("#sr-announcer")).to_contain_text("Neue Frage wartet")
    expect(page.locator("#count-pending")).to_have_text("3")

    item(page, first).locator('button[data-action="approve"]').click()
    expect(page.locator(f"#queue-approved li.question[data-id='{first}']")).to_have_attribute(
        "data-status", "approved"
    )

    item(page, second).locator('button[data-action="reject"]').click()
    expect(page.locator("#action-dialog")).to_be_visible()
    page.locator("#reject-reason").select_option("offensive")
    page.locator("#dialog-submit").click()
    expect(page.locator("#action-dialog")).to_be_hidden()
    rejected = page.locator(f"#queue-rejected li.question[data-id='{second}']")
    expect(rejected).to_have_attribute("data-status", "rejected")
    expect(rejected.locator(".question-reason")).to_have_attribute("data-reason", "offensive")

    item(page, first).locator('button[data-action="pin"]').click()
    expect(item(page, first).locator(".question-pinned")).to_be_visible()
    expect(item(page, first).locator('button[data-action="unpin"]')).to_be_visible()

    item(page, first).locator('button[data-action="answer"][data-mode="written"]').click()
    page.locator("#dialog-text").fill("Um 10 Uhr.")
    page.locator("#dialog-submit").click()
    answered = page.locator(f"#queue-answered li.question[data-id='{first}']")
    expect(answered.locator(".question-answer")).to_contain_text("Um 10 Uhr.")
    expect(answered).to_have_attribute("data-answered", "written")

    listed = call(server, "GET", f"/api/events/{event}/questions")["questions"]
    by_id = {q["id"]: q for q in listed}
    assert by_id[first]["pinned"] and by_id[first]["answer"] == "Um 10 Uhr."
    assert by_id[second]["reject_reason"] == "offensive"
    assert page.js_errors == []
    page.context.close()


def test_merge_edit_delete_and_undo(browser: Any, server: ServerProcess) -> None:
    event = make_event(server)
    target = ask(server, event, "Gibt es WLAN im Foyer?")
    twin = ask(server, event, "Hat das Foyer WLAN?")
    typo = ask(server, event, "Wo ist die Toilete?")
    page = signed_in(browser, server, event, moderator_token(server, event))

    item(page, twin).locator('button[data-action="merge"]').click()
    expect(page.locator("#merge-target option")).to_have_count(2)
    page.locator("#merge-target").select_option(target)
    page.locator("#dialog-submit").click()
    expect(page.locator(f"#queue-merged li.question[data-id='{twin}']")).to_have_attribute(
        "data-status", "merged"
    )

    item(page, typo).locator('button[data-action="edit"]').click()
    expect(page.locator("#dialog-text")).to_have_value("Wo ist die Toilete?")
    page.locator("#dialog-text").fill("Wo ist die\u200bToilette?")
    page.locator("#dialog-submit").click()
    expect(page.locator("#dialog-error")).to_have_text(
        "Der Text enthält unsichtbare Steuerzeichen."
    )
    expect(page.locator("#action-dialog")).to_be_visible()
    page.locator("#dialog-text").fill("Wo ist die Toilette?")
    page.locator("#dialog-submit").click()
    expect(item(page, typo).locator(".question-text")).to_have_text("Wo ist die Toilette?")
    expect(item(page, typo).locator(".question-edited")).to_be_visible()

    item(page, typo).locator('button[data-action="delete"]').click()
    expect(page.locator(f"#queue-deleted li.question[data-id='{typo}']")).to_be_visible()
    page.locator("#undo").click()
    expect(page.locator(f"#queue-approved li.question[data-id='{typo}']")).to_be_visible()
    expect(page.locator("#toast")).to_be_hidden()
    assert page.js_errors == []
    page.context.close()


def test_keyboard_shortcuts(browser: Any, server: ServerProcess) -> None:
    event = make_event(server, premoderation=True)
    question = ask(server, event, "Kann man das per Tastatur freigeben?")
    page = signed_in(browser, server, event, moderator_token(server, event))
    item(page, question).focus()
    page.keyboard.press("a")
    expect(page.locator(f"#queue-approved li.question[data-id='{question}']")).to_be_visible()
    expect(item(page, question)).to_be_focused()
    other = ask(server, event, "Und die nächste Frage?")
    expect(item(page, other)).to_be_visible()
    page.keyboard.press("k")  # pending comes before approved
    expect(item(page, other)).to_be_focused()
    page.keyboard.press("j")
    expect(item(page, question)).to_be_focused()
    page.keyboard.press("p")
    expect(item(page, question).locator(".question-pinned")).to_be_visible()
    page.keyboard.press("d")
    expect(page.locator(f"#queue-deleted li.question[data-id='{question}']")).to_be_visible()
    page.keyboard.press("z")
    expect(page.locator(f"#queue-approved li.question[data-id='{question}']")).to_be_visible()

    # Typing in a field is never a shortcut.
    page.locator("#announce-text").fill("")
    page.locator("#announce-text").press("d")
    expect(page.locator("#announce-text")).to_have_value("d")
    expect(page.locator(f"#queue-approved li.question[data-id='{question}']")).to_be_visible()
    item(page, question).focus()
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_have_attribute("open", "")
    assert page.js_errors == []
    page.context.close()


def test_announce_to_one_room_and_attendance(browser: Any, server: ServerProcess) -> None:
    event = make_event(server)
    page = signed_in(browser, server, event, moderator_token(server, event))
    web_info = page.locator('#attendance [data-room="info"] [data-count="web"]')
    expect(web_info).to_have_text("0")
    with visitor_socket(server, event, room="info"):
        expect(web_info).to_have_text("1")
        page.locator("#announce-text").fill("Gleich geht es im Foyer los!")
        page.locator('input[name="announce-room"][value="info"]').check()
        page.locator("#announce-submit").click()
        expect(page.locator("#announcements .announcement-text")).to_have_text(
            "Gleich geht es im Foyer los!"
        )
        expect(page.locator("#announce-text")).to_have_value("")
    expect(web_info).to_have_text("0")
    with visitor_socket(server, event, room="info") as (_, welcome):
        announcements = welcome["snapshot"]["qa"]["announcements"]
    assert [(a["text"], a["rooms"]) for a in announcements] == [
        ("Gleich geht es im Foyer los!", ["info"])
    ]
    # No Hubs here: nobody raises a hand.
    expect(page.locator("#hands")).to_have_text("Keine Hand gehoben.")
    links = page.locator("#links a")
    expect(links.first).to_have_attribute("href", f"{server.url}/e/{event}")
    expect(links.nth(1)).to_have_attribute("href", f"{server.url}/stage/{event}/info")
    assert page.js_errors == []
    page.context.close()


def test_console_accessible_screenshot_and_narrow(browser: Any, server: ServerProcess) -> None:
    event = make_event(server, premoderation=True)
    pending = ask(server, event, "Wie lange dauert die Veranstaltung heute?", room="info")
    approved = ask(server, event, "Gibt es eine Aufzeichnung für später?")
    answered = ask(server, event, "Wo finde ich die Folien?", room="daten")
    rejected = ask(server, event, "Kauft billige Uhren!")
    moderate(server, event, approved, "approve")
    moderate(server, event, approved, "pin")
    moderate(server, event, answered, "answer", mode="written", text="Auf der Webseite.")
    moderate(server, event, rejected, "reject", reason="off_topic")
    page = signed_in(
        browser,
        server,
        event,
        moderator_token(server, event),
        viewport={"width": 1280, "height": 900},
    )
    expect(item(page, pending)).to_have_attribute("data-status", "pending")
    expect(item(page, rejected)).to_have_attribute("data-status", "rejected")
    assert_accessible(page)
    screenshot(page, "moderator")

    item(page, approved).locator('button[data-action="reply"]').click()
    expect(page.locator("#dialog-text")).to_be_focused()
    assert_accessible(page)
    page.keyboard.press("Escape")
    expect(page.locator("#action-dialog")).to_be_hidden()

    page.set_viewport_size({"width": 320, "height": 640})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"the document is {width} px wide at 320 px"
    expect(item(page, pending).locator('button[data-action="approve"]')).to_be_visible()
    page.locator("#lang-switch").click()
    expect(page.locator("#count-pending")).to_have_text("1")
    expect(page.locator("#section-pending .section-name")).to_have_text("Pending")
    expect(item(page, approved).locator(".question-pinned")).to_have_text("Pinned")
    assert page.js_errors == []
    page.context.close()
