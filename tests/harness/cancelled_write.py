"""A write cancelled at its start (its page went away), then the next write: does it work?

aiohttp cancels a websocket handler when its client disconnects, so a vote or
an ask whose page drops at once is cancelled inside the store's write. The store
must end that write cleanly: every later write of the process depends on it.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

from hubs_bridge.core import qa
from hubs_bridge.store import Store

EVENT = "kirmes"
NOW = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)


async def cancel_a_write_then_write(store: Store) -> int:
    """Cancel a vote at its first await, then vote again; returns the count after."""
    question = qa.new_question(
        question_id="q1",
        event=EVENT,
        room=None,
        text="Frage?",
        author=qa.Author("asker", None),
        source="web",
        premoderation=False,
        held_for=(),
        client_msg_id="m1",
        now=NOW,
    )
    await store.qa_save(EVENT, [question], {question.id: None})
    cancelled = asyncio.create_task(store.qa_vote(EVENT, question.id, "gone", False))
    # One turn of the loop, no time: the task now waits on its first statement.
    await asyncio.sleep(0)
    cancelled.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await cancelled
    assert await store.qa_vote(EVENT, question.id, "next", True) is True
    return await store.qa_vote_count(EVENT, question.id)
