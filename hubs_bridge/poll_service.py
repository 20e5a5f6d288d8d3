"""Driver around the pure polls core: check roles and limits, write, acknowledge, fan out.

The same promise as the Q&A (``qa_service.py``): an answer is in the store before
its ``ack`` goes out, and only then does anyone else hear of it. Results are not
published per answer: the stores keep every ballot, and a coalescing flush
publishes each changed poll's exact results a few times a second (at most every
``poll_flush_s``), whichever process took the answers.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from hubs_bridge.auth import Principal
from hubs_bridge.broker.base import Leases
from hubs_bridge.coalesce import Coalescer
from hubs_bridge.core import polls
from hubs_bridge.core.calendar import Event
from hubs_bridge.core.polls import Answer, Ballot, BallotSource, Poll, Results
from hubs_bridge.core.qa import ModerationEntry
from hubs_bridge.core.qa_text import WordFilter
from hubs_bridge.core.stream import PollChanged, PollCounted, StreamEvent
from hubs_bridge.errors import Conflict, HubsBridgeError, NotFound
from hubs_bridge.periodic import every
from hubs_bridge.ratelimits import Limiter, check
from hubs_bridge.store.base import PollStore

log = logging.getLogger("hubs_bridge.polls")

Publish = Callable[[str, StreamEvent], Awaitable[None]]
Acknowledge = Callable[[Ballot], None]
SeenPoll = Callable[[str, str], Poll | None]
"""The poll (event, poll id) as this process's stream has it, if it has it."""
MAX_POLLS_PER_EVENT = 100
RETRIES = 5
SETTLE_S = 1.0  # see coalesce.py


@dataclass(frozen=True, slots=True)
class PollDraft:
    """What a moderator writes of a poll (checked by :func:`polls.new_poll`)."""

    question: str
    kind: str
    options: tuple[str, ...] = ()
    max_choices: int = 1
    rooms: tuple[str, ...] | None = None
    hide_results: bool = False


async def count_results(store: PollStore, poll: Poll) -> Results:
    """A poll's exact results, counted from every voter's stored ballot."""
    ballots = await store.poll_ballots(poll.event, poll.id)
    return polls.tally(poll, (b.answer for b in ballots))


