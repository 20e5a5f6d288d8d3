"""Redis store: for several hubs-bridge processes sharing one Redis.

Key layout (``P`` is the configured prefix, so tests and installations never
touch each other's data)::

    P:events                    set of event slugs (index)
    P:{slug}:event              hash {version, doc}
    P:token:<sha256>            JSON of one token record
    P:tokens                    hash token_id -> sha256 (index)
    P:meta                      hash of installation-wide values
    P:{slug}:att:marks          stream of joins/leaves (entry ids follow the mark's time)
    P:{slug}:att:samples        hash "room|minute" -> "web,hubs"
    P:att:events                set of events with an attendance record (for retention)
    P:{slug}:qa:...             questions, votes, moderation log (see ``redis_qa.py``)
    P:qa:events                 set of events with Q&A data (for retention)
    P:{slug}:poll:...           polls and their ballots (see ``redis_polls.py``)
    P:poll:events               set of events with polls (for retention)
    P:{_scenes}:...             uploaded scene versions (see ``redis_scenes.py``)

Every key of one event carries the hash tag ``{slug}`` so that scripts touching
several of them run on a Redis Cluster too. Scripts never span two events or
an event and an index; the indexes are repaired by readers instead (a slug in
``P:events`` without its hash is skipped).

Durability: an acknowledged write survives a Redis restart only if Redis
persists it; ``docker-compose.yml`` runs Redis with ``appendfsync always``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson
from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError
from redis.maint_notifications import MaintNotificationsConfig

from hubs_bridge.core.attendance import AttendanceMark, AttendanceSample
from hubs_bridge.core.calendar import Event
from hubs_bridge.errors import Conflict, NotFound, StoreUnavailable
from hubs_bridge.store.base import TokenRecord
from hubs_bridge.store.event_docs import read_event
from hubs_bridge.store.redis_polls import RedisPolls
from hubs_bridge.store.redis_qa import RedisQa
from hubs_bridge.store.redis_scenes import RedisScenes

# Connections one process keeps to the Redis store, and how long a call may wait for one
# before it fails as unavailable (docs/benchmarks.md: hello storms on Redis).
POOL_CONNECTIONS = 64
POOL_WAIT_S = 10.0

# KEYS[1] event hash; ARGV: new version, doc. Returns 1 ok, 0 missing, -1 version mismatch.
_REPLACE = """
local current = redis.call('HGET', KEYS[1], 'version')
if not current then return 0 end
if tonumber(current) ~= tonumber(ARGV[1]) - 1 then return -1 end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'doc', ARGV[2])
return 1
"""

# KEYS[1] event hash; ARGV: version, doc. Returns 1 created, 0 exists.
_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'doc', ARGV[2])
return 1
"""


def event_key(prefix: str, slug: str, name: str) -> str:
    """A key of one event, hash-tagged by its slug."""
    return f"{prefix}:{{{slug}}}:{name}"


