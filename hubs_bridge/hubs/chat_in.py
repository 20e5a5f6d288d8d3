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
from hubs_bridge.errors import ClientError
from hubs_bridge.identity import VisitorIds
from hubs_bridge.qa_service import QaService

QUESTION_PREFIXES = ("/frage ", "/question ")


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
