"""SQLite store: the embedded default, one file in the data directory.

aiosqlite runs every statement on its own thread, so the event loop never
blocks on disk. WAL mode lets readers go on while one writer commits, and
``synchronous=FULL`` makes a commit survive a power cut, which is the promise
behind every acknowledgement.

One connection reads and one writes (see :class:`SqliteStore`): writes queue
for the writer instead of contending for SQLite's write lock.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
import orjson

from hubs_bridge.core.attendance import AttendanceMark, AttendanceSample
from hubs_bridge.core.calendar import Event
from hubs_bridge.errors import Conflict, NotFound, StoreUnavailable
from hubs_bridge.store.base import TokenRecord
from hubs_bridge.store.event_docs import read_event
from hubs_bridge.store.sqlite_polls import SqlitePolls
from hubs_bridge.store.sqlite_qa import SqliteQa, _guarded
from hubs_bridge.store.sqlite_scenes import SqliteScenes

# Each entry moves the schema one version up; never edit a published one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE events (
        slug TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE TABLE tokens (
        token_id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL,
        events TEXT NOT NULL,
        label TEXT NOT NULL,
        created_at TEXT NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    """
    CREATE TABLE attendance_marks (
        id INTEGER PRIMARY KEY,
        event TEXT NOT NULL,
        room TEXT NOT NULL,
        visitor TEXT NOT NULL,
        source TEXT NOT NULL,
        kind TEXT NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX attendance_marks_event ON attendance_marks (event, at);
    CREATE INDEX attendance_marks_at ON attendance_marks (at);
    CREATE TABLE attendance_samples (
        event TEXT NOT NULL,
        room TEXT NOT NULL,
        minute REAL NOT NULL,
        web INTEGER NOT NULL,
        hubs INTEGER NOT NULL,
        PRIMARY KEY (event, room, minute)
    );
    CREATE INDEX attendance_samples_minute ON attendance_samples (minute);
    """,
    # Q&A (sqlite_qa.py). Question ids are scoped by event like every Q&A row;
    # created_at is a UNIX time so ordering and retention compare numbers.
    """
    CREATE TABLE qa_questions (
        event TEXT NOT NULL,
        id TEXT NOT NULL,
        version INTEGER NOT NULL,
        created_at REAL NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (event, id)
    );
    CREATE INDEX qa_questions_created ON qa_questions (created_at);
    CREATE TABLE qa_client_msgs (
        event TEXT NOT NULL,
        visitor TEXT NOT NULL,
        client_msg_id TEXT NOT NULL,
        question TEXT NOT NULL,
        PRIMARY KEY (event, visitor, client_msg_id)
    );
    CREATE INDEX qa_client_msgs_question ON qa_client_msgs (event, question);
    CREATE TABLE qa_votes (
        event TEXT NOT NULL,
        question TEXT NOT NULL,
        voter TEXT NOT NULL,
        PRIMARY KEY (event, question, voter)
    );
    CREATE INDEX qa_votes_voter ON qa_votes (event, voter);
    CREATE TABLE qa_log (
        id INTEGER PRIMARY KEY,
        event TEXT NOT NULL,
        at REAL NOT NULL,
        actor TEXT NOT NULL,
        role TEXT NOT NULL,
        action TEXT NOT NULL,
        question TEXT,
        details TEXT NOT NULL
    );
    CREATE INDEX qa_log_event ON qa_log (event, at);
    CREATE INDEX qa_log_at ON qa_log (at);
    """,
    # Polls (sqlite_polls.py), scoped by event like the Q&A; their log entries go to
    # qa_log. created_at may be NULL (a poll record without one), never old enough for
    # retention. A ballot row per (poll, voter), with its public id for poll_release;
    # every client_msg_id a voter answered a poll with, so late retries stay retries.
    """
    CREATE TABLE polls (
        event TEXT NOT NULL,
        id TEXT NOT NULL,
        version INTEGER NOT NULL,
        created_at REAL,
        doc TEXT NOT NULL,
        PRIMARY KEY (event, id)
    );
    CREATE INDEX polls_created ON polls (created_at);
    CREATE TABLE poll_ballots (
        event TEXT NOT NULL,
        poll TEXT NOT NULL,
        voter TEXT NOT NULL,
        id TEXT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (event, poll, voter)
    );
    CREATE INDEX poll_ballots_id ON poll_ballots (event, poll, id);
    CREATE INDEX poll_ballots_voter ON poll_ballots (event, voter);
    CREATE TABLE poll_client_msgs (
        event TEXT NOT NULL,
        poll TEXT NOT NULL,
        voter TEXT NOT NULL,
        client_msg_id TEXT NOT NULL,
        PRIMARY KEY (event, poll, voter, client_msg_id)
    );
    """,
    # Uploaded scene versions (sqlite_scenes.py), shared by every process of the
    # installation; not scoped by event. sha256 beside the JSON for the blob collector.
    """
    CREATE TABLE scene_versions (
        slug TEXT NOT NULL,
        number INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (slug, number)
    );
    """,
)

log = logging.getLogger("hubs_bridge.store.sqlite")


async def _connect(path: Path, *, reader: bool) -> aiosqlite.Connection:
    db = await aiosqlite.connect(path, isolation_level=None)
    try:
        # WAL: readers never wait for the writer nor it for them. FULL: the WAL is synced
        # at every commit, so an acknowledged write survives a power cut (NORMAL would
        # only promise that the file stays consistent, and lose the last commits).
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=FULL")
        await db.execute("PRAGMA foreign_keys=ON")
        # Another process (the token CLI beside a running server) may hold the write lock
        # for a moment: wait for it rather than fail.
        await db.execute("PRAGMA busy_timeout=5000")
        if reader:
            # A write slipping onto the reader would bring back the lock contention
            # SqliteStore exists to avoid; SQLite refuses it instead.
            await db.execute("PRAGMA query_only=ON")
    except BaseException:
        await db.close()
        raise
    return db


# Tables with rows of one event each (column ``event``), emptied with the event.
_EVENT_TABLES = (
    "attendance_marks",
    "attendance_samples",
    "qa_questions",
    "qa_client_msgs",
    "qa_votes",
    "qa_log",
    "polls",
    "poll_ballots",
    "poll_client_msgs",
)


class SqliteStore(SqliteQa, SqlitePolls, SqliteScenes):
    """:class:`~hubs_bridge.store.base.Store` on one SQLite file.

    Two connections: ``_db`` only reads, and ``_writer`` runs every write as a
    transaction of its own, one at a time, in the order callers asked (an
    ``asyncio.Lock`` is fair). So writes queue and never fail on contention.

    Writes once also ran as single statements on ``_db``; while another
    coroutine's read was open there, such a write met the write lock held by a
    transaction of the other connection, and SQLite answers that at once with
    ``database is locked``: it calls the busy handler only for a connection
    without an open read, because waiting could deadlock. Visitors' votes and
    staff's writes were refused as unavailable (issue 11).

    Writes must not share a connection with other work either: a statement of
    another coroutine, issued while a transaction is open, would join it,
    committed before its caller's acknowledgement was backed by a commit of its
    own, or undone by that transaction's rollback.

    Reads run each in one call to the reader's thread (``_rows``), so no
    statement stays open between calls, and each read sees every commit that
    returned before it started.
    """

    backend = "sqlite"

    def __init__(self, db: aiosqlite.Connection, writer: aiosqlite.Connection, path: Path) -> None:
        self._db = db
        self._writer = writer
        self._write_lock = asyncio.Lock()
        self.path = path
        self._closed = False

    @classmethod
    async def open(cls, path: Path) -> SqliteStore:
        path.parent.mkdir(parents=True, exist_ok=True)
        opened: list[aiosqlite.Connection] = []
        try:
            opened.append(await _connect(path, reader=False))
            opened.append(await _connect(path, reader=True))
            store = cls(opened[1], opened[0], path)
            await store._migrate()
        except BaseException as exc:
            # An aiosqlite connection left open keeps a non-daemon thread, and with
            # it a process that should stop with one line.
            for db in opened:
                await db.close()
            if isinstance(exc, sqlite3.Error):
                raise StoreUnavailable(f"cannot open SQLite database {path}: {exc}") from exc
            raise
        return store

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction: committed if the block ends normally, else rolled back.

        Every write goes through here, queued by ``_write_lock``. IMMEDIATE takes
        the write lock at BEGIN, so what the block reads cannot change before it
        writes (the version checks of ``qa_save`` rely on it), and a wait for
        another process happens at BEGIN, where the busy timeout applies.
        """
        async with self._write_lock:
            tx = self._writer
            try:
                await tx.execute("BEGIN IMMEDIATE")
                yield tx
                await tx.execute("COMMIT")
            except BaseException:
                # A BEGIN or COMMIT whose await was cancelled (a page that closed while
                # its vote was written) still runs in aiosqlite's thread, later. Its calls
                # run in order, so a ROLLBACK sent now always comes after it: sent
                # unconditionally, or a cancelled BEGIN would leave a transaction open
                # and every later write of this process would fail. It may find none
                # (SQLite rolled back on its own, or the BEGIN failed); that error must
                # not replace the original one: a CancelledError turned into a store error
                # is swallowed by a retrying loop, which then never stops.
                try:
                    await tx.execute("ROLLBACK")
                except sqlite3.Error as exc:
                    if "no transaction is active" not in str(exc):
                        log.warning("SQLite ROLLBACK failed: %s", exc)
                raise

    async def _migrate(self) -> None:
        row = await self._row("PRAGMA user_version")
        current = int(row[0]) if row else 0
        if current > len(MIGRATIONS):
            raise StoreUnavailable(
                f"database schema version {current} is newer than this program "
                f"({len(MIGRATIONS)}); upgrade hubs-bridge"
            )
        for version in range(current, len(MIGRATIONS)):
            # executescript commits first; the version bump rides in the same script.
            await self._writer.executescript(
                f"BEGIN; {MIGRATIONS[version]} PRAGMA user_version = {version + 1}; COMMIT;"
            )

    @_guarded
    async def schema_version(self) -> int:
        row = await self._row("PRAGMA user_version")
        return int(row[0]) if row else 0

    async def ping(self) -> None:
        try:
            await self._rows("SELECT 1")
        except (sqlite3.Error, ValueError) as exc:
            raise StoreUnavailable(f"SQLite not usable: {exc}") from exc

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._writer.close()
            await self._db.close()

    # Events

    @_guarded
    async def list_events(self) -> list[Event]:
        rows = await self._rows("SELECT slug, doc FROM events ORDER BY slug")
        return [event for row in rows if (event := read_event(row[0], row[1])) is not None]

    @_guarded
    async def get_event(self, slug: str) -> Event | None:
        row = await self._row("SELECT doc FROM events WHERE slug = ?", (slug,))
        return read_event(slug, row[0]) if row else None

    @_guarded
    async def create_event(self, event: Event) -> None:
        try:
            await self._write(
                "INSERT INTO events (slug, version, doc) VALUES (?, ?, ?)",
                (event.slug, event.version, event.model_dump_json()),
            )
        except sqlite3.IntegrityError:
            raise Conflict(f"an event {event.slug!r} exists already", code="event_exists") from None

    @_guarded
    async def replace_event(self, event: Event) -> None:
        async with self._transaction() as tx:
            cur = await tx.execute(
                "UPDATE events SET version = ?, doc = ? WHERE slug = ? AND version = ?",
                (event.version, event.model_dump_json(), event.slug, event.version - 1),
            )
            if cur.rowcount == 1:
                return
            # Why not, asked in the same transaction: the answer cannot change meanwhile.
            async with tx.execute("SELECT 1 FROM events WHERE slug = ?", (event.slug,)) as found:
                exists = await found.fetchone() is not None
        if not exists:
            raise NotFound(f"no event {event.slug!r}", code="event_not_found")
        raise Conflict(
            f"event {event.slug!r} was changed meanwhile; reload and try again",
            code="version_conflict",
        )

    @_guarded
    async def delete_event(self, slug: str) -> bool:
        async with self._transaction() as tx:
            cur = await tx.execute("DELETE FROM events WHERE slug = ?", (slug,))
            # Everything kept for the event goes with it: a new event with the same
            # slug must not show the old one's questions or attendance.
            for table in _EVENT_TABLES:
                await tx.execute(f"DELETE FROM {table} WHERE event = ?", (slug,))  # noqa: S608
            return cur.rowcount == 1

    # Tokens

    @_guarded
    async def add_token(self, record: TokenRecord) -> None:
        try:
            await self._write(
                "INSERT INTO tokens (token_id, token_hash, role, events, label, created_at, "
                "revoked) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record.token_id,
                    record.token_hash,
                    record.role,
                    orjson.dumps(list(record.events)).decode(),
                    record.label,
                    record.created_at.isoformat(),
                    int(record.revoked),
                ),
            )
        except sqlite3.IntegrityError:
            raise Conflict("token exists already", code="token_exists") from None

    @staticmethod
    def _token(row: sqlite3.Row | tuple[object, ...]) -> TokenRecord:
        token_id, token_hash, role, events, label, created_at, revoked = row
        return TokenRecord(
            token_id=str(token_id),
            token_hash=str(token_hash),
            role="staff" if role == "staff" else "moderator",
            events=tuple(orjson.loads(str(events))),
            label=str(label),
            created_at=datetime.fromisoformat(str(created_at)),
            revoked=bool(revoked),
        )

    _TOKEN_COLUMNS = "token_id, token_hash, role, events, label, created_at, revoked"

    @_guarded
    async def find_token(self, token_hash: str) -> TokenRecord | None:
        sql = f"SELECT {self._TOKEN_COLUMNS} FROM tokens WHERE token_hash = ?"  # noqa: S608
        row = await self._row(sql, (token_hash,))
        return self._token(tuple(row)) if row else None

    @_guarded
    async def list_tokens(self) -> list[TokenRecord]:
        sql = f"SELECT {self._TOKEN_COLUMNS} FROM tokens ORDER BY created_at"  # noqa: S608
        rows = await self._rows(sql)
        return [self._token(tuple(row)) for row in rows]

    @_guarded
    async def revoke_token(self, token_id: str) -> bool:
        changed = await self._write(
            "UPDATE tokens SET revoked = 1 WHERE token_id = ? AND revoked = 0", (token_id,)
        )
        return changed == 1

    # Meta

    @_guarded
    async def get_meta(self, key: str) -> str | None:
        row = await self._row("SELECT value FROM meta WHERE key = ?", (key,))
        return str(row[0]) if row else None

    @_guarded
    async def set_meta_if_absent(self, key: str, value: str) -> str:
        async with self._transaction() as tx:
            await tx.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING",
                (key, value),
            )
            async with tx.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cur:
                row = await cur.fetchone()
        assert row is not None
        return str(row[0])

    # Attendance

    @_guarded
    async def add_attendance(
        self, marks: Sequence[AttendanceMark], samples: Sequence[AttendanceSample]
    ) -> None:
        if not marks and not samples:
            return
        # One transaction for the batch: one fsync instead of one per row.
        async with self._transaction() as tx:
            await tx.executemany(
                "INSERT INTO attendance_marks (event, room, visitor, source, kind, at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(m.event, m.room, m.visitor, m.source, m.kind, m.at.timestamp()) for m in marks],
            )
            await tx.executemany(
                "INSERT OR REPLACE INTO attendance_samples (event, room, minute, web, hubs) "
                "VALUES (?, ?, ?, ?, ?)",
                [(s.event, s.room, s.minute.timestamp(), s.web, s.hubs) for s in samples],
            )

    @_guarded
    async def attendance_marks(self, event: str) -> list[AttendanceMark]:
        rows = await self._rows(
            "SELECT room, visitor, source, kind, at FROM attendance_marks WHERE event = ? "
            "ORDER BY at, id",
            (event,),
        )
        return [
            AttendanceMark.stored(event, str(room), str(visitor), str(source), str(kind), float(at))
            for room, visitor, source, kind, at in rows
        ]

    @_guarded
    async def attendance_samples(self, event: str) -> list[AttendanceSample]:
        rows = await self._rows(
            "SELECT room, minute, web, hubs FROM attendance_samples WHERE event = ? "
            "ORDER BY minute, room",
            (event,),
        )
        return [
            AttendanceSample(
                event=event,
                room=str(room),
                minute=datetime.fromtimestamp(float(minute), UTC),
                web=int(web),
                hubs=int(hubs),
            )
            for room, minute, web, hubs in rows
        ]

    @_guarded
    async def delete_attendance_before(self, cutoff: datetime) -> int:
        ts = cutoff.timestamp()
        async with self._transaction() as tx:
            marks = await tx.execute("DELETE FROM attendance_marks WHERE at < ?", (ts,))
            samples = await tx.execute("DELETE FROM attendance_samples WHERE minute < ?", (ts,))
        return marks.rowcount + samples.rowcount
