"""Live polls in the pages: drafted and run in the console, answered on the visitor page,
shown on the stage; exact live counts everywhere, hidden results, a word cloud, held texts."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, call, make_event, moderator_token, new_page
from tests.browser.pages import (
    answer_poll,
    bar_counts,
    console_poll,
    draft_poll,
    open_event,
    signed_in,
    visitor_poll,
)
from tests.harness.server_process import ServerProcess

COUNTED = "Ihre Antwort wurde gezählt."


def api_poll(server: ServerProcess, event: str, **body: Any) -> str:
    """Draft and open a poll through the API (as staff); its id."""
    created = call(server, "POST", f"/api/events/{event}/polls", body)
    poll_id = str(created["poll"]["id"])
    call(server, "POST", f"/api/events/{event}/polls/{poll_id}/open")
    return poll_id


def open_stage(browser: Any, server: ServerProcess, event: str, room: str = "info") -> Any:
    stage = new_page(browser, viewport={"width": 1280, "height": 720})
    stage.goto(server.url + f"/stage/{event}/{room}")
    expect(stage.locator("#conn")).to_have_attribute("data-state", "open")
    return stage


def test_single_choice_poll_from_draft_to_final_result(browser: Any, server: ServerProcess) -> None:
    event = make_event(server)
    console = signed_in(
        browser,
        server,
        event,
        moderator_token(server, event),
        viewport={"width": 1280, "height": 900},
    )
    stage = open_stage(browser, server, event)
    anna = open_event(browser, server, event)
    ben = open_event(browser, server, event, viewport={"width": 390, "height": 844})
    question = "Soll der Platz eine Bühne bekommen?"

    poll = draft_poll(console, question, ["Ja", "Nein"])
    expect(poll).to_have_attribute("data-state", "draft")
    expect(poll.locator(".poll-state")).to_have_text("Entwurf")
    expect(console.locator("#poll-question")).to_have_value("")  # the form is ready again
    # A draft is the moderators' own: visitors and the stage see nothing yet.
    expect(anna.locator("#polls-section")).to_be_hidden()

    poll.get_by_role("button", name="Öffnen").click()
    expect(poll).to_have_attribute("data-state", "open")
    expect(poll.locator(".poll-state")).to_have_text("Läuft")
    expect(stage.locator("#stage-poll-question")).to_have_text(question)
    expect(stage.locator("#pinned")).to_be_hidden()

    for visitor in (anna, ben):
        expect(visitor_poll(visitor, question)).to_be_visible()
        expect(visitor_poll(visitor, question).locator(".poll-results")).to_contain_text(
            "nach Ihrer Antwort"
        )

    answer_poll(anna, question, "Ja")
    expect(visitor_poll(anna, question).locator(".poll-status")).to_contain_text(COUNTED)
    answer_poll(ben, question, "Nein")
    expect(visitor_poll(ben, question).locator(".poll-status")).to_contain_text(COUNTED)

    expect(bar_counts(poll)).to_have_text(["1", "1"])
    expect(bar_counts(stage.locator("#stage-poll"))).to_have_text(["1", "1"])
    expect(stage.locator("#stage-poll .poll-bar-percent")).to_have_text(["(50 %)", "(50 %)"])
    expect(bar_counts(visitor_poll(anna, question))).to_have_text(["1", "1"])

    # Anna changes her mind until the poll closes: counts move, nothing is counted twice.
    anna_poll = visitor_poll(anna, question)
    expect(anna_poll.locator(".poll-submit")).to_have_text("Antwort ändern")
    answer_poll(anna, question, "Nein")
    expect(bar_counts(poll)).to_have_text(["0", "2"])
    expect(bar_counts(stage.locator("#stage-poll"))).to_have_text(["0", "2"])
    expect(bar_counts(anna_poll)).to_have_text(["0", "2"])
    expect(anna_poll.locator(".poll-bar-mine .poll-bar-label")).to_have_text("Nein")
    expect(poll.locator(".poll-respondents")).to_have_text("2 Antworten")
    assert_accessible(anna)
    assert_accessible(stage)
    assert_accessible(console)

    # A reload keeps her answer, preselected.
    anna.reload()
    expect(anna.locator("#conn")).to_have_attribute("data-state", "open")
    expect(anna_poll.get_by_role("radio", name="Nein")).to_be_checked()
    expect(anna_poll.get_by_role("radio", name="Ja")).not_to_be_checked()
    expect(anna_poll.locator(".poll-submit")).to_have_text("Antwort ändern")

    poll.get_by_role("button", name="Schließen").click()
    expect(poll).to_have_attribute("data-state", "closed")
    for visitor in (anna, ben):
        final = visitor_poll(visitor, question)
        expect(final).to_have_attribute("data-state", "closed")
        expect(final.locator(".poll-final")).to_have_text("Endergebnis")
        expect(final.locator(".poll-form")).to_have_count(0)
        expect(bar_counts(final)).to_have_text(["0", "2"])
    expect(visitor_poll(ben, question).locator(".poll-mine")).to_have_text("Ihre Antwort: Nein")
    # The final result stays on stage (a while, or until another poll opens).
    expect(stage.locator("#stage-poll-state")).to_have_text("Endergebnis")
    expect(bar_counts(stage.locator("#stage-poll"))).to_have_text(["0", "2"])
    assert ben.evaluate("document.documentElement.scrollWidth") <= 390
    for page in (anna, ben, console, stage):
        assert page.js_errors == []
        page.context.close()


def test_hidden_results_show_visitors_only_the_count_until_closed(
    browser: Any, server: ServerProcess
) -> None:
    event = make_event(server)
    question = "Welches Projekt zuerst?"
    poll_id = api_poll(
        server, event, question=question, kind="single", options=["Park", "Bad"], hide_results=True
    )
    console = signed_in(browser, server, event, moderator_token(server, event))
    visitor = open_event(browser, server, event)
    poll = visitor_poll(visitor, question)
    answer_poll(visitor, question, "Bad")
    expect(poll.locator(".poll-status")).to_contain_text(COUNTED)
    expect(poll.locator(".poll-hidden")).to_have_text("Ergebnisse nach Abschluss")
    expect(poll.locator(".poll-respondents")).to_have_text("1 Antwort")
    expect(poll.locator(".poll-bar")).to_have_count(0)
    # Moderators always see the counts.
    expect(bar_counts(console_poll(console, question))).to_have_text(["0", "1"])
    expect(console_poll(console, question).locator(".mod-poll-hidden-note")).to_be_visible()

    call(server, "POST", f"/api/events/{event}/polls/{poll_id}/close")
    expect(bar_counts(poll)).to_have_text(["0", "1"])
    expect(poll.locator(".poll-hidden")).to_have_count(0)
    assert visitor.js_errors == []
    visitor.context.close()
    console.context.close()


def test_text_poll_word_cloud_on_stage_and_held_texts(browser: Any, server: ServerProcess) -> None:
    event = make_event(server)
    question = "Was wünschen Sie sich für den Stadtpark?"
    api_poll(server, event, question=question, kind="text", rooms=["info"])
    stage = open_stage(browser, server, event)
    other_stage = open_stage(browser, server, event, room="daten")
    console = signed_in(browser, server, event, moderator_token(server, event))
    first = open_event(browser, server, event)
    second = open_event(browser, server, event)

    # Web visitors may answer a poll of a room; the page says which room it is for.
    expect(visitor_poll(first, question).locator(".poll-rooms")).to_have_text("Für: Info-Foyer")
    answer_poll(first, question, text="Mehr Bäume")
    expect(visitor_poll(first, question).locator(".poll-status")).to_contain_text(COUNTED)
    answer_poll(second, question, text="Bäume und Bänke")
    expect(visitor_poll(second, question).locator(".poll-status")).to_contain_text(COUNTED)

    cloud = stage.locator("#stage-poll .poll-cloud")
    expect(cloud.locator('[data-word="bäume"]')).to_have_attribute("data-count", "2")
    expect(cloud.locator('[data-word="bäume"]')).to_have_class("poll-word poll-word-5")
    expect(cloud.locator('[data-word="bänke"]')).to_have_attribute("data-count", "1")
    expect(stage.locator("#stage-poll .poll-respondents")).to_have_text("2 Antworten")
    # Asked in another room: that room's stage keeps its own content.
    expect(other_stage.locator("#stage-poll")).to_be_hidden()

    # A text the word filter holds counts only once a moderator lets it through.
    third = open_event(browser, server, event)
    answer_poll(third, question, text="Kein Idiot Parkplatz")
    expect(visitor_poll(third, question).locator(".poll-status")).to_contain_text("geprüft")
    held = console_poll(console, question).locator(".mod-poll-held")
    expect(held).to_contain_text("1 Text wartet auf Prüfung")
    expect(held.locator(".mod-held-text")).to_have_text("Kein Idiot Parkplatz")
    expect(cloud.locator('[data-word="parkplatz"]')).to_have_count(0)
    held.get_by_role("button", name="„Kein Idiot Parkplatz“ zulassen").click()
    expect(cloud.locator('[data-word="parkplatz"]')).to_have_attribute("data-count", "1")
    expect(held).to_be_hidden()
    assert_accessible(stage)
    for page in (stage, other_stage, console, first, second, third):
        assert page.js_errors == []
        page.context.close()


def test_draft_form_shows_the_servers_errors_edits_and_deletes(
    browser: Any, server: ServerProcess
) -> None:
    event = make_event(server)
    console = signed_in(browser, server, event, moderator_token(server, event))
    form = console.locator("#poll-form")

    # One option: refused by the server, the message at the options.
    draft_poll(console, "Nur eine Antwort?", ["Ja"])
    expect(form.locator("#poll-options-error")).to_have_text(
        "Bitte geben Sie 2 bis 10 Antwortmöglichkeiten an."
    )
    expect(form.locator("#poll-option-0")).to_have_attribute("aria-invalid", "true")
    expect(form.locator("#poll-form-error")).to_have_text(
        "Bitte korrigieren Sie die markierten Felder."
    )
    expect(form.locator("#poll-option-0")).to_be_focused()
    assert_accessible(console)

    # Multiple choice: more choices than options is refused at its field.
    form.locator("#poll-kind").select_option("multiple")
    form.locator("#poll-option-1").fill("Nein")
    form.locator("#poll-max").fill("3")
    form.locator("#poll-save").click()
    expect(form.locator("#poll-max-error")).to_contain_text("Höchstens so viele")
    expect(form.locator("#poll-options-error")).to_have_count(0)
    form.locator("#poll-max").fill("2")
    form.locator("#poll-save").click()
    poll = console_poll(console, "Nur eine Antwort?")
    expect(poll).to_have_attribute("data-state", "draft")
    expect(form.locator("[aria-invalid]")).to_have_count(0)

    # A draft can be rewritten.
    poll.get_by_role("button", name="Bearbeiten").click()
    expect(form.locator("#poll-form-title")).to_have_text("Entwurf bearbeiten")
    expect(form.locator("#poll-question")).to_be_focused()
    expect(form.locator("#poll-option-1")).to_have_value("Nein")
    form.locator("#poll-question").fill("Zwei Antworten?")
    form.locator("#poll-save").click()
    poll = console_poll(console, "Zwei Antworten?")
    expect(poll).to_be_visible()
    expect(console_poll(console, "Nur eine Antwort?")).to_have_count(0)

    # Deleting asks first.
    poll.get_by_role("button", name="Löschen").click()
    dialog = console.locator("#poll-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Abbrechen").click()
    expect(poll).to_be_visible()
    poll.get_by_role("button", name="Löschen").click()
    dialog.get_by_role("button", name="Löschen").click()
    expect(poll).to_have_count(0)
    expect(console.locator("#poll-admin-empty")).to_be_visible()
    assert console.js_errors == []
    console.context.close()


def test_multiple_choice_limit_rating_on_a_phone_and_exports(
    browser: Any, server: ServerProcess
) -> None:
    event = make_event(server)
    multiple = "Welche Angebote nutzen Sie?"
    rating = "Wie gefällt Ihnen die Veranstaltung?"
    api_poll(
        server,
        event,
        question=multiple,
        kind="multiple",
        options=["Bibliothek", "Sportplatz", "Café"],
        max_choices=2,
    )
    api_poll(server, event, question=rating, kind="rating")
    phone = open_event(browser, server, event, viewport={"width": 390, "height": 844})
    poll = visitor_poll(phone, multiple)
    expect(poll.locator(".poll-help")).to_have_text("Wählen Sie bis zu 2 Antworten.")
    poll.get_by_role("checkbox", name="Bibliothek").check()
    poll.get_by_role("checkbox", name="Café").check()
    expect(poll.get_by_role("checkbox", name="Sportplatz")).to_be_disabled()
    poll.locator(".poll-submit").click()
    expect(poll.locator(".poll-status")).to_contain_text(COUNTED)
    expect(bar_counts(poll)).to_have_text(["1", "0", "1"])
    expect(poll.locator(".poll-bar-percent")).to_have_text(["(100 %)", "(0 %)", "(100 %)"])

    stars = visitor_poll(phone, rating)
    four = stars.get_by_role("radio", name="4 von 5")
    box = stars.locator("label.poll-rate").nth(3).bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 44
    four.focus()
    phone.keyboard.press("Space")
    expect(four).to_be_checked()
    stars.locator(".poll-submit").press("Enter")
    expect(stars.locator(".poll-status")).to_contain_text(COUNTED)
    expect(stars.locator(".poll-average")).to_have_text("Durchschnitt: 4,0 von 5")
    expect(phone.locator("#polls")).not_to_contain_text("null")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(phone)

    # Exports: fetched with the token, downloaded as files.
    console = signed_in(browser, server, event, moderator_token(server, event))
    expect(console_poll(console, rating).locator(".poll-average")).to_have_text(
        "Durchschnitt: 4,0 von 5"
    )
    with console.expect_download() as info:
        console.locator("#poll-export-csv").click()
    csv_path = info.value.path()
    assert info.value.suggested_filename == f"{event}-polls.csv"
    text = Path(csv_path).read_text(encoding="utf-8")
    assert "Bibliothek" in text and rating in text
    with console.expect_download() as info:
        console.locator("#poll-export-json").click()
    assert info.value.suggested_filename == f"{event}-polls.json"
    assert phone.js_errors == [] and console.js_errors == []
    phone.context.close()
    console.context.close()


def test_polls_speak_english(browser: Any, server: ServerProcess) -> None:
    event = make_event(server)
    question = "Coffee or tea?"
    api_poll(server, event, question=question, kind="single", options=["Coffee", "Tea"])
    visitor = open_event(browser, server, event, lang="en")
    poll = visitor_poll(visitor, question)
    expect(poll.locator(".poll-submit")).to_have_text("Send answer")
    answer_poll(visitor, question, "Tea")
    expect(poll.locator(".poll-status")).to_contain_text("Your answer has been counted.")
    visitor.locator("#lang-switch").click()
    expect(poll.locator(".poll-status")).to_contain_text(COUNTED)
    expect(poll.locator(".poll-submit")).to_have_text("Antwort ändern")
    expect(poll.get_by_role("radio", name="Tea")).to_be_checked()
    visitor.context.close()


def test_an_answer_waits_for_the_connection_and_a_retry_keeps_its_id(
    browser: Any, server: ServerProcess
) -> None:
    event = make_event(server)
    question = "Tee oder Kaffee?"
    api_poll(server, event, question=question, kind="single", options=["Tee", "Kaffee"])
    console = signed_in(browser, server, event, moderator_token(server, event))
    visitor = open_event(browser, server, event)
    sent: list[dict[str, Any]] = []
    visitor.on(
        "websocket",
        lambda ws: ws.on("framesent", lambda payload: sent.append(json.loads(payload))),
    )
    poll = visitor_poll(visitor, question)

    # Offline: the answer waits, and goes once the connection is back.
    visitor.context.set_offline(True)
    expect(visitor.locator("#conn")).to_have_attribute("data-state", "down")
    answer_poll(visitor, question, "Tee")
    expect(poll.locator(".poll-status")).to_contain_text("Keine Verbindung")
    visitor.context.set_offline(False)
    expect(poll.locator(".poll-status")).to_contain_text(COUNTED)
    expect(bar_counts(console_poll(console, question))).to_have_text(["1", "0"])

    # Changed again and again: past the rate limit an answer goes again after the wait,
    # with the same client_msg_id; the counts stay exact.
    submit = poll.locator(".poll-submit")
    choices = ["Kaffee", "Tee"] * 6
    for choice in choices:
        poll.get_by_role("radio", name=choice).check()
        submit.click()
        expect(submit).not_to_have_attribute("aria-disabled", "true")
        expect(poll.locator(".poll-status")).to_contain_text(COUNTED)
    expect(bar_counts(console_poll(console, question))).to_have_text(["1", "0"])
    expect(poll.locator(".poll-error")).to_be_empty()
    answers = [f["client_msg_id"] for f in sent if f.get("type") == "poll_answer"]
    repeats = Counter(answers)
    assert len(repeats) == len(choices) + 1, repeats  # one id per answer given
    assert max(repeats.values()) == 2, repeats  # the limited one went once more, same id
    assert visitor.js_errors == []
    visitor.context.close()
    console.context.close()


def test_a_closed_poll_stays_on_stage_for_a_while(browser: Any, server: ServerProcess) -> None:
    event = make_event(server)
    stage = new_page(browser, viewport={"width": 1280, "height": 720})
    stage.clock.install()
    stage.goto(server.url + f"/stage/{event}/info")
    expect(stage.locator("#conn")).to_have_attribute("data-state", "open")
    first = api_poll(server, event, question="Wie war der Vortrag?", kind="rating")
    expect(stage.locator("#stage-poll-question")).to_have_text("Wie war der Vortrag?")
    expect(stage.locator("#stage-poll .poll-average")).to_have_text("Noch keine Bewertung")
    expect(stage.locator("#join-title")).to_have_text("Abstimmen auf der Veranstaltungsseite:")
    call(server, "POST", f"/api/events/{event}/polls/{first}/close")
    expect(stage.locator("#stage-poll-state")).to_have_text("Endergebnis")
    stage.clock.run_for(60_000)
    expect(stage.locator("#stage-poll-state")).to_have_text("Endergebnis")
    # A new poll takes the stage at once.
    api_poll(server, event, question="Noch eine Frage?", kind="single", options=["Ja", "Nein"])
    expect(stage.locator("#stage-poll-question")).to_have_text("Noch eine Frage?")
    expect(stage.locator("#stage-poll-state")).to_have_text("Läuft")
    polls = call(server, "GET", f"/api/events/{event}/polls")["polls"]
    second = next(p["poll"]["id"] for p in polls if p["poll"]["state"] == "open")
    call(server, "POST", f"/api/events/{event}/polls/{second}/close")
    expect(stage.locator("#stage-poll-state")).to_have_text("Endergebnis")
    # Two minutes after it closed, the stage invites questions again.
    stage.clock.run_for(121_000)
    expect(stage.locator("#stage-poll")).to_be_hidden()
    expect(stage.locator("#pinned-text")).to_have_text("Ihre Frage ist gefragt!")
    expect(stage.locator("#join-title")).to_have_text("Mitfragen:")
    stage.context.close()
