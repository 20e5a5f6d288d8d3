"""The look shared by the pages: one file of design tokens, icons from the sprite under the
Content-Security-Policy, a light audience theme and a dark stage theme, visible focus,
real tabs, and a question that glides up when voted (not with reduced motion)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, new_page
from tests.browser.pages import ask, open_event, question
from tests.harness.server_process import ServerProcess

PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
}

# Every CSP violation a page reports (an icon sprite or a style the policy blocks).
WATCH_CSP = (
    "window.__csp = []; document.addEventListener('securitypolicyviolation',"
    " (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
)

TOKENS_JS = """() => {
  const css = getComputedStyle(document.documentElement);
  const body = getComputedStyle(document.body);
  const names = ["--fg", "--muted", "--bg", "--card", "--line", "--brand", "--brand-dark", "--ok",
    "--warn-bg", "--warn-fg", "--danger", "--info-bg", "--focus", "--radius", "--gap",
    "--fs-base", "--fs-md", "--sp-4", "--dur-2", "--target"];
  return {
    missing: names.filter((n) => !body.getPropertyValue(n).trim()),
    sheets: [...document.styleSheets].map((s) => (s.href || "").split("/").pop()),
    background: body.backgroundColor,
    fsMd: css.getPropertyValue("--fs-md").trim(),
  };
}"""

ICONS_JS = """() => [...document.querySelectorAll("svg.icon use")]
  .filter((u) => u.closest("svg").getClientRects().length)
  .map((u) => ({href: u.getAttribute("href"), width: u.getBBox().width}))"""


def luminance(css_rgb: str) -> float:
    """Relative luminance (WCAG) of an ``rgb(r, g, b)`` colour."""
    channels = [int(c) / 255 for c in css_rgb[css_rgb.index("(") + 1 : -1].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_every_page_uses_the_one_token_file_and_its_theme(
    browser: Any, server: ServerProcess, event: str
) -> None:
    pages = {
        "landing": "/",
        "visitor": f"/e/{event}",
        "stage": f"/stage/{event}/info",
        "moderator": f"/m/{event}",
        "admin": "/admin",
        "not_found": "/e/gibt-es-nicht",
    }
    seen = {}
    for name, path in pages.items():
        page = new_page(browser)
        page.add_init_script(WATCH_CSP)
        page.goto(server.url + path)
        page.wait_for_load_state("load")
        tokens = page.evaluate(TOKENS_JS)
        assert tokens["sheets"][:2] == ["tokens.css", "base.css"], (name, tokens["sheets"])
        assert tokens["missing"] == [], (name, tokens["missing"])
        assert tokens["fsMd"] == "1.125rem", name
        assert page.evaluate("window.__csp") == [], name
        seen[name] = luminance(tokens["background"])
        page.context.close()
    # A light ground for the audience and staff, a dark one for the projector.
    assert all(seen[name] > 0.8 for name in pages if name != "stage"), seen
    assert seen["stage"] < 0.02, seen


def test_icons_come_from_the_sprite_under_the_csp(
    browser: Any, server: ServerProcess, event: str
) -> None:
    page = new_page(browser)
    page.add_init_script(WATCH_CSP)
    sprite: list[int] = []
    page.on("response", lambda r: sprite.append(r.status) if "icons.svg" in r.url else None)
    page.goto(server.url + f"/e/{event}")
    expect(page.locator("#conn")).to_have_attribute("data-state", "open")
    ask(page, "Wird das Symbol gezeichnet?")
    expect(page.locator("#questions li.question .question-vote svg.icon")).to_be_visible()
    page.wait_for_function(
        "() => [...document.querySelectorAll('svg.icon use')].some((u) => u.getBBox().width > 0)"
    )
    icons = page.evaluate(ICONS_JS)
    assert len(icons) >= 5, icons
    assert all(i["href"].startswith("/static/img/icons.svg#i-") for i in icons), icons
    assert all(i["width"] > 0 for i in icons), [i for i in icons if not i["width"]]
    assert sprite and set(sprite) <= {200, 304}, sprite  # served here, one request
    assert page.evaluate("window.__csp") == []

    stage = new_page(browser, viewport={"width": 1280, "height": 720})
    stage.add_init_script(WATCH_CSP)
    stage.goto(server.url + f"/stage/{event}/info")
    expect(stage.locator(".stage-empty-icon")).to_be_visible()
    stage.wait_for_function(
        "() => document.querySelector('.stage-empty-icon use').getBBox().width > 0"
    )
    assert stage.evaluate("window.__csp") == []
    page.context.close()
    stage.context.close()


def test_focus_is_visible_and_the_tabs_follow_the_keys(
    browser: Any, server: ServerProcess, event: str
) -> None:
    page = open_event(browser, server, event, **PHONE)
    ask(page, "Erste Frage zum Fokus")
    expect(page.locator("#questions li.question")).to_have_count(1)
    # The sort order: real tabs, the arrow keys move and choose.
    top = page.get_by_role("tab", name="Beliebteste")
    new = page.get_by_role("tab", name="Neueste")
    top.focus()
    page.keyboard.press("ArrowRight")
    expect(new).to_be_focused()
    expect(new).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel", name="Neueste")).to_be_visible()
    assert new.get_attribute("tabindex") == "0" and top.get_attribute("tabindex") == "-1"
    page.keyboard.press("Home")
    expect(top).to_have_attribute("aria-selected", "true")

    # Every stop of the keyboard shows where it is: the skip link past the list appears.
    def outline() -> dict[str, Any]:
        return dict(
            page.evaluate(
                "() => { const a = document.activeElement, s = getComputedStyle(a);"
                " return {id: a.id, cls: a.className.baseVal ?? a.className,"
                " style: s.outlineStyle, width: parseFloat(s.outlineWidth),"
                " visible: a.getBoundingClientRect().width > 1}; }"
            )
        )

    page.keyboard.press("Tab")
    skip = outline()
    assert skip["id"] == "skip-list" and skip["visible"], skip
    page.keyboard.press("Tab")
    vote = outline()
    assert vote["cls"] == "question-vote", vote
    for stop in (skip, vote):
        assert stop["style"] != "none" and stop["width"] >= 2, stop
    # The skip link jumps past the list.
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#after-questions")).to_be_focused()

    # The page's parts on a phone: tabs too.
    qa = page.get_by_role("tab", name="Fragen")
    qa.focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Räume")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#rooms")).to_be_visible()
    expect(page.locator("#ask-form")).to_be_hidden()
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#ask-form")).to_be_visible()
    assert_accessible(page)
    assert page.js_errors == []
    page.context.close()


MOVED_JS = """() => document.getAnimations()
  .filter((a) => a.effect && a.effect.target && a.effect.target.matches("li.question")).length"""


def test_a_voted_question_glides_up_unless_motion_is_reduced(
    browser: Any, server: ServerProcess, event: str
) -> None:
    page = open_event(browser, server, event)
    texts = ["Die älteste Frage", "Eine mittlere Frage", "Die neueste Frage"]
    for text in texts:
        ask(page, text)
    items = page.locator("#questions li.question .question-text")
    expect(items).to_have_text(texts[::-1])  # equal votes: newest first
    # The oldest gets a vote: it moves to the top, and it glides there (FLIP).
    question(page, texts[0]).locator("button.question-vote").click()
    expect(items.first).to_have_text(texts[0])
    page.wait_for_function(f"() => ({MOVED_JS})() > 0")
    # With reduced motion the same move happens at once.
    page.emulate_media(reduced_motion="reduce")
    page.wait_for_function(f"() => ({MOVED_JS})() === 0")  # the last glide has ended
    question(page, texts[1]).locator("button.question-vote").click()
    expect(items.first).to_have_text(texts[1])  # one vote each: the newer first
    assert page.evaluate(MOVED_JS) == 0
    assert page.evaluate("document.getAnimations().length") == 0
    # The vote button: a 44 px target with its count, named with the count.
    button = question(page, texts[1]).locator("button.question-vote")
    box = button.bounding_box()
    assert box is not None and box["width"] >= 44 and box["height"] >= 44, box
    expect(button).to_have_accessible_name("Unterstützen, 1 Stimme")
    assert page.js_errors == []
    page.context.close()