class RedisStore(RedisQa, RedisPolls, RedisScenes):
    """:class:`~hubs_bridge.store.base.Store` on Redis."""

    backend = "redis"

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._r = redis
        self._p = prefix
        self._replace = redis.register_script(_REPLACE)
        self._create = redis.register_script(_CREATE)
        self._register_qa_scripts()
        self._register_poll_scripts()
        self._register_scene_scripts()

    @classmethod
    async def open(cls, url: str, prefix: str) -> RedisStore:
        # A blocking pool: at the start of an event thousands of pages say hello at once,
        # and redis-py's default pool (100, non-blocking) refused the 101st call with
        # "Too many connections". Calls now wait their turn for one of a bounded number.
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=POOL_CONNECTIONS,
            timeout=POOL_WAIT_S,
            decode_responses=True,
            health_check_interval=10,
            # redis-py 8.1 skips its dead-connection check at checkout when these are on
            # (the RESP3 default), handing out sockets a restarted Redis closed
            # (redis/redis-py#4252); one Redis, no maintenance events to follow.
            maint_notifications_config=MaintNotificationsConfig(enabled=False),
        )
        redis = Redis(connection_pool=pool)
        store = cls(redis, prefix)
        await store.ping()
        return store

    async def _call(self, coro: Any) -> Any:
        try:
            return await coro
        except RedisError as exc:
            raise StoreUnavailable(f"Redis store: {exc}") from exc

    async def ping(self) -> None:
        await self._call(self._r.ping())

    async def close(self) -> None:
        await self._r.aclose()
        # A pool given to Redis() is not the client's to close: close it here.
        await self._r.connection_pool.aclose()

    # Events

    async def list_events(self) -> list[Event]:
        slugs = sorted(await self._call(self._r.smembers(f"{self._p}:events")))
        events = []
        for slug in slugs:
            event = await self.get_event(slug)
            if event is not None:
                events.append(event)
        return events

    async def get_event(self, slug: str) -> Event | None:
        doc = await self._call(self._r.hget(event_key(self._p, slug, "event"), "doc"))
        return read_event(slug, doc) if doc else None

    async def create_event(self, event: Event) -> None:
        key = event_key(self._p, event.slug, "event")
        created = await self._call(
            self._create(keys=[key], args=[event.version, event.model_dump_json()])
        )
        # The index is written after the document: a crash in between leaves an
        # event that lists once it is touched again, never an index entry without data.
        await self._call(self._r.sadd(f"{self._p}:events", event.slug))
        if not created:
            raise Conflict(f"an event {event.slug!r} exists already", code="event_exists")

    async def replace_event(self, event: Event) -> None:
        key = event_key(self._p, event.slug, "event")
        result = await self._call(
            self._replace(keys=[key], args=[event.version, event.model_dump_json()])
        )
        if result == 0:
            raise NotFound(f"no event {event.slug!r}", code="event_not_found")
        if result == -1:
            raise Conflict(
                f"event {event.slug!r} was changed meanwhile; reload and try again",
                code="version_conflict",
            )

    async def delete_event(self, slug: str) -> bool:
        deleted = await self._call(self._r.delete(event_key(self._p, slug, "event")))
        await self._call(self._r.srem(f"{self._p}:events", slug))
        # Everything kept for the event goes with it (questions, votes, log, polls,
        # ballots, attendance, its stream): a new event with the same slug must start
        # empty. The hash tag makes the pattern exact: no other event's keys match it.
        pattern = event_key(self._p, slug, "*").replace("{", "\\{").replace("}", "\\}")
        try:
            keys = [key async for key in self._r.scan_iter(match=pattern, count=500)]
        except RedisError as exc:
            raise StoreUnavailable(f"Redis store: {exc}") from exc
        for start in range(0, len(keys), 500):
            await self._call(self._r.delete(*keys[start : start + 500]))
        await self._call(self._r.srem(f"{self._p}:att:events", slug))
        await self._call(self._r.srem(f"{self._p}:qa:events", slug))
        await self._call(self._r.srem(f"{self._p}:poll:events", slug))
        return bool(deleted)

    # Tokens

    @staticmethod
    def _dump_token(record: TokenRecord) -> bytes:
        return orjson.dumps(
            {
                "token_id": record.token_id,
                "token_hash": record.token_hash,
                "role": record.role,
                "events": list(record.events),
                "label": record.label,
                "created_at": record.created_at.isoformat(),
                "revoked": record.revoked,
            }
        )

    @staticmethod
    def _load_token(raw: str) -> TokenRecord:
        data = orjson.loads(raw)
        return TokenRecord(
            token_id=data["token_id"],
            token_hash=data["token_hash"],
            role="staff" if data["role"] == "staff" else "moderator",
            events=tuple(data["events"]),
            label=data["label"],
            created_at=datetime.fromisoformat(data["created_at"]),
            revoked=bool(data["revoked"]),
        )

    async def add_token(self, record: TokenRecord) -> None:
        added = await self._call(
            self._r.hsetnx(f"{self._p}:tokens", record.token_id, record.token_hash)
        )
        if not added:
            raise Conflict("token exists already", code="token_exists")
        await self._call(
            self._r.set(f"{self._p}:token:{record.token_hash}", self._dump_token(record))
        )

    async def find_token(self, token_hash: str) -> TokenRecord | None:
        raw = await self._call(self._r.get(f"{self._p}:token:{token_hash}"))
        return self._load_token(raw) if raw else None

    async def list_tokens(self) -> list[TokenRecord]:
        hashes = await self._call(self._r.hvals(f"{self._p}:tokens"))
        records = [await self.find_token(h) for h in hashes]
        return sorted((r for r in records if r is not None), key=lambda r: r.created_at)

    async def revoke_token(self, token_id: str) -> bool:
        token_hash = await self._call(self._r.hget(f"{self._p}:tokens", token_id))
        record = await self.find_token(token_hash) if token_hash else None
        if record is None or record.revoked:
            return False
        await self._call(
            self._r.set(
                f"{self._p}:token:{record.token_hash}",
                self._dump_token(replace(record, revoked=True)),
            )
        )
        return True

    # Meta

    async def get_meta(self, key: str) -> str | None:
        value = await self._call(self._r.hget(f"{self._p}:meta", key))
        return str(value) if value is not None else None

    async def set_meta_if_absent(self, key: str, value: str) -> str:
        await self._call(self._r.hsetnx(f"{self._p}:meta", key, value))
        stored = await self.get_meta(key)
        assert stored is not None
        return stored

    # Attendance

    async def add_attendance(
        self, marks: Sequence[AttendanceMark], samples: Sequence[AttendanceSample]
    ) -> None:
        if not marks and not samples:
            return
        pipe = self._r.pipeline(transaction=False)
        events = {m.event for m in marks} | {s.event for s in samples}
        pipe.sadd(f"{self._p}:att:events", *events)
        for m in marks:
            pipe.xadd(
                event_key(self._p, m.event, "att:marks"),
                {
                    "room": m.room,
                    "visitor": m.visitor,
                    "source": m.source,
                    "kind": m.kind,
                    "at": repr(m.at.timestamp()),
                },
            )
        for s in samples:
            pipe.hset(
                event_key(self._p, s.event, "att:samples"),
                f"{s.room}|{s.minute.timestamp():.0f}",
                f"{s.web},{s.hubs}",
            )
        await self._call(pipe.execute())

    async def attendance_marks(self, event: str) -> list[AttendanceMark]:
        entries = await self._call(self._r.xrange(event_key(self._p, event, "att:marks")))
        marks = [
            AttendanceMark.stored(
                event, f["room"], f["visitor"], f["source"], f["kind"], float(f["at"])
            )
            for _id, f in entries
        ]
        marks.sort(key=lambda m: m.at)  # stable: equal times keep their insertion order
        return marks

    async def attendance_samples(self, event: str) -> list[AttendanceSample]:
        raw = await self._call(self._r.hgetall(event_key(self._p, event, "att:samples")))
        samples = []
        for key, value in raw.items():
            room, _, minute = key.rpartition("|")
            web, _, hubs = value.partition(",")
            samples.append(
                AttendanceSample(
                    event=event,
                    room=room,
                    minute=datetime.fromtimestamp(float(minute), UTC),
                    web=int(web),
                    hubs=int(hubs),
                )
            )
        samples.sort(key=lambda s: (s.minute, s.room))
        return samples

    async def delete_attendance_before(self, cutoff: datetime) -> int:
        cutoff_s = cutoff.timestamp()
        deleted = 0
        for event in await self._call(self._r.smembers(f"{self._p}:att:events")):
            marks_key = event_key(self._p, event, "att:marks")
            old = [
                entry_id
                for entry_id, f in await self._call(self._r.xrange(marks_key))
                if float(f["at"]) < cutoff_s
            ]
            if old:
                deleted += await self._call(self._r.xdel(marks_key, *old))
            samples_key = event_key(self._p, event, "att:samples")
            fields = [
                key
                for key in await self._call(self._r.hkeys(samples_key))
                if float(key.rpartition("|")[2]) < cutoff_s
            ]
            if fields:
                deleted += await self._call(self._r.hdel(samples_key, *fields))
        return deleted
