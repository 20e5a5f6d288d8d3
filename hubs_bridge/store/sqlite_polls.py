"""The polls half of the SQLite store: polls, ballots and the client_msg_ids answered with.

Mixed into :class:`~hubs_bridge.store.sqlite.SqliteStore`, which owns the
connections and the schema (migration 4 creates these tables). Polls and
ballots are kept as the JSON of :func:`~hubs_bridge.core.polls.poll_to_dict`
and :func:`~hubs_bridge.core.polls.ballot_to_dict`, with the columns a query
needs beside it. Every write runs in a ``BEGIN IMMEDIATE`` transaction on the
store's one writer: what a write checks (a version, a poll's state, the
client_msg_ids used) cannot change before it writes, and a moderation-log
entry commits or rolls back with its change, in the log the Q&A keeps.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime

import aiosqlite
import orjson

from hubs_bridge.core.polls import (
    Ballot,
    Poll,
    ballot_from_dict,
    ballot_to_dict,
    poll_from_dict,
    poll_to_dict,
)
from hubs_bridge.core.qa import ModerationEntry
from hubs_bridge.store.base import BallotOutcome
from hubs_bridge.store.poll_rules import (
    check_log,
    check_open,
    settle_answer,
    verdict,
    version_conflict,
)
from hubs_bridge.store.sqlite_qa import _guarded, _insert_log


def _dump_poll(poll: Poll) -> str:
    return orjson.dumps(poll_to_dict(poll)).decode()


def _load_poll(doc: object) -> Poll:
    return poll_from_dict(orjson.loads(str(doc)))


def _dump_ballot(ballot: Ballot) -> str:
    return orjson.dumps(ballot_to_dict(ballot)).decode()


def _load_ballot(doc: object) -> Ballot:
    return ballot_from_dict(orjson.loads(str(doc)))


def _created(poll: Poll) -> float | None:
    # A poll without a creation time sorts first (NULLs do in SQLite) and is never
    # old enough for retention (NULL < cutoff is not true); redis_polls.py agrees.
    return poll.created_at.timestamp() if poll.created_at is not None else None


async def _fetch(
    tx: aiosqlite.Connection, sql: str, params: Sequence[object]
) -> sqlite3.Row | None:
    async with tx.execute(sql, params) as cur:
        return await cur.fetchone()


class SqlitePolls:
    """Poll methods of the SQLite store (see the module docstring)."""

    # Provided by SqliteStore: the connection that only reads, and a write transaction
    # on the one writer (see SqliteStore._transaction).
    _db: aiosqlite.Connection
    _transaction: Callable[[], AbstractAsyncContextManager[aiosqlite.Connection]]

    async def _read(self, sql: str, params: Sequence[object]) -> list[sqlite3.Row]:
        # One call to the reader's thread, as SqliteQa._rows explains.
        return list(await self._db.execute_fetchall(sql, params))

    @_guarded
    async def poll_list(self, event: str) -> list[Poll]:
        rows = await self._read(
            "SELECT doc FROM polls WHERE event = ? ORDER BY created_at, id", (event,)
        )
        return [_load_poll(row[0]) for row in rows]

    @_guarded
    async def poll_get(self, event: str, poll_id: str) -> Poll | None:
        rows = await self._read(
            "SELECT doc FROM polls WHERE event = ? AND id = ?", (event, poll_id)
        )
        return _load_poll(rows[0][0]) if rows else None

    async def poll_save(
        self, poll: Poll, expected: int | None, log: ModerationEntry | None = None
    ) -> None:
        # Checked outside _guarded: a caller's mistake must not read as an outage.
        check_log(poll.event, log)
        await self._poll_save(poll, expected, log)

    @_guarded
    async def _poll_save(
        self, poll: Poll, expected: int | None, log: ModerationEntry | None
    ) -> None:
        async with self._transaction() as tx:
            row = await _fetch(
                tx, "SELECT version FROM polls WHERE event = ? AND id = ?", (poll.event, poll.id)
            )
            if (int(row[0]) if row else None) != expected:
                raise version_conflict(poll.id)
            await tx.execute(
                "INSERT INTO polls (event, id, version, created_at, doc) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (event, id) DO UPDATE SET version = excluded.version, "
                "created_at = excluded.created_at, doc = excluded.doc",
                (poll.event, poll.id, poll.version, _created(poll), _dump_poll(poll)),
            )
            if log is not None:
                # In the same transaction: the entry exists exactly when the change does.
                await _insert_log(tx, log)

    async def poll_delete(
        self, event: str, poll_id: str, expected: int, log: ModerationEntry | None = None
    ) -> bool:
        check_log(event, log)
        return await self._poll_delete(event, poll_id, expected, log)

    @_guarded
    async def _poll_delete(
        self, event: str, poll_id: str, expected: int, log: ModerationEntry | None
    ) -> bool:
        async with self._transaction() as tx:
            row = await _fetch(
                tx, "SELECT version FROM polls WHERE event = ? AND id = ?", (event, poll_id)
            )
            if row is None:
                return False
            if int(row[0]) != expected:
                raise version_conflict(poll_id)
            for table in ("poll_ballots", "poll_client_msgs"):
                await tx.execute(
                    f"DELETE FROM {table} WHERE event = ? AND poll = ?",  # noqa: S608
                    (event, poll_id),
                )
            await tx.execute("DELETE FROM polls WHERE event = ? AND id = ?", (event, poll_id))
            if log is not None:
                await _insert_log(tx, log)
            return True

    @_guarded
    async def poll_answer(self, ballot: Ballot) -> BallotOutcome:
        event, poll_id, voter = ballot.event, ballot.poll, ballot.voter
        async with self._transaction() as tx:
            # The poll's state is read in the transaction that writes: a close committed
            # before it is seen, one after it waits for this answer to commit.
            row = await _fetch(
                tx, "SELECT doc FROM polls WHERE event = ? AND id = ?", (event, poll_id)
            )
            check_open(poll_id, _load_poll(row[0]) if row else None)
            # Every client_msg_id is remembered, answered or not: a late retry of one
            # that lost to a newer answer must still be known as a retry.
            claimed = await tx.execute(
                "INSERT OR IGNORE INTO poll_client_msgs (event, poll, voter, client_msg_id) "
                "VALUES (?, ?, ?, ?)",
                (event, poll_id, voter, ballot.client_msg_id),
            )
            row = await _fetch(
                tx,
                "SELECT doc FROM poll_ballots WHERE event = ? AND poll = ? AND voter = ?",
                (event, poll_id, voter),
            )
            outcome = settle_answer(
                _load_ballot(row[0]) if row else None, ballot, retry=claimed.rowcount == 0
            )
            if outcome.changed:
                await tx.execute(
                    "INSERT INTO poll_ballots (event, poll, voter, id, doc) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (event, poll, voter) "
                    "DO UPDATE SET doc = excluded.doc",
                    (event, poll_id, voter, ballot.id, _dump_ballot(ballot)),
                )
        return outcome

    @_guarded
    async def poll_ballots(self, event: str, poll_id: str) -> list[Ballot]:
        rows = await self._read(
            "SELECT doc FROM poll_ballots WHERE event = ? AND poll = ?", (event, poll_id)
        )
        return [_load_ballot(row[0]) for row in rows]

    @_guarded
    async def poll_ballot_of(self, event: str, poll_id: str, voter: str) -> Ballot | None:
        rows = await self._read(
            "SELECT doc FROM poll_ballots WHERE event = ? AND poll = ? AND voter = ?",
            (event, poll_id, voter),
        )
        return _load_ballot(rows[0][0]) if rows else None

    @_guarded
    async def poll_ballots_of(self, event: str, voter: str) -> list[Ballot]:
        rows = await self._read(
            "SELECT doc FROM poll_ballots WHERE event = ? AND voter = ? ORDER BY poll",
            (event, voter),
        )
        return [_load_ballot(row[0]) for row in rows]

    @_guarded
    async def poll_release(
        self, event: str, poll_id: str, ballot_id: str, keep: bool, text: str | None = None
    ) -> Ballot | None:
        async with self._transaction() as tx:
            row = await _fetch(
                tx,
                "SELECT voter, doc FROM poll_ballots WHERE event = ? AND poll = ? AND id = ?",
                (event, poll_id, ballot_id),
            )
            if row is None:
                return None
            voter, doc = row
            after = verdict(_load_ballot(doc), keep, text)
            if after is None:
                return None
            where = (event, poll_id, str(voter))
            if keep:
                await tx.execute(
                    "UPDATE poll_ballots SET doc = ? WHERE event = ? AND poll = ? AND voter = ?",
                    (_dump_ballot(after), *where),
                )
            else:
                await tx.execute(
                    "DELETE FROM poll_ballots WHERE event = ? AND poll = ? AND voter = ?", where
                )
        return after

    @_guarded
    async def poll_delete_before(self, cutoff: datetime) -> int:
        ts = cutoff.timestamp()
        old = "SELECT event, id FROM polls WHERE created_at < ?"
        async with self._transaction() as tx:
            for table in ("poll_ballots", "poll_client_msgs"):
                await tx.execute(
                    f"DELETE FROM {table} WHERE (event, poll) IN ({old})",  # noqa: S608
                    (ts,),
                )
            cur = await tx.execute("DELETE FROM polls WHERE created_at < ?", (ts,))
        return cur.rowcount
