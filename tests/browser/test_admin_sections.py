"""The staff dashboard's event view (issue 13): sections with their own navigation, attendance
of web and Hubs side by side and live, and every problem of a form at once.

Measured before the change (1280x800, an event with five provisioned rooms, the room form
open): the event view was one 3,941 px card in a 5,010 px page; the attendance table counted
web visitors only, the chart web and Hubs together, and neither changed without
"Aktualisieren"; a form's problems stood next to their fields, with no summary to start from.
"""

from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, call, make_event, new_page
from tests.browser.hubs_thread import SimThread
from tests.browser.pages import admin_open_event, admin_section, admin_signed_in
from tests.harness.server_process import ServerProcess

SECTIONS = ("details", "rooms", "hubs", "qa", "attendance", "exports")
SCREEN = {"width": 1280, "height": 800}
TWO_SCREENS = 2 * SCREEN["height"]
ROOMS = [
    {"slug": slug, "title": title, "scene": scene}
    for slug, title, scene in (
        ("info", "Info-Foyer", "foyer"),
        ("daten", "Offene Daten", "kirmes-stand"),
        ("werkstatt", "Werkstatt", "werkstatt"),
        ("saal", "Großer Saal", "auditorium"),
        ("stand", "Kirmesstand", "kirmes-stand"),
    )
]


def _height(page: Any, selector: str) -> int:
    box = page.locator(selector).bounding_box()
    return round(float(box["height"]))


def _visitor_in_room(page: Any, event: str, room: str | None, ask: str | None = None) -> None:
    """A visitor's websocket (kept open in ``page``) in ``room``, asking ``ask`` if given."""
    page.evaluate(
        """([event, room, ask]) => new Promise((resolve) => {
            const ws = new WebSocket(`ws://${location.host}/ws`);
            ws.onopen = () => ws.send(JSON.stringify({type: "hello", event, room}));
            ws.onmessage = (m) => {
                const frame = JSON.parse(m.data);
                if (frame.type === "welcome") {
                    if (!ask) return resolve(true);
                    const id = "q-" + Date.now();
                    ws.send(JSON.stringify({type: "ask", text: ask, client_msg_id: id}));
                }
                if (frame.type === "ack") resolve(true);
            };
            (window.keep ||= []).push(ws);
        })""",
        [event, room, ask],
    )


def test_sections_fit_two_screens_and_are_reached_by_tabs_keys_and_address(
    browser: Any, server: ServerProcess
) -> None:
    event = make_event(server, provision=True, rooms=ROOMS)
    page = admin_signed_in(browser, server, viewport=SCREEN)
    admin_open_event(page, event)
    page.locator("#hubs-rooms tbody tr").first.wait_for(state="attached")
    heights = {}
    for name in SECTIONS:
        panel = admin_section(page, name)
        tab = page.locator(f"#tab-{name}")
        expect(tab).to_have_attribute("aria-selected", "true")
        assert page.locator('[role="tabpanel"]:visible').count() == 1
        assert page.evaluate("location.hash") == f"#event/{event}/{name}"
        if name == "attendance":
            page.locator('#chart figure[data-room="stand"] svg').wait_for()
        heights[name] = _height(page, "#event-detail")
        assert panel.get_attribute("aria-labelledby") == f"tab-{name}"
        assert_accessible(page)
    admin_section(page, "rooms")
    page.locator("#room-new").click()
    heights["rooms+form"] = _height(page, "#event-detail")
    print("event view heights at 1280x800:", heights)
    print("whole page with the room form:", page.evaluate("document.documentElement.scrollHeight"))
    assert max(heights.values()) <= TWO_SCREENS, heights

    # Keys: one tab stop; arrows, Home and End move and show (wrapping around).
    page.locator("#room-cancel").click()
    page.locator("#tab-details").click()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#tab-rooms")).to_be_focused()
    expect(page.locator("#panel-rooms")).to_be_visible()
    page.keyboard.press("End")
    expect(page.locator("#tab-exports")).to_be_focused()
    expect(page.locator("#panel-exports")).to_be_visible()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#tab-details")).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#tab-exports")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Home")
    expect(page.locator("#panel-details")).to_be_visible()
    assert page.evaluate("location.hash") == f"#event/{event}/details"
    assert page.locator('#detail-tabs [role="tab"][tabindex="0"]').count() == 1

    # The address is a link to the view: a reload (or another tab's link) opens it.
    page.goto(server.url + f"/admin#event/{event}/attendance")
    page.reload()
    expect(page.locator("#panel-attendance")).to_be_visible()
    expect(page.locator("#detail-heading")).to_have_text("Digitale Kirmes Test")
    expect(page.locator("#tab-attendance")).to_have_attribute("aria-selected", "true")
    page.evaluate(f"location.hash = '#event/{event}/qa'")
    expect(page.locator("#panel-qa")).to_be_visible()

    # At 320 px the tabs wrap and nothing is wider than the screen.
    page.set_viewport_size({"width": 320, "height": 800})
    for name in SECTIONS:
        admin_section(page, name)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, name
    assert page.js_errors == []
    page.context.close()


