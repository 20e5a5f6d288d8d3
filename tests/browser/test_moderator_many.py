"""The moderator console with 1,000 questions: the first render, a storm of votes that
reorders the queue, moving through it with j and switching its filters stay quick
(frame times measured with requestAnimationFrame, long tasks with a
PerformanceObserver).

This module runs its own server that lets one visitor ask and vote as fast as it likes,
so the questions are there within seconds instead of 1,000 visitors' minutes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import STAFF, make_event, moderator_token, new_page
from tests.browser.pages import seed_questions, signed_in, start_voting
from tests.harness.frame_times import MEASURE_JS, measure, question_texts, unlimited_server
from tests.harness.server_process import ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with unlimited_server(tmp_path_factory.mktemp("moderator-many-server"), STAFF) as process:
        yield process


LONG_TAIL = " Gibt es dafür schon einen Termin im Rat, und wo findet man die Unterlagen dazu?"


def press_j(page: Any, times: int) -> None:
    for _ in range(times):
        page.keyboard.press("j")
        page.wait_for_timeout(40)


def test_a_thousand_questions_stay_responsive(browser: Any, server: ServerProcess) -> None:
    event = make_event(server)
    seed = new_page(browser)
    seed.goto(server.url + "/")
    assert seed_questions(seed, event, question_texts(1000, long_tail=LONG_TAIL)) == 1000
    token = moderator_token(server, event)
    page = signed_in(browser, server, event, token, viewport={"width": 1280, "height": 800})
    expect(page.locator("#queue-approved li.question")).to_have_count(1000, timeout=30_000)

    # Reloaded (the token stays in the tab): the first render measured from the start.
    page.add_init_script(
        "window.__loadTasks = []; new PerformanceObserver((l) => { for (const e of l.getEntries())"
        " window.__loadTasks.push(e.duration); }).observe({type: 'longtask', buffered: true});"
    )
    page.reload()
    expect(page.locator("#queue-approved li.question")).to_have_count(1000, timeout=30_000)
    page.wait_for_timeout(500)
    load_tasks = page.evaluate("window.__loadTasks")
    page.evaluate(MEASURE_JS)
    page.wait_for_timeout(300)

    page.locator("#queue-approved li.question").first.focus()
    moving = measure(page, lambda: press_j(page, 30))
    at = page.evaluate(
        "[...document.querySelectorAll('#queue-approved li.question')]"
        ".indexOf(document.activeElement)"
    )
    assert at == 30, at
    start_voting(seed, event, count=80, per_second=20)
    voting = measure(page, lambda: seed.evaluate("window.__hbVoting"))
    nodes = page.evaluate("document.getElementsByTagName('*').length")

    def switch_filters() -> None:
        for name in ("pending", "approved", "answered", "all"):
            page.locator(f"#filter-{name}").click()
            expect(page.locator(f"#filter-{name}")).to_have_attribute("aria-selected", "true")
            page.wait_for_timeout(100)

    # The rows of a hidden filter stay built: switching rebuilds none.
    switching = measure(page, switch_filters)
    expect(page.locator("#filter-count-approved")).to_have_text("1.000")
    report = {
        "load_max_long_task_ms": round(max(load_tasks, default=0), 1),
        "dom_nodes": nodes,
        "votes": voting,
        "moving_with_j": moving,
        "switching_filters": switching,
    }
    print("console with 1,000 questions:", json.dumps(report))
    # Bounds for this slow, shared 2-core machine, with room. Measured here: the first
    # render's longest task 170-250 ms (up to 680 ms with other tests running); during
    # the votes and j, p95 17 ms and no long task. Before the dense rows: 125 ms, but
    # votes at p95 33-50 ms with long tasks of up to 80 ms, and 1-2 of 30 quick j lost.
    # Switching between four filters (1,000 rows hidden and shown again): p95 33 ms, no
    # long task.
    assert report["load_max_long_task_ms"] < 1500, report
    for phase in (voting, moving, switching):
        assert phase["max_long_task_ms"] < 250, report
        assert phase["p95_ms"] < 100, report
    assert page.js_errors == []
    seed.context.close()
    page.context.close()
