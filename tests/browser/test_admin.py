"""The staff dashboard /admin: sign in, events and rooms, scenes, provisioning, attendance."""

from __future__ import annotations

import json
import re
import secrets
import urllib.error
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    STAFF,
    assert_accessible,
    call,
    make_event,
    moderator_token,
    new_page,
    screenshot,
)
from tests.browser.hubs_thread import SimThread
from tests.browser.pages import admin_section
from tests.harness.server_process import ServerProcess


def signed_in(browser: Any, server: ServerProcess, **options: Any) -> Any:
    page = new_page(browser, **options)
    page.goto(server.url + "/admin")
    page.locator("#signin-token").fill(STAFF)
    page.locator("#signin-submit").click()
    page.locator("#dashboard").wait_for()
    return page


def open_event(page: Any, slug: str) -> None:
    page.locator(f'li[data-event="{slug}"] .event-open').click()
    page.locator("#event-detail").wait_for()


def test_sign_in_refuses_bad_and_moderator_tokens(
    browser: Any, server: ServerProcess, event: str
) -> None:
    page = new_page(browser)
    page.goto(server.url + "/admin")
    assert_accessible(page)
    page.locator("#signin-token").fill("not-a-real-token")
    page.locator("#signin-submit").click()
    page.locator("#signin-error", has_text="Dieser Schlüssel gilt nicht.").wait_for()
    assert page.locator("#dashboard").is_hidden()

    page.locator("#signin-token").fill(moderator_token(server, event))
    page.locator("#signin-submit").click()
    page.locator("#signin-error", has_text="Moderations-Schlüssel").wait_for()
    assert page.locator("#dashboard").is_hidden()

    page.locator("#signin-token").fill(STAFF)
    page.locator("#signin-submit").click()
    page.locator(f'li[data-event="{event}"]').wait_for()
    assert STAFF not in page.url and "token" not in page.url
    assert page.evaluate("sessionStorage.getItem('hb_token_staff')") == STAFF
    # A reload keeps the session (this tab only); signing out forgets it.
    page.reload()
    page.locator(f'li[data-event="{event}"]').wait_for()
    page.locator("#signout").click()
    page.locator("#signin-section").wait_for()
    assert page.evaluate("sessionStorage.getItem('hb_token_staff')") is None
    assert page.js_errors == []
    page.context.close()