def test_attendance_shows_web_and_hubs_apart_and_follows_the_live_frames(
    browser: Any, server: ServerProcess, hubs: SimThread
) -> None:
    event = make_event(server, provision=True)
    rooms = {r["slug"]: r for r in call(server, "GET", f"/api/events/{event}")["rooms"]}
    page = admin_signed_in(browser, server, viewport=SCREEN)
    admin_open_event(page, event)
    admin_section(page, "attendance")
    expect(page.locator("#stats-live")).to_have_attribute("data-state", "open")

    # Both sources, labelled, in the table and in the chart.
    head = page.locator("#stats-table thead")
    assert head.locator("th.src-web").count() == 2 and head.locator("th.src-hubs").count() == 2
    expect(head).to_contain_text("nur Web")
    expect(page.locator("#chart-caption")).to_contain_text("Web und Hubs getrennt")
    for room in ("info", "daten"):
        figure = page.locator(f'#chart figure[data-room="{room}"]')
        expect(figure.locator(".series-web .mark-web").first).to_be_attached()
        expect(figure.locator(".series-hubs .mark-hubs").first).to_be_attached()

    def cell(room: str, kind: str) -> Any:
        return page.locator(f'#stats-table tr[data-room="{room}"] td[data-count="{kind}"]')

    expect(cell("info", "web-now")).to_have_attribute("data-value", "0")
    # A visitor enters "info": the table and the chart follow without "Aktualisieren".
    visitor = new_page(browser)
    visitor.goto(server.url + "/healthz")  # a page of the server, to run the socket in
    started = time.monotonic()
    _visitor_in_room(visitor, event, "info", ask="Wie komme ich in den Hubs-Raum?")
    expect(cell("info", "web-now")).to_have_attribute("data-value", "1")
    web_latency = time.monotonic() - started
    expect(cell("info", "web-peak")).to_have_attribute("data-value", "1")
    expect(page.locator('#chart figure[data-room="info"] svg')).to_have_attribute(
        "aria-label", re.compile("Jetzt: Web 1, Hubs 0")
    )
    # Someone enters the Hubs room of "daten": Hubs now, in the room's row and the total.
    started = time.monotonic()
    person = hubs.call(hubs.sim.add_avatar, rooms["daten"]["hubs"]["hub_id"], "Clara")
    hubs.call(person.enter)
    expect(cell("daten", "hubs-now")).to_have_attribute("data-value", "1", timeout=20_000)
    hubs_latency = time.monotonic() - started
    expect(cell("_event", "hubs-now")).to_have_attribute("data-value", "1")
    expect(cell("daten", "hubs-peak")).to_have_attribute("data-value", "1")
    expect(page.locator('#chart figure[data-room="daten"] svg')).to_have_attribute(
        "aria-label", re.compile("Jetzt: Web 0, Hubs 1")
    )
    print(f"live in the table: web {web_latency:.2f} s, Hubs {hubs_latency:.2f} s (before: never)")
    assert web_latency < 5

    # The Q&A section counts the question live too.
    admin_section(page, "qa")
    expect(page.locator('#qa-counts [data-count="total"] dd')).to_have_text("1")
    expect(page.locator('#qa-counts [data-count="open"] dd')).to_have_text("1")

    # The minute data as a table, both sources.
    admin_section(page, "attendance")
    page.locator("#chart-data summary").click()
    expect(page.locator('#chart-table tbody tr[data-room="daten"]').last).to_contain_text("1")
    assert_accessible(page)
    hubs.call(person.leave)
    assert page.js_errors == [] and visitor.js_errors == []
    page.context.close()
    visitor.context.close()


