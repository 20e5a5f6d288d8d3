"""Driving the pages in the browser tests: open one, ask, find a question, sign in.

Shared by the browser test modules, which never import from each other.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import new_page
from tests.harness.server_process import ServerProcess


def open_event(browser: Any, server: ServerProcess, event: str, **options: Any) -> Any:
    """The visitor page of ``event`` in a fresh browser context, once it is connected."""
    page = new_page(browser, **options)
    page.goto(server.url + f"/e/{event}")
    expect(page.locator("#conn")).to_have_attribute("data-state", "open")
    return page


def ask(page: Any, text: str) -> None:
    page.locator("#ask-text").fill(text)
    page.locator("#ask-submit").click()


def question(page: Any, text: str) -> Any:
    return page.locator("#questions li.question", has=page.locator(".question-text", has_text=text))


def signed_in(browser: Any, server: ServerProcess, event: str, token: str, **options: Any) -> Any:
    """The moderator console of ``event``, signed in with ``token``."""
    page = new_page(browser, **options)
    page.goto(server.url + f"/m/{event}")
    page.locator("#signin-token").fill(token)
    page.locator("#signin-submit").click()
    expect(page.locator("#console")).to_be_visible()
    return page


# ---- live polls ----


def console_poll(console: Any, question_text: str) -> Any:
    """A poll in the moderator console's list, by its question."""
    return console.locator(
        "#poll-admin-list li.mod-poll",
        has=console.locator(".mod-poll-question", has_text=question_text),
    )


def draft_poll(console: Any, question_text: str, options: list[str], kind: str = "single") -> Any:
    """Fill the console's draft form and save it (no check that it was saved)."""
    form = console.locator("#poll-form")
    form.locator("#poll-question").fill(question_text)
    form.locator("#poll-kind").select_option(kind)
    rows = form.locator("#poll-options input")
    while rows.count() < len(options):
        form.locator("#poll-option-add").click()
    for index, option in enumerate(options):
        rows.nth(index).fill(option)
    form.locator("#poll-save").click()
    return console_poll(console, question_text)


def visitor_poll(page: Any, question_text: str) -> Any:
    """A poll on the visitor page, by its question."""
    return page.locator(
        "#polls li.poll", has=page.locator(".poll-question", has_text=question_text)
    )


def answer_poll(page: Any, question_text: str, *choices: str, text: str | None = None) -> Any:
    """Choose options by their label (or type a text) and send; the poll's locator."""
    poll = visitor_poll(page, question_text)
    if text is not None:
        poll.locator("input[type=text]").fill(text)
    for choice in choices:
        poll.locator("label", has_text=choice).first.click()
    poll.locator(".poll-submit").click()
    return poll


def bar_counts(scope: Any) -> Any:
    """The counts of a poll's bars (for ``expect(...).to_have_text([...])``)."""
    return scope.locator(".poll-bar-count")


# ---- the moderator console ----


def socket_question(
    server: ServerProcess, event: str, text: str, room: str | None = None, name: str | None = None
) -> str:
    """A question from a new visitor's websocket (each its own: no rate limit); its id."""
    import json
    import secrets

    from websockets.sync.client import connect

    with connect(server.url.replace("http://", "ws://") + "/ws") as ws:
        ws.send(json.dumps({"type": "hello", "event": event, "room": room}))
        assert json.loads(ws.recv(timeout=5))["type"] == "welcome"
        ref = secrets.token_hex(8)
        ws.send(
            json.dumps(
                {"type": "ask", "text": text, "client_msg_id": ref, "room": room, "name": name}
            )
        )
        while True:
            frame = json.loads(ws.recv(timeout=5))
            if frame.get("ref") == ref:
                assert frame["type"] == "ack", frame
                return str(frame["question"]["id"])


def queue_item(console: Any, question_id: str) -> Any:
    """A question of the moderator console's queue, by its id."""
    return console.locator(f'li.question[data-id="{question_id}"]')