def test_create_edit_and_delete_event_and_rooms(browser: Any, server: ServerProcess) -> None:
    page = signed_in(browser, server)
    slug = "adm-" + secrets.token_hex(3)
    page.locator("#event-new").click()
    page.locator("#ev-slug").fill(slug)
    page.locator("#ev-title").fill("Bürgerdialog <Test> & mehr")
    page.locator("#ev-starts").fill("2026-07-10T18:00")
    page.locator("#ev-ends").fill("2026-07-10T17:00")  # ends before it starts
    page.locator("#event-save").click()
    error = page.locator("#ev-ends-error")
    error.wait_for()
    assert "Ende muss nach dem Beginn" in error.inner_text()
    assert page.locator("#ev-ends").get_attribute("aria-invalid") == "true"
    assert "ev-ends-error" in (page.locator("#ev-ends").get_attribute("aria-describedby") or "")
    # Focus is on the summary of the form's problems, whose link leads to the field.
    assert page.evaluate("document.activeElement.id") == "event-form-summary"
    page.locator('#event-form-summary a[href="#ev-ends"]').click()
    assert page.evaluate("document.activeElement.id") == "ev-ends"
    with pytest.raises(urllib.error.HTTPError):
        call(server, "GET", f"/api/events/{slug}")

    page.locator("#ev-ends").fill("2026-07-10T20:00")
    page.locator("#event-save").click()
    page.locator(f'li[data-event="{slug}"]').wait_for()
    assert page.locator("#ev-ends-error").count() == 0
    stored = call(server, "GET", f"/api/events/{slug}")
    # Summer time in Berlin: 18:00 is 16:00 UTC.
    assert stored["starts_at"] == "2026-07-10T18:00:00+02:00"
    assert stored["title"] == "Bürgerdialog <Test> & mehr"
    assert "Bürgerdialog <Test> & mehr" in page.locator(f'li[data-event="{slug}"]').inner_text()

    # The new event is open at its rooms: add a room with a bad slug, then a good one.
    expect(page.locator("#tab-rooms")).to_have_attribute("aria-selected", "true")
    page.locator("#room-new").click()
    page.locator("#room-slug").fill("Bad Slug")
    page.locator("#room-title").fill("Werkstatt")
    page.locator("#room-scene").select_option("foyer")
    page.locator("#room-save").click()
    page.locator("#room-slug-error", has_text="Kleinbuchstaben").wait_for()
    page.locator("#room-slug").fill("werkstatt")
    page.locator("#room-save").click()
    page.locator('#rooms li[data-room="werkstatt"]').wait_for()

    page.locator('#rooms li[data-room="werkstatt"] .room-edit').click()
    page.locator("#room-capacity").fill("40")
    page.locator("#room-save").click()
    page.locator('#rooms li[data-room="werkstatt"]', has_text="40").wait_for()
    assert call(server, "GET", f"/api/events/{slug}/rooms/werkstatt")["capacity"] == 40

    # Edit the event: the form holds Berlin times.
    page.locator(f'li[data-event="{slug}"] .event-edit').click()
    assert page.locator("#ev-starts").input_value() == "2026-07-10T18:00"
    page.locator("#ev-title").fill("Bürgerdialog")
    page.locator("#event-save").click()
    page.locator(f'li[data-event="{slug}"]', has_text="Bürgerdialog").wait_for()

    # Delete the room: the dialog names it; cancel keeps it, confirm removes it.
    page.locator('#rooms li[data-room="werkstatt"] .room-delete').click()
    dialog = page.locator("#confirm-dialog")
    dialog.wait_for()
    assert "Werkstatt" in dialog.inner_text()
    page.locator("#confirm-cancel").click()
    assert page.locator('#rooms li[data-room="werkstatt"]').count() == 1
    page.locator('#rooms li[data-room="werkstatt"] .room-delete').click()
    page.locator("#confirm-ok").click()
    page.locator('#rooms li[data-room="werkstatt"]').wait_for(state="detached")

    page.locator(f'li[data-event="{slug}"] .event-delete').click()
    assert "Bürgerdialog" in page.locator("#confirm-text").inner_text()
    page.locator("#confirm-ok").click()
    page.locator(f'li[data-event="{slug}"]').wait_for(state="detached")
    with pytest.raises(urllib.error.HTTPError):
        call(server, "GET", f"/api/events/{slug}")
    assert page.js_errors == []
    page.context.close()


