"""Driver around the pure Q&A core: check roles and limits, write, acknowledge, fan out.

The order is the promise: a question or vote is in the store before the
visitor's ``ack`` goes out, and only then is it published to the event's
stream. A crash between store and publish loses no data; pages see the
change at their next welcome or snapshot.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from hubs_bridge.auth import Principal
from hubs_bridge.coalesce import Coalescer
from hubs_bridge.core import qa
from hubs_bridge.core.calendar import Event
from hubs_bridge.core.moderation import Moderate, moderate
from hubs_bridge.core.qa_text import WordFilter, clean_text
from hubs_bridge.core.stream import (
    Announced,
    Announcement,
    QuestionChanged,
    StreamEvent,
    VotesCounted,
)
from hubs_bridge.errors import Conflict, HubsBridgeError, ValidationFailed
from hubs_bridge.periodic import every
from hubs_bridge.ratelimits import Limiter, check
from hubs_bridge.settings import QaLimits
from hubs_bridge.store.base import QaStore

log = logging.getLogger("hubs_bridge.qa")

Publish = Callable[[str, StreamEvent], Awaitable[None]]
KnownQuestion = Callable[[str, str], bool]
"""Whether this process's stream has delivered (event, question id)."""
# Called after the durable write and before the fan-out: the order of the promise.
Acknowledge = Callable[[Any], None]
RETRIES = 5
MAX_NAME_CHARS = 40
# After the last vote on a question, its count is published once more after this long
# (see coalesce.py).
SETTLE_S = 1.0


def load_word_filter(directory: Path | None) -> WordFilter:
    """Every ``*.txt`` list in ``directory`` (German and English ship in config/wordfilter)."""
    if directory is None or not directory.is_dir():
        return WordFilter(frozenset())
    lines: list[str] = []
    for path in sorted(directory.glob("*.txt")):
        lines.extend(path.read_text("utf-8").splitlines())
    return WordFilter.from_lines(lines)


