"""Polls in the chat of a Hubs room: answers typed there in, a closed poll's final count out.

A line answers the poll open for its room (:meth:`PollNotices.open_for
<hubs_bridge.hubs.poll_notices.PollNotices.open_for>`) when
:func:`~hubs_bridge.core.polls.chat_answer` reads it as an answer to that poll
(``/1``, ``/abstimmen 2``, ``/vote 2``, ``/1 3``). Every other line is left to
:mod:`~hubs_bridge.hubs.chat_in` (questions) or ignored and kept nowhere. The answer
goes through :meth:`PollService.answer <hubs_bridge.poll_service.PollService.answer>`
like one from the event page, with ``source="hubs"`` and, as voter, the Hubs session
hashed per event (``VisitorIds.record_hash``), the key ``chat_in`` gives a question's
author. The display name is never stored: at most it is shown in the room's
confirmation, where the event allows names.

Replays: Reticulum broadcasts a chat message as ``{type, body, session_id, from?}``
(PROTOCOL.md §4; ``hub_channel.ex`` ``handle_in("message")`` adds only the sender's
``session_id``), with no id, time or sequence. A frame delivered twice therefore
cannot be told from the same line typed twice, and need not be: both give the same
answer. A line repeating its session's last answer to the poll gets that line's
``client_msg_id`` again, which the store takes as a retry (``changed`` false: not
counted and not confirmed again). A changed answer gets a new id, from a salt of
this process and a counter: no id comes twice from two processes or after a restart,
which matters because the store ignores an id the voter already used on the poll.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from hubs_bridge.core.calendar import Event
from hubs_bridge.core.polls import Poll, Results, chat_answer
from hubs_bridge.errors import ClientError, HubsBridgeError
from hubs_bridge.hubs.client_events import ChatReceived
from hubs_bridge.hubs.poll_notices import PollNotices
from hubs_bridge.identity import VisitorIds
from hubs_bridge.poll_service import PollService

log = logging.getLogger("hubs_bridge.hubs.poll_chat")

# Sessions' last answers remembered for replays; past this the oldest are forgotten
# (a replay of a forgotten line then counts as the same answer once more: harmless).
REMEMBERED = 50_000


@dataclass(frozen=True, slots=True)
class ChatVote:
    """A chat line read as an answer to ``poll`` (option indexes from 0)."""

    hub_sid: str
    session_id: str
    display_name: str | None
    poll: str
    choices: tuple[int, ...]


class PollChat:
    """The bridge's side of polls answered in the Hubs chat, for every room it bridges."""

    def __init__(self, service: PollService, ids: VisitorIds) -> None:
        self._service = service
        self._ids = ids
        self._salt = secrets.token_hex(6)
        self._count = 0
        # (event, poll, session) -> that session's last answer and its client_msg_id
        self._last: dict[tuple[str, str, str], tuple[tuple[int, ...], str]] = {}

    @staticmethod
    def vote_in(room: str, polls: PollNotices, chat: ChatReceived) -> ChatVote | None:
        """The answer in ``chat`` to the poll open for ``room``, or ``None``: no vote."""
        if chat.session_id is None or not chat.body.lstrip().startswith("/"):
            return None  # most chat: not even a look at the polls
        poll = polls.open_for(room)
        if poll is None:
            return None
        answer = chat_answer(chat.body, poll)
        if answer is None:
            return None
        return ChatVote(chat.hub_sid, chat.session_id, chat.display_name, poll.id, answer.choices)

    async def cast(self, event: Event, vote: ChatVote) -> bool:
        """Store the answer; whether it changed anything (``False`` too when refused)."""
        try:
            _, changed = await self._service.answer(
                event=event,
                voter=self._ids.record_hash(event.slug, vote.session_id),
                poll_id=vote.poll,
                choices=vote.choices,
                client_msg_id=self._message_id(event.slug, vote),
                source="hubs",
            )
        except ClientError as exc:
            # Closed meanwhile, deleted, too many answers: nothing to tell the room; the
            # result post tells everyone what counted.
            log.info("poll answer from hubs room %s refused: %s", vote.hub_sid, exc.code)
            return False
        return changed

    async def final_count(self, poll: Poll) -> Results | None:
        """A closed poll's exact results, read after the close; ``None`` if the store failed.

        Read here rather than taken from the stream: a count another process read just
        before the close may reach the stream after it. The close is stored before it
        is published and the store takes no answer for a closed poll, so this read,
        made after the close was heard of, holds every answer.
        """
        try:
            return await self._service.results(poll)
        except HubsBridgeError as exc:
            log.warning("final count of poll %s not read: %s", poll.id, exc)
            return None

    def forget(self, event: str, poll_id: str) -> None:
        """The poll is closed or gone: no more answers to tell apart."""
        for key in [k for k in self._last if k[0] == event and k[1] == poll_id]:
            del self._last[key]

    def _message_id(self, event: str, vote: ChatVote) -> str:
        key = (event, vote.poll, vote.session_id)
        last = self._last.pop(key, None)
        if last is not None and last[0] == vote.choices:
            message_id = last[1]  # the same answer again: a replayed frame, or retyped
        else:
            self._count += 1
            message_id = f"hubs-{self._salt}-{self._count}"
        self._last[key] = (vote.choices, message_id)  # last in order: forgotten last
        if len(self._last) > REMEMBERED:
            del self._last[next(iter(self._last))]
        return message_id
