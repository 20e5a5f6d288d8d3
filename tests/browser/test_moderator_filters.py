"""The moderator console's filters and its merge picker.

The queue's tabs (Offen, Freigegeben, Beantwortet, Abgelehnt, Alle) filter it for real,
carry live counts, keep the chosen filter in the address and tell screen readers when
new questions wait; the search narrows the chosen filter. The merge picker offers the
questions the server finds similar first, then the others, with a search.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, call, make_event, moderator_token
from tests.browser.pages import (
    choose_filter,
    menu_action,
    queue_item,
    shown_questions,
    signed_in,
    socket_question,
)
from tests.harness.server_process import ServerProcess

FILTERS = ("pending", "approved", "answered", "rejected", "all")


def moderate(server: ServerProcess, event: str, question: str, action: str, **extra: Any) -> None:
    call(
        server,
        "POST",
        f"/api/events/{event}/questions/{question}/moderate",
        {"action": action, **extra},
    )


def counts(page: Any) -> Any:
    """The counts on the filter tabs, in their order (for ``to_have_text([...])``)."""
    return page.locator("#queue-filters .tab-count")


def a_queue_in_every_state(server: ServerProcess) -> tuple[str, dict[str, str]]:
    """A premoderated event with two waiting questions and one in each other state."""
    event = make_event(server, premoderation=True)
    ids = {
        "pending1": socket_question(server, event, "Wann öffnet das Stadtlabor morgen?"),
        "pending2": socket_question(server, event, "Gibt es einen Radweg zum Bahnhof?"),
        "approved": socket_question(server, event, "Wird der Radweg am Wall verbreitert?"),
        "answered": socket_question(server, event, "Wo finde ich die Folien?"),
        "rejected": socket_question(server, event, "Kauft billige Uhren!"),
        "deleted": socket_question(server, event, "Test, bitte löschen"),
        "merged": socket_question(server, event, "Wird der Wall-Radweg breiter?"),
    }
    for name in ("approved", "answered", "deleted", "merged"):
        moderate(server, event, ids[name], "approve")
    moderate(server, event, ids["answered"], "answer", mode="live")
    moderate(server, event, ids["rejected"], "reject", reason="off_topic")
    moderate(server, event, ids["deleted"], "delete")
    moderate(server, event, ids["merged"], "merge", into=ids["approved"])
    return event, ids


def test_filters_are_tabs_with_live_counts(browser: Any, server: ServerProcess) -> None:
    event, ids = a_queue_in_every_state(server)
    page = signed_in(browser, server, event, moderator_token(server, event))
    tabs = page.locator("#queue-filters [role='tab']")
    expect(page.locator("#queue-filters")).to_have_attribute("role", "tablist")
    expect(tabs).to_have_text(
        ["Offen 2", "Freigegeben 1", "Beantwortet 1", "Abgelehnt 1", "Alle 7"]
    )
    # Opened without an address of its own: "Alle", every part under its heading, the
    # deleted and the merged ones last.
    expect(page.locator("#filter-all")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#queue-sections")).to_have_attribute("role", "tabpanel")
    expect(page.locator("#queue-sections")).to_have_attribute("aria-labelledby", "filter-all")
    expect(page.locator("#section-deleted h3")).to_be_visible()
    in_order = ("pending1", "pending2", "approved", "answered", "rejected", "deleted", "merged")
    assert shown_questions(page) == [ids[name] for name in in_order]
    assert_accessible(page)

    # A filter shows only its questions, without the headings its tab already names.
    choose_filter(page, "pending")
    assert shown_questions(page) == [ids["pending1"], ids["pending2"]]
    expect(page.locator("#section-pending h3")).to_be_hidden()
    expect(page.locator("#queue-sections")).to_have_attribute("aria-labelledby", "filter-pending")
    for name, expected in (
        ("approved", ["approved"]),
        ("answered", ["answered"]),
        ("rejected", ["rejected"]),
    ):
        choose_filter(page, name)
        assert shown_questions(page) == [ids[n] for n in expected], name
    assert_accessible(page)

    # Arrow keys, Home and End move between the tabs and choose.
    page.locator("#filter-rejected").focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#filter-all")).to_be_focused()
    expect(page.locator("#filter-all")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Home")
    expect(page.locator("#filter-pending")).to_be_focused()
    expect(page.locator("#filter-pending")).to_have_attribute("aria-selected", "true")
    assert shown_questions(page) == [ids["pending1"], ids["pending2"]]
    page.keyboard.press("ArrowLeft")  # wraps round
    expect(page.locator("#filter-all")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#filter-pending")).to_have_attribute("aria-selected", "true")

    # A visitor asks: "Offen" counts it at once, shows it, and screen readers hear it.
    late = socket_question(server, event, "Kann man die Räume auch mit dem Handy besuchen?")
    expect(counts(page)).to_have_text(["3", "1", "1", "1", "8"])
    expect(queue_item(page, late)).to_be_visible()
    expect(page.locator("#sr-announcer")).to_have_text(
        "Neue Frage wartet: Kann man die Räume auch mit dem Handy besuchen? (3 offen)"
    )

    # The moderator approves here: the question leaves "Offen", focus goes to the next.
    queue_item(page, ids["pending1"]).locator('button[data-action="approve"]').click()
    expect(counts(page)).to_have_text(["2", "2", "1", "1", "8"])
    expect(queue_item(page, ids["pending1"])).to_be_hidden()
    assert shown_questions(page) == [ids["pending2"], late]
    expect(queue_item(page, ids["pending2"])).to_be_focused()
    # Another moderator approves elsewhere: the counts follow the stream.
    moderate(server, event, ids["pending2"], "approve")
    expect(counts(page)).to_have_text(["1", "3", "1", "1", "8"])
    assert shown_questions(page) == [late]
    # The last waiting one approved with its key: focus goes to the tab and its count.
    queue_item(page, late).focus()
    page.keyboard.press("a")
    expect(counts(page)).to_have_text(["0", "4", "1", "1", "8"])
    expect(page.locator("#filter-pending")).to_be_focused()
    expect(page.locator("#section-pending .queue-empty")).to_have_text("Keine Fragen.")

    page.locator("#lang-switch").click()
    expect(tabs).to_have_text(["Pending 0", "Approved 4", "Answered 1", "Rejected 1", "All 8"])
    assert page.js_errors == []
    page.context.close()


def test_a_burst_of_new_questions_is_told_once(browser: Any, server: ServerProcess) -> None:
    event = make_event(server, premoderation=True)
    socket_question(server, event, "Diese Frage war schon da.")
    page = signed_in(browser, server, event, moderator_token(server, event))
    expect(page.locator("#filter-count-pending")).to_have_text("1")
    # The questions that were there before the moderator came are not news.
    page.wait_for_timeout(300)
    expect(page.locator("#sr-announcer")).to_have_text("")
    socket_question(server, event, "Die erste neue Frage?")
    expect(page.locator("#sr-announcer")).to_have_text(
        "Neue Frage wartet: Die erste neue Frage? (2 offen)"
    )
    # Two more within the next two seconds: one message for both, with the new count.
    with ThreadPoolExecutor(2) as pool:
        list(
            pool.map(
                lambda text: socket_question(server, event, text),
                ["Die zweite neue Frage?", "Die dritte neue Frage?"],
            )
        )
    expect(page.locator("#filter-count-pending")).to_have_text("4")
    expect(page.locator("#sr-announcer")).to_have_text("2 neue Fragen warten (4 offen)")
    expect(page.locator("#sr-announcer")).to_have_attribute("aria-live", "polite")
    assert page.js_errors == []
    page.context.close()


def test_search_narrows_the_chosen_filter(browser: Any, server: ServerProcess) -> None:
    event, ids = a_queue_in_every_state(server)
    page = signed_in(browser, server, event, moderator_token(server, event))
    choose_filter(page, "approved")
    page.locator("#queue-search").fill("Radweg")
    # Only the chosen filter's matches are shown; each tab says how many of its own match.
    assert shown_questions(page) == [ids["approved"]]
    expect(counts(page)).to_have_text(["1 von 2", "1 von 1", "0 von 1", "0 von 1", "3 von 7"])
    choose_filter(page, "pending")
    assert shown_questions(page) == [ids["pending2"]]
    choose_filter(page, "answered")
    assert shown_questions(page) == []
    expect(page.locator("#section-answered .queue-empty")).to_have_text(
        "Keine Frage hier passt zu „Radweg“."
    )
    # "Alle" finds the merged one too (the deleted and merged have no tab of their own).
    choose_filter(page, "all")
    assert shown_questions(page) == [ids["pending2"], ids["approved"], ids["merged"]]
    # Clearing the field shows all again.
    page.locator("#queue-search").fill("")
    expect(counts(page)).to_have_text(["2", "1", "1", "1", "7"])
    assert len(shown_questions(page)) == 7
    assert page.js_errors == []
    page.context.close()


def test_shortcuts_act_on_the_rows_of_the_filter(browser: Any, server: ServerProcess) -> None:
    event, ids = a_queue_in_every_state(server)
    page = signed_in(browser, server, event, moderator_token(server, event))
    choose_filter(page, "pending")
    # j and k move through the rows shown, never into a hidden part of the queue.
    page.locator("#filter-pending").focus()
    page.keyboard.press("j")
    expect(queue_item(page, ids["pending1"])).to_be_focused()
    page.keyboard.press("j")
    expect(queue_item(page, ids["pending2"])).to_be_focused()
    page.keyboard.press("j")
    expect(queue_item(page, ids["pending2"])).to_be_focused()
    page.keyboard.press("k")
    expect(queue_item(page, ids["pending1"])).to_be_focused()
    page.keyboard.press("r")
    expect(page.locator("#action-dialog")).to_be_visible()
    page.locator("#dialog-submit").click()
    expect(page.locator("#filter-count-rejected")).to_have_text("2")
    expect(queue_item(page, ids["pending2"])).to_be_focused()
    page.keyboard.press("a")
    expect(page.locator("#filter-count-approved")).to_have_text("2")
    choose_filter(page, "approved")
    page.keyboard.press("j")
    expect(queue_item(page, ids["approved"])).to_be_focused()
    page.keyboard.press("p")
    expect(queue_item(page, ids["approved"]).locator(".question-pinned")).to_be_visible()
    page.keyboard.press("a")
    expect(page.locator("#toast-text")).to_have_text("Diese Frage ist schon freigegeben.")
    assert page.js_errors == []
    page.context.close()


def test_the_address_keeps_the_filter(browser: Any, server: ServerProcess) -> None:
    event, ids = a_queue_in_every_state(server)
    token = moderator_token(server, event)
    page = signed_in(browser, server, event, token)
    choose_filter(page, "rejected")
    assert page.url.endswith(f"/m/{event}#rejected")
    page.reload()  # the token stays in the tab
    expect(page.locator("#filter-rejected")).to_have_attribute("aria-selected", "true")
    expect(queue_item(page, ids["rejected"])).to_be_visible()
    assert shown_questions(page) == [ids["rejected"]]
    # A link or an address typed by hand chooses too; other anchors change nothing.
    page.evaluate("location.hash = '#answered'")
    expect(page.locator("#filter-answered")).to_have_attribute("aria-selected", "true")
    assert shown_questions(page) == [ids["answered"]]
    page.evaluate("location.hash = '#main'")
    page.wait_for_timeout(200)
    expect(page.locator("#filter-answered")).to_have_attribute("aria-selected", "true")
    page.context.close()

    # A link with the filter, opened in a new tab (and signed in there).
    other = signed_in(browser, server, f"{event}#pending", token)
    expect(other.locator("#filter-pending")).to_have_attribute("aria-selected", "true")
    expect(queue_item(other, ids["pending1"])).to_be_visible()
    assert shown_questions(other) == [ids["pending1"], ids["pending2"]]
    assert other.js_errors == []
    other.context.close()


def test_narrow_screen_wraps_the_tabs(browser: Any, server: ServerProcess) -> None:
    event, _ = a_queue_in_every_state(server)
    page = signed_in(
        browser,
        server,
        event,
        moderator_token(server, event),
        viewport={"width": 320, "height": 640},
    )
    expect(page.locator("#filter-count-all")).to_have_text("7")
    box = page.locator("#queue-filters").bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 320, box
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    choose_filter(page, "pending")
    assert_accessible(page)
    assert page.js_errors == []
    page.context.close()


# ---- the merge picker ----

APPROVED = {
    "daten": "Wann beginnt der Vortrag über offene Daten?",
    "wlan": "Gibt es WLAN im Foyer?",
    "park": "Wo kann man in der Nähe parken?",
    "auf": "Wird der Vortrag aufgezeichnet?",
    "netz": "Ist das Netz im Foyer schnell genug zum Streamen?",
}
MERGING = "Kommt der Vortrag über offene Daten später ins Netz?"


def option_values(page: Any, selector: str = "#merge-target option") -> list[str]:
    return [str(v) for v in page.locator(selector).evaluate_all("(os) => os.map((o) => o.value)")]


def test_merge_offers_similar_questions_first_with_search(
    browser: Any, server: ServerProcess
) -> None:
    event = make_event(server)  # no premoderation: every question is approved
    ids = {key: socket_question(server, event, text) for key, text in APPROVED.items()}
    merging = socket_question(server, event, MERGING)
    page = signed_in(browser, server, event, moderator_token(server, event))
    menu_action(page, merging, "merge")
    picker = page.locator("#merge-target")
    expect(picker).to_be_focused()
    similar = page.locator("#merge-target optgroup").first
    expect(similar).to_have_attribute("label", "Ähnliche Fragen")
    expect(page.locator("#merge-status")).to_have_text(
        "2 ähnliche Fragen stehen oben in der Liste."
    )
    # The server's similarity, best first; then the others; never the question itself
    # (approved too, so the server would find it as its own best match).
    assert option_values(page, "#merge-target optgroup:first-child option") == [
        ids["daten"],
        ids["auf"],
    ]
    expect(page.locator("#merge-target optgroup").nth(1)).to_have_attribute(
        "label", "Weitere Fragen"
    )
    assert sorted(option_values(page)[2:]) == sorted([ids["wlan"], ids["park"], ids["netz"]])
    assert merging not in option_values(page)
    expect(picker).to_have_value(ids["daten"])  # the best match is chosen
    expect(picker.locator("option").first).to_contain_text(APPROVED["daten"])
    assert_accessible(page)

    # The search narrows the list; down goes from the field into it, Enter merges.
    page.keyboard.press("Shift+Tab")
    expect(page.locator("#merge-search")).to_be_focused()
    page.keyboard.type("zzz")
    expect(page.locator("#merge-status")).to_have_text("Keine Frage passt zu „zzz“.")
    assert option_values(page) == []
    page.locator("#dialog-submit").click()
    expect(page.locator("#dialog-error")).to_have_text(
        "Bitte die Frage wählen, mit der zusammengeführt wird."
    )
    page.locator("#merge-search").fill("parken")
    expect(page.locator("#merge-status")).to_have_text("1 Frage passt.")
    assert option_values(page) == [ids["park"]]
    page.locator("#merge-search").press("ArrowDown")
    expect(picker).to_be_focused()
    expect(picker).to_have_value(ids["park"])
    page.keyboard.press("Enter")
    expect(page.locator("#action-dialog")).to_be_hidden()
    expect(queue_item(page, merging)).to_have_attribute("data-section", "merged")
    expect(queue_item(page, merging).locator(".question-merged")).to_contain_text(APPROVED["park"])
    listed = call(server, "GET", f"/api/events/{event}/questions")["questions"]
    assert merging in next(q for q in listed if q["id"] == ids["park"])["merged_from"]
    assert page.js_errors == []
    page.context.close()


def test_merge_without_similar_questions_lists_them_all(
    browser: Any, server: ServerProcess
) -> None:
    event = make_event(server, premoderation=True)
    target = socket_question(server, event, "Gibt es WLAN im Foyer?")
    other = socket_question(server, event, "Wo kann man in der Nähe parken?")
    for question in (target, other):
        moderate(server, event, question, "approve")
    waiting = socket_question(server, event, "Darf man hier fotografieren?")
    page = signed_in(browser, server, event, moderator_token(server, event))
    choose_filter(page, "pending")
    menu_action(page, waiting, "merge")
    expect(page.locator("#merge-status")).to_have_text("Keine ähnliche Frage gefunden.")
    expect(page.locator("#dialog-merge-field")).to_have_attribute("data-state", "ready")
    expect(page.locator("#merge-target optgroup")).to_have_count(1)
    expect(page.locator("#merge-target optgroup")).to_have_attribute("label", "Freigegebene Fragen")
    assert sorted(option_values(page)) == sorted([target, other])
    # Chosen with the mouse: the choice stays and the button merges.
    page.locator("#merge-target").select_option(other)
    page.locator("#dialog-submit").click()
    expect(page.locator("#action-dialog")).to_be_hidden()
    expect(page.locator("#filter-count-pending")).to_have_text("0")
    expect(page.locator("#filter-count-all")).to_have_text("3")
    assert page.js_errors == []
    page.context.close()
