"""The polls half of the Redis store: polls, ballots and the client_msg_ids answered with.

Mixed into :class:`~hubs_bridge.store.redis.RedisStore`. Key layout, all
hash-tagged by the event like its other keys (``P`` is the prefix)::

    P:{event}:poll:p            hash poll id -> JSON (core.polls.poll_to_dict)
    P:{event}:poll:b:<poll>     hash ballot id -> JSON (core.polls.ballot_to_dict)
    P:{event}:poll:m:<poll>     set of ["voter","client_msg_id"] (JSON) answered with
    P:{event}:qa:log            the moderation log, shared with the Q&A (redis_qa.py)
    P:poll:events               set of events with polls (for retention)

Ballots are keyed by their public id (:attr:`Ballot.id`, a hash of poll and
voter), so a moderator's verdict finds one without an index; two voters of one
poll share an id with a chance of about n²/2⁶⁵, far below anything else here.

Whatever must change together runs as one Lua script over one event's keys:
a poll and its log entry, an answer and the poll state it depends on. The
scripts read a poll's version and state from its JSON with ``cjson``, so there
is no second copy of either to drift. A voter's ballots on all polls are found
by asking every poll of the event (at most ``MAX_POLLS_PER_EVENT``) in one
pipeline rather than by a per-voter index that every write would have to keep.

``P:poll:events`` is added to before a poll is first written and never pruned,
for the reason ``redis_qa.py`` gives for ``P:qa:events``.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import orjson
from redis.asyncio import Redis

from hubs_bridge.core.polls import (
    Ballot,
    Poll,
    ballot_from_dict,
    ballot_id,
    ballot_to_dict,
    poll_from_dict,
    poll_to_dict,
)
from hubs_bridge.core.qa import ModerationEntry
from hubs_bridge.store.base import BallotOutcome
from hubs_bridge.store.poll_rules import (
    check_log,
    poll_not_found,
    poll_not_open,
    verdict,
    version_conflict,
)
from hubs_bridge.store.redis_qa import _log_fields

# KEYS: polls, log. ARGV: poll id, expected version ("" = must not exist), JSON, then
# the log entry's fields and values (none: no entry). Returns 1 written, 0 conflict.
_SAVE = """
local doc = redis.call('HGET', KEYS[1], ARGV[1])
if doc then
  if ARGV[2] == '' or cjson.decode(doc)['version'] ~= tonumber(ARGV[2]) then return 0 end
elseif ARGV[2] ~= '' then
  return 0
end
-- The log entry is the first write: Redis does not undo a script's earlier writes when
-- a later command fails, and XADD is the one that can (a key of another type).
if #ARGV > 3 then redis.call('XADD', KEYS[2], '*', unpack(ARGV, 4)) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
"""

# KEYS: polls, log, the poll's ballots, its client_msg_ids. ARGV: poll id, expected
# version, then the log entry's fields and values. Returns 1 deleted, 0 none, -1 conflict.
_DELETE = """
local doc = redis.call('HGET', KEYS[1], ARGV[1])
if not doc then return 0 end
if cjson.decode(doc)['version'] ~= tonumber(ARGV[2]) then return -1 end
if #ARGV > 2 then redis.call('XADD', KEYS[2], '*', unpack(ARGV, 3)) end
redis.call('DEL', KEYS[3], KEYS[4])
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
"""

# KEYS: polls, the poll's ballots, its client_msg_ids. ARGV: poll id, ballot id,
# client_msg member, ballot JSON. poll_rules.settle_answer in Lua: both backends answer
# alike. Returns {"changed"}, {"same", stored JSON} or {"same"} (a retry of a ballot a
# moderator dropped), or the code of a refusal; a refusal writes nothing.
_ANSWER = """
local doc = redis.call('HGET', KEYS[1], ARGV[1])
if not doc then return {'poll_not_found'} end
if cjson.decode(doc)['state'] ~= 'open' then return {'poll_not_open'} end
local current = redis.call('HGET', KEYS[2], ARGV[2])
if redis.call('SISMEMBER', KEYS[3], ARGV[3]) == 1 then
  if current then return {'same', current} end
  return {'same'}
end
local same = false
if current then
  local a, b = cjson.decode(current), cjson.decode(ARGV[4])
  same = a['text'] == b['text'] and a['held'] == b['held'] and #a['choices'] == #b['choices']
  for i = 1, #a['choices'] do
    if a['choices'][i] ~= b['choices'][i] then same = false end
  end
