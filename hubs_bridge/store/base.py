"""The durable store: what must survive a restart, behind one small interface.

Two backends implement :class:`Store` (``sqlite.py``, ``redis.py``) and pass one
contract suite (``tests/test_store_contract.py``). Records cross this boundary
as pydantic models or frozen dataclasses, never loose dicts.

Writes are durable when the coroutine returns: callers acknowledge to clients
only after that (write first, then acknowledge, then fan out).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from hubs_bridge.core.attendance import AttendanceMark, AttendanceSample
from hubs_bridge.core.calendar import Event
from hubs_bridge.core.polls import Ballot, Poll
from hubs_bridge.core.qa import ModerationEntry, Question
from hubs_bridge.scenes.glb import SceneSummary
from hubs_bridge.scenes.problems import Problem

TokenRole = Literal["staff", "moderator"]


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """An issued access token; only the SHA-256 of the secret is kept."""

    token_id: str
    token_hash: str
    role: TokenRole
    events: tuple[str, ...]
    label: str
    created_at: datetime
    revoked: bool = False


class StoreHealth(Protocol):
    """Whether the store answers; its lifetime."""

    backend: str

    async def ping(self) -> None:
        """Raise :class:`~hubs_bridge.errors.StoreUnavailable` unless the store answers."""

    async def close(self) -> None: ...


class EventStore(Protocol):
    """Events with their rooms, one document each, with a version."""

    async def list_events(self) -> list[Event]: ...

    async def get_event(self, slug: str) -> Event | None: ...

    async def create_event(self, event: Event) -> None:
        """Store a new event; :class:`~hubs_bridge.errors.Conflict` if the slug is taken."""

    async def replace_event(self, event: Event) -> None:
        """Store ``event`` if the stored one has ``event.version - 1``.

        Raises :class:`~hubs_bridge.errors.Conflict` (``version_conflict``) when
        someone else changed it in between, and
        :class:`~hubs_bridge.errors.NotFound` when it is gone.
        """

    async def delete_event(self, slug: str) -> bool:
        """Delete an event; ``False`` if there was none."""


class TokenStore(Protocol):
    """Issued access tokens (only hashes of the secrets)."""

    async def add_token(self, record: TokenRecord) -> None: ...

    async def find_token(self, token_hash: str) -> TokenRecord | None: ...

    async def list_tokens(self) -> list[TokenRecord]: ...

    async def revoke_token(self, token_id: str) -> bool: ...


class MetaStore(Protocol):
    """Small installation-wide values: the generated secret key, seed markers, Hubs secrets."""

    async def get_meta(self, key: str) -> str | None: ...

    async def set_meta_if_absent(self, key: str, value: str) -> str:
        """Store ``value`` unless ``key`` has one; return the value that is stored."""


class AttendanceStore(Protocol):
    """The pseudonymous attendance record: joins, leaves and per-minute samples."""

    async def add_attendance(
        self, marks: Sequence[AttendanceMark], samples: Sequence[AttendanceSample]
    ) -> None: ...

    async def attendance_marks(self, event: str) -> list[AttendanceMark]:
        """The event's joins and leaves, oldest first."""

    async def attendance_samples(self, event: str) -> list[AttendanceSample]:
        """The event's per-minute samples, oldest first."""

    async def delete_attendance_before(self, cutoff: datetime) -> int:
        """Delete marks and samples older than ``cutoff`` (retention); returns how many."""


class QaStore(Protocol):
    """Questions, votes and the moderation log of the live Q&A; every key scoped by event."""

    async def qa_questions(self, event: str) -> list[Question]:
        """Every question of the event (hidden ones too), oldest first."""

    async def qa_get(self, event: str, question_id: str) -> Question | None: ...

    async def qa_by_client_msg(
        self, event: str, visitor: str, client_msg_id: str
    ) -> Question | None:
        """The question this visitor asked with this ``client_msg_id`` (idempotent retries)."""

    async def qa_save(
        self,
        event: str,
        questions: Sequence[Question],
        expected: Mapping[str, int | None],
        log: ModerationEntry | None = None,
    ) -> None:
        """Write several questions at once, all or none.

        ``expected[q.id]`` is the version stored now (``None``: must not exist yet).
        If any differs: :class:`~hubs_bridge.errors.Conflict` ``version_conflict`` and
        nothing is written. A new question with a ``client_msg_id`` its author
        already used: ``Conflict`` ``duplicate_client_msg``, nothing written.

        ``log`` is the moderation-log entry of this change, written in the same
        atomic step: it is stored exactly when the questions are. With no
        questions nothing is written, the entry neither.
        """

    async def qa_vote(self, event: str, question_id: str, voter: str, up: bool) -> bool:
        """Add (``up``) or withdraw a vote; ``True`` if that changed anything.

        A vote is added only while the question is visible (approved, not deleted),
        checked in the same atomic step: ``ValidationFailed`` ``question_not_votable``
        or ``NotFound`` ``question_not_found`` otherwise. Withdrawing always works.
        """

    async def qa_vote_counts(self, event: str) -> dict[str, int]:
        """Distinct voters per question (questions without votes may be missing)."""

    async def qa_vote_count(self, event: str, question_id: str) -> int: ...

    async def qa_voted_by(self, event: str, voter: str) -> set[str]:
        """The questions this visitor has a vote on."""

    async def qa_merge_votes(self, event: str, source: str, target: str) -> int:
        """Give ``target`` every voter of ``source`` (a voter of both counts once); the
        source keeps its own (for the record). Returns the target's new count. Atomic."""

    async def qa_log(self, entry: ModerationEntry) -> None:
        """A log entry of an action that changes no question (an announcement, a Hubs action).

        The entry of a change to questions goes with it, in ``qa_save``.
        """

    async def qa_log_entries(self, event: str) -> list[ModerationEntry]:
        """The moderation log of an event, oldest first."""

    async def qa_delete_before(self, cutoff: datetime) -> int:
        """Retention: delete questions created before ``cutoff`` with their votes and log."""


