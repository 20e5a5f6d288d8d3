"""Chat lines of a Hubs room that are questions: ``/frage ...`` or ``/question ...``.

Every other line is ignored and kept nowhere (issue 5: no other chat line is
stored). A question goes through the same rules as one from a web page
(``QaService.ask``: word filter, limits, pre-moderation), with ``source="hubs"``,
the Hubs display name as author and the Hubs session, hashed per event, as
the visitor.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from hubs_bridge.core.calendar import Event
from hubs_bridge.core.ratelimit import TokenBucket
from hubs_bridge.errors import ClientError
from hubs_bridge.identity import VisitorIds
from hubs_bridge.qa_service import QaService

QUESTION_PREFIXES = ("/frage ", "/question ")
# A question may have 2000 characters at most (the event's limit); a line much longer
# than that is not looked at.
MAX_CHAT_IN_CHARS = 2100
# Question lines per Hubs session and minute; more are dropped before they cost anything.
LINES_PER_MINUTE = 6
GATE_SESSIONS = 10_000


class ChatGate:
    """At most :data:`LINES_PER_MINUTE` question lines per Hubs session, as a token bucket
    per session (the project's pure :class:`~hubs_bridge.core.ratelimit.TokenBucket`).

    In memory, per process: only the bridging process sees a room's chat. Sessions whose
    bucket is full again are forgotten first, and at most :data:`GATE_SESSIONS` are kept,
    so the gate cannot grow without bound.
    """

    def __init__(self, per_minute: int = LINES_PER_MINUTE) -> None:
        self._per_minute = per_minute
        self._buckets: dict[tuple[str, str], TokenBucket] = {}

    def allow(self, hub_sid: str, session_id: str, now: float) -> bool:
        key = (hub_sid, session_id)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = TokenBucket(rate=self._per_minute / 60.0, burst=self._per_minute)
            self._buckets[key] = bucket
            if len(self._buckets) > GATE_SESSIONS:
                self._forget(now)
        return bucket.take(now) == 0.0

    def _forget(self, now: float) -> None:
        refilled = 60.0  # a bucket untouched this long is full: as good as new
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.updated < refilled}
        while len(self._buckets) > GATE_SESSIONS:  # still too many: the oldest go
            del self._buckets[next(iter(self._buckets))]


@dataclass(frozen=True, slots=True)
class ChatQuestion:
    """A question line as the client saw it; ``number`` counts question lines per room."""

    hub_sid: str
    session_id: str
    display_name: str | None
    body: str
    text: str
    number: int


def question_text(body: str, prefixes: Sequence[str] = QUESTION_PREFIXES) -> str | None:
    """The question in a chat line starting with one of ``prefixes`` (by default ``/frage ``
    or ``/question ``, compared without regard to case), else ``None``."""
    lowered = body.lower()
    for prefix in prefixes:
        if lowered.startswith(prefix.lower()):
            text = body[len(prefix) :].strip()
            return text or None
    return None


async def ask_from_chat(
    qa: QaService, ids: VisitorIds, event: Event, room: str, item: ChatQuestion
) -> ClientError | None:
    """Ask the question; the refusal if the Q&A refused it, else ``None``."""
    # One stable id per line, so the Q&A service's duplicate check knows a line seen twice.
    digest = hashlib.sha256(
        f"{item.hub_sid}\n{item.session_id}\n{item.number}\n{item.body}".encode()
    ).hexdigest()
    try:
        await qa.ask(
            event=event,
            visitor=ids.record_hash(event.slug, item.session_id),
            text=item.text,
            client_msg_id="hubs-" + digest[:32],
            room=room,
            name=item.display_name,
            source="hubs",
        )
    except ClientError as exc:
        return exc
    return None
