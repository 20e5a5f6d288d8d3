"""The visitor page on a phone and with a long list: the ask box and the first question on
the first screen of a 390x844 phone, and an event with 1,000 questions that stays
responsive while the visitor scrolls and while votes arrive (frame times measured with
requestAnimationFrame, long tasks with a PerformanceObserver).

This module runs its own server that lets one visitor ask and vote as fast as it likes,
so the questions are there within a second or two instead of 1,000 visitors' minutes.
``HB_CPU_THROTTLE=4`` slows the measured page down like a mid-range phone (the bounds
are set for the default, 1, on this 2-core machine).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import STAFF, call, make_event, new_page
from tests.browser.pages import seed_questions, start_voting
from tests.harness.frame_times import MEASURE_JS, measure, question_texts, unlimited_server
from tests.harness.server_process import ServerProcess

PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
}
# CPU slowdown of the measured page (Chromium's throttling, as Lighthouse's "mobile" uses 4);
# 1 by default: this 2-core machine is slow enough, and bounds must hold on it reliably.
THROTTLE = float(os.environ.get("HB_CPU_THROTTLE", "1"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with unlimited_server(tmp_path_factory.mktemp("visitor-phone-server"), STAFF) as process:
        yield process


def loaded(page: Any, n: int) -> None:
    page.wait_for_function(
        "(n) => { const l = document.getElementById('questions');"
        " return l && (l.dataset.total === String(n) || l.children.length === n); }",
        arg=n,
        timeout=30_000,
    )


# ---- the first screen ----


def test_ask_box_and_first_question_on_a_phones_first_screen(
    browser: Any, server: ServerProcess
) -> None:
    event = make_event(server)
    seed = new_page(browser)
    seed.goto(server.url + "/")
    seed_questions(seed, event, question_texts(100))
    page = new_page(browser, **PHONE)
    page.goto(server.url + f"/e/{event}")
    expect(page.locator("#conn")).to_have_attribute("data-state", "open")
    loaded(page, 100)
    ask_box = page.locator("#ask-form").bounding_box()
    field = page.locator("#ask-text").bounding_box()
    send = page.locator("#ask-submit").bounding_box()
    first = page.locator("#questions li.question").first.bounding_box()
    height = page.evaluate("document.documentElement.scrollHeight")
    report = {"ask_form": ask_box, "first_question": first, "page_height": height}
    print("first screen:", json.dumps(report))
    assert ask_box and field and send and first
    for name, box in (("the ask field", field), ("the send button", send)):
        assert box["y"] >= 0 and box["y"] + box["height"] <= 844, f"{name} is off the first screen"
    bottom = first["y"] + first["height"]
    assert bottom <= 844, f"the first question ends at {bottom:.0f} px"
    assert height <= 6000, f"the page is {height} px high with 100 questions"

    # An open poll sits between the ask box and the questions: the ask box stays put, and
    # the poll starts on the first screen too.
    poll = call(
        server,
        "POST",
        f"/api/events/{event}/polls",
        {"question": "Bühne auf dem Markt?", "kind": "single", "options": ["Ja", "Nein"]},
    )["poll"]["id"]
    call(server, "POST", f"/api/events/{event}/polls/{poll}/open")
    expect(page.locator("#polls li.poll")).to_be_visible()
    assert page.locator("#ask-form").bounding_box() == ask_box
    card = page.locator("#polls li.poll").bounding_box()
    assert card and card["y"] < 844, card
    seed.context.close()
    page.context.close()


def test_a_long_list_comes_a_page_at_a_time(browser: Any, server: ServerProcess) -> None:
    event = make_event(server)
    seed = new_page(browser)
    seed.goto(server.url + "/")
    seed_questions(seed, event, question_texts(45))
    page = new_page(browser, **PHONE)
    page.goto(server.url + f"/e/{event}")
    loaded(page, 45)
    items = page.locator("#questions li.question")
    expect(items).to_have_count(20)
    expect(page.locator("#questions-count")).to_have_text("45")
    expect(page.locator("#questions-shown")).to_have_text("20 von 45 Fragen")
    more = page.locator("#questions-more")
    expect(more).to_have_text("Weitere 20 Fragen zeigen")
    # By keyboard: the button, and the focus goes on to the first new question.
    more.focus()
    page.keyboard.press("Enter")
    expect(items).to_have_count(40)
    expect(items.nth(20).locator(".question-vote")).to_be_focused()
    expect(more).to_have_text("Weitere 5 Fragen zeigen")
    # Scrolling near the end brings the rest by itself.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    expect(items).to_have_count(45)
    expect(more).to_be_hidden()
    expect(page.locator("#questions-shown")).to_be_hidden()
    assert page.js_errors == []
    seed.context.close()
    page.context.close()


# ---- a thousand questions ----

SCROLL_JS = """
(ms) => new Promise((resolve) => {
  // Scroll down steadily (about 1,800 px a second), as a thumb flicking through the list.
  const end = performance.now() + ms;
  const step = () => {
    window.scrollBy(0, 30);
    if (performance.now() < end) requestAnimationFrame(step); else resolve(window.scrollY);
  };
  requestAnimationFrame(step);
})
"""


def test_a_thousand_questions_stay_responsive(browser: Any, server: ServerProcess) -> None:
    event = make_event(server)
    seed = new_page(browser)
    seed.goto(server.url + "/")
    assert seed_questions(seed, event, question_texts(1000)) == 1000
    page = new_page(browser, **PHONE)
    page.add_init_script(
        "window.__loadTasks = []; new PerformanceObserver((l) => { for (const e of l.getEntries())"
        " window.__loadTasks.push(e.duration); }).observe({type: 'longtask', buffered: true});"
    )
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": THROTTLE})
    page.goto(server.url + f"/e/{event}")
    expect(page.locator("#conn")).to_have_attribute("data-state", "open")
    loaded(page, 1000)
    page.wait_for_timeout(500)
    load_tasks = page.evaluate("window.__loadTasks")
    page.evaluate(MEASURE_JS)
    page.wait_for_timeout(300)

    scrolling = measure(page, lambda: page.evaluate(SCROLL_JS, 4000), min_frames=20)
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(300)
    start_voting(seed, event, count=80, per_second=20)
    acked: list[int] = []
    voting = measure(page, lambda: acked.append(seed.evaluate("window.__hbVoting")), min_frames=20)
    assert acked == [80]
    # The votes arrived: voted questions lead "Beliebteste".
    expect(page.locator("#questions li.question .question-votes").first).to_have_text("1")
    sorting = measure(
        page,
        lambda: (page.locator("#sort-new").click(), page.wait_for_timeout(1000)),
        min_frames=20,
    )
    report = {
        "load_max_long_task_ms": round(max(load_tasks, default=0), 1),
        "elements": page.evaluate("document.getElementsByTagName('*').length"),
        "scrolling": scrolling,
        "votes": voting,
        "sorting": sorting,
    }
    print("1,000 questions:", json.dumps(report))
    # Bounds for this slow 2-core machine; the page with every question in it measured a
    # 525-632 ms task at load, 262 ms to switch the sort order and 12,158 elements
    # (docs/pages.md has the numbers before and after).
    assert report["elements"] < 2000, report
    assert report["load_max_long_task_ms"] < 200, report
    for phase in (scrolling, voting, sorting):
        assert phase["max_long_task_ms"] < 200, report
    for phase in (scrolling, voting):
        assert phase["p95_ms"] < 50, report
    assert page.js_errors == []
    seed.context.close()
    page.context.close()
