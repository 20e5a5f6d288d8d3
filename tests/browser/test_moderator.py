"""The moderator console /m/{event}: sign-in, the queue and its actions, shortcuts,
announcements, attendance, accessibility and a narrow screen."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
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
)
from tests.browser.pages import menu_action, signed_in
from tests.harness.server_process import ServerProcess


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

    menu_action(page, first, "answer", "written")
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

    menu_action(page, twin, "merge")
    expect(page.locator("#merge-target option")).to_have_count(2)
    page.locator("#merge-target").select_option(target)
    page.locator("#dialog-submit").click()
    expect(page.locator(f"#queue-merged li.question[data-id='{twin}']")).to_have_attribute(
        "data-status", "merged"
    )

    menu_action(page, typo, "edit")
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

    menu_action(page, typo, "delete")
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

    menu_action(page, approved, "reply")
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


def cut_connection(page: Any) -> None:
    """Close the console's socket and keep it closed until `restore_connection`."""
    page.evaluate(
        """() => {
            const live = window.__hbLive;
            live.__open = live.open;
            live.open = () => {};
            live.ws.close();
        }"""
    )
    expect(page.locator("#conn")).to_have_attribute("data-state", "down")


def restore_connection(page: Any) -> None:
    page.evaluate(
        """() => {
            const live = window.__hbLive;
            live.open = live.__open;
            live.connect(0);
        }"""
    )
    expect(page.locator("#conn")).to_have_attribute("data-state", "open")


def vote(server: ServerProcess, event: str, question: str, voters: int) -> None:
    """`voters` new visitors each vote for `question`, at once."""
    with ExitStack() as stack:
        sockets = []
        for _ in range(voters):
            ws = stack.enter_context(connect(server.url.replace("http://", "ws://") + "/ws"))
            ws.send(json.dumps({"type": "hello", "event": event}))
            assert json.loads(ws.recv(timeout=5))["type"] == "welcome"
            sockets.append(ws)
        refs = []
        for ws in sockets:
            ref = secrets.token_hex(8)
            ws.send(json.dumps({"type": "vote", "question": question, "up": True, "ref": ref}))
            refs.append((ws, ref))
        for ws, ref in refs:
            while True:
                frame = json.loads(ws.recv(timeout=5))
                if frame.get("ref") == ref:
                    assert frame["type"] == "ack", frame
                    break


def test_resume_keeps_the_queue_and_brings_what_was_missed(
    browser: Any, server: ServerProcess
) -> None:
    event = make_event(server)
    before = ask(server, event, "Diese Frage kam vor der Unterbrechung.")
    page = signed_in(browser, server, event, moderator_token(server, event))
    expect(item(page, before)).to_be_visible()
    assert page.evaluate("typeof window.__hbLive") == "object"
    cut_connection(page)
    # The serving process may be behind the page: a resumed welcome's snapshot without the
    # question must not make the console forget it (it keeps its own state).
    page.evaluate(
        """() => {
            const live = window.__hbLive;
            const receive = live.receive.bind(live);
            live.receive = (frame) => {
                if (frame.type === "welcome") {
                    window.__recovered = frame.recovered;
                    frame.snapshot.qa.questions = [];
                }
                return receive(frame);
            };
        }"""
    )
    during = ask(server, event, "Diese Frage kam während der Unterbrechung.")
    restore_connection(page)
    assert page.evaluate("window.__recovered") is True
    expect(item(page, during)).to_be_visible()
    expect(item(page, before)).to_be_visible()
    expect(page.locator("#count-approved")).to_have_text("2")
    assert page.js_errors == []
    page.context.close()


def test_votes_update_in_place_without_rebuilding_the_queue(
    browser: Any, server: ServerProcess
) -> None:
    event = make_event(server, premoderation=True)
    popular = ask(server, event, "Welche Frage bekommt viele Stimmen?")
    moderate(server, event, popular, "approve")
    waiting = ask(server, event, "Diese Frage wartet auf Freigabe.")
    page = signed_in(browser, server, event, moderator_token(server, event))
    approve = page.query_selector(f'li.question[data-id="{waiting}"] button[data-action="approve"]')
    popular_item = page.query_selector(f'li.question[data-id="{popular}"]')
    assert approve is not None and popular_item is not None
    approve.focus()
    vote(server, event, popular, 3)
    expect(item(page, popular).locator(".question-votes")).to_have_attribute("data-votes", "3")
    expect(item(page, popular).locator(".question-votes")).to_have_text("3 Stimmen")
    vote(server, event, popular, 2)
    expect(item(page, popular).locator(".question-votes")).to_have_attribute("data-votes", "5")
    # The same nodes as before the votes: a click, the focus, a reading position stay.
    assert approve.evaluate("n => n.isConnected")
    assert popular_item.evaluate("n => n.isConnected")
    assert approve.evaluate("n => document.activeElement === n")
    approve.click()
    expect(page.locator(f"#queue-approved li.question[data-id='{waiting}']")).to_be_visible()
    assert page.js_errors == []
    page.context.close()


