"""The Q&A half of the Redis store: questions, votes and the moderation log.

Mixed into :class:`~hubs_bridge.store.redis.RedisStore`. Key layout, all
hash-tagged by the event like its other keys (``P`` is the prefix)::

    P:{event}:qa:q              hash question id -> JSON (core.qa.question_to_dict)
    P:{event}:qa:ver            hash question id -> version (what qa_save compares)
    P:{event}:qa:cmid           hash ["visitor","client_msg_id"] (JSON) -> question id
    P:{event}:qa:v:<question>   set of the question's voters
    P:{event}:qa:vv:<voter>     set of the questions this voter has a vote on
    P:{event}:qa:log            stream of moderation log entries
    P:qa:events                 set of events with Q&A data (for retention)

Whatever must change together runs as one Lua script over one event's keys:
a moderation's change and its log entry too (``qa_save`` with ``log``).
The vote scripts touch per-voter keys they build from a prefix (which voters a
question has is only known inside the script); those keys carry the same hash
tag, so the script still stays in one Cluster slot.

``P:qa:events`` is added to before the data is written and never pruned: an
index entry without data costs retention one empty look, while pruning could
race a new question and hide its event from retention for good.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from hubs_bridge.core.qa import ModerationEntry, Question, question_from_dict, question_to_dict
from hubs_bridge.store.qa_rules import (
    check_batch,
    check_votable,
    client_msg_claim,
    duplicate_client_msg,
    version_conflict,
)

# KEYS: questions, versions, client_msg index, moderation log. ARGV: n, then n strings
# of the log entry's fields and values (n = 0: no entry), then five per question: id,
# expected version ("" = must not exist), version, JSON, client_msg field ("" = claims
# none). Every check comes before the first write, so a refusal writes nothing.
# Returns {"ok"} or {code, question id}.
_SAVE = """
local claimed = {}
local first = 2 + tonumber(ARGV[1])
for i = first, #ARGV, 5 do
  local id, expected = ARGV[i], ARGV[i + 1]
  local want = false
  if expected ~= '' then want = expected end
  if redis.call('HGET', KEYS[2], id) ~= want then return {'version_conflict', id} end
end
for i = first, #ARGV, 5 do
  local id, field = ARGV[i], ARGV[i + 4]
  if field ~= '' then
    if claimed[field] or redis.call('HEXISTS', KEYS[3], field) == 1 then
      return {'duplicate_client_msg', id}
    end
    claimed[field] = true
  end
end
-- The log entry is the first write: Redis does not undo a script's earlier writes when
-- a later command fails, and XADD is the one write here that can (a key of another type).
if first > 2 then redis.call('XADD', KEYS[4], '*', unpack(ARGV, 2, first - 1)) end
for i = first, #ARGV, 5 do
  local id, field = ARGV[i], ARGV[i + 4]
  redis.call('HSET', KEYS[1], id, ARGV[i + 3])
  redis.call('HSET', KEYS[2], id, ARGV[i + 2])
  if field ~= '' then redis.call('HSET', KEYS[3], field, id) end
end
return {'ok'}
"""

# KEYS: the question's voters, the voter's questions. ARGV: voter, question, "1" up / "0"
# withdraw. Returns 1 if the vote changed.
_VOTE = """
if ARGV[3] == '1' then
  -- Only while the question takes votes (KEYS[3] holds the questions): a vote racing
  -- a merge, a reject or a delete never lands on a hidden question.
  local doc = redis.call('HGET', KEYS[3], ARGV[2])
  if not doc then return -1 end
  local q = cjson.decode(doc)
  if q['status'] ~= 'approved' or (q['deleted_at'] ~= nil and q['deleted_at'] ~= cjson.null) then
    return -2
  end
  if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
  redis.call('SADD', KEYS[2], ARGV[2])
else
  if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return 0 end
  redis.call('SREM', KEYS[2], ARGV[2])
