"""Everything the bridge says in a Hubs room's chat, through one paced queue per room.

Hubs itself puts no rate limit on chat (PROTOCOL.md §4; the Discord bridge
flooded rooms for want of one), so each room gets one :class:`ChatOutbox`
queue: at most one message every ``interval_s``, and whatever piles up
meanwhile (confirmations of ``/frage`` lines, notices from the event's
stream, messages of :meth:`~hubs_bridge.hubs.bridge.HubsBridge.say`) goes
out together in the next one, at most :data:`CHAT_MAX_CHARS` long.

Poll answers from the chat come in bursts (everyone answers within seconds of a
poll's post), so their confirmations are counted apart and told at most once every
``answers_interval_s`` (:func:`answers_text`: "12 answers counted"). A post that
must be said whole (a poll and its options, in several parts when long) is never
left out of a full message: what does not fit goes in the next one.

The composition (:func:`compose`) is pure; :class:`ChatOutbox` only paces.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from hubs_bridge.errors import ClientError, RateLimited
from hubs_bridge.hubs.frames import CHAT_MAX_CHARS

log = logging.getLogger("hubs_bridge.hubs.chat_out")

CHAT_INTERVAL_S = 2.0
ANSWERS_INTERVAL_S = 5.0
NAMES_SHOWN = 3  # display names in an answers confirmation, where the event allows names
NAME_CHARS = 24
ELLIPSIS = "…"
# Parts of one message are on lines of their own: the Hubs chat shows line breaks.
SEPARATOR = "\n"

Send = Callable[[str, str], None]


def reply_text(accepted: int, refused: Sequence[str]) -> str:
    """One coalesced confirmation of ``/frage`` lines, German then English."""
    parts: list[str] = []
    if accepted == 1:
        parts.append("Danke! Deine Frage ist angekommen. / Thanks! Your question was received.")
    elif accepted > 1:
        parts.append(
            f"Danke! {accepted} Fragen sind angekommen. / Thanks! {accepted} questions received."
        )
    if refused:
        parts.append(refused[-1] if len(refused) == 1 else f"{refused[-1]} (x{len(refused)})")
    return " ".join(parts)


def answers_text(answers: int, names: Sequence[str] = ()) -> str:
    """One coalesced confirmation of poll answers from the chat, German then English.

    ``names``: display names to show (the first few who answered), or none.
    """
    if answers <= 0:
        return ""
    text = (
        f"✅ {answers} {'Antwort' if answers == 1 else 'Antworten'} gezählt / "
        f"{answers} {'answer' if answers == 1 else 'answers'} counted"
    )
    shown = list(names)[:NAMES_SHOWN]
    if shown:
        more = " …" if answers > len(shown) else ""
        text += f" ({', '.join(shown)}{more})"
    return text


def refusal_text(exc: ClientError) -> str:
    if isinstance(exc, RateLimited):
        return (
            "Bitte etwas langsamer, die Frage wurde nicht angenommen. / "
            "Please slow down, the question was not accepted."
        )
    return (
        f"Die Frage wurde nicht angenommen ({exc.code}). / "
        f"The question was not accepted ({exc.code})."
    )


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, at a word if one is near, ending in "…"."""
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return ELLIPSIS[:limit]
    cut = text[: limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    # Cutting at a word reads better, but not at the price of most of the text.
    if space >= len(cut) * 0.8:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def compose(confirmation: str, notices: Sequence[str], limit: int = CHAT_MAX_CHARS) -> str:
    """One message: the confirmation first, then as many of the newest notices as fit.

    The confirmation (short, bounded) answers what someone in the room just
    did, so it always comes. Notices are oldest first; when they do not all
    fit, the newest win: a newer pin replaces an older one, and the latest
    announcement is the one that matters now, while a stale notice cut off
    would mislead. A notice too long on its own is shortened with "…".
    """
    head = truncate(confirmation, limit) if confirmation else ""
    room = limit - len(head)
    kept: list[str] = []
    for notice in reversed(notices):
        need = len(notice) + (len(SEPARATOR) if head or kept else 0)
        if need <= room:
            kept.append(notice)
            room -= need
        else:
            if not kept:
                # The newest notice does not fit even alone: shortened rather than lost.
                space = room - (len(SEPARATOR) if head else 0)
                if space > len(ELLIPSIS):
                    kept.append(truncate(notice, space))
            # Older notices are left out too, so that none is shown without the newer.
            break
    dropped = len(notices) - len(kept)
    if dropped:
        log.info("chat message full: %d older notices left out", dropped)
    return SEPARATOR.join([p for p in (head,) if p] + kept[::-1])


@dataclass(slots=True)
class _Pending:
    """What one room's chat still has to be told, and when it last was."""

    accepted: int = 0
    refused: list[str] = field(default_factory=list)
    answers: int = 0
    names: list[str] = field(default_factory=list)
    whole: list[str] = field(default_factory=list)  # said in full, in order
    notices: list[str] = field(default_factory=list)
    last_sent: float = float("-inf")
    answers_sent: float = float("-inf")
    task: asyncio.Task[None] | None = None

    def due(self, interval: float, answers_interval: float) -> float | None:
        """When the next message may go (monotonic), ``None`` with nothing to tell."""
        if self.accepted or self.refused or self.whole or self.notices:
            return self.last_sent + interval
        if self.answers:
            return max(self.last_sent + interval, self.answers_sent + answers_interval)
        return None

    def take(self, now: float, answers_interval: float, limit: int = CHAT_MAX_CHARS) -> str:
        head = [reply_text(self.accepted, self.refused)]
        self.accepted = 0
        self.refused = []
        if self.answers and now >= self.answers_sent + answers_interval:
            head.append(answers_text(self.answers, self.names))
            self.answers = 0
            self.names = []
            self.answers_sent = now
        said = [p for p in head if p]
        used = len(SEPARATOR.join(said))
        taken = 0
        for part in self.whole:
            need = len(part) + (len(SEPARATOR) if said else 0)
            if used + need > limit:
                break
            said.append(part)
            used += need
            taken += 1
        if not taken and not said and self.whole:
            said.append(truncate(self.whole[0], limit))  # never stuck on one too long
            taken = 1
        del self.whole[:taken]
        if self.whole:
            return SEPARATOR.join(said)  # later notices wait until the whole post is out
        body = compose(SEPARATOR.join(said), self.notices, limit)
        self.notices = []
        return body


class ChatOutbox:
    """The paced outgoing chat of every room, keyed by Hubs room id.

    ``send(hub_sid, body)`` is called from a task of the outbox; it must not
    block (``ReticulumClient.send_chat`` only queues a frame). The first
    message after a quiet spell goes at once, later ones wait their turn.
    """

    def __init__(
        self,
        send: Send,
        *,
        interval_s: float = CHAT_INTERVAL_S,
        answers_interval_s: float = ANSWERS_INTERVAL_S,
    ) -> None:
        self._send = send
        self._interval = interval_s
        self._answers_interval = answers_interval_s
        self._rooms: dict[str, _Pending] = {}

    def post(self, hub_sid: str, text: str, *, whole: bool = False) -> None:
        """Queue a notice for the room's next message.

        ``whole``: it is never left out, and the parts of a post posted one after the
        other are said in order (in later messages if they do not fit in one).
        """
        if text.strip():
            pending = self._room(hub_sid)
            (pending.whole if whole else pending.notices).append(text)
            self._schedule(hub_sid)

    def confirm_answer(self, hub_sid: str, name: str | None = None) -> None:
        """Count a poll answer taken from the room's chat, told with the next few.

        ``name``: the display name to show (the caller knows whether the event allows it).
        """
        pending = self._room(hub_sid)
        pending.answers += 1
        if name is not None:
            shown = truncate(" ".join(name.split()), NAME_CHARS)
            if shown and shown not in pending.names and len(pending.names) < NAMES_SHOWN:
                pending.names.append(shown)
        self._schedule(hub_sid)

    def confirm(self, hub_sid: str, *, refused: str | None = None) -> None:
        """Count a question taken from the room's chat (or a refusal) for the next message."""
        pending = self._room(hub_sid)
        if refused is None:
            pending.accepted += 1
        else:
            pending.refused.append(refused)
        self._schedule(hub_sid)

    async def flush(self, hub_sid: str) -> None:
        """Wait until what is queued for the room has been sent (at its turn)."""
        pending = self._rooms.get(hub_sid)
        if pending is not None and pending.task is not None:
            await asyncio.wait([pending.task])  # a task cancelled meanwhile is not an error here

    def forget(self, hub_sid: str) -> None:
        """Drop the room's queue (the bridge left it)."""
        pending = self._rooms.pop(hub_sid, None)
        if pending is not None and pending.task is not None:
            pending.task.cancel()

    async def close(self) -> None:
        tasks = [p.task for p in self._rooms.values() if p.task is not None]
        self._rooms.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _room(self, hub_sid: str) -> _Pending:
        return self._rooms.setdefault(hub_sid, _Pending())

    def _schedule(self, hub_sid: str) -> None:
        pending = self._rooms[hub_sid]
        if pending.task is None or pending.task.done():
            pending.task = asyncio.create_task(
                self._send_later(hub_sid, pending), name=f"hubs chat {hub_sid}"
            )

    async def _send_later(self, hub_sid: str, pending: _Pending) -> None:
        # One task per room at a time, until the room has nothing left to say: what
        # comes while it waits (or a post's next part) goes at the following turn.
        while (due := pending.due(self._interval, self._answers_interval)) is not None:
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
                continue  # more may have come meanwhile; look again
            now = time.monotonic()
            body = pending.take(now, self._answers_interval)
            pending.last_sent = now
            if not body:
                continue
            try:
                self._send(hub_sid, body)
            except Exception:
                log.exception("chat message to hubs room %s failed", hub_sid)
