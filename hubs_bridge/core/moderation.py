"""Moderation, pure: a moderator's command and the event's questions in, the outcome out.

Every rule of moderating lives here: which actions exist, what each needs
(a reason to reject, the text of an edit, the question to merge into), how
answer texts are cleaned, what the moderation log keeps of it, and which
stream events it makes. :class:`~hubs_bridge.qa_service.QaService` only
checks the role, loads the questions, stores :class:`Outcome` (changes and
log entry in one atomic step), acknowledges and publishes its events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import get_args

from hubs_bridge.core import qa
from hubs_bridge.core.qa_text import clean_text
from hubs_bridge.core.stream import QuestionChanged, RejectionsCounted, StreamEvent
from hubs_bridge.errors import ValidationFailed

ACTIONS: tuple[qa.Action, ...] = get_args(qa.Action)
TEXT_ACTIONS = frozenset({"answer", "reply", "edit"})
# Actions after which the public count of rejected questions may differ.
RECOUNTING_ACTIONS = frozenset({"reject", "approve", "delete", "undelete", "merge"})
MIN_TEXT_CHARS = 2000  # an answer may be longer than the event allows a question to be


@dataclass(frozen=True, slots=True)
class Moderate:
    """A moderator's command about one question."""

    action: str
    question: str
    actor: str  # token id, as the log keeps it
    role: str
    reason: str | None = None
    mode: str | None = None
    text: str | None = None
    into: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a command does: the records to store and the log entry stored with them.

    ``changes`` is empty when the command changes nothing (the record is
    already as asked); then nothing is stored, logged or published.
    ``unite_votes`` is ``(source, into)`` when a merge's votes must be
    united after the save (or again, to finish a merge cut short before).
    """

    target: qa.Question
    changes: tuple[qa.Question, ...]
    log_entry: qa.ModerationEntry | None
    unite_votes: tuple[str, str] | None
    rejected: Mapping[str, int] | None  # the public counts after the change, if they may differ
    # The versions the changed records had when loaded: the store's race check.
    expected_versions: Mapping[str, int] = field(default_factory=dict)

    def events(self, votes: Mapping[str, int]) -> list[StreamEvent]:
        """The stream events of the stored outcome, with the vote counts read after it."""
        events: list[StreamEvent] = [QuestionChanged(c, votes.get(c.id, 0)) for c in self.changes]
        if self.rejected is not None:
            events.append(RejectionsCounted(self.rejected))
        return events


def moderate(
    command: Moderate,
    questions: Mapping[str, qa.Question],
    now: datetime,
    *,
    event: str,
    max_question_chars: int,
) -> Outcome:
    """The outcome of ``command`` on ``questions`` (the event's records) at ``now``."""
    action = command.action
    if action not in ACTIONS:
        raise ValidationFailed(f"unknown action {action!r}", code="unknown_action")
    text = command.text
    if text is not None and action in TEXT_ACTIONS:
        text = clean_text(text, max_chars=max(max_question_chars, MIN_TEXT_CHARS))
    target = qa.require(questions, command.question)
    into = command.into
    if action == "merge" and target.merged_into is not None and target.merged_into == into:
        # Merged before, and maybe cut short before the votes were united: finish it.
        return Outcome(target, (), None, (target.id, into), None)
    changed = _apply(action, target, questions, now, command.reason, command.mode, text, into)
    changes = tuple(c for c in changed if c is not questions.get(c.id))
    if not changes:
        return Outcome(target, (), None, None, None)
    entry = qa.ModerationEntry(
        event=event,
        at=now,
        actor=command.actor,
        role=command.role,
        action=action,
        question=target.id,
        details=_log_details(action, target, command.reason, command.mode, text, into),
    )
    rejected = None
    if action in RECOUNTING_ACTIONS:
        after = {**questions, **{c.id: c for c in changes}}
        rejected = qa.rejected_counts(after.values())
    unite = (target.id, into) if action == "merge" and into is not None else None
    expected = {c.id: questions[c.id].version for c in changes}
    return Outcome(target, changes, entry, unite, rejected, expected)


def _apply(
    action: str,
    q: qa.Question,
    questions: Mapping[str, qa.Question],
    now: datetime,
    reason: str | None,
    mode: str | None,
    text: str | None,
    into: str | None,
) -> list[qa.Question]:
    same_slot = [o for o in questions.values() if o.event == q.event and o.slot == q.slot]
    if action == "approve":
        return [qa.approve(q, now)]
    if action == "reject":
        if reason not in qa.REJECT_REASONS:
            raise ValidationFailed(
                f"reject needs a reason: {', '.join(qa.REJECT_REASONS)}", code="reason_required"
            )
        return [qa.reject(q, reason, now)]
    if action == "answer":
        return [qa.answer(q, "written" if mode == "written" else "live", text, now)]
    if action == "reply":
        return [qa.reply(q, text, now)]
    if action == "edit":
        if not text:
            raise ValidationFailed("edit needs the new text", code="text_empty")
        return [qa.edit(q, text, now)]
    if action == "pin":
        return qa.pin(q, same_slot, now)
    if action == "unpin":
        return [qa.unpin(q, now)]
    if action == "merge":
        if into is None:
            raise ValidationFailed("merge needs the question to merge into", code="into_required")
        return list(qa.merge(q, qa.require(questions, into), now))
    if action == "delete":
        return [qa.delete(q, now)]
    return qa.undelete(q, same_slot, now)  # the last of ACTIONS


def _log_details(
    action: str,
    target: qa.Question,
    reason: str | None,
    mode: str | None,
    text: str | None,
    into: str | None,
) -> tuple[tuple[str, str], ...]:
    """What the moderation log keeps of an action besides who, what and when."""
    return tuple(
        (k, str(v))
        for k, v in (
            ("reason", reason),
            ("mode", mode),
            ("into", into),
            ("text", text if action in TEXT_ACTIONS else None),
            # An edit keeps the words it replaced in the log.
            ("original", target.text if action == "edit" else None),
        )
        if v
    )