end
-- The ballot before its client_msg_id: should the second write fail, a retry finds
-- the answer stored and changes nothing, rather than find the id taken and no answer.
if not same then redis.call('HSET', KEYS[2], ARGV[2], ARGV[4]) end
redis.call('SADD', KEYS[3], ARGV[3])
if same then return {'same', current} end
return {'changed'}
"""

# KEYS: the poll's ballots. ARGV: ballot id, the JSON the verdict was made on, the JSON
# it leaves ("" = delete). Returns 1 done, 0 the ballot changed meanwhile.
_RELEASE = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
return 1
"""

# KEYS: polls, then the ballots and client_msg_ids of each poll. ARGV: per poll its id
# and the version retention read. A poll saved since (a new version) is left alone.
# Returns how many polls were deleted.
_EXPIRE = """
local deleted = 0
for i = 1, #ARGV, 2 do
  local doc = redis.call('HGET', KEYS[1], ARGV[i])
  if doc and cjson.decode(doc)['version'] == tonumber(ARGV[i + 1]) then
    redis.call('DEL', KEYS[i + 1], KEYS[i + 2])
    redis.call('HDEL', KEYS[1], ARGV[i])
    deleted = deleted + 1
  end
end
return deleted
"""

# A verdict whose ballot keeps changing under it gives up after this many reads: its
# voter is rewriting the text, and the moderator should see the new one first.
RELEASE_TRIES = 5


def _answered_member(voter: str, client_msg_id: str) -> str:
    # JSON, not "voter|id": both parts are client-chosen strings (see redis_qa._claim_field).
    return orjson.dumps([voter, client_msg_id]).decode()


def _dump_poll(poll: Poll) -> str:
    return orjson.dumps(poll_to_dict(poll)).decode()


def _load_poll(doc: str) -> Poll:
    return poll_from_dict(orjson.loads(doc))


def _dump_ballot(ballot: Ballot) -> str:
    return orjson.dumps(ballot_to_dict(ballot)).decode()


def _load_ballot(doc: str) -> Ballot:
    return ballot_from_dict(orjson.loads(doc))


def _created(poll: Poll) -> float:
    # As in SQLite: no creation time sorts first (and is never old enough for retention).
    return poll.created_at.timestamp() if poll.created_at is not None else -math.inf


def _log_args(log: ModerationEntry | None) -> list[str]:
    return [s for pair in _log_fields(log).items() for s in pair] if log else []


