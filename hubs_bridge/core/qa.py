"""The live Q&A, pure: questions as records, commands in, changed records out.

Every function takes the records it needs and ``now`` and returns new
records; nothing here reads a clock, a store or a socket. The service
(``qa_service.py``) loads records, calls these, and writes the results with a
version check, so two processes never both win the same race.

Rules kept here, whoever calls:
- a question's vote count is the number of distinct voters (votes are a set);
- at most one pinned question per room (the event itself counts as a room);
- hidden questions (pending, rejected, deleted, merged) take no votes;
- a soft delete can be undone for ``UNDO_WINDOW`` and restores exactly what was there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from hubs_bridge.errors import Conflict, Forbidden, NotFound, ValidationFailed

Status = Literal["pending", "approved", "rejected", "merged"]
RejectReason = Literal["off_topic", "duplicate", "offensive", "other"]
REJECT_REASONS: tuple[RejectReason, ...] = ("off_topic", "duplicate", "offensive", "other")
AnswerMode = Literal["live", "written"]
Action = Literal[
    "approve", "reject", "answer", "reply", "pin", "unpin", "edit", "merge", "delete", "undelete"
]
Source = Literal["web", "hubs"]
UNDO_WINDOW = timedelta(minutes=10)
EVENT_STAGE = ""  # the pin slot of questions asked to the whole event


@dataclass(frozen=True, slots=True)
class Author:
    visitor: str  # pseudonymous id; never sent to pages
    name: str | None  # only if the person chose to give one


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    event: str
    room: str | None
    text: str
    authors: tuple[Author, ...]
    source: Source
    status: Status
    created_at: datetime
    updated_at: datetime
    version: int = 1
    client_msg_id: str | None = None
    held_for: tuple[str, ...] = ()  # word-filter matches shown to moderators
    reject_reason: RejectReason | None = None
    answered: AnswerMode | None = None
    answer: str | None = None
    reply: str | None = None
    pinned: bool = False
    merged_into: str | None = None
    merged_from: tuple[str, ...] = ()
    original_text: str | None = None  # before the first moderator edit
    deleted_at: datetime | None = None
    # What the question looked like before a soft delete, for an exact undo.
    before_delete: tuple[tuple[str, Any], ...] = field(default=())

    @property
    def visible(self) -> bool:
        """Shown to every visitor of the event."""
        return self.status == "approved" and self.deleted_at is None

    @property
    def slot(self) -> str:
        return self.room or EVENT_STAGE

    def by(self, visitor: str) -> bool:
        return any(a.visitor == visitor for a in self.authors)


# ---------------------------------------------------------------------------
# Visitors


def new_question(
    *,
    question_id: str,
    event: str,
    room: str | None,
    text: str,
    author: Author,
    source: Source,
    premoderation: bool,
    held_for: Iterable[str],
    client_msg_id: str | None,
    now: datetime,
) -> Question:
    """A new question: pending if the event pre-moderates or the word filter held it."""
    held = tuple(held_for)
    return Question(
        id=question_id,
        event=event,
        room=room,
        text=text,
        authors=(author,),
        source=source,
        status="pending" if premoderation or held else "approved",
        created_at=now,
        updated_at=now,
        client_msg_id=client_msg_id,
        held_for=held,
    )


def check_votable(question: Question) -> None:
    if not question.visible:
        raise ValidationFailed("only visible questions take votes", code="question_not_votable")


# ---------------------------------------------------------------------------
# Moderators


def _changed(question: Question, now: datetime, **changes: Any) -> Question:
    return replace(question, **changes, updated_at=now, version=question.version + 1)


def _live(question: Question) -> None:
    if question.deleted_at is not None:
        raise Conflict("the question is deleted; undo the delete first", code="question_deleted")
    if question.status == "merged":
        raise Conflict("the question was merged into another", code="question_merged")


def approve(question: Question, now: datetime) -> Question:
    _live(question)
    return _changed(question, now, status="approved", reject_reason=None)


def reject(question: Question, reason: RejectReason, now: datetime) -> Question:
    _live(question)
    return _changed(question, now, status="rejected", reject_reason=reason, pinned=False)


def answer(question: Question, mode: AnswerMode, text: str | None, now: datetime) -> Question:
    _live(question)
    if mode == "written" and not text:
        raise ValidationFailed("a written answer needs a text", code="answer_text_required")
    status: Status = "approved" if question.status == "pending" else question.status
    return _changed(
        question, now, answered=mode, answer=text if mode == "written" else None, status=status
    )


def reply(question: Question, text: str | None, now: datetime) -> Question:
    _live(question)
    return _changed(question, now, reply=text)


def edit(question: Question, text: str, now: datetime) -> Question:
    _live(question)
    original = question.original_text if question.original_text is not None else question.text
    return _changed(question, now, text=text, original_text=original)


def pin(question: Question, slot_questions: Iterable[Question], now: datetime) -> list[Question]:
    """Pin ``question``; the question pinned in its room until now is unpinned. Returns changes."""
    _live(question)
    if question.status != "approved":
        raise ValidationFailed(
            "only approved questions can be pinned", code="question_not_approved"
        )
    changes = [
        _changed(other, now, pinned=False)
        for other in slot_questions
        if other.pinned and other.id != question.id and other.slot == question.slot
    ]
    if not question.pinned:
        changes.append(_changed(question, now, pinned=True))
    return changes


def unpin(question: Question, now: datetime) -> Question:
    if not question.pinned:
        return question
    return _changed(question, now, pinned=False)


def merge(source: Question, target: Question, now: datetime) -> tuple[Question, Question]:
    """``source`` is folded into ``target``: authors kept, votes combined by the store."""
    if source.id == target.id:
        raise ValidationFailed("a question cannot be merged into itself", code="merge_into_self")
    _live(source)
    _live(target)
    if target.status != "approved":
        # Votes and a pin may only go to a question everyone can see.
        raise ValidationFailed("merge into an approved question", code="question_not_approved")
    if source.event != target.event:
        raise Forbidden("questions of two events cannot be merged", code="wrong_event")
    authors = target.authors + tuple(a for a in source.authors if a not in target.authors)
    new_target = _changed(
        target,
        now,
        authors=authors,
        merged_from=(*target.merged_from, source.id),
        # The pin moves with the question that people were looking at.
        pinned=target.pinned or (source.pinned and source.slot == target.slot),
    )
    new_source = _changed(source, now, status="merged", merged_into=target.id, pinned=False)
    return new_source, new_target


def delete(question: Question, now: datetime) -> Question:
    """Soft delete: hidden at once, restorable with :func:`undelete` for ``UNDO_WINDOW``."""
    if question.deleted_at is not None:
        return question
    snapshot = (("pinned", question.pinned),)
    return _changed(question, now, deleted_at=now, pinned=False, before_delete=snapshot)


def undelete(
    question: Question, slot_questions: Iterable[Question], now: datetime
) -> list[Question]:
    """Undo a delete within the window: exactly what was there (a pin only if its slot is free)."""
    if question.deleted_at is None:
        raise Conflict("the question is not deleted", code="question_not_deleted")
    if now - question.deleted_at > UNDO_WINDOW:
        raise Conflict("a delete can be undone for 10 minutes only", code="undo_expired")
    before = dict(question.before_delete)
    restored = _changed(question, now, deleted_at=None, before_delete=())
    if before.get("pinned") and restored.status == "approved":
        # If the room's pin went elsewhere meanwhile, the restored question takes it
        # back, as if the delete had not happened.
        return pin(restored, slot_questions, now)
    return [restored]


# ---------------------------------------------------------------------------
# What each person may see


Viewer = Literal["moderator", "author", "visitor"]


def viewer_of(question: Question, *, moderator: bool, visitor: str) -> Viewer:
    if moderator:
        return "moderator"
    if question.by(visitor):
        return "author"
    return "visitor"


def visible_to(question: Question, viewer: Viewer) -> bool:
    """Moderators see all; authors also their own pending and rejected; visitors the visible."""
    if viewer == "moderator":
        return True
    if question.deleted_at is not None or question.status == "merged":
        return False
    if viewer == "author":
        return True
    return question.status == "approved"


def public_view(question: Question, votes: int, viewer: Viewer) -> dict[str, Any]:
    """The question as ``viewer`` sees it: no visitor ids ever; flags only for moderators."""
    names = [a.name for a in question.authors if a.name]
    data: dict[str, Any] = {
        "id": question.id,
        "room": question.room,
        "text": question.text,
        "authors": names,
        "source": question.source,
        "status": question.status,
        "votes": votes,
        "answered": question.answered,
        "answer": question.answer,
        "reply": question.reply,
        "pinned": question.pinned,
        "created_at": question.created_at.isoformat(),
        "updated_at": question.updated_at.isoformat(),
        "version": question.version,
    }
    if viewer == "author":
        data["mine"] = True
    if viewer == "moderator":
        data.update(
            held_for=list(question.held_for),
            reject_reason=question.reject_reason,
            merged_into=question.merged_into,
            merged_from=list(question.merged_from),
            original_text=question.original_text,
            deleted_at=question.deleted_at.isoformat() if question.deleted_at else None,
            edited=question.original_text is not None,
        )
    elif question.status == "rejected":
        data["reject_reason"] = question.reject_reason
    return data


def sort_key(order: str, votes: Mapping[str, int]) -> Callable[[Question], tuple[Any, ...]]:
    """``top``: most votes first, then the older first; ``new``: newest first."""
    if order == "new":
        return lambda q: (-q.created_at.timestamp(), q.id)
    return lambda q: (-votes.get(q.id, 0), q.created_at.timestamp(), q.id)


def rejected_counts(questions: Iterable[Question]) -> dict[str, int]:
    """Transparency: how many questions were rejected, by category (everyone may see this)."""
    counts: dict[str, int] = dict.fromkeys(REJECT_REASONS, 0)
    for q in questions:
        if q.status == "rejected" and q.reject_reason and q.deleted_at is None:
            counts[q.reject_reason] += 1
    return counts


def require(questions: Mapping[str, Question], question_id: str) -> Question:
    question = questions.get(question_id)
    if question is None:
        raise NotFound(f"no question {question_id!r}", code="question_not_found")
    return question


@dataclass(frozen=True, slots=True)
class ModerationEntry:
    """One line of the moderation log: who did what to which question, when."""

    event: str
    at: datetime
    actor: str  # token id ("env" for the staff token from the environment) or "system"
    role: str
    action: str
    question: str | None
    details: tuple[tuple[str, str], ...] = ()


# ---------------------------------------------------------------------------
# Records as JSON-ready dicts, the one format both store backends keep.


def question_to_dict(q: Question) -> dict[str, Any]:
    return {
        "id": q.id,
        "event": q.event,
        "room": q.room,
        "text": q.text,
        "authors": [[a.visitor, a.name] for a in q.authors],
        "source": q.source,
        "status": q.status,
        "created_at": q.created_at.isoformat(),
        "updated_at": q.updated_at.isoformat(),
        "version": q.version,
        "client_msg_id": q.client_msg_id,
        "held_for": list(q.held_for),
        "reject_reason": q.reject_reason,
        "answered": q.answered,
        "answer": q.answer,
        "reply": q.reply,
        "pinned": q.pinned,
        "merged_into": q.merged_into,
        "merged_from": list(q.merged_from),
        "original_text": q.original_text,
        "deleted_at": q.deleted_at.isoformat() if q.deleted_at else None,
        "before_delete": [list(pair) for pair in q.before_delete],
    }


def question_from_dict(d: Mapping[str, Any]) -> Question:
    return Question(
        id=d["id"],
        event=d["event"],
        room=d["room"],
        text=d["text"],
        authors=tuple(Author(visitor=v, name=n) for v, n in d["authors"]),
        source=d["source"],
        status=d["status"],
        created_at=datetime.fromisoformat(d["created_at"]),
        updated_at=datetime.fromisoformat(d["updated_at"]),
        version=d["version"],
        client_msg_id=d.get("client_msg_id"),
        held_for=tuple(d.get("held_for", ())),
        reject_reason=d.get("reject_reason"),
        answered=d.get("answered"),
        answer=d.get("answer"),
        reply=d.get("reply"),
        pinned=d.get("pinned", False),
        merged_into=d.get("merged_into"),
        merged_from=tuple(d.get("merged_from", ())),
        original_text=d.get("original_text"),
        deleted_at=datetime.fromisoformat(d["deleted_at"]) if d.get("deleted_at") else None,
        before_delete=tuple((k, v) for k, v in d.get("before_delete", ())),
    )
