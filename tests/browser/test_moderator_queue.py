"""The moderator console's queue as a dense list: one row per question, the two main
actions of its state as icon buttons, the rest in a menu with the shortcuts beside them;
every shortcut acts or says why; long texts clamp to two lines and expand.

Measured at 1280x800 with the questions below: before the dense rows (eight text
buttons in two rows per question, 185 px a question) 3 questions fitted in the queue's
first 800 px; now 12 do (about 56 px a question, 78 px for a two-line one).
"""

from __future__ import annotations

import io
from typing import Any

from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import (
    assert_accessible,
    call,
    make_event,
    moderator_token,
)
from tests.browser.pages import (
    choose_filter,
    menu_action,
    questions_in_first_px,
    queue_item,
    signed_in,
    socket_question,
)
from tests.harness.server_process import ServerProcess

# Questions as people ask them: short and long, with and without names, in a room or not,
# one held by the word filter.
QUESTIONS = [
    ("Wann beginnt der Vortrag über offene Daten?", "info", "Anna"),
    ("Gibt es eine Aufzeichnung für später?", None, None),
    (
        "Wie werden die Daten der Sensoren am Marktplatz gespeichert, wer hat Zugriff darauf, "
        "und wie lange werden sie aufbewahrt, bevor sie gelöscht oder anonymisiert werden? "
        "Und kann man als Bürgerin Einsicht verlangen?",
        "daten",
        "Bernd Beispiel",
    ),
    ("Kann man die 3D-Räume auch mit der VR-Brille besuchen?", "info", None),
    ("Welcher Idiot hat die Musik so laut gestellt?", None, "Carla"),
    ("Wo finde ich die Folien?", "daten", None),
    ("Ist das Stadtlabor auch am Wochenende geöffnet?", None, "Dieter"),
    ("Wie kann ich mich für den nächsten Workshop anmelden?", "info", None),
    (
        "Warum dauert der Glasfaserausbau in der Altstadt so lange, obwohl die Straßen "
        "schon zweimal aufgerissen wurden? Gibt es dafür einen Zeitplan?",
        "daten",
        "Eva",
    ),
    ("Gibt es WLAN im Foyer?", "info", None),
    ("Wer betreut die offenen Daten der Stadt?", "daten", "Frank"),
    ("Kommt der Vortrag später auch ins Netz?", None, None),
    ("Wie barrierefrei sind die Räume in Hubs?", "info", "Gül"),
    ("Darf ich Fotos machen?", None, None),
]
LONG = QUESTIONS[2][0]


def moderate(server: ServerProcess, event: str, question: str, action: str, **extra: Any) -> None:
    call(
        server,
        "POST",
        f"/api/events/{event}/questions/{question}/moderate",
        {"action": action, **extra},
    )


def labels(row: Any) -> list[str]:
    """The accessible names of a row's icon buttons, in order."""
    return [
        str(b.get_attribute("aria-label")) for b in row.locator(".question-actions > button").all()
    ]


def hint(page: Any) -> Any:
    return page.locator("#toast-text")


def test_ten_questions_fit_in_800_px(browser: Any, server: ServerProcess) -> None:
    event = make_event(server, premoderation=True)
    ids = [socket_question(server, event, text, room, name) for text, room, name in QUESTIONS]
    page = signed_in(
        browser,
        server,
        event,
        moderator_token(server, event),
        viewport={"width": 1280, "height": 800},
    )
    expect(page.locator("#queue-pending li.question")).to_have_count(len(ids))
    fitting = questions_in_first_px(page, 800)
    heights = page.evaluate(
        "[...document.querySelectorAll('#queue-pending li.question')]"
        ".map((n) => Math.round(n.getBoundingClientRect().height))"
    )
    assert len(fitting) >= 10, f"{len(fitting)} questions in 800 px; rows {heights}"
    # The filter of the waiting questions alone (no heading above them) fits as many.
    choose_filter(page, "pending")
    assert len(questions_in_first_px(page, 800)) >= len(fitting)
    # What stays readable on a row: the text, votes, author, room and the filter marker.
    held = queue_item(page, ids[4])
    expect(held.locator(".question-held")).to_have_text("Wortfilter: idiot")
    expect(held.locator(".question-held")).to_be_visible()
    expect(held.locator(".question-authors")).to_have_text("Carla")
    first = queue_item(page, ids[0])
    expect(first.locator(".question-room")).to_have_text("Info-Foyer")
    expect(first.locator(".question-votes")).to_have_text("0 Stimmen")
    expect(first.locator(".question-text")).to_have_text(QUESTIONS[0][0])
    assert page.js_errors == []
    page.context.close()