class RedisPolls:
    """Poll methods of the Redis store (see the module docstring)."""

    # Provided by RedisStore.
    _r: Redis
    _p: str
    _call: Callable[[Awaitable[Any]], Awaitable[Any]]

    def _register_poll_scripts(self) -> None:
        self._poll_save_script = self._r.register_script(_SAVE)
        self._poll_delete_script = self._r.register_script(_DELETE)
        self._poll_answer_script = self._r.register_script(_ANSWER)
        self._poll_release_script = self._r.register_script(_RELEASE)
        self._poll_expire_script = self._r.register_script(_EXPIRE)

    def _poll_key(self, event: str, name: str) -> str:
        # The layout of redis.event_key, which this module cannot import (redis.py imports it).
        return f"{self._p}:{{{event}}}:{name}"

    def _poll_keys(self, event: str, poll_id: str) -> list[str]:
        """The poll's ballots and the client_msg_ids answered with."""
        return [
            self._poll_key(event, f"poll:b:{poll_id}"),
            self._poll_key(event, f"poll:m:{poll_id}"),
        ]

    async def poll_list(self, event: str) -> list[Poll]:
        docs = await self._call(self._r.hvals(self._poll_key(event, "poll:p")))
        polls = [_load_poll(doc) for doc in docs]
        polls.sort(key=lambda p: (_created(p), p.id))  # the SQLite order exactly
        return polls

    async def poll_get(self, event: str, poll_id: str) -> Poll | None:
        doc = await self._call(self._r.hget(self._poll_key(event, "poll:p"), poll_id))
        return _load_poll(doc) if doc else None

    async def poll_save(
        self, poll: Poll, expected: int | None, log: ModerationEntry | None = None
    ) -> None:
        check_log(poll.event, log)
        if expected is None:
            # Index first: a crash after it leaves an entry retention skips, never a
            # poll that retention cannot find.
            await self._call(self._r.sadd(f"{self._p}:poll:events", poll.event))
        keys = [self._poll_key(poll.event, "poll:p"), self._poll_key(poll.event, "qa:log")]
        args = [poll.id, "" if expected is None else str(expected), _dump_poll(poll)]
        written = await self._call(self._poll_save_script(keys=keys, args=args + _log_args(log)))
        if not written:
            raise version_conflict(poll.id)

    async def poll_delete(
        self, event: str, poll_id: str, expected: int, log: ModerationEntry | None = None
    ) -> bool:
        check_log(event, log)
        keys = [
            self._poll_key(event, "poll:p"),
            self._poll_key(event, "qa:log"),
            *self._poll_keys(event, poll_id),
        ]
        args = [poll_id, str(expected), *_log_args(log)]
        result = int(await self._call(self._poll_delete_script(keys=keys, args=args)))
        if result < 0:
            raise version_conflict(poll_id)
        return result == 1

    async def poll_answer(self, ballot: Ballot) -> BallotOutcome:
        keys = [
            self._poll_key(ballot.event, "poll:p"),
            *self._poll_keys(ballot.event, ballot.poll),
        ]
        args = [
            ballot.poll,
            ballot.id,
            _answered_member(ballot.voter, ballot.client_msg_id),
            _dump_ballot(ballot),
        ]
        result = await self._call(self._poll_answer_script(keys=keys, args=args))
        if result[0] == "poll_not_found":
            raise poll_not_found(ballot.poll)
        if result[0] == "poll_not_open":
            raise poll_not_open(ballot.poll)
        if result[0] == "changed":
            return BallotOutcome(ballot, changed=True)
        return BallotOutcome(_load_ballot(result[1]) if len(result) > 1 else ballot, changed=False)

    async def poll_ballots(self, event: str, poll_id: str) -> list[Ballot]:
        docs = await self._call(self._r.hvals(self._poll_keys(event, poll_id)[0]))
        return [_load_ballot(doc) for doc in docs]

    async def poll_ballot_of(self, event: str, poll_id: str, voter: str) -> Ballot | None:
        key = self._poll_keys(event, poll_id)[0]
        doc = await self._call(self._r.hget(key, ballot_id(poll_id, voter)))
        return _load_ballot(doc) if doc else None

    async def poll_ballots_of(self, event: str, voter: str) -> list[Ballot]:
        poll_ids = sorted(await self._call(self._r.hkeys(self._poll_key(event, "poll:p"))))
        if not poll_ids:
            return []
        pipe = self._r.pipeline(transaction=False)
        for poll_id in poll_ids:
            pipe.hget(self._poll_keys(event, poll_id)[0], ballot_id(poll_id, voter))
        docs = await self._call(pipe.execute())
        return [_load_ballot(doc) for doc in docs if doc]

    async def poll_release(
        self, event: str, poll_id: str, ballot_id: str, keep: bool, text: str | None = None
    ) -> Ballot | None:
        key = self._poll_keys(event, poll_id)[0]
        # Read, decide, then write only if the ballot is still the one decided on: the
        # JSON the verdict leaves is built here (as the codec writes it, not as cjson
        # would), and the script compares the whole stored JSON, so the verdict never
        # applies to an answer its voter changed in between.
        for _ in range(RELEASE_TRIES):
            doc = await self._call(self._r.hget(key, ballot_id))
            if not doc:
                return None
            after = verdict(_load_ballot(doc), keep, text)
            if after is None:
                return None
            args = [ballot_id, doc, _dump_ballot(after) if keep else ""]
            if await self._call(self._poll_release_script(keys=[key], args=args)):
                return after
        return None

    async def poll_delete_before(self, cutoff: datetime) -> int:
        cutoff_s = cutoff.timestamp()
        deleted = 0
        for event in await self._call(self._r.smembers(f"{self._p}:poll:events")):
            polls_key = self._poll_key(event, "poll:p")
            docs = await self._call(self._r.hvals(polls_key))
            old = [
                p
                for p in map(_load_poll, docs)
                if p.created_at is not None and p.created_at.timestamp() < cutoff_s
            ]
            if not old:
                continue
            keys = [polls_key, *(k for p in old for k in self._poll_keys(event, p.id))]
            args = [s for p in old for s in (p.id, str(p.version))]
            deleted += int(await self._call(self._poll_expire_script(keys=keys, args=args)))
        return deleted