def test_shortcuts_act_only_on_the_focused_question_and_its_buttons(
    browser: Any, server: ServerProcess
) -> None:
    event = make_event(server, premoderation=True)
    first = ask(server, event, "Erste wartende Frage?")
    second = ask(server, event, "Zweite wartende Frage?")
    spam = ask(server, event, "Abgelehnte Werbung")
    moderate(server, event, spam, "reject", reason="off_topic")
    page = signed_in(browser, server, event, moderator_token(server, event))
    expect(item(page, second)).to_be_visible()

    # Selected, but focus is elsewhere: no shortcut acts (d would delete unseen).
    item(page, first).focus()
    page.locator("#signout").focus()
    page.keyboard.press("a")
    page.keyboard.press("d")
    page.locator("#queue-search").focus()
    page.locator("#queue-search").blur()
    page.keyboard.press("d")
    page.wait_for_timeout(300)
    expect(item(page, first)).to_have_attribute("data-section", "pending")

    # r on a rejected question (no reject there) does nothing but say why.
    item(page, spam).focus()
    page.keyboard.press("r")
    expect(page.locator("#toast-text")).to_have_text("Diese Frage ist schon abgelehnt.")
    page.wait_for_timeout(300)
    expect(page.locator("#action-dialog")).to_be_hidden()
    # m with nothing to merge into (no approved question) neither.
    item(page, first).focus()
    page.keyboard.press("m")
    expect(page.locator("#toast-text")).to_contain_text("zum Zusammenführen")
    page.wait_for_timeout(200)
    expect(page.locator("#action-dialog")).to_be_hidden()

    # A shortcut is a click on the visible button: approve moves the question away, and
    # focus stays where the moderator works (the next waiting question), not far below.
    page.keyboard.press("a")
    expect(page.locator(f"#queue-approved li.question[data-id='{first}']")).to_be_visible()
    expect(item(page, second)).to_be_focused()
    page.keyboard.press("a")
    expect(page.locator(f"#queue-approved li.question[data-id='{second}']")).to_be_visible()
    # The last one in its section: focus follows it.
    expect(item(page, second)).to_be_focused()
    assert page.js_errors == []
    page.context.close()


def test_actions_wait_for_the_connection(browser: Any, server: ServerProcess) -> None:
    event = make_event(server, premoderation=True)
    question = ask(server, event, "Kann man offline freigeben?")
    page = signed_in(browser, server, event, moderator_token(server, event))
    approve = item(page, question).locator('button[data-action="approve"]')
    expect(approve).to_be_enabled()
    cut_connection(page)
    expect(approve).to_have_attribute("aria-disabled", "true")
    expect(approve).to_be_disabled()
    expect(page.locator("#announce-submit")).to_be_disabled()
    approve.click(force=True)  # a click on a disabled button does nothing
    item(page, question).focus()
    page.keyboard.press("a")
    page.locator("#announce-text").fill("Offline gesendet?")
    page.locator("#announce-submit").click(force=True)
    page.wait_for_timeout(300)
    restore_connection(page)
    expect(approve).to_be_enabled()
    expect(page.locator("#announce-submit")).to_be_enabled()
    # Nothing was queued while the buttons were off.
    expect(item(page, question)).to_have_attribute("data-section", "pending")
    expect(page.locator("#announcements .announcement")).to_have_count(0)
    listed = call(server, "GET", f"/api/events/{event}/questions")["questions"]
    assert [q["status"] for q in listed] == ["pending"]
    assert page.js_errors == []
    page.context.close()


def test_an_action_cut_off_before_its_answer_asks_to_check(
    browser: Any, server: ServerProcess
) -> None:
    event = make_event(server, premoderation=True)
    question = ask(server, event, "Wurde ich freigegeben oder nicht?")
    page = signed_in(browser, server, event, moderator_token(server, event))
    expect(item(page, question)).to_be_visible()
    # The approve goes out, but the answer never arrives before the socket drops.
    page.evaluate(
        """() => {
            const live = window.__hbLive;
            live.ws.onmessage = () => {};
        }"""
    )
    item(page, question).locator('button[data-action="approve"]').click()
    page.wait_for_timeout(300)
    cut_connection(page)
    restore_connection(page)
    error = item(page, question).locator(".question-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Bitte prüfen")
    # The stream brings what really happened: the approve did go through.
    expect(item(page, question)).to_have_attribute("data-section", "approved")
    assert page.js_errors == []
    page.context.close()
