"""The Q&A half of the SQLite store: questions, votes and the moderation log.

Mixed into :class:`~hubs_bridge.store.sqlite.SqliteStore`, which owns the
connections and the schema (migration 3 creates these tables). Questions are
kept as the JSON of :func:`~hubs_bridge.core.qa.question_to_dict`, with the
columns a query needs (version, created_at) beside it. Every write runs in a
``BEGIN IMMEDIATE`` transaction on the store's one writer, so two writers
cannot both pass the same version check, and a moderation-log entry given to
``qa_save`` commits or rolls back with its change.

``_guarded`` lives here rather than in ``sqlite.py`` because both halves use it
and ``sqlite.py`` imports this module. The batch checks and the ``Conflict``
errors below are used by ``redis_qa.py`` as well, so that both backends refuse
the same saves with the same codes.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Coroutine, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

import aiosqlite
import orjson

from hubs_bridge.core.qa import ModerationEntry, Question, question_from_dict, question_to_dict
from hubs_bridge.errors import StoreUnavailable
from hubs_bridge.store.qa_rules import (
    check_batch,
    check_votable,
    client_msg_claim,
    duplicate_client_msg,
    version_conflict,
)

P = ParamSpec("P")
R = TypeVar("R")


def _guarded(method: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    """Turn database failures into StoreUnavailable, the one error callers handle."""

    @functools.wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(*args, **kwargs)
        except (sqlite3.Error, ValueError) as exc:  # aiosqlite: ValueError once closed
            raise StoreUnavailable(f"SQLite: {exc}") from exc

    return wrapper


def _dump(question: Question) -> str:
    return orjson.dumps(question_to_dict(question)).decode()


def _load(doc: object) -> Question:
    return question_from_dict(orjson.loads(str(doc)))


async def _insert_log(tx: aiosqlite.Connection, entry: ModerationEntry) -> None:
    await tx.execute(
        "INSERT INTO qa_log (event, at, actor, role, action, question, details) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            entry.event,
            entry.at.timestamp(),
            entry.actor,
            entry.role,
            entry.action,
            entry.question,
            orjson.dumps([list(pair) for pair in entry.details]).decode(),
        ),
    )


class SqliteQa:
    """Q&A methods of the SQLite store (see the module docstring)."""

    # Provided by SqliteStore: the connection that only reads, and a write transaction
    # on the one writer (see SqliteStore._transaction).
    _db: aiosqlite.Connection
    _transaction: Callable[[], AbstractAsyncContextManager[aiosqlite.Connection]]

    async def _rows(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        """A read in one call to the reader's thread.

        With ``execute`` and then ``fetchall`` (two calls), statements of other
        coroutines run in between while this one is still open, and share its
        snapshot: they would not see commits made since it began.
        """
        return list(await self._db.execute_fetchall(sql, params))

    async def _row(self, sql: str, params: Sequence[object] = ()) -> sqlite3.Row | None:
        rows = await self._rows(sql, params)
        return rows[0] if rows else None

    async def _write(self, sql: str, params: Sequence[object] = ()) -> int:
        """One statement as a transaction of its own; returns how many rows it changed."""
        async with self._transaction() as tx:
            cur = await tx.execute(sql, params)
            return cur.rowcount

    @_guarded
    async def qa_questions(self, event: str) -> list[Question]:
        rows = await self._rows(
            "SELECT doc FROM qa_questions WHERE event = ? ORDER BY created_at, id", (event,)
        )
        return [_load(row[0]) for row in rows]

    @_guarded
    async def qa_get(self, event: str, question_id: str) -> Question | None:
        row = await self._row(
            "SELECT doc FROM qa_questions WHERE event = ? AND id = ?", (event, question_id)
        )
        return _load(row[0]) if row else None

    @_guarded
    async def qa_by_client_msg(
        self, event: str, visitor: str, client_msg_id: str
    ) -> Question | None:
        row = await self._row(
            "SELECT q.doc FROM qa_client_msgs AS m JOIN qa_questions AS q "
            "ON q.event = m.event AND q.id = m.question "
            "WHERE m.event = ? AND m.visitor = ? AND m.client_msg_id = ?",
            (event, visitor, client_msg_id),
        )
        return _load(row[0]) if row else None

    async def qa_save(
        self,
        event: str,
        questions: Sequence[Question],
        expected: Mapping[str, int | None],
        log: ModerationEntry | None = None,
    ) -> None:
        # Checked outside _guarded: a caller's mistake must not read as an outage.
        check_batch(event, questions, expected, log)
        if questions:
            await self._qa_save(event, questions, expected, log)

    @_guarded
    async def _qa_save(
        self,
        event: str,
        questions: Sequence[Question],
        expected: Mapping[str, int | None],
        log: ModerationEntry | None,
    ) -> None:
        async with self._transaction() as tx:
            # Every check before the first write; the rollback is then only a safety net.
            for q in questions:
                async with tx.execute(
                    "SELECT version FROM qa_questions WHERE event = ? AND id = ?", (event, q.id)
                ) as cur:
                    row = await cur.fetchone()
                if (int(row[0]) if row else None) != expected[q.id]:
                    raise version_conflict(q.id)
            claimed: set[tuple[str, str]] = set()
            claims = []
            for q in questions:
                claim = client_msg_claim(q, expected[q.id])
                if claim is None:
                    continue
                async with tx.execute(
                    "SELECT 1 FROM qa_client_msgs "
                    "WHERE event = ? AND visitor = ? AND client_msg_id = ?",
                    (event, *claim),
                ) as cur:
                    taken = await cur.fetchone() is not None
                if taken or claim in claimed:
                    raise duplicate_client_msg(q.id)
                claimed.add(claim)
                claims.append((event, *claim, q.id))
            await tx.executemany(
                "INSERT INTO qa_client_msgs (event, visitor, client_msg_id, question) "
                "VALUES (?, ?, ?, ?)",
                claims,
            )
            await tx.executemany(
                "INSERT INTO qa_questions (event, id, version, created_at, doc) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (event, id) DO UPDATE SET "
                "version = excluded.version, created_at = excluded.created_at, doc = excluded.doc",
                [(event, q.id, q.version, q.created_at.timestamp(), _dump(q)) for q in questions],
            )
            if log is not None:
                # In the same transaction: the entry exists exactly when the change does.
                await _insert_log(tx, log)

    # Votes: one row per (question, voter), so a vote is a set membership and
    # the primary key makes "up twice" a no-op without reading first.

    @_guarded
    async def qa_vote(self, event: str, question_id: str, voter: str, up: bool) -> bool:
        if not up:
            changed = await self._write(
                "DELETE FROM qa_votes WHERE event = ? AND question = ? AND voter = ?",
                (event, question_id, voter),
            )
            return changed == 1
        async with self._transaction() as tx:
            # One statement: the vote goes in only while the question takes votes, so a
            # vote racing a merge, a reject or a delete never lands on a hidden question.
            cur = await tx.execute(
                "INSERT OR IGNORE INTO qa_votes (event, question, voter) SELECT ?, ?, ? "
                "WHERE EXISTS (SELECT 1 FROM qa_questions WHERE event = ? AND id = ? "
                "AND json_extract(doc, '$.status') = 'approved' "
                "AND json_extract(doc, '$.deleted_at') IS NULL)",
                (event, question_id, voter, event, question_id),
            )
            if cur.rowcount == 1:
                return True
            # Why not, read in the same transaction: the reason cannot change meanwhile.
            async with tx.execute(
                "SELECT doc FROM qa_questions WHERE event = ? AND id = ?", (event, question_id)
            ) as found:
                row = await found.fetchone()
        check_votable(question_id, _load(row[0]) if row else None)
        return False

    @_guarded
    async def qa_vote_counts(self, event: str) -> dict[str, int]:
        rows = await self._rows(
            "SELECT question, COUNT(*) FROM qa_votes WHERE event = ? GROUP BY question", (event,)
        )
        return {str(question): int(count) for question, count in rows}

    @_guarded
    async def qa_vote_count(self, event: str, question_id: str) -> int:
        row = await self._row(
            "SELECT COUNT(*) FROM qa_votes WHERE event = ? AND question = ?", (event, question_id)
        )
        return int(row[0]) if row else 0

    @_guarded
    async def qa_voted_by(self, event: str, voter: str) -> set[str]:
        rows = await self._rows(
            "SELECT question FROM qa_votes WHERE event = ? AND voter = ?", (event, voter)
        )
        return {str(row[0]) for row in rows}

    @_guarded
    async def qa_merge_votes(self, event: str, source: str, target: str) -> int:
        async with self._transaction() as tx:
            # OR IGNORE: a voter of both already has the target row, and counts once.
            await tx.execute(
                "INSERT OR IGNORE INTO qa_votes (event, question, voter) "
                "SELECT event, ?, voter FROM qa_votes WHERE event = ? AND question = ?",
                (target, event, source),
            )
            async with tx.execute(
                "SELECT COUNT(*) FROM qa_votes WHERE event = ? AND question = ?", (event, target)
            ) as cur:
                row = await cur.fetchone()
        return int(row[0]) if row else 0

    # Moderation log

    @_guarded
    async def qa_log(self, entry: ModerationEntry) -> None:
        async with self._transaction() as tx:
            await _insert_log(tx, entry)

    @_guarded
    async def qa_log_entries(self, event: str) -> list[ModerationEntry]:
        rows = await self._rows(
            "SELECT at, actor, role, action, question, details FROM qa_log WHERE event = ? "
            "ORDER BY at, id",
            (event,),
        )
        return [
            ModerationEntry(
                event=event,
                at=datetime.fromtimestamp(float(at), UTC),
                actor=str(actor),
                role=str(role),
                action=str(action),
                question=None if question is None else str(question),
                details=tuple((str(k), str(v)) for k, v in orjson.loads(str(details))),
            )
            for at, actor, role, action, question, details in rows
        ]

    @_guarded
    async def qa_delete_before(self, cutoff: datetime) -> int:
        ts = cutoff.timestamp()
        old = "SELECT event, id FROM qa_questions WHERE created_at < ?"
        async with self._transaction() as tx:
            await tx.execute(f"DELETE FROM qa_votes WHERE (event, question) IN ({old})", (ts,))  # noqa: S608
            await tx.execute(
                f"DELETE FROM qa_client_msgs WHERE (event, question) IN ({old})",  # noqa: S608
                (ts,),
            )
            await tx.execute("DELETE FROM qa_log WHERE at < ?", (ts,))
            cur = await tx.execute("DELETE FROM qa_questions WHERE created_at < ?", (ts,))
        return cur.rowcount