def questions_in_first_px(console: Any, height: int = 800) -> list[str]:
    """The ids of the queue's questions whose whole card lies in its first ``height`` px."""
    return list(
        console.evaluate(
            """(height) => {
                const top = document.getElementById("queue-sections").getBoundingClientRect().top;
                return [...document.querySelectorAll("#queue-sections li.question")]
                    .filter((node) => {
                        const box = node.getBoundingClientRect();
                        return box.height > 0 && box.bottom - top <= height;
                    })
                    .map((node) => node.dataset.id);
            }""",
            height,
        )
    )


# ---- many questions at once ----

_SEED_JS = """
async ({event, texts}) => {
  const ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/ws");
  const acks = new Set();
  const errors = [];
  let welcome = null;
  ws.onmessage = (message) => {
    const frame = JSON.parse(message.data);
    if (frame.type === "welcome") welcome = frame;
    else if (frame.type === "ack") acks.add(frame.ref);
    else if (frame.type === "error") errors.push(frame);
  };
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  ws.send(JSON.stringify({type: "hello", event, room: null}));
  const until = async (check, what) => {
    const end = Date.now() + 60000;
    while (!check()) {
      if (errors.length) throw new Error(what + ": " + JSON.stringify(errors[0]));
      if (Date.now() > end) throw new Error("timed out waiting for " + what);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await until(() => welcome, "the welcome");
  const ids = [];
  texts.forEach((text, i) => {
    const id = "seed-" + i + "-" + Math.random().toString(36).slice(2);
    ids.push(id);
    ws.send(JSON.stringify({type: "ask", text, client_msg_id: id}));
  });
  await until(() => ids.every((id) => acks.has(id)), "the questions' acks");
  ws.close();
  return ids.length;
}
"""


def seed_questions(page: Any, event: str, texts: list[str]) -> int:
    """Ask ``texts`` in ``event`` over one raw socket of ``page`` (any page of the server,
    for its origin). The server must allow that many questions and frames per visitor
    (``HUBS_BRIDGE_QA__QUESTION_BURST``, ``HUBS_BRIDGE_REALTIME__FRAMES_BURST``)."""
    return int(page.evaluate(_SEED_JS, {"event": event, "texts": texts}))


_VOTER_JS = """
async ({event, count, perSecond}) => {
  // One visitor votes for `count` questions of the event, `perSecond` a second, in an
  // order that moves questions from far down the list to the top.
  const ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/ws");
  let welcome = null;
  const acks = new Set();
  ws.onmessage = (message) => {
    const frame = JSON.parse(message.data);
    if (frame.type === "welcome") welcome = frame;
    else if (frame.type === "ack") acks.add(frame.ref);
  };
  await new Promise((resolve) => { ws.onopen = resolve; });
  ws.send(JSON.stringify({type: "hello", event, room: null}));
  while (!welcome) await new Promise((r) => setTimeout(r, 20));
  const ids = welcome.snapshot.qa.questions.map((q) => q.id).reverse();
  const sent = [];
  for (let i = 0; i < count && i < ids.length; i++) {
    const ref = "vote-" + i;
    sent.push(ref);
    ws.send(JSON.stringify({type: "vote", question: ids[(i * 37) % ids.length], up: true, ref}));
    await new Promise((r) => setTimeout(r, 1000 / perSecond));
  }
  const end = Date.now() + 20000;
  while (!sent.every((ref) => acks.has(ref)) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 20));
  }
  ws.close();
  return acks.size;
}
"""


def start_voting(page: Any, event: str, count: int, per_second: float) -> Any:
    """Start one visitor voting ``count`` times over a raw socket of ``page`` (not awaited:
    ``page.evaluate("window.__hbVoting")`` resolves to the number acknowledged)."""
    page.evaluate(
        "(args) => { window.__hbVoting = (" + _VOTER_JS + ")(args); }",
        {"event": event, "count": count, "perSecond": per_second},
    )
    return page


def menu_action(console: Any, question_id: str, action: str, mode: str | None = None) -> None:
    """Choose ``action`` (and ``mode``) in the menu of a question of the console's queue."""
    row = queue_item(console, question_id)
    row.locator("button.question-more").click()
    expect(row.locator("button.question-more")).to_have_attribute("aria-expanded", "true")
    chosen = f'[role="menuitem"][data-action="{action}"]'
    if mode:
        chosen += f'[data-mode="{mode}"]'
    row.locator(f'[role="menu"] {chosen}').click()


