"""Rules every Q&A store keeps alike, whatever its backend: both import them from here.

What a save may contain, which errors a refused save or vote raises, and which
(visitor, client_msg_id) a question claims. The backends differ only in how
they make a save atomic (one SQLite transaction, one Redis Lua script).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hubs_bridge.core.qa import ModerationEntry, Question
from hubs_bridge.core.qa import check_votable as qa_check_votable
from hubs_bridge.errors import Conflict, NotFound


def check_votable(question_id: str, question: Question | None) -> None:
    """Why a vote was not taken, if not because it was there already."""
    if question is None:
        raise NotFound(f"no question {question_id!r}", code="question_not_found")
    qa_check_votable(question)


def check_batch(
    event: str,
    questions: Sequence[Question],
    expected: Mapping[str, int | None],
    log: ModerationEntry | None = None,
) -> None:
    """Refuse a save that cannot be meant: it would be stored wrongly rather than fail.

    Raised before any I/O: a caller's bug (``ValueError``/``KeyError``), never
    a store outage.
    """
    if log is not None and log.event != event:
        raise ValueError(f"a log entry of {log.event!r} saved with questions of {event!r}")
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        raise ValueError(f"a question appears twice in one save: {ids}")
    for q in questions:
        if q.event != event:
            raise ValueError(f"question {q.id!r} belongs to {q.event!r}, not {event!r}")
        if q.id not in expected:
            raise KeyError(f"no expected version for question {q.id!r}")


def version_conflict(question_id: str) -> Conflict:
    return Conflict(
        f"question {question_id!r} was changed meanwhile; reload and try again",
        code="version_conflict",
        context={"question": question_id},
    )


def duplicate_client_msg(question_id: str) -> Conflict:
    return Conflict(
        f"question {question_id!r} repeats a client_msg_id its author already used",
        code="duplicate_client_msg",
        context={"question": question_id},
    )


def client_msg_claim(question: Question, expected: int | None) -> tuple[str, str] | None:
    """(visitor, client_msg_id) that a save of ``question`` puts in the index, if any.

    Only a question's first save claims one: the author at creation is
    ``authors[0]``, and later saves (a merge adds authors) must not re-claim.
    """
    if expected is not None or question.client_msg_id is None or not question.authors:
        return None
    return question.authors[0].visitor, question.client_msg_id