def test_scenes_provisioning_links_and_attendance(
    browser: Any, server: ServerProcess, event: str, hubs: SimThread
) -> None:
    # A visitor in room "info" makes some attendance (the server samples every 0.3 s).
    visitor = new_page(browser)
    visitor.goto(server.url + f"/e/{event}")
    visitor.evaluate(
        """([event]) => new Promise((resolve) => {
            const ws = new WebSocket(`ws://${location.host}/ws`);
            ws.onopen = () => ws.send(JSON.stringify({type: "hello", event, room: "info"}));
            ws.onmessage = (m) => { if (JSON.parse(m.data).type === "welcome") resolve(true); };
            window.keep = ws;
        })""",
        [event],
    )
    page = signed_in(browser, server)

    cards = page.locator("#scenes li.scene-card")
    cards.nth(3).wait_for()
    assert cards.count() == 4
    page.wait_for_function(
        "[...document.querySelectorAll('#scenes img')].length === 4 && "
        "[...document.querySelectorAll('#scenes img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    assert all(cards.nth(i).locator("img").get_attribute("alt") for i in range(4))

    open_event(page, event)
    visitor_link = page.locator('#links li[data-link="visitor"] input')
    assert visitor_link.input_value() == f"{server.url}/e/{event}"
    assert page.locator('#links li[data-link="stage-daten"] input').input_value() == (
        f"{server.url}/stage/{event}/daten"
    )
    page.locator("#modtoken-create").click()
    page.locator("#modtoken-result").wait_for()
    secret = page.locator("#modtoken-secret").input_value()
    assert secret and call(server, "GET", f"/api/events/{event}/attendance", token=secret)

    # No Hubs room yet, so the table of the bridge's rooms says so.
    admin_section(page, "hubs")
    page.locator("#hubs-rooms-empty", has_text="Noch keine Hubs-Räume").wait_for()
    # Provisioning on the (simulated) Hubs server, with progress and a result per room.
    page.locator("#provision-start").click()
    for room in ("info", "daten"):
        expect(page.locator(f'#provision-results tr[data-room="{room}"]')).to_contain_text(
            "Angelegt"
        )
    expect(page.locator("#provision-progress")).to_have_attribute("value", "2")
    expect(page.locator("#provision-text")).to_contain_text("2 von 2")
    # The bridge joins the new rooms; the table shows it (sync and refresh: a few seconds).
    for room in ("info", "daten"):
        expect(page.locator(f'#hubs-rooms tr[data-room="{room}"]')).to_have_attribute(
            "data-bridge", "joined", timeout=20_000
        )
    expect(page.locator("#hubs-rooms-empty")).to_be_hidden()
    # With the bridge's own account (the rig's simulator has one), it owns its rooms.
    for room in ("info", "daten"):
        expect(page.locator(f'#hubs-rooms tr[data-room="{room}"]')).to_contain_text(
            "stummschalten und entfernen", timeout=20_000
        )

    # Someone in the Hubs room of "info" counts there too, apart from the web visitor.
    hub = call(server, "GET", f"/api/events/{event}/rooms/info")["hubs"]["hub_id"]
    person = hubs.call(hubs.sim.add_avatar, hub, "Clara")
    hubs.call(person.enter)
    admin_section(page, "attendance")
    info = page.locator('#stats-table tbody tr[data-room="info"]')
    expect(info.locator('[data-count="hubs-now"]')).to_have_attribute("data-value", "1")
    expect(info.locator('[data-count="web-now"]')).to_have_attribute("data-value", "1")
    # Attendance over time, drawn in the page: a chart per room, named for screen readers.
    chart = page.locator('#chart figure[data-room="info"] svg[role="img"]')
    expect(chart).to_be_visible()
    assert "Anwesenheit" in (chart.get_attribute("aria-label") or "")
    page.locator('#stats-table tbody tr[data-room="info"]').wait_for()
    page.locator("#stats-refresh").click()
    expect(chart).to_be_visible()

    admin_section(page, "exports")
    with page.expect_download() as download_info:
        page.locator('[data-download="attendance.csv"]').click()
    download = download_info.value
    assert download.suggested_filename == f"{event}-attendance.csv"
    with open(download.path(), encoding="utf-8") as fh:
        assert fh.readline().startswith("room,title,current,peak")

    admin_section(page, "attendance")
    screenshot(page, "admin")
    assert_accessible(page)

    page.locator("#lang-switch").click()
    page.locator("#stats-heading", has_text="Attendance").wait_for()
    expect(chart).to_have_attribute("aria-label", re.compile("^Attendance over time"))

    page.set_viewport_size({"width": 320, "height": 800})
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    hubs.call(person.leave)
    assert page.js_errors == []
    page.context.close()
    visitor.context.close()


def test_sign_in_focus_and_error_follow_the_language(browser: Any, server: ServerProcess) -> None:
    page = new_page(browser)
    page.goto(server.url + "/admin")
    page.locator("#signin-token").fill("not-a-real-token")
    page.locator("#signin-submit").click()
    error = page.locator("#signin-error")
    page.locator("#signin-error", has_text="Dieser Schlüssel gilt nicht.").wait_for()
    page.locator("#lang-switch").click()
    page.locator("#signin-error", has_text="This token is not valid.").wait_for()
    assert error.is_visible()

    page.locator("#signin-token").fill(STAFF)
    page.locator("#signin-submit").click()
    page.locator("#dashboard").wait_for()
    # After sign-in, focus is on the events heading (not lost on <body>).
    page.wait_for_function(
        "document.activeElement && document.activeElement.id === 'events-heading'"
    )
    assert error.is_hidden()
    assert page.js_errors == []
    page.context.close()


def test_a_failed_delete_is_shown_next_to_the_list(browser: Any, server: ServerProcess) -> None:
    slug = make_event(server)
    page = signed_in(browser, server)
    page.locator(f'li[data-event="{slug}"]').wait_for()
    call(server, "DELETE", f"/api/events/{slug}")  # someone else deleted it meanwhile
    page.locator(f'li[data-event="{slug}"] .event-delete').click()
    page.locator("#confirm-ok").click()
    alert = page.locator("#events-error")
    alert.wait_for()
    assert alert.get_attribute("role") == "alert"
    assert "nicht gelöscht" in alert.inner_text()
    assert "gibt es nicht" in alert.inner_text()
    # The list shows what is there now.
    page.locator(f'li[data-event="{slug}"]').wait_for(state="detached")
    page.locator("#lang-switch").click()
    page.locator("#events-error", has_text="was not deleted").wait_for()
    assert page.js_errors == []
    page.context.close()


def test_links_from_the_hubs_server_are_only_http(browser: Any, server: ServerProcess) -> None:
    slug = make_event(server)
    page = signed_in(browser, server)
    assert page.evaluate(
        """() => import("/static/js/common.js").then((m) => [
            m.httpUrl("javascript:alert(1)"),
            m.httpUrl("data:text/html,hi"),
            m.httpUrl("https://hubs.example.org/abc123/room"),
        ])"""
    ) == [None, None, "https://hubs.example.org/abc123/room"]

    # A Hubs server answering with a javascript: URL never becomes a link.
    rooms = [
        {"room": "info", "state": "created", "hub_id": "evil1", "url": "javascript:alert(1)"},
        {
            "room": "daten",
            "state": "created",
            "hub_id": "good1",
            "url": "https://hubs.example.org/good1",
        },
    ]
    page.route(
        f"**/api/events/{slug}/provision",
        lambda route: route.fulfill(
            status=200,
            content_type="application/json",
            body=json.dumps(
                {"event": slug, "state": "done", "total": 2, "done": 2, "rooms": rooms}
            ),
        ),
    )
    hubs = [
        {
            "room": "info",
            "kind": "main",
            "hub_id": "evil2",
            "url": "javascript:alert(2)",
            "bridge": "joined",
            "closed": False,
        },
        {
            "room": "daten",
            "kind": "main",
            "hub_id": "good2",
            "url": "https://hubs.example.org/good2",
            "bridge": "joined",
            "closed": False,
        },
    ]
    page.route(
        f"**/api/events/{slug}/hubs",
        lambda route: route.fulfill(
            status=200,
            content_type="application/json",
            body=json.dumps({"event": slug, "rooms": hubs}),
        ),
    )
    open_event(page, slug)
    admin_section(page, "hubs")
    page.locator("#provision-start").click()
    page.locator('#provision-results tr[data-room="daten"] a').wait_for()
    page.locator('#hubs-rooms tr[data-room="daten"] a').wait_for()
    hrefs = page.eval_on_selector_all(
        "#provision-results a, #hubs-rooms a", "links => links.map((a) => a.getAttribute('href'))"
    )
    assert sorted(hrefs) == ["https://hubs.example.org/good1", "https://hubs.example.org/good2"]
    assert "evil1" in page.locator('#provision-results tr[data-room="info"]').inner_text()
    assert "evil2" in page.locator('#hubs-rooms tr[data-room="info"]').inner_text()
    assert page.js_errors == []
    page.context.close()


def test_provisioning_of_one_event_never_sticks_to_another(
    browser: Any, server: ServerProcess
) -> None:
    first = make_event(server)
    second = make_event(server)
    page = signed_in(browser, server)
    held: list[Any] = []
    page.route(f"**/api/events/{first}/provision", lambda route: held.append(route))
    open_event(page, first)
    admin_section(page, "hubs")
    page.locator("#provision-start").click()
    page.wait_for_function("document.getElementById('provision-start').disabled")
    # The first event's request is still out when the second is opened.
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(20)
    assert len(held) == 1
    open_event(page, second)
    page.locator("#detail-heading").wait_for()
    assert page.locator("#provision-start").is_enabled()
    held[0].continue_()
    # Its answer belongs to the first event: not shown under the second.
    page.wait_for_timeout(500)
    assert page.locator("#provision-error").is_hidden()
    assert page.locator("#provision-status").is_hidden()
    assert page.locator("#provision-start").is_enabled()
    page.locator("#provision-start").click()
    expect(page.locator('#provision-results tr[data-room="info"]')).to_contain_text("Angelegt")
    expect(page.locator("#provision-start")).to_be_enabled()
    assert page.js_errors == []
    page.context.close()
