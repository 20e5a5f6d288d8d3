"""Similar questions, pure: what a visitor is typing against what was asked already."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hubs_bridge.core.similar import fingerprint, score, similar

ASKED = [
    ("q1", "Wann wird der Radweg an der Ringstraße fertig?"),
    ("q2", "Gibt es mehr Bäume in der Innenstadt?"),
    ("q3", "Wie kann ich beim Bürgerhaushalt mitmachen?"),
    ("q4", "When will the new library open?"),
]


def keys(text: str) -> list[str]:
    return [m.key for m in similar(text, ASKED)]


def test_the_same_question_in_other_words_is_found() -> None:
    assert keys("Radwege Ringstraße: wann fertig?") == ["q1"]
    assert keys("Mehr Baeume fuer die Innenstadt") == ["q2"]  # folded umlauts: trigrams
    assert keys("Bürgerhaushalt – wie mitmachen?") == ["q3"]
    assert keys("library opening date?") == ["q4"]


def test_unrelated_and_empty_texts_find_nothing() -> None:
    assert keys("Wo kann ich parken?") == []
    assert keys("Wie geht es dir?") == []  # stop words only
    assert keys("") == []


def test_best_first_and_at_most_three() -> None:
    many = [(f"q{n}", f"Radweg Ringstraße Teil {n}") for n in range(10)]
    found = similar("Radweg Ringstraße", many)
    assert len(found) == 3
    assert [m.score for m in found] == sorted((m.score for m in found), reverse=True)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120), st.text(max_size=120))
def test_scores_are_symmetric_and_bounded(a: str, b: str) -> None:
    fa, fb = fingerprint(a), fingerprint(b)
    assert 0.0 <= score(fa, fb) <= 1.0
    assert score(fa, fb) == score(fb, fa)
    if fa.stems:
        assert score(fa, fa) == 1.0