def test_every_form_shows_all_its_problems_at_once_with_a_summary(
    browser: Any, server: ServerProcess
) -> None:
    event = make_event(server)
    page = admin_signed_in(browser, server, viewport=SCREEN)

    def check_summary(form: str, fields: list[str]) -> Any:
        summary = page.locator(f"#{form}-summary")
        expect(summary).to_be_visible()
        expect(summary).to_be_focused()
        links = summary.locator("a")
        assert [links.nth(i).get_attribute("href") for i in range(links.count())] == [
            f"#{f}" for f in fields
        ]
        for field in fields:
            assert page.locator(f"#{field}").get_attribute("aria-invalid") == "true"
            expect(page.locator(f"#{field}-error")).to_be_visible()
        summary.locator(f'a[href="#{fields[-1]}"]').click()
        expect(page.locator(f"#{fields[-1]}")).to_be_focused()
        return summary

    assert "admin." not in (page.locator("#dashboard").text_content() or "")
    # The event form: four problems, all listed, in the order of the fields.
    page.locator("#event-new").click()
    page.locator("#ev-slug").fill("Bad Slug")
    page.locator("#ev-title").fill("")
    page.locator("#ev-ends").fill("2026-07-10T17:00")
    page.locator("#ev-starts").fill("2026-07-10T18:00")
    page.locator("#ev-doors").fill("5000")
    page.locator("#event-save").click()
    summary = check_summary("event-form", ["ev-slug", "ev-title", "ev-ends", "ev-doors"])
    expect(summary).to_contain_text("4 Angaben")
    expect(summary).to_contain_text("Einlass (Minuten vor Beginn): Bitte eine Zahl von 0 bis 1440")
    assert_accessible(page)
    page.locator("#event-cancel").click()

    # The room form: four problems.
    admin_open_event(page, event)
    admin_section(page, "rooms")
    page.locator("#room-new").click()
    page.locator("#room-slug").fill("Bad Slug")
    page.locator("#room-title").fill("")
    page.locator("#room-capacity").fill("99")
    page.locator("#room-twins").fill("40")
    page.locator("#room-save").click()
    check_summary("room-form", ["room-slug", "room-title", "room-capacity", "room-twins"])
    page.locator("#room-cancel").click()

    # The Q&A settings: its own form, the same summary; in English after a switch.
    admin_section(page, "qa")
    page.locator("#qa-max-chars").fill("5")
    page.locator("#qa-premoderation").check()
    page.locator("#qa-save").click()
    summary = check_summary("qa-form", ["qa-max-chars"])
    expect(summary).to_contain_text("1 Angabe:")
    page.locator("#lang-switch").click()
    expect(summary).to_contain_text("Please check 1 entry:")
    expect(summary).to_contain_text("from 20 to 2000")
    # Every text of every section exists in English (a missing one shows its key).
    assert "admin." not in (page.locator("#dashboard").text_content() or "")
    expect(page.locator("#tab-qa")).to_have_text("Q&A")
    page.locator("#lang-switch").click()
    page.locator("#qa-max-chars").fill("300")
    page.locator("#qa-save").click()
    expect(summary).to_be_hidden()
    expect(page.locator("#qa-max-chars-error")).to_have_count(0)
    stored = call(server, "GET", f"/api/events/{event}")["qa"]
    assert stored["max_question_chars"] == 300 and stored["premoderation"] is True
    assert page.js_errors == []
    page.context.close()
