"""Static checks of the pages: every text exists in both languages, no way to insert HTML,
no inline script or style that the Content-Security-Policy would (rightly) block."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hubs_bridge.web.pages.i18n import CatalogueError, choose_lang, load_catalogue
from hubs_bridge.web.pages.render import STATIC_DIR, TEMPLATES_DIR, json_block

CATALOGUE = load_catalogue()
JS_FILES = sorted((STATIC_DIR / "js").glob("*.js"))
TEMPLATES = sorted(TEMPLATES_DIR.glob("*.html"))

# t("key") / tn("key", n) in scripts, t("key") in templates, data-i18n="key" in both.
_KEY_PATTERNS = (
    re.compile(r"""\bt\(\s*["']([a-z0-9_.-]+)["']"""),
    re.compile(r"""\bdata-i18n=["']([a-z0-9_.-]+)["']"""),
    re.compile(r"""[:;]\s*([a-z]+\.[a-z0-9_.-]+)\s*(?=[;"'])"""),
)


def _used_keys(text: str) -> set[str]:
    keys: set[str] = set()
    for pattern in _KEY_PATTERNS[:2]:
        keys.update(pattern.findall(text))
    for attr in re.findall(r"""data-i18n-attr=["']([^"']+)["']""", text):
        keys.update(pair.split(":", 1)[1].strip() for pair in attr.split(";") if ":" in pair)
    return {k for k in keys if "." in k and not k.endswith(".")}


@pytest.mark.parametrize("path", JS_FILES + TEMPLATES, ids=lambda p: p.name)
def test_every_text_used_exists_in_both_languages(path: Path) -> None:
    missing = sorted(k for k in _used_keys(path.read_text()) if k not in CATALOGUE.texts)
    assert not missing, f"{path.name} uses texts that are not in i18n/*.toml: {missing}"


def test_plural_texts_have_both_forms() -> None:
    for path in JS_FILES:
        for key in re.findall(r"""\btn\(\s*["']([a-z0-9_.-]+)["']""", path.read_text()):
            assert f"{key}.one" in CATALOGUE.texts, f"{path.name}: {key}.one missing"
            assert f"{key}.other" in CATALOGUE.texts, f"{path.name}: {key}.other missing"


@pytest.mark.parametrize("path", JS_FILES, ids=lambda p: p.name)
def test_scripts_never_insert_html(path: Path) -> None:
    code = path.read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in code, f"{path.name} uses {sink}: build DOM nodes with el() instead"
    assert "new Function" not in code


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_templates_have_no_inline_script_or_style(path: Path) -> None:
    html = path.read_text()
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, f"inline script in {path.name}"
    assert not re.search(r"\sstyle=", html), f"inline style in {path.name}"
    assert not re.search(r"\son[a-z]+=", html), f"inline event handler in {path.name}"
    assert "|safe" not in html, f"{path.name} marks a value as safe HTML"


def test_catalogue_refuses_a_text_without_english(tmp_path: Path) -> None:
    (tmp_path / "x.toml").write_text('hello = { de = "Hallo" }\n')
    with pytest.raises(CatalogueError, match="hello"):
        load_catalogue(tmp_path)


def test_nested_keys_are_flattened(tmp_path: Path) -> None:
    (tmp_path / "x.toml").write_text(
        '[a]\nb = { de = "B", en = "Bee" }\n"c.d" = { de = "D", en = "Dee" }\n'
    )
    catalogue = load_catalogue(tmp_path)
    assert catalogue.text("x.a.b", "en") == "Bee"
    assert catalogue.text("x.a.c.d", "de") == "D"


def test_german_unless_english_was_chosen() -> None:
    assert choose_lang(None) == "de"
    assert choose_lang("en") == "en"
    assert choose_lang("fr") == "de"


def test_json_block_cannot_close_the_script_element() -> None:
    text = str(json_block({"q": "</script><script>alert(1)</script>&"}))
    assert "</" not in text and "<" not in text and "&" not in text


@pytest.mark.parametrize(
    ("template", "button"),
    [
        ("visitor.html", "ask-submit"),
        ("moderator.html", "signin-submit"),
        ("admin.html", "signin-submit"),
    ],
)
def test_forms_wait_for_their_script(template: str, button: str) -> None:
    """A click before the page's script has wired the form must not let the browser send it
    itself (the question in the URL, or the token to a route that does not take it)."""
    html = (TEMPLATES_DIR / template).read_text()
    tag = re.search(rf'<button[^>]*id="{button}"[^>]*>', html, re.S)
    assert tag is not None and " disabled" in tag.group(0)