def test_two_main_actions_per_state_as_labelled_icons(browser: Any, server: ServerProcess) -> None:
    event = make_event(server, premoderation=True)
    pending = socket_question(server, event, "Wartet noch auf Freigabe?")
    approved = socket_question(server, event, "Ist schon freigegeben?")
    answered = socket_question(server, event, "Wurde live beantwortet?")
    rejected = socket_question(server, event, "Kauft billige Uhren!")
    deleted = socket_question(server, event, "Wird gelöscht.")
    for question in (approved, answered, deleted):
        moderate(server, event, question, "approve")
    moderate(server, event, answered, "answer", mode="live")
    moderate(server, event, rejected, "reject", reason="off_topic")
    moderate(server, event, deleted, "delete")
    page = signed_in(browser, server, event, moderator_token(server, event))
    expect(queue_item(page, deleted)).to_have_attribute("data-section", "deleted")

    assert labels(queue_item(page, pending)) == ["Freigeben", "Ablehnen", "Weitere Aktionen"]
    assert labels(queue_item(page, approved)) == [
        "Anheften",
        "Live beantwortet",
        "Weitere Aktionen",
    ]
    assert labels(queue_item(page, answered)) == [
        "Anheften",
        "Schriftlich antworten",
        "Weitere Aktionen",
    ]
    assert labels(queue_item(page, rejected)) == ["Freigeben", "Löschen", "Weitere Aktionen"]
    assert labels(queue_item(page, deleted)) == ["Wiederherstellen"]
    approve = queue_item(page, pending).locator('button[data-action="approve"]')
    expect(approve).to_have_attribute("title", "Freigeben (Taste a)")
    expect(approve).to_have_attribute("aria-keyshortcuts", "a")
    # Its description is the question, so "Freigeben" says which one.
    expect(approve).to_have_accessible_description("Wartet noch auf Freigabe?")
    more = queue_item(page, pending).locator("button.question-more")
    expect(more).to_have_attribute("aria-haspopup", "menu")
    expect(more).to_have_attribute("aria-expanded", "false")

    # Desktop: every button of the queue is at least 32 px square.
    sizes = page.evaluate(
        "[...document.querySelectorAll('#queue-sections button')]"
        ".filter((b) => b.offsetParent).map((b) => {"
        " const r = b.getBoundingClientRect(); return [r.width, r.height]; })"
    )
    assert sizes and all(w >= 32 and h >= 32 for w, h in sizes), sizes

    page.locator("#lang-switch").click()
    expect(queue_item(page, pending).locator('button[data-action="approve"]')).to_have_attribute(
        "aria-label", "Approve"
    )
    assert page.js_errors == []
    page.context.close()


def test_icons_render_under_the_csp(browser: Any, server: ServerProcess) -> None:
    event = make_event(server, premoderation=True)
    question = socket_question(server, event, "Sieht man die Symbole?")
    page = signed_in(browser, server, event, moderator_token(server, event))
    page.evaluate(
        """() => {
            window.__violations = [];
            document.addEventListener("securitypolicyviolation",
                (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
        }"""
    )
    approve = queue_item(page, question).locator('button[data-action="approve"]')
    expect(approve).to_be_visible()
    # The sprite's symbol is found and drawn: the icon's shapes have its size...
    box = approve.locator("svg.icon").evaluate(
        "(svg) => { const b = svg.getBBox(); return [b.width, b.height]; }"
    )
    assert box[0] > 5 and box[1] > 5, box
    # ...and the button shows its stroke: pixels in the icon's colour, not just a background.
    page.mouse.move(0, 0)
    shot = Image.open(io.BytesIO(approve.screenshot())).convert("RGB")
    raw = shot.tobytes()
    dark = sum(1 for i in range(0, len(raw), 3) if raw[i] + raw[i + 1] + raw[i + 2] < 450)
    assert dark > 20, f"only {dark} dark pixels: the icon did not draw"
    queue_item(page, question).locator("button.question-more").click()
    expect(page.locator('[role="menu"] [role="menuitem"]').first).to_be_focused()
    assert page.evaluate("window.__violations") == []
    assert page.js_errors == []
    page.context.close()


