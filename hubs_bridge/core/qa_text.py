"""Question text: normalised, checked, and screened by the word filter. Pure.

Text is always plain text. It is never interpreted as HTML anywhere; the
checks here are about what a person can read, not about escaping.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from hubs_bridge.errors import FieldProblem, ValidationFailed

# Bidirectional embeddings, overrides and isolates (Unicode TR9): they can make
# a text read differently from how it is stored ("Trojan source").
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Zero-width characters that hide words from the filter and from readers;
# the zero-width joiner stays, emoji sequences need it.
ZERO_WIDTH = frozenset("\u200b\u200c\u2060\ufeff")
_ALLOWED_CONTROLS = frozenset("\n\t")
# Format characters emoji need: the zero-width joiner (family, professions) and the
# tag characters of subdivision flags. Every other format character is refused.
_EMOJI_FORMAT = frozenset("\u200d")


def _is_emoji_tag(char: str) -> bool:
    return "\U000e0020" <= char <= "\U000e007f"


def _without_format(text: str) -> str:
    """The text without invisible format characters, for matching only."""
    return "".join(c for c in text if unicodedata.category(c) != "Cf")


_SPACES = re.compile(r"[ \t]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def _problem(field: str, message: str, kind: str) -> FieldProblem:
    return {"field": field, "message": message, "type": kind}


def clean_text(raw: str, *, max_chars: int, field: str = "text") -> str:
    """NFC, trimmed, inner runs of spaces folded; refused if empty, too long or tricky.

    Length is counted in characters (code points after NFC), as people count.
    """
    text = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").replace("\r", "\n")
    for char in text:
        if char in BIDI_CONTROLS:
            raise ValidationFailed(
                "the text contains bidirectional control characters",
                code="text_bidi_control",
                details=[_problem(field, f"U+{ord(char):04X} is not allowed", "text_bidi_control")],
            )
        category = unicodedata.category(char)
        if (
            (category == "Cc" and char not in _ALLOWED_CONTROLS)
            or char in ZERO_WIDTH
            or (category == "Cf" and char not in _EMOJI_FORMAT and not _is_emoji_tag(char))
        ):
            raise ValidationFailed(
                "the text contains control or invisible characters",
                code="text_control_character",
                details=[
                    _problem(field, f"U+{ord(char):04X} is not allowed", "text_control_character")
                ],
            )
    text = _BLANK_LINES.sub(
        "\n\n", "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    )
    text = text.strip()
    if not text:
        raise ValidationFailed(
            "the text is empty", code="text_empty", details=[_problem(field, "empty", "text_empty")]
        )
    if len(text) > max_chars:
        raise ValidationFailed(
            f"the text may have at most {max_chars} characters (it has {len(text)})",
            code="text_too_long",
            details=[_problem(field, f"at most {max_chars} characters", "text_too_long")],
            # The limit beside details, not in them: details has one shape everywhere.
            context={"max_chars": max_chars},
        )
    return text


@dataclass(frozen=True)
class WordFilter:
    """Words and phrases that hold a question for a moderator (never drop it)."""

    terms: frozenset[str]

    @classmethod
    def from_lines(cls, lines: Iterable[str]) -> WordFilter:
        terms = set()
        for line in lines:
            term = line.split("#", 1)[0].strip().casefold()
            if term:
                terms.add(unicodedata.normalize("NFC", term))
        return cls(frozenset(terms))

    def matches(self, text: str) -> list[str]:
        """The filter terms found in ``text`` as whole words, sorted."""
        # Invisible characters inside a word must not hide it from the filter.
        folded = _without_format(unicodedata.normalize("NFC", text)).casefold()
        found = []
        for term in self.terms:
            if re.search(rf"(?<!\w){re.escape(term)}(?!\w)", folded):
                found.append(term)
        return sorted(found)


_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)


def words_of(text: str, stop_words: frozenset[str] = frozenset()) -> list[str]:
    """The words of a free text as the cloud counts them: folded, without stop words."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    found = []
    for match in _WORD.finditer(folded):
        word = match.group(0).strip("'’-")
        if len(word) >= 2 and word not in stop_words:
            found.append(word)
    return found


# German and English words too common to say anything in a word cloud.
_STOP_WORDS_TEXT = """
aber alle allem allen aller alles als also am an ander andere anderem anderen anderer
anderes auch auf aus bei bin bis bist da damit dann das dass dem den denn der des die
dies diese diesem diesen dieser dieses doch dort du durch ein eine einem einen einer
eines er es etwas euch euer für gegen gibt hab habe haben hat hatte hier hin ich ihr
ihm ihn ihnen ihre im in ist ja jede jedem jeden jeder jedes jetzt kann kein keine
können man mehr mein meine mich mir mit muss nach nicht nichts noch nun nur ob oder
ohne sehr sein seine sich sie sind so soll sollen sollte sonst um und uns unser unsere
unter viel vom von vor war waren warum was weil wenn wer werden wie wieder will wir
wird wo wollen zu zum zur über
a about after all also an and any are as at be because been but by can could do does
for from had has have he her his how i if in into is it its just me more most my no
not of on one only or other our out so some such than that the their them then there
these they this to too up us very was we were what when which who why will with would
you your
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