class QaService:
    def __init__(
        self,
        store: QaStore,
        limits: QaLimits,
        limiter: Limiter,
        word_filter: WordFilter,
        publish: Publish,
        clock: Callable[[], datetime],
        is_known: KnownQuestion | None = None,
    ) -> None:
        self._store = store
        self.limits = limits
        self._limiter = limiter
        self.word_filter = word_filter
        self._publish = publish
        self._clock = clock
        self._votes: Coalescer[tuple[str, str]] = Coalescer(SETTLE_S)
        # Whether this process's stream has delivered a question; without it, a retried
        # ask is never published again.
        self._is_known = is_known

    async def _publish_safely(self, event: str, happened: StreamEvent) -> None:
        try:
            await self._publish(event, happened)
        except HubsBridgeError as exc:
            # Already stored and acknowledged; pages catch up at their next snapshot.
            log.warning("Q&A change in %s stored but not fanned out: %s", event, exc)

    # Visitors

    async def ask(
        self,
        *,
        event: Event,
        visitor: str,
        text: str,
        client_msg_id: str,
        room: str | None = None,
        anonymous: bool = False,
        name: str | None = None,
        source: qa.Source = "web",
        acknowledge: Acknowledge | None = None,
    ) -> qa.Question:
        existing = await self._store.qa_by_client_msg(event.slug, visitor, client_msg_id)
        if existing is not None:
            # A retry (after a reconnect): the same question, never a second. Published
            # again (records are absolute), in case the first fan-out was lost in a crash.
            _ack(acknowledge, existing)
            if self._is_known is not None and not self._is_known(event.slug, existing.id):
                # Stored but never seen here: its first fan-out was lost (a crash between
                # store and publish). Only then is it published again.
                votes = await self._store.qa_vote_count(event.slug, existing.id)
                await self._publish_safely(event.slug, QuestionChanged(existing, votes))
            return existing
        clean = clean_text(text, max_chars=event.qa.max_question_chars)
        if room is not None and event.room(room) is None:
            raise ValidationFailed(f"no room {room!r}", code="unknown_room")
        await check(
            self._limiter,
            f"q:{event.slug}:{visitor}",
            self.limits.questions_per_minute,
            self.limits.question_burst,
            "questions",
        )
        show_name = name if (name and not anonymous and event.qa.allow_names) else None
        if source == "hubs" and not event.qa.hubs_names:
            show_name = None
        elif source == "hubs" and show_name is not None:
            # A Hubs display name was not typed for this question: one that is too long
            # is cut rather than refusing the question for it.
            show_name = show_name.strip()[:MAX_NAME_CHARS] or None
        held = self.word_filter.matches(clean)
        if show_name is not None:
            # Shown to everyone beside the question: the same rules as the text.
            show_name = clean_text(show_name, max_chars=MAX_NAME_CHARS, field="name")
            held += [f"name: {term}" for term in self.word_filter.matches(show_name)]
        now = self._clock()
        question = qa.new_question(
            question_id=secrets.token_urlsafe(9),
            event=event.slug,
            room=room,
            text=clean,
            author=qa.Author(visitor=visitor, name=show_name),
            source=source,
            premoderation=event.qa.premoderation,
            held_for=held,
            client_msg_id=client_msg_id,
            now=now,
        )
        try:
            await self._store.qa_save(event.slug, [question], {question.id: None})
        except Conflict as exc:
            if exc.code != "duplicate_client_msg":
                raise
            # The same retry raced itself (two tabs, two processes): one question, both get it.
            again = await self._store.qa_by_client_msg(event.slug, visitor, client_msg_id)
            assert again is not None
            _ack(acknowledge, again)
            return again
        _ack(acknowledge, question)  # stored, so acknowledged; then everyone else hears of it
        await self._publish_safely(event.slug, QuestionChanged(question, 0))
        return question

    async def vote(
        self, *, event: Event, visitor: str, question_id: str, up: bool
    ) -> tuple[int, bool]:
        """Returns the question's exact count after this vote, and whether it changed."""
        await check(
            self._limiter,
            f"v:{event.slug}:{visitor}",
            self.limits.votes_per_minute,
            self.limits.vote_burst,
            "votes",
        )
        # The store takes the vote only while the question is visible, in one step, so a
        # vote racing a merge or a reject can never be acknowledged and then lost.
        changed = await self._store.qa_vote(event.slug, question_id, visitor, up)
        count = await self._store.qa_vote_count(event.slug, question_id)
        if changed:
            self._votes.mark((event.slug, question_id))
        return count, changed

    async def flush_votes(self, now: float | None = None) -> None:
        """Publish the exact counts of questions voted on since the last flush (coalescing)."""
        due = self._votes.due(time.monotonic() if now is None else now)
        by_event: dict[str, list[str]] = {}
        for event, question_id in due:
            by_event.setdefault(event, []).append(question_id)
        for event, question_ids in by_event.items():
            # One frame per event and flush, whatever the number of questions voted on.
            try:
                counts = await self._store.qa_vote_counts(event)
                await self._publish(
                    event, VotesCounted({q: counts.get(q, 0) for q in sorted(question_ids)})
                )
            except HubsBridgeError as exc:
                self._votes.again((event, q) for q in question_ids)  # the next flush
                log.warning("vote counts of %s not published yet: %s", event, exc)

    async def run_vote_flusher(self) -> None:
        await every(self.limits.vote_flush_s, self.flush_votes, logger=log)

    # Moderators

    async def moderate(
        self,
        *,
        principal: Principal,
        event: Event,
        action: str,
        question_id: str,
        reason: str | None = None,
        mode: str | None = None,
        text: str | None = None,
        into: str | None = None,
        acknowledge: Acknowledge | None = None,
    ) -> list[qa.Question]:
        principal.require_moderator(event.slug)
        command = Moderate(
            action=action,
            question=question_id,
            actor=principal.token_id or "?",
            role=principal.role,
            reason=reason,
            mode=mode,
            text=text,
            into=into,
        )
        for attempt in range(RETRIES):
            questions = {q.id: q for q in await self._store.qa_questions(event.slug)}
            outcome = moderate(
                command,
                questions,
                self._clock(),
                event=event.slug,
                max_question_chars=event.qa.max_question_chars,
            )
            if not outcome.changes:
                break
            try:
                # The log entry is saved with the change, in one atomic step: it exists
                # exactly when the change does (a separate write could fail after it).
                await self._store.qa_save(
                    event.slug,
                    list(outcome.changes),
                    dict(outcome.expected_versions),
                    log=outcome.log_entry,
                )
            except Conflict as exc:
                if exc.code != "version_conflict" or attempt == RETRIES - 1:
                    raise
                continue
            break
        if not outcome.changes:
            if outcome.unite_votes is not None:
                await self._store.qa_merge_votes(event.slug, *outcome.unite_votes)
            _ack(acknowledge, [outcome.target])
            return [outcome.target]
        counts = await self._store.qa_vote_counts(event.slug)
        if outcome.unite_votes is not None:
            # After the save the source takes no more votes, so the union is complete.
            source, into_id = outcome.unite_votes
            counts[into_id] = await self._store.qa_merge_votes(event.slug, source, into_id)
        changes = list(outcome.changes)
        _ack(acknowledge, changes)
        for happened in outcome.events(counts):
            await self._publish_safely(event.slug, happened)
        return changes

    async def announce(
        self,
        *,
        principal: Principal,
        event: Event,
        text: str,
        rooms: list[str] | None,
        acknowledge: Acknowledge | None = None,
    ) -> dict[str, Any]:
        principal.require_moderator(event.slug)
        clean = clean_text(text, max_chars=self.limits.announcement_max_chars)
        unknown = [r for r in rooms or () if event.room(r) is None]
        if unknown:
            raise ValidationFailed(f"unknown rooms: {', '.join(unknown)}", code="unknown_room")
        now = self._clock()
        announcement = Announcement(
            id=secrets.token_urlsafe(9),
            text=clean,
            rooms=tuple(rooms) if rooms else None,
            at=now.isoformat(),
        )
        await self._store.qa_log(
            qa.ModerationEntry(
                event=event.slug,
                at=now,
                actor=principal.token_id or "?",
                role=principal.role,
                action="announce",
                question=None,
                details=(
                    ("id", announcement.id),
                    ("text", clean),
                    ("rooms", ",".join(rooms or ())),
                ),
            )
        )
        said = announcement.to_dict()
        _ack(acknowledge, said)
        await self._publish_safely(event.slug, Announced(announcement))
        return said


def _ack(acknowledge: Acknowledge | None, result: Any) -> None:
    if acknowledge is not None:
        acknowledge(result)
