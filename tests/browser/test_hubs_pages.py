"""The Hubs side seen in the pages: people in a (simulated) Hubs room, their raised hands and
their `/frage` lines reach the moderator console, and the pinned question goes back into
the room's chat."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from hubs_bridge.hubs.frames import PhxMessage
from tests.browser.conftest import call, make_event, moderator_token
from tests.browser.hubs_thread import SimThread
from tests.browser.pages import signed_in
from tests.harness.server_process import ServerProcess
from tests.harness.waiting import eventually_sync


class ChatLog:
    """Listens to a simulated room's broadcasts as a joined channel would (in the sim's loop)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def deliver(self, frame: PhxMessage) -> None:
        if frame.event == "message" and frame.payload.get("type") == "chat":
            self.lines.extend(str(frame.payload.get("body")).split("\n"))


def test_hubs_people_hands_questions_and_the_pin_back_in_the_chat(
    browser: Any, server: ServerProcess, hubs: SimThread
) -> None:
    event = make_event(server, provision=True)
    hub_id = call(server, "GET", f"/api/events/{event}")["rooms"][1]["hubs"]["hub_id"]
    chat = ChatLog()
    hubs.call(hubs.sim.room(hub_id).subscribers.__setitem__, "test-chat-log", chat)
    console = signed_in(browser, server, event, moderator_token(server, event))

    clara = hubs.call(hubs.sim.add_avatar, hub_id, "Clara", "vr")
    hubs.call(clara.enter)
    hubs.call(clara.raise_hand)
    # The bridge joins the new rooms within its sync interval; then the counts and the hand.
    expect(console.locator("#hands")).to_contain_text("Clara", timeout=20_000)
    expect(console.locator('#attendance [data-room="daten"]')).to_contain_text("VR")

    hubs.call(clara.say, "/frage Gibt es die Folien hinterher?")
    question = console.locator("li.question", has_text="Gibt es die Folien hinterher?")
    expect(question).to_have_attribute("data-status", "approved", timeout=10_000)
    expect(question.locator(".question-source")).to_have_attribute("data-source", "hubs")
    expect(question).to_contain_text("Clara")  # the event shows Hubs names (hubs_names)

    question.locator('button[data-action="pin"]').click()
    expect(question).to_have_attribute("data-pinned", "true")

    def said(marker: str) -> list[str]:
        return [line for line in hubs.call(list, chat.lines) if marker in line]

    # Into the room chat: the confirmation of her question, then the pin (paced, 2 s apart).
    eventually_sync(lambda: said("Angepinnte Frage"), what="the pin in the room chat", timeout=15)
    assert "Gibt es die Folien hinterher?" in said("Angepinnte Frage")[0]
    assert said("Danke! Deine Frage ist angekommen.")

    hubs.call(clara.lower_hand)
    expect(console.locator("#hands")).not_to_contain_text("Clara", timeout=10_000)
    hubs.call(clara.leave)
    assert console.js_errors == []
    console.context.close()


def test_a_moderator_mutes_and_removes_a_person_in_hubs(
    browser: Any, server: ServerProcess, hubs: SimThread
) -> None:
    event = make_event(server, provision=True)
    hub_id = call(server, "GET", f"/api/events/{event}")["rooms"][1]["hubs"]["hub_id"]
    console = signed_in(browser, server, event, moderator_token(server, event))
    dora = hubs.call(hubs.sim.add_avatar, hub_id, "Dora")
    person = console.locator("#hubs-people li.hubs-person", has_text="Dora")
    mute = person.locator('button[data-action="mute"]')
    # Enabled once the bridge has joined as the room's owner.
    expect(mute).to_be_enabled(timeout=20_000)

    dialogs: list[str] = []

    def accept(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    console.on("dialog", accept)
    mute.click()
    expect(person.locator(".hubs-outcome")).to_have_text(
        "Hubs hat es übernommen: Dora wird stummgeschaltet.", timeout=15_000
    )
    assert dialogs == ["Dora im Hubs-Raum stummschalten?"]
    muted = hubs.call(list, hubs.sim.muted)
    assert [m for m in muted if m[0] == hub_id and m[2] == dora.session_id]

    person.locator('button[data-action="kick"]').click()
    expect(console.locator("#hubs-people")).not_to_contain_text("Dora", timeout=15_000)
    assert any(k[2] == dora.session_id for k in hubs.call(list, hubs.sim.kicked))
    assert console.js_errors == []
    console.context.close()