def test_menu_button_keyboard_and_shortcuts_shown(browser: Any, server: ServerProcess) -> None:
    event = make_event(server)
    first = socket_question(server, event, "Gibt es eine Pause?")
    second = socket_question(server, event, "Gibt es Kaffee in der Pause?")
    page = signed_in(browser, server, event, moderator_token(server, event))
    row = queue_item(page, first)
    more = row.locator("button.question-more")
    menu = row.locator('[role="menu"]')
    more.focus()
    page.keyboard.press("Enter")
    expect(more).to_have_attribute("aria-expanded", "true")
    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("aria-labelledby", str(more.get_attribute("id")))
    items = menu.locator('[role="menuitem"]')
    expect(items).to_have_text(
        [
            "Schriftlich antwortenw",
            "Rückmeldung",
            "Bearbeitene",
            "Zusammenführenm",
            "Ablehnenr",
            "Löschend",
        ]
    )
    # The keys beside the items, also told to assistive technology.
    expect(items.nth(2).locator("kbd")).to_have_text("e")
    expect(items.nth(2)).to_have_attribute("aria-keyshortcuts", "e")
    expect(items.first).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(items.nth(1)).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")  # wraps round
    expect(items.last).to_be_focused()
    page.keyboard.press("Home")
    expect(items.first).to_be_focused()
    page.keyboard.press("End")
    expect(items.last).to_be_focused()
    assert_accessible(page)
    page.keyboard.press("Escape")
    expect(menu).to_have_count(0)
    expect(more).to_have_attribute("aria-expanded", "false")
    expect(more).to_be_focused()

    # ArrowUp on the button opens at the last item; Tab leaves and closes.
    page.keyboard.press("ArrowUp")
    expect(items.last).to_be_focused()
    page.keyboard.press("Tab")
    expect(menu).to_have_count(0)
    expect(more).not_to_be_focused()

    # Enter on an item runs it; the dialog's Escape brings focus back to the menu button.
    more.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")  # Bearbeiten
    expect(page.locator("#dialog-text")).to_have_value("Gibt es eine Pause?")
    page.keyboard.press("Escape")
    expect(page.locator("#action-dialog")).to_be_hidden()
    expect(more).to_be_focused()

    # A shortcut pressed in the open menu is its item: m merges this question.
    page.keyboard.press("Enter")
    expect(menu).to_be_visible()
    page.keyboard.press("m")
    expect(page.locator("#action-dialog")).to_be_visible()
    page.locator("#merge-target").select_option(second)
    page.locator("#dialog-submit").click()
    expect(queue_item(page, first)).to_have_attribute("data-section", "merged")

    # A click elsewhere closes an open menu.
    queue_item(page, second).locator("button.question-more").click()
    expect(queue_item(page, second).locator('[role="menu"]')).to_be_visible()
    page.locator("#queue-title").click()
    expect(page.locator('[role="menu"]')).to_have_count(0)
    # The help lists the menu's key too.
    expect(page.locator("#shortcuts")).to_contain_text("weitere Aktionen der Frage (Menü)")
    assert page.js_errors == []
    page.context.close()


def test_every_shortcut_acts_or_says_why(browser: Any, server: ServerProcess) -> None:
    event = make_event(server, premoderation=True)
    spam = socket_question(server, event, "Kauft billige Uhren!")
    waiting = socket_question(server, event, "Darf man hier fotografieren?")
    moderate(server, event, spam, "reject", reason="off_topic")
    page = signed_in(browser, server, event, moderator_token(server, event))
    expect(queue_item(page, spam)).to_have_attribute("data-section", "rejected")

    queue_item(page, spam).focus()
    page.keyboard.press("r")
    expect(hint(page)).to_have_text("Diese Frage ist schon abgelehnt.")
    expect(page.locator("#sr-announcer")).to_have_text("Diese Frage ist schon abgelehnt.")
    page.keyboard.press("l")
    expect(hint(page)).to_have_text("Die Frage ist abgelehnt: erst freigeben (Taste a).")
    page.keyboard.press("p")
    expect(hint(page)).to_have_text("Nur freigegebene Fragen können angeheftet werden.")
    expect(page.locator("#action-dialog")).to_be_hidden()
    expect(queue_item(page, spam)).to_have_attribute("data-section", "rejected")

    queue_item(page, waiting).focus()
    page.keyboard.press("m")  # nothing approved to merge into
    expect(hint(page)).to_have_text("Es gibt keine andere freigegebene Frage zum Zusammenführen.")
    page.keyboard.press("z")
    expect(hint(page)).to_have_text("Keine gelöschte Frage zum Wiederherstellen.")
    page.locator("#signout").focus()
    page.keyboard.press("a")
    expect(hint(page)).to_contain_text("Tastenkürzel wirken auf die fokussierte Frage")
    expect(queue_item(page, waiting)).to_have_attribute("data-section", "pending")

    # The key still acts where it applies, on the row as on its button.
    queue_item(page, waiting).focus()
    page.keyboard.press("a")
    expect(queue_item(page, waiting)).to_have_attribute("data-section", "approved")
    page.keyboard.press("a")
    expect(hint(page)).to_have_text("Diese Frage ist schon freigegeben.")
    page.keyboard.press("l")
    expect(queue_item(page, waiting)).to_have_attribute("data-answered", "live")
    page.keyboard.press("l")
    expect(hint(page)).to_have_text("Diese Frage ist schon als live beantwortet markiert.")
    page.keyboard.press("d")
    expect(queue_item(page, waiting)).to_have_attribute("data-section", "deleted")
    queue_item(page, waiting).focus()
    page.keyboard.press("e")
    expect(hint(page)).to_have_text("Die Frage ist gelöscht: mit z wiederherstellen.")
    page.keyboard.press("z")
    expect(queue_item(page, waiting)).to_have_attribute("data-section", "answered")
    assert page.js_errors == []
    page.context.close()


