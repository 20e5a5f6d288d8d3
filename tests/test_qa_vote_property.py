"""Property: whatever the sequence of votes, a question's count is its distinct voters."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from hubs_bridge.core import qa
from hubs_bridge.store.sqlite import SqliteStore

NOW = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)


def question(qid: str) -> qa.Question:
    return qa.new_question(
        question_id=qid,
        event="e",
        room=None,
        text="?",
        author=qa.Author("a", None),
        source="web",
        premoderation=False,
        held_for=(),
        client_msg_id=qid,
        now=NOW,
    )


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("pq"), st.sampled_from("abcde"), st.booleans()), max_size=30
    ),
    st.booleans(),
)
def test_count_is_distinct_voters_and_merge_unites(
    votes: list[tuple[str, str, bool]], merge: bool
) -> None:
    async def run() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            store = await SqliteStore.open(Path(tmp) / "db.sqlite3")
            try:
                await store.qa_save("e", [question("p"), question("q")], {"p": None, "q": None})
                model: dict[str, set[str]] = {"p": set(), "q": set()}
                for qid, voter, up in votes:
                    changed = await store.qa_vote("e", qid, voter, up)
                    before = set(model[qid])
                    (model[qid].add if up else model[qid].discard)(voter)
                    assert changed == (model[qid] != before)
                for qid in ("p", "q"):
                    assert await store.qa_vote_count("e", qid) == len(model[qid])
                if merge:
                    united = await store.qa_merge_votes("e", "p", "q")
                    assert united == len(model["p"] | model["q"])  # never lost, never twice
            finally:
                await store.close()

    asyncio.run(run())
