"""The manifest of a scene pack (``scene.toml``): titles, licence, attribution, capacity.

Example::

    licence = "CC0-1.0"
    attribution = "StadtLABOR Soest, hubs-bridge contributors"
    suggested_capacity = 24
    tags = ["foyer", "info"]
    [title]
    de = "Foyer"
    en = "Foyer"
    [description]
    de = "..."
    en = "..."

Staff write these files by hand, so every mistake becomes one line naming the
key as written in the file (``title.de: required, but missing``), and an
unknown key suggests the one probably meant (``license`` -> ``licence``).
"""

from __future__ import annotations

import difflib
import re
import tomllib
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    ValidationError,
    field_validator,
)

from hubs_bridge.errors import SceneError
from hubs_bridge.scenes.problems import Problem, shown

# An SPDX licence identifier (https://spdx.org/licenses/), or a LicenseRef- of one's own.
_SPDX_ID = re.compile(r"^(LicenseRef-)?[A-Za-z0-9][A-Za-z0-9.+-]{0,63}$")
_Text = StringConstraints(strip_whitespace=True, min_length=1)
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]


class Title(BaseModel):
    """A title in both languages of the event pages (German first)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    de: Annotated[str, _Text, Field(max_length=120)]
    en: Annotated[str, _Text, Field(max_length=120)]


class Description(BaseModel):
    """A description in German and English."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    de: Annotated[str, _Text, Field(max_length=2000)]
    en: Annotated[str, _Text, Field(max_length=2000)]


class SceneManifest(BaseModel):
    """The contents of one ``scene.toml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    licence: str
    attribution: Annotated[str, _Text, Field(max_length=500)]
    # Hubs caps rooms at 50 (PROTOCOL.md section 6); StrictInt refuses 24.0 and "24".
    suggested_capacity: Annotated[StrictInt, Field(ge=1, le=50)]
    tags: tuple[Tag, ...] = Field(default=(), max_length=20)
    title: Title
    description: Description | None = None

    @field_validator("licence")
    @classmethod
    def _spdx(cls, value: str) -> str:
        if not _SPDX_ID.match(value):
            raise ValueError(
                f"{value!r} is not an SPDX licence id such as 'CC0-1.0' or 'CC-BY-4.0'"
            )
        return value

    @field_validator("tags")
    @classmethod
    def _unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        repeated = sorted({tag for tag in value if value.count(tag) > 1})
        if repeated:
            raise ValueError(f"repeated tags: {', '.join(repeated)}")
        return value


class ManifestError(SceneError):
    """A ``scene.toml`` cannot be used; ``problems`` has one entry per mistake."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = tuple(problems)


_KNOWN_KEYS = (*SceneManifest.model_fields, *Title.model_fields)


def parse_manifest(data: bytes) -> SceneManifest:
    """Parse and validate the bytes of a ``scene.toml``; raise :class:`ManifestError`."""
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ManifestError([Problem("manifest_syntax", f"not UTF-8 (byte {exc.start})")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError([Problem("manifest_syntax", f"not valid TOML: {exc}")]) from None
    try:
        return SceneManifest.model_validate(raw)
    except ValidationError as exc:
        problems = [Problem("manifest_invalid", _describe(e)) for e in exc.errors()]
        raise ManifestError(problems) from None


def _describe(error: Any) -> str:
    """One line for one pydantic error, naming the key as written in the TOML file."""
    loc = ".".join(str(part) for part in error["loc"]) or "scene.toml"
    kind = error["type"]
    if kind == "missing":
        return f"{loc}: required, but missing"
    if kind == "extra_forbidden":
        last = str(error["loc"][-1])
        close = difflib.get_close_matches(last, _KNOWN_KEYS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"{loc}: unknown key{hint}"
    if kind == "value_error":
        return f"{loc}: {error['ctx']['error']}"
    value = error.get("input")
    got = "" if isinstance(value, dict) else f" (got {shown(value)})"
    message = _PLAIN_MESSAGES.get(kind) or error["msg"][:1].lower() + error["msg"][1:]
    return f"{loc}: {message}{got}"


# Pydantic speaks Python ("a valid tuple"); people editing TOML read these instead.
_PLAIN_MESSAGES = {
    "tuple_type": 'must be a list, like ["foyer", "info"]',
    "string_type": "must be a string in quotes",
    "int_type": "must be a whole number without quotes",
    "model_type": "must be a table with keys de and en",
}