def test_long_texts_clamp_to_two_lines_and_expand(browser: Any, server: ServerProcess) -> None:
    event = make_event(server)
    long = socket_question(server, event, LONG, name="Bernd Beispiel")
    short = socket_question(server, event, "Gibt es WLAN im Foyer?")
    moderate(server, event, long, "answer", mode="written", text="Im Rathaus. " * 40)
    page = signed_in(
        browser,
        server,
        event,
        moderator_token(server, event),
        viewport={"width": 1280, "height": 800},
    )
    row = queue_item(page, long)
    text = row.locator(".question-text")
    expect(text).to_have_text(LONG)  # all of it is there for a screen reader

    def lines(locator: Any) -> float:
        return float(
            locator.evaluate(
                "(n) => n.getBoundingClientRect().height"
                " / parseFloat(getComputedStyle(n).lineHeight)"
            )
        )

    assert round(lines(text)) == 2
    assert round(lines(row.locator(".question-answer"))) == 1
    expand = row.locator(".question-expand")
    expect(expand).to_be_visible()
    expect(expand).to_have_attribute("aria-expanded", "false")
    expect(queue_item(page, short).locator(".question-expand")).to_be_hidden()
    expand.click()
    expect(expand).to_have_attribute("aria-expanded", "true")
    expect(expand).to_have_text("Text kürzen")
    assert round(lines(text)) > 2
    assert round(lines(row.locator(".question-answer"))) > 1
    # It stays open when the row is redrawn (a vote, a change by someone else).
    moderate(server, event, long, "pin")
    expect(row).to_have_attribute("data-pinned", "true")
    expect(row.locator(".question-expand")).to_have_attribute("aria-expanded", "true")
    row.locator(".question-expand").click()
    assert round(lines(row.locator(".question-text"))) == 2
    assert page.js_errors == []
    page.context.close()


def test_touch_targets_are_44_px_under_a_coarse_pointer(
    browser: Any, server: ServerProcess
) -> None:
    event = make_event(server, premoderation=True)
    question = socket_question(server, event, "Geht das auch auf dem Tablet?")
    page = signed_in(
        browser,
        server,
        event,
        moderator_token(server, event),
        viewport={"width": 820, "height": 1180},
        is_mobile=True,
        has_touch=True,
    )
    assert page.evaluate("matchMedia('(pointer: coarse)').matches")
    row = queue_item(page, question)
    expect(row).to_be_visible()
    menu_action(page, question, "edit")
    expect(page.locator("#action-dialog")).to_be_visible()
    page.locator("#dialog-cancel").click()
    row.locator("button.question-more").click()
    sizes = page.evaluate(
        "[...document.querySelectorAll('#queue-sections button')]"
        ".filter((b) => b.offsetParent).map((b) => {"
        " const r = b.getBoundingClientRect(); return [r.width, r.height]; })"
    )
    assert sizes and all(w >= 44 and h >= 44 for w, h in sizes), sizes
    assert page.js_errors == []
    page.context.close()


def test_narrow_screen_keeps_the_text_wide_and_the_menu_inside(
    browser: Any, server: ServerProcess
) -> None:
    event = make_event(server)
    question = socket_question(server, event, LONG, room="daten", name="Bernd Beispiel")
    page = signed_in(
        browser,
        server,
        event,
        moderator_token(server, event),
        viewport={"width": 320, "height": 640},
    )
    row = queue_item(page, question)
    text = row.locator(".question-text").bounding_box()
    actions = row.locator(".question-actions").bounding_box()
    assert text and actions
    assert actions["y"] >= text["y"] + text["height"], "the actions sit under the text"
    assert text["width"] >= 180, text
    row.locator("button.question-more").click()
    menu = row.locator('[role="menu"]')
    expect(menu).to_be_visible()
    box = menu.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 320, box
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert_accessible(page)
    assert page.js_errors == []
    page.context.close()