end
return 1
"""

# KEYS: the source's voters, the target's voters. ARGV: per-voter key prefix, target id.
# Returns the target's new count.
_MERGE = """
for _, voter in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  redis.call('SADD', ARGV[1] .. voter, ARGV[2])
end
return redis.call('SUNIONSTORE', KEYS[2], KEYS[2], KEYS[1])
"""

# KEYS: questions, versions, client_msg index. ARGV: per-question voters prefix,
# per-voter prefix, then the ids to delete. Returns how many questions were deleted.
_DELETE = """
local gone, deleted = {}, 0
for i = 3, #ARGV do
  local id = ARGV[i]
  gone[id] = true
  local voters = ARGV[1] .. id
  for _, voter in ipairs(redis.call('SMEMBERS', voters)) do
    redis.call('SREM', ARGV[2] .. voter, id)
  end
  redis.call('DEL', voters)
  redis.call('HDEL', KEYS[2], id)
  deleted = deleted + redis.call('HDEL', KEYS[1], id)
end
local index = redis.call('HGETALL', KEYS[3])
for i = 1, #index, 2 do
  if gone[index[i + 1]] then redis.call('HDEL', KEYS[3], index[i]) end
end
return deleted
"""


def _claim_field(visitor: str, client_msg_id: str) -> str:
    # JSON, not "visitor|id": both parts are client-chosen strings, and a plain
    # separator would let two different pairs share a field (one visitor's retry
    # would then find another visitor's question).
    return orjson.dumps([visitor, client_msg_id]).decode()


def _load(doc: str) -> Question:
    return question_from_dict(orjson.loads(doc))


def _log_fields(entry: ModerationEntry) -> dict[str, str]:
    fields = {
        "at": repr(entry.at.timestamp()),
        "actor": entry.actor,
        "role": entry.role,
        "action": entry.action,
        "details": orjson.dumps([list(pair) for pair in entry.details]).decode(),
    }
    if entry.question is not None:  # absent field, not "": any string may be an id
        fields["question"] = entry.question
    return fields


class RedisQa:
    """Q&A methods of the Redis store (see the module docstring)."""

    # Provided by RedisStore.
    _r: Redis
    _p: str
    _call: Callable[[Awaitable[Any]], Awaitable[Any]]

    def _register_qa_scripts(self) -> None:
        self._qa_save_script = self._r.register_script(_SAVE)
        self._qa_vote_script = self._r.register_script(_VOTE)
        self._qa_merge_script = self._r.register_script(_MERGE)
        self._qa_delete_script = self._r.register_script(_DELETE)

    def _qa_key(self, event: str, name: str) -> str:
        # The layout of redis.event_key, which this module cannot import (redis.py imports it).
        return f"{self._p}:{{{event}}}:qa:{name}"

    async def qa_questions(self, event: str) -> list[Question]:
        docs = await self._call(self._r.hvals(self._qa_key(event, "q")))
        questions = [_load(doc) for doc in docs]
        # The SQLite order exactly: by creation time, ties by id.
        questions.sort(key=lambda q: (q.created_at.timestamp(), q.id))
        return questions

    async def qa_get(self, event: str, question_id: str) -> Question | None:
        doc = await self._call(self._r.hget(self._qa_key(event, "q"), question_id))
        return _load(doc) if doc else None

    async def qa_by_client_msg(
        self, event: str, visitor: str, client_msg_id: str
    ) -> Question | None:
        question_id = await self._call(
            self._r.hget(self._qa_key(event, "cmid"), _claim_field(visitor, client_msg_id))
        )
        return await self.qa_get(event, question_id) if question_id else None

    async def qa_save(
        self,
        event: str,
        questions: Sequence[Question],
        expected: Mapping[str, int | None],
        log: ModerationEntry | None = None,
    ) -> None:
        check_batch(event, questions, expected, log)
        if not questions:
            return
        log_args = [s for pair in _log_fields(log).items() for s in pair] if log else []
        args: list[str] = [str(len(log_args)), *log_args]
        for q in questions:
            version = expected[q.id]
            claim = client_msg_claim(q, version)
            args += [
                q.id,
                "" if version is None else str(version),
                str(q.version),
                orjson.dumps(question_to_dict(q)).decode(),
                "" if claim is None else _claim_field(*claim),
            ]
        if log is not None or any(expected[q.id] is None for q in questions):
            # Index first: a crash after it leaves an entry retention skips, never data
            # that retention cannot find.
            await self._call(self._r.sadd(f"{self._p}:qa:events", event))
        keys = [self._qa_key(event, name) for name in ("q", "ver", "cmid", "log")]
        result = await self._call(self._qa_save_script(keys=keys, args=args))
        if result[0] == "version_conflict":
            raise version_conflict(result[1])
        if result[0] == "duplicate_client_msg":
            raise duplicate_client_msg(result[1])

    # Votes

    async def qa_vote(self, event: str, question_id: str, voter: str, up: bool) -> bool:
        keys = [
            self._qa_key(event, f"v:{question_id}"),
            self._qa_key(event, f"vv:{voter}"),
            self._qa_key(event, "q"),
        ]
        changed = int(
            await self._call(
                self._qa_vote_script(keys=keys, args=[voter, question_id, "1" if up else "0"])
            )
        )
        if changed < 0:
            check_votable(question_id, await self.qa_get(event, question_id))
        return changed == 1

    async def qa_vote_counts(self, event: str) -> dict[str, int]:
        ids = await self._call(self._r.hkeys(self._qa_key(event, "q")))
        pipe = self._r.pipeline(transaction=False)
        for question_id in ids:
            pipe.scard(self._qa_key(event, f"v:{question_id}"))
        counts = await self._call(pipe.execute()) if ids else []
        # Like SQLite's GROUP BY: a question without votes has no entry.
        return {qid: int(n) for qid, n in zip(ids, counts, strict=True) if n}

    async def qa_vote_count(self, event: str, question_id: str) -> int:
        return int(await self._call(self._r.scard(self._qa_key(event, f"v:{question_id}"))))

    async def qa_voted_by(self, event: str, voter: str) -> set[str]:
        return set(await self._call(self._r.smembers(self._qa_key(event, f"vv:{voter}"))))

    async def qa_merge_votes(self, event: str, source: str, target: str) -> int:
        keys = [self._qa_key(event, f"v:{source}"), self._qa_key(event, f"v:{target}")]
        count = await self._call(
            self._qa_merge_script(keys=keys, args=[self._qa_key(event, "vv:"), target])
        )
        return int(count)

    # Moderation log

    async def qa_log(self, entry: ModerationEntry) -> None:
        fields: dict[FieldT, EncodableT] = {k: v for k, v in _log_fields(entry).items()}
        await self._call(self._r.sadd(f"{self._p}:qa:events", entry.event))
        await self._call(self._r.xadd(self._qa_key(entry.event, "log"), fields))

    async def qa_log_entries(self, event: str) -> list[ModerationEntry]:
        raw = await self._call(self._r.xrange(self._qa_key(event, "log")))
        entries = [
            ModerationEntry(
                event=event,
                at=datetime.fromtimestamp(float(f["at"]), UTC),
                actor=f["actor"],
                role=f["role"],
                action=f["action"],
                question=f.get("question"),
                details=tuple((k, v) for k, v in orjson.loads(f["details"])),
            )
            for _id, f in raw
        ]
        entries.sort(key=lambda e: e.at)  # stable: equal times keep the order they were added
        return entries

    async def qa_delete_before(self, cutoff: datetime) -> int:
        cutoff_s = cutoff.timestamp()
        deleted = 0
        for event in await self._call(self._r.smembers(f"{self._p}:qa:events")):
            docs = await self._call(self._r.hvals(self._qa_key(event, "q")))
            old = [q.id for q in map(_load, docs) if q.created_at.timestamp() < cutoff_s]
            if old:
                # created_at never changes, so ids chosen outside the script stay right.
                keys = [self._qa_key(event, name) for name in ("q", "ver", "cmid")]
                args = [self._qa_key(event, "v:"), self._qa_key(event, "vv:"), *old]
                deleted += int(await self._call(self._qa_delete_script(keys=keys, args=args)))
            log_key = self._qa_key(event, "log")
            stale = [
                entry_id
                for entry_id, f in await self._call(self._r.xrange(log_key))
                if float(f["at"]) < cutoff_s
            ]
            if stale:
                await self._call(self._r.xdel(log_key, *stale))
        return deleted