class PollService:
    def __init__(
        self,
        store: PollStore,
        limiter: Limiter,
        word_filter: WordFilter,
        publish: Publish,
        clock: Callable[[], datetime],
        *,
        answers_per_minute: int,
        answer_burst: int,
        flush_s: float,
        seen: SeenPoll | None = None,
        leases: Leases | None = None,
    ) -> None:
        self._store = store
        self._seen = seen
        # One window per poll and flush interval, shared by every process: pages get at
        # most one coalesced result frame per interval, however many processes took answers.
        self._leases = leases
        self._limiter = limiter
        self.word_filter = word_filter
        self._publish = publish
        self._clock = clock
        self._answers_per_minute = answers_per_minute
        self._answer_burst = answer_burst
        self.flush_s = flush_s
        self._changed: Coalescer[tuple[str, str]] = Coalescer(SETTLE_S)

    # Reading

    async def polls_of(self, event: str) -> list[Poll]:
        return await self._store.poll_list(event)

    async def get(self, event: str, poll_id: str) -> Poll:
        poll = await self._store.poll_get(event, poll_id)
        if poll is None:
            raise NotFound(f"no poll {poll_id!r}", code="poll_not_found")
        return poll

    async def results(self, poll: Poll) -> Results:
        return await count_results(self._store, poll)

    async def held(self, principal: Principal, event: str, poll_id: str) -> list[dict[str, Any]]:
        """Texts the word filter holds, for moderators: named by ballot id, never by voter."""
        principal.require_moderator(event)
        ballots = await self._store.poll_ballots(event, poll_id)
        held = sorted((b for b in ballots if b.answer.held), key=lambda b: b.at)
        return [{"id": b.id, "text": b.answer.text, "at": b.at.isoformat()} for b in held]

    # Moderators

    async def draft(self, *, principal: Principal, event: Event, draft: PollDraft) -> Poll:
        principal.require_moderator(event.slug)
        if len(await self._store.poll_list(event.slug)) >= MAX_POLLS_PER_EVENT:
            raise Conflict(
                f"an event has at most {MAX_POLLS_PER_EVENT} polls", code="too_many_polls"
            )
        poll = self._checked(event, secrets.token_urlsafe(9), draft)
        await self._store.poll_save(poll, None, log=self._entry(principal, "poll_draft", poll))
        await self._publish_safely(event.slug, PollChanged(poll))
        return poll

    async def edit(
        self, *, principal: Principal, event: Event, poll_id: str, draft: PollDraft
    ) -> Poll:
        """Rewrite a draft (an opened poll is not changed under its voters)."""
        principal.require_moderator(event.slug)
        before = await self.get(event.slug, poll_id)
        if before.state != "draft":
            raise Conflict(
                f"the poll is {before.state}, only a draft changes", code="poll_not_draft"
            )
        checked = self._checked(event, poll_id, draft)
        poll = replace(checked, created_at=before.created_at, version=before.version + 1)
        await self._store.poll_save(
            poll, before.version, log=self._entry(principal, "poll_edit", poll)
        )
        await self._publish_safely(event.slug, PollChanged(poll))
        return poll

    async def open(self, *, principal: Principal, event: Event, poll_id: str) -> Poll:
        return await self._advance(principal, event, poll_id, polls.open_poll, "poll_open")

    async def close(self, *, principal: Principal, event: Event, poll_id: str) -> Poll:
        return await self._advance(principal, event, poll_id, polls.close_poll, "poll_close")

    async def delete(self, *, principal: Principal, event: Event, poll_id: str) -> None:
        principal.require_moderator(event.slug)
        poll = await self.get(event.slug, poll_id)
        entry = self._entry(principal, "poll_delete", poll)
        if not await self._store.poll_delete(event.slug, poll_id, poll.version, log=entry):
            raise NotFound(f"no poll {poll_id!r}", code="poll_not_found")
        await self._publish_safely(event.slug, PollChanged(poll, removed=True))

    async def release(
        self,
        *,
        principal: Principal,
        event: Event,
        poll_id: str,
        ballot_id: str,
        keep: bool,
        text: str | None = None,
    ) -> Ballot:
        """A moderator lets a held text count (``keep``) or drops it."""
        principal.require_moderator(event.slug)
        ballot = await self._store.poll_release(event.slug, poll_id, ballot_id, keep, text)
        if ballot is None:
            raise NotFound("no held answer with this id and text", code="answer_not_found")
        self._changed.mark((event.slug, poll_id))
        return ballot

    async def _advance(
        self,
        principal: Principal,
        event: Event,
        poll_id: str,
        step: Callable[[Poll, datetime], Poll],
        action: str,
    ) -> Poll:
        principal.require_moderator(event.slug)
        for attempt in range(RETRIES):
            before = await self.get(event.slug, poll_id)
            poll = step(before, self._clock())
            try:
                await self._store.poll_save(
                    poll, before.version, log=self._entry(principal, action, poll)
                )
            except Conflict as exc:
                if exc.code != "version_conflict" or attempt == RETRIES - 1:
                    raise
                continue
            break
        await self._publish_safely(event.slug, PollChanged(poll))
        # Opened: everyone sees it start at zero; closed: the final count, now for everyone.
        await self._publish_results(poll)
        return poll

    def _checked(self, event: Event, poll_id: str, draft: PollDraft) -> Poll:
        return polls.new_poll(
            poll_id=poll_id,
            event=event.slug,
            question=draft.question,
            kind=draft.kind,
            options=draft.options,
            max_choices=draft.max_choices,
            rooms=draft.rooms,
            hide_results=draft.hide_results,
            known_rooms={room.slug for room in event.rooms},
            now=self._clock(),
        )

    def _entry(self, principal: Principal, action: str, poll: Poll) -> ModerationEntry:
        return ModerationEntry(
            event=poll.event,
            at=self._clock(),
            actor=principal.token_id or "?",
            role=principal.role,
            action=action,
            question=None,
            details=(("poll", poll.id), ("question", poll.question), ("state", poll.state)),
        )

    # Visitors (and Hubs participants)

    async def answer(
        self,
        *,
        event: Event,
        voter: str,
        poll_id: str,
        choices: Sequence[int] = (),
        text: str | None = None,
        client_msg_id: str,
        source: BallotSource = "web",
        acknowledge: Acknowledge | None = None,
    ) -> tuple[Ballot, bool]:
        """Store a visitor's answer (replacing an earlier one); the ballot and whether it
        changed anything. A retry with the same ``client_msg_id`` changes nothing."""
        await check(
            self._limiter,
            f"p:{event.slug}:{voter}",
            self._answers_per_minute,
            self._answer_burst,
            "answers",
        )
        # An open poll as this process's stream has it saves a read per answer in a storm;
        # the store checks again, atomically, that it is still open when the ballot is
        # written. Anything else is read from the store: the stream may lag behind an open.
        seen = self._seen(event.slug, poll_id) if self._seen is not None else None
        poll = seen if seen is not None and seen.state == "open" else None
        if poll is None:
            poll = await self.get(event.slug, poll_id)
        answer = polls.check_answer(
            poll, Answer(choices=tuple(choices), text=text), self.word_filter
        )
        outcome = await self._store.poll_answer(
            Ballot(
                event=event.slug,
                poll=poll.id,
                voter=voter,
                answer=answer,
                client_msg_id=client_msg_id,
                at=self._clock(),
                source=source,
            )
        )
        if acknowledge is not None:
            acknowledge(outcome.ballot)  # stored, so acknowledged; then everyone hears of it
        if outcome.changed:
            self._changed.mark((event.slug, poll.id))
        return outcome.ballot, outcome.changed

    # Results, coalesced

    async def flush_results(self, now: float | None = None) -> None:
        """Publish the exact results of every poll answered since the last flush."""
        for key in self._changed.due(time.monotonic() if now is None else now):
            event, poll_id = key
            try:
                if not await self._window(event, poll_id):
                    # Another process publishes this poll's results in this interval; ours
                    # go out in a later one (it may have read before our answers landed).
                    self._changed.again([key])
                    continue
                poll = await self._store.poll_get(event, poll_id)
                if poll is not None:
                    await self._publish_results(poll, raise_errors=True)
            except HubsBridgeError as exc:
                self._changed.again([key])
                log.warning("results of poll %s in %s not published yet: %s", poll_id, event, exc)

    async def _window(self, event: str, poll_id: str) -> bool:
        """Whether this process may publish the poll's results now (a fresh lease each time:
        it is free again only once the last window has passed)."""
        if self._leases is None:
            return True
        owner = secrets.token_hex(6)
        return await self._leases.lead(f"poll-results:{event}:{poll_id}", owner, self.flush_s * 0.9)

    async def run_results_flusher(self) -> None:
        await every(self.flush_s, self.flush_results, logger=log)

    async def _publish_results(self, poll: Poll, *, raise_errors: bool = False) -> None:
        try:
            results = await self.results(poll)
            await self._publish(poll.event, PollCounted(results, polls.results_hidden(poll)))
        except HubsBridgeError as exc:
            if raise_errors:
                raise
            self._changed.mark((poll.event, poll.id))  # the flush tries again
            log.warning("results of poll %s not published yet: %s", poll.id, exc)

    async def _publish_safely(self, event: str, happened: StreamEvent) -> None:
        try:
            await self._publish(event, happened)
        except HubsBridgeError as exc:
            # Already stored; pages catch up at their next snapshot.
            log.warning("poll change in %s stored but not fanned out: %s", event, exc)