# ---- the staff dashboard ----


def admin_signed_in(browser: Any, server: ServerProcess, **options: Any) -> Any:
    """The staff dashboard /admin, signed in with the tests' staff token."""
    from tests.browser.conftest import STAFF

    page = new_page(browser, **options)
    page.goto(server.url + "/admin")
    page.locator("#signin-token").fill(STAFF)
    page.locator("#signin-submit").click()
    page.locator("#dashboard").wait_for()
    return page


def admin_open_event(page: Any, slug: str) -> None:
    """Open an event of the dashboard's list (its sections below the list)."""
    page.locator(f'li[data-event="{slug}"] .event-open').click()
    page.locator("#event-detail").wait_for()


def admin_section(page: Any, name: str) -> Any:
    """Show a section of the open event (details, rooms, hubs, qa, attendance, exports)."""
    page.locator(f"#tab-{name}").click()
    panel = page.locator(f"#panel-{name}")
    expect(panel).to_be_visible()
    return panel


# ---- the visitor page's parts that are tucked away ----


def ask_details(page: Any) -> Any:
    """Open the ask box's optional details (name, room, rules); the <details> element."""
    details = page.locator("#ask-more")
    if not details.evaluate("d => d.open"):
        details.locator("summary").click()
    return details


def show_rooms(page: Any) -> Any:
    """The rooms of the visitor page: on a phone they are a tab of their own."""
    tab = page.locator("#tab-rooms")
    if tab.is_visible():
        tab.click()
    return page.locator("#rooms")


# ---- the dashboard's scene library ----

GLB_TYPE = "model/gltf-binary"


def choose_scene_files(page: Any, glb: bytes, name: str, preview: bytes | None = None) -> None:
    """Choose a scene (and a preview PNG) with the upload form's file buttons."""
    page.locator("#scene-glb").set_input_files(
        files=[{"name": name, "mimeType": GLB_TYPE, "buffer": glb}]
    )
    if preview is not None:
        page.locator("#scene-preview").set_input_files(
            files=[{"name": "vorschau.png", "mimeType": "image/png", "buffer": preview}]
        )


def drop_scene_files(page: Any, glb: bytes, name: str, preview: bytes | None = None) -> None:
    """Drag files onto the upload form and drop them there (as a file manager would)."""
    page.evaluate(
        """([glb, name, png]) => {
            const files = new DataTransfer();
            const file = (bytes, called, type) => new File([new Uint8Array(bytes)], called, {type});
            files.items.add(file(glb, name, "model/gltf-binary"));
            if (png) files.items.add(file(png, "vorschau.png", "image/png"));
            const form = document.getElementById("scene-upload-form");
            const options = {dataTransfer: files, bubbles: true, cancelable: true};
            for (const type of ["dragenter", "dragover", "drop"]) {
                form.dispatchEvent(new DragEvent(type, options));
            }
        }""",
        [list(glb), name, list(preview) if preview is not None else None],
    )


def scene_card(page: Any, slug: str) -> Any:
    """A scene of the dashboard's gallery, by its short name."""
    return page.locator(f'#scenes li.scene-card[data-scene="{slug}"]')


def wait_image_loaded(page: Any, image: Any) -> None:
    """Wait until an <img> has loaded a picture (not a broken image)."""
    page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )


# ---- the console's filters ----


def choose_filter(console: Any, name: str) -> Any:
    """Choose a filter of the console's queue by its tab (pending, approved, answered,
    rejected, all); the tab's locator."""
    tab = console.locator(f"#filter-{name}")
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true")
    return tab


def shown_questions(console: Any) -> list[str]:
    """The ids of the queue's questions shown now (the chosen filter and search), in order."""
    return list(
        console.evaluate(
            """() => [...document.querySelectorAll("#queue-sections li.question")]
                .filter((node) => node.getClientRects().length > 0)
                .map((node) => node.dataset.id)"""
        )
    )
