"""Rules every poll store keeps alike, whatever its backend: both import them from here.

Which errors a refused save, delete or answer raises, what a repeated answer
returns, and what a moderator's verdict on a held text does. The backends
differ only in how they make each step atomic (one SQLite transaction, one
Redis Lua script); ``redis_polls.py`` repeats :func:`settle_answer` in Lua,
and the contract suite holds the two to the same results.
"""

from __future__ import annotations

from dataclasses import replace

from hubs_bridge.core.polls import Ballot, Poll
from hubs_bridge.core.qa import ModerationEntry
from hubs_bridge.errors import Conflict, NotFound
from hubs_bridge.store.base import BallotOutcome


def check_log(event: str, log: ModerationEntry | None) -> None:
    """Refuse a log entry of another event: it would be filed in the wrong log.

    Raised before any I/O, as a caller's bug (``ValueError``), never a store outage.
    """
    if log is not None and log.event != event:
        raise ValueError(f"a log entry of {log.event!r} written with a poll of {event!r}")


# No ``context``: errors.CONTEXT_KEYS documents a question's id, not a poll's, and the
# message names the poll.
def version_conflict(poll_id: str) -> Conflict:
    return Conflict(
        f"poll {poll_id!r} was changed meanwhile; reload and try again", code="version_conflict"
    )


def poll_not_found(poll_id: str) -> NotFound:
    return NotFound(f"no poll {poll_id!r}", code="poll_not_found")


def poll_not_open(poll_id: str) -> Conflict:
    return Conflict(f"poll {poll_id!r} is not open", code="poll_not_open")


def check_open(poll_id: str, poll: Poll | None) -> None:
    """Why an answer is not taken, if it is not."""
    if poll is None:
        raise poll_not_found(poll_id)
    if poll.state != "open":
        raise poll_not_open(poll_id)


def settle_answer(current: Ballot | None, ballot: Ballot, retry: bool) -> BallotOutcome:
    """What ``poll_answer`` does with ``ballot`` given the voter's stored one.

    ``retry``: the voter used this ``client_msg_id`` on this poll before. It then
    changes nothing, so a late retry of an older answer cannot replace a newer
    one. The stored ballot may be gone (a moderator dropped the held text): the
    retry is answered with itself, unstored, rather than bring the text back.

    A new ``client_msg_id`` with the answer already stored (choices, text,
    held) changes nothing either: the stored ballot stays, with its time.
    ``changed`` tells the caller to store ``ballot``.
    """
    if retry:
        return BallotOutcome(current or ballot, changed=False)
    if current is not None and current.answer == ballot.answer:
        return BallotOutcome(current, changed=False)
    return BallotOutcome(ballot, changed=True)


def verdict(ballot: Ballot, keep: bool, text: str | None) -> Ballot | None:
    """A moderator's verdict on a stored ballot: the ballot after it, or ``None`` if none applies.

    Applies only to a held ballot, and, with ``text``, only while the ballot still
    has that text (its voter may have changed it since the moderator saw it).
    Kept: the ballot as it counts from now on. Dropped: the ballot as it was when
    it was deleted.
    """
    if not ballot.answer.held:
        return None
    if text is not None and ballot.answer.text != text:
        return None
    if not keep:
        return ballot
    return replace(ballot, answer=replace(ballot.answer, held=False))