@dataclass(frozen=True, slots=True)
class BallotOutcome:
    """What ``poll_answer`` did: the ballot stored now, and whether this call changed it."""

    ballot: Ballot
    changed: bool


class PollStore(Protocol):
    """Live polls and their ballots (one per voter and poll); every key scoped by event."""

    async def poll_list(self, event: str) -> list[Poll]:
        """Every poll of the event, oldest first (by ``created_at``, then id)."""

    async def poll_get(self, event: str, poll_id: str) -> Poll | None: ...

    async def poll_save(
        self, poll: Poll, expected: int | None, log: ModerationEntry | None = None
    ) -> None:
        """Write ``poll`` if the stored one has version ``expected`` (``None``: none yet).

        Otherwise :class:`~hubs_bridge.errors.Conflict` ``version_conflict`` and nothing
        is written. ``log`` is written in the same atomic step, exactly when the poll is.
        """

    async def poll_delete(
        self, event: str, poll_id: str, expected: int, log: ModerationEntry | None = None
    ) -> bool:
        """Delete a poll with its ballots if it has version ``expected``; ``False`` if none.

        ``Conflict`` ``version_conflict`` when another version is stored.
        """

    async def poll_answer(self, ballot: Ballot) -> BallotOutcome:
        """Store ``ballot`` as its voter's answer, replacing an earlier one; atomic.

        Taken only while the stored poll is open, checked in the same step:
        :class:`~hubs_bridge.errors.NotFound` ``poll_not_found`` or
        :class:`~hubs_bridge.errors.Conflict` ``poll_not_open`` otherwise, nothing written.
        Idempotent by ``client_msg_id``: a ``client_msg_id`` this voter already used for
        this poll changes nothing and returns the ballot stored now (``changed=False``),
        so a late retry of an older answer never replaces a newer one.
        """

    async def poll_ballots(self, event: str, poll_id: str) -> list[Ballot]:
        """Every voter's current ballot on the poll (held ones too), in no promised order."""

    async def poll_ballot_of(self, event: str, poll_id: str, voter: str) -> Ballot | None: ...

    async def poll_ballots_of(self, event: str, voter: str) -> list[Ballot]:
        """This voter's current ballot on every poll of the event (for a page's snapshot)."""

    async def poll_release(
        self, event: str, poll_id: str, ballot_id: str, keep: bool, text: str | None = None
    ) -> Ballot | None:
        """A moderator's verdict on a held text ballot (named by :attr:`Ballot.id`).

        ``keep``: it counts from now on (``held`` becomes ``False``); otherwise it is
        deleted. ``None`` when no held ballot has that id; ``text`` given, also when
        the held ballot's text differs (its voter changed it since the moderator saw
        it): a verdict never applies to a text the moderator has not seen. Atomic.
        """

    async def poll_delete_before(self, cutoff: datetime) -> int:
        """Retention: delete polls created before ``cutoff`` with their ballots."""


@dataclass(frozen=True, slots=True)
class SceneVersion:
    """One uploaded version of a scene: what the catalog keeps (the files are blobs).

    ``number`` counts per slug from 1; a pack folder of ``room_scenes/`` is version 1
    of its slug, so its first upload is version 2. ``uploaded_by`` is the staff
    token's id (``env`` for ``HUBS_BRIDGE_STAFF_TOKEN``). The files are named
    by ``sha256`` and ``preview_sha256`` in the blob store (``scenes/blobs.py``).
    """

    slug: str
    number: int
    sha256: str
    size: int
    title: str
    title_en: str | None
    uploaded_at: datetime
    uploaded_by: str | None
    preview_sha256: str | None = None
    preview_size: int | None = None
    summary: SceneSummary = field(default_factory=SceneSummary)
    warnings: tuple[Problem, ...] = ()


class SceneStore(Protocol):
    """The catalog of uploaded scene versions, shared by every process."""

    async def scene_versions(self) -> list[SceneVersion]:
        """Every stored version of every scene, by slug, then number."""

    async def scene_add_version(self, version: SceneVersion, expected_latest: int | None) -> None:
        """Store ``version`` if the highest number stored for its slug is ``expected_latest``
        (``None``: none stored) and ``version.number`` is higher; atomic.

        Otherwise :class:`~hubs_bridge.errors.Conflict` ``version_conflict`` and
        nothing is written: of two uploads to one slug at once, both computing the
        same next number, exactly one is stored; the other reads again and retries.
        """

    async def scene_delete(self, slug: str) -> list[SceneVersion]:
        """Delete every stored version of ``slug``, atomically; the versions deleted."""


class Store(
    StoreHealth,
    EventStore,
    TokenStore,
    MetaStore,
    AttendanceStore,
    QaStore,
    PollStore,
    SceneStore,
    Protocol,
):
    """Durable records of one hubs-bridge installation: every aggregate's store in one.

    Services take only the part they need (``QaStore``, ``TokenStore``, ...); the
    backends implement all of it and pass one contract suite.
    """
