"""Texts of the pages in German (default) and English, from ``i18n/*.toml``.

Each file holds ``key = { de = "...", en = "..." }``; a key is used with its
file's name in front (``visitor.ask.label`` is ``ask.label`` in
``visitor.toml``), so each page owns its file and keys never collide. Texts
may hold ``{name}`` placeholders, filled in by the page script.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Lang = Literal["de", "en"]
LANGS: tuple[Lang, ...] = ("de", "en")
DEFAULT_LANG: Lang = "de"
LANG_COOKIE = "hb_lang"
I18N_DIR = Path(__file__).parent / "i18n"


class CatalogueError(ValueError):
    """A text file is malformed or a text lacks a language."""


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Every text of every page: ``key -> {lang: text}``."""

    texts: Mapping[str, Mapping[Lang, str]]

    def text(self, key: str, lang: Lang) -> str:
        try:
            return self.texts[key][lang]
        except KeyError:
            raise KeyError(f"no text {key!r} in {lang}") from None

    def section(self, *files: str) -> dict[str, dict[Lang, str]]:
        """The texts of some files (``common``, ``visitor``...), for a page's script."""
        prefixes = tuple(f + "." for f in files)
        return {k: dict(v) for k, v in self.texts.items() if k.startswith(prefixes)}


def load_catalogue(directory: Path = I18N_DIR) -> Catalogue:
    texts: dict[str, dict[Lang, str]] = {}
    for path in sorted(directory.glob("*.toml")):
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        for key, value in _flatten(data):
            if not isinstance(value, dict) or set(value) != set(LANGS):
                raise CatalogueError(f"{path.name}: {key} needs exactly de and en texts")
            if not all(isinstance(v, str) and v for v in value.values()):
                raise CatalogueError(f"{path.name}: {key} has an empty or non-text value")
            texts[f"{path.stem}.{key}"] = {lang: value[lang] for lang in LANGS}
    return Catalogue(texts)


def _flatten(data: Mapping[str, object], prefix: str = "") -> list[tuple[str, object]]:
    """Dotted keys in TOML nest tables; a table with ``de``/``en`` is one text."""
    out: list[tuple[str, object]] = []
    for key, value in data.items():
        if isinstance(value, dict) and not (set(value) & set(LANGS)):
            out.extend(_flatten(value, f"{prefix}{key}."))
        else:
            out.append((prefix + key, value))
    return out


def choose_lang(cookie: str | None) -> Lang:
    """German unless the person chose English with the switch (remembered in a cookie).

    The browser's Accept-Language is deliberately not consulted: the pages are
    German first, and a visitor on a borrowed or English-set device should see
    the same page as everyone else in the room.
    """
    return "en" if cookie == "en" else DEFAULT_LANG
