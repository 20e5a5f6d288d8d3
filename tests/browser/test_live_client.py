"""live.js in a real browser against a real server: backoff, the pong watchdog, the outbox
under the question rate limit, resending after errors without a ref, and moderate/announce
frames that are never sent twice after a reconnect.

This module runs its own server with a faster question rate (20 a minute, bursts of 3), so
the rate-limited outbox drains within seconds instead of a minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import STAFF, call, moderator_token, new_page
from tests.harness.server_process import ServerProcess, running_server, server_env


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("live-client-server")
    env = server_env(
        tmp / "data",
        HUBS_BRIDGE_STAFF_TOKEN=STAFF,
        HUBS_BRIDGE_SEED_DIR="",
        HUBS_BRIDGE_QA__QUESTIONS_PER_MINUTE="20",
        HUBS_BRIDGE_QA__QUESTION_BURST="3",
    )
    with running_server(env, log_dir=tmp) as process:
        yield process


def open_event(browser: Any, server: ServerProcess, event: str) -> Any:
    page = new_page(browser)
    page.goto(server.url + f"/e/{event}")
    expect(page.locator("#conn")).to_have_attribute("data-state", "open")
    return page


def question(page: Any, text: str) -> Any:
    return page.locator("#questions li.question", has=page.locator(".question-text", has_text=text))


def test_backoff_grows_until_a_session_stays_open(
    browser: Any, server: ServerProcess, event: str
) -> None:
    page = open_event(browser, server, event)
    result = page.evaluate(
        """async () => {
        const { Live, reconnectDelay } = await import('/static/js/live.js');
        const top = () => 0.999999;
        const pure = {
          ceilings: [0, 1, 2, 3, 4, 5, 6, 10].map(
            (a) => Math.round(reconnectDelay(a, {code: 1006}, top))),
          slow: reconnectDelay(3, {code: 4008}, top),
          visitors: reconnectDelay(0, {code: 4429, reason: 'rate_limited_visitors'}, () => 0),
          errors: reconnectDelay(0, {code: 1008, reason: 'too_many_errors'}, () => 0),
        };
        // The real close handling, without sockets: every close after a session that stayed
        // open only briefly makes the next ceiling larger.
        const random = Math.random;
        Math.random = top;
        const live = new Live({event: 'x', outbox: false});
        const delays = [];
        live.connect = (delay) => delays.push(Math.round(delay));
        live.openedAt = Date.now() - 60000; // a long session just ended
        for (let i = 0; i < 5; i++) {
          live.ws = {};
          live.closed(live.ws, {code: 1006});
        }
        live.openedAt = Date.now() - 60000; // connected again, long enough: start over
        live.ws = {};
        live.closed(live.ws, {code: 1006});
        Math.random = random;
        return {pure, delays};
    }"""
    )
    pure = result["pure"]
    assert pure["ceilings"] == [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
    assert pure["slow"] <= 500
    assert pure["visitors"] >= 60000
    assert pure["errors"] >= 120000
    assert result["delays"] == [1000, 2000, 4000, 8000, 16000, 1000]
    page.context.close()


def test_pong_watchdog_gives_up_a_silent_socket(
    browser: Any, server: ServerProcess, event: str
) -> None:
    page = open_event(browser, server, event)
    page.evaluate(
        """async (event) => {
        const { Live, pongOverdue } = await import('/static/js/live.js');
        window.__pure = [
          pongOverdue(0, 0, 50000, 10000),        // no ping yet
          pongOverdue(1000, 1500, 50000, 10000),  // answered
          pongOverdue(1000, 0, 10999, 10000),     // still within the time
          pongOverdue(1000, 0, 11000, 10000),     // overdue
        ];
        const make = (drop) => {
          const record = {states: [], sockets: new Set()};
          const live = new Live({event, outbox: false, pingMs: 150, pongTimeoutMs: 400,
            onState: (s) => { record.states.push(s); if (live.ws) record.sockets.add(live.ws); }});
          if (drop) {
            const receive = live.receive.bind(live);
            live.receive = (frame) => (frame.type === 'pong' ? undefined : receive(frame));
          }
          record.live = live;
          live.start();
          return record;
        };
        window.__silent = make(true);   // a half-open socket: pings go out, no pong comes back
        window.__healthy = make(false);
    }""",
        event,
    )
    assert page.evaluate("window.__pure") == [False, False, False, True]
    # The silent socket is given up (and a new one opened) without waiting for a close.
    page.wait_for_function(
        "() => window.__silent.states.includes('down') && window.__silent.live.connected"
        " && window.__silent.sockets.size >= 2",
        timeout=8_000,
    )
    assert page.evaluate("window.__healthy.states") == ["connecting", "open"]
    assert page.evaluate("window.__healthy.live.connected")
    page.evaluate("window.__silent.live.stop(); window.__healthy.live.stop()")
    assert page.js_errors == []
    page.context.close()


def test_stop_removes_the_online_listener(browser: Any, server: ServerProcess, event: str) -> None:
    page = open_event(browser, server, event)
    count = page.evaluate(
        """async (event) => {
        const { Live } = await import('/static/js/live.js');
        let online = 0;
        const add = window.addEventListener, remove = window.removeEventListener;
        window.addEventListener = function (type, ...rest) {
          if (type === 'online') online += 1;
          return add.call(this, type, ...rest);
        };
        window.removeEventListener = function (type, ...rest) {
          if (type === 'online') online -= 1;
          return remove.call(this, type, ...rest);
        };
        for (let i = 0; i < 3; i++) {
          const live = new Live({event, outbox: false});
          live.start();
          live.start();
          live.stop();
        }
        window.addEventListener = add;
        window.removeEventListener = remove;
        return online;
    }""",
        event,
    )
    assert count == 0
    page.context.close()


def test_questions_over_the_rate_limit_all_arrive_once(
    browser: Any, server: ServerProcess, event: str
) -> None:
    anna = open_event(browser, server, event)
    ben = open_event(browser, server, event)
    texts = [f"Frage {n} ohne Netz" for n in range(1, 6)]
    anna.context.set_offline(True)
    # The page gives its socket up on the browser's "offline" event.
    expect(anna.locator("#conn")).not_to_have_attribute("data-state", "open")
    for text in texts:
        anna.locator("#ask-text").fill(text)
        anna.locator("#ask-submit").click()
    expect(anna.locator("#outbox li")).to_have_count(5)
    anna.context.set_offline(False)
    expect(anna.locator("#conn")).to_have_attribute("data-state", "open", timeout=15_000)
    # Three at once (the burst); the other two after retry_after_ms, with the same ids.
    for text in texts:
        expect(question(ben, text)).to_have_count(1, timeout=15_000)
        expect(question(anna, text)).to_have_count(1)
    assert anna.evaluate(f"localStorage.getItem('hb_outbox_{event}')") is None
    assert anna.evaluate("window.__hbLive.outbox().length") == 0
    expect(anna.locator("#ask-text")).to_have_value("")
    expect(anna.locator("#ask-error")).to_have_text("")
    listed = call(server, "GET", f"/api/events/{event}/questions")
    items = listed["questions"] if isinstance(listed, dict) else listed
    for text in texts:
        assert sum(1 for q in items if q["text"] == text) == 1
    anna.context.close()
    ben.context.close()


def test_a_question_refused_after_a_reload_comes_back_into_the_field(
    browser: Any, server: ServerProcess, event: str
) -> None:
    page = open_event(browser, server, event)
    too_long = "Viel zu lang " + "x" * 600
    page.evaluate(
        """([key, text]) => localStorage.setItem(key, JSON.stringify([
          {type: 'ask', text, client_msg_id: 'reload-refused-1', room: null,
           anonymous: false}]))""",
        [f"hb_outbox_{event}", too_long],
    )
    page.reload()
    expect(page.locator("#ask-text")).to_have_value(too_long)
    expect(page.locator("#ask-error")).to_contain_text("zu lang")
    page.locator("#lang-switch").click()
    expect(page.locator("#ask-error")).to_contain_text("too long")
    assert page.evaluate(f"localStorage.getItem('hb_outbox_{event}')") is None
    page.context.close()


def test_an_ask_dropped_by_the_frame_rate_is_sent_again(
    browser: Any, server: ServerProcess, event: str
) -> None:
    page = open_event(browser, server, event)
    result = page.evaluate(
        """async () => {
        const live = window.__hbLive;
        const codes = [];
        const receive = live.receive.bind(live);
        live.receive = (frame) => {
          if (frame.type === 'error') codes.push(frame.code);
          return receive(frame);
        };
        // The burst is 40 frames: the ask after 42 pings is dropped with an error without ref.
        for (let i = 0; i < 42; i++) live.ws.send('{"type":"ping","t":null}');
        const answer = live.ask('Frage trotz Drossel')
          .then((ack) => ack.question.status, (err) => err.code);
        const timeout = new Promise((resolve) => setTimeout(() => resolve('stuck'), 5000));
        return {outcome: await Promise.race([answer, timeout]), codes};
    }"""
    )
    assert "rate_limited" in result["codes"], result
    assert result["outcome"] == "approved", result
    expect(question(page, "Frage trotz Drossel")).to_have_count(1)
    expect(page.locator("#list-error")).to_have_text("")
    page.context.close()


def test_a_written_announce_is_not_sent_twice_after_a_reconnect(
    browser: Any, server: ServerProcess, event: str
) -> None:
    token = moderator_token(server, event)
    page = open_event(browser, server, event)
    page.evaluate(
        """async ([event, token]) => {
        const { Live } = await import('/static/js/live.js');
        window.__mod = new Live({event, token, outbox: false});
        window.__mod.start();
    }""",
        [event, token],
    )
    page.wait_for_function("() => window.__mod.connected && window.__mod.role === 'moderator'")
    # Written, then the socket breaks before the ack: the outcome is unknown.
    page.evaluate(
        """() => {
        const live = window.__mod;
        window.__first = live.announce('Nur einmal bitte').then(() => 'ack', (err) => err.code);
        live.ws.close();
    }"""
    )
    page.wait_for_function("() => window.__mod.connected")
    assert page.evaluate("window.__first") == "outcome_unknown"
    # Never written (no connection): sent after the reconnect, once.
    page.context.set_offline(True)
    page.wait_for_function("() => !window.__mod.connected")
    page.evaluate(
        "() => { window.__second = window.__mod.announce('Erst später gesendet')"
        ".then(() => 'ack', (err) => err.code); }"
    )
    page.context.set_offline(False)
    page.wait_for_function("() => window.__mod.connected", timeout=15_000)
    assert page.evaluate("window.__second") == "ack"
    texts = page.evaluate(
        """async (event) => {
        const { Live } = await import('/static/js/live.js');
        return await new Promise((resolve) => {
          const fresh = new Live({event, outbox: false, onWelcome: (snapshot) => {
            fresh.stop();
            resolve(snapshot.qa.announcements.map((a) => a.text));
          }});
          fresh.start();
        });
    }""",
        event,
    )
    assert texts.count("Nur einmal bitte") == 1, texts
    assert texts.count("Erst später gesendet") == 1, texts
    page.evaluate("window.__mod.stop()")
    page.context.close()
