"""The Lua scripts of the Redis broker, its key names and its wire formats.

Key layout for one event (``P`` is the configured prefix; every key carries the
hash tag ``{event}`` so each script below touches one hash slot and runs on a
Redis Cluster unchanged)::

    P:{event}:epoch          string: random id of the current history
    P:{event}:seq            string: last seq handed out
    P:{event}:stream         stream: frames, id "<seq>-0", field "b" = body
    P:{event}:presence       hash: session -> JSON of a PresenceEntry
    P:{event}:presence:exp   sorted set: session -> expiry (server ms)
    P:{event}:leader         string: owner, with a PX expiry
    P:{event}:frames         pub/sub channel: "epoch\\nseq\\nbody"

The epoch key is created by whichever script first finds it missing (publish
or position) and the seq and stream are reset with it: a Redis that lost its
data (restarted without persistence, or flushed) thus starts a new epoch, and
every process notices the change instead of reusing seq numbers.

Presence and leadership read the clock of the Redis server (``TIME``), so
processes with skewed clocks still agree on what has expired.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.maint_notifications import MaintNotificationsConfig

from hubs_bridge.broker.base import PresenceEntry, StreamFrame

# KEYS: epoch, seq, stream. ARGV: new epoch, body, maxlen, channel.
# Returns {epoch, seq}.
PUBLISH = """
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[1], epoch)
  redis.call('DEL', KEYS[2], KEYS[3])
end
local seq = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], seq .. '-0', 'b', ARGV[2])
redis.call('PUBLISH', ARGV[4], epoch .. '\\n' .. seq .. '\\n' .. ARGV[2])
return {epoch, seq}
"""

# KEYS: epoch, seq, stream. ARGV: new epoch. Returns {epoch, seq}.
POSITION = """
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[1], epoch)
  redis.call('DEL', KEYS[2], KEYS[3])
end
return {epoch, tonumber(redis.call('GET', KEYS[2]) or 0)}
"""

# KEYS: epoch, seq, stream. ARGV: epoch, first wanted id.
# Returns {0} if the epoch differs, else {1, seq, entries}; one script so the
# entries and the seq they are compared with are read at the same moment.
HISTORY = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0} end
local seq = tonumber(redis.call('GET', KEYS[2]) or 0)
return {1, seq, redis.call('XRANGE', KEYS[3], ARGV[2], '+')}
"""

# KEYS: hash, zset. ARGV: ttl ms, then session, json pairs.
PRESENCE_PUT = """
local t = redis.call('TIME')
local expires = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
local new = {}
for i = 2, #ARGV, 2 do
  if redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then
    new[#new + 1] = ARGV[i]
  end
  redis.call('ZADD', KEYS[2], expires, ARGV[i])
end
return new
"""

# KEYS: hash, zset. ARGV: sessions.
PRESENCE_REMOVE = """
for i = 1, #ARGV do
  redis.call('HDEL', KEYS[1], ARGV[i])
  redis.call('ZREM', KEYS[2], ARGV[i])
end
return 0
"""

# KEYS: hash, zset. Returns the JSON of entries expiring after now.
PRESENCE_LIST = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local sessions = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. now, '+inf')
local out = {}
for _, session in ipairs(sessions) do
  local doc = redis.call('HGET', KEYS[1], session)
  if doc then out[#out + 1] = doc end
end
return out
"""

# KEYS: hash, zset. Removes and returns the JSON of entries expired by now;
# atomic, so of several processes sweeping at once exactly one gets each entry.
PRESENCE_SWEEP = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local sessions = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
local out = {}
for _, session in ipairs(sessions) do
  local doc = redis.call('HGET', KEYS[1], session)
  if doc then out[#out + 1] = doc end
  redis.call('HDEL', KEYS[1], session)
  redis.call('ZREM', KEYS[2], session)
end
return out
"""

# KEYS: leader. ARGV: owner, ttl ms. Returns 1 if owner leads now.
LEAD = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""


@dataclass(frozen=True, slots=True)
class EventKeys:
    """The key and channel names of one event."""

    epoch: str
    seq: str
    stream: str
    channel: str
    presence: str
    presence_exp: str
    leader: str

    @classmethod
    def of(cls, prefix: str, event: str) -> EventKeys:
        base = f"{prefix}:{{{event}}}:"
        return cls(
            epoch=base + "epoch",
            seq=base + "seq",
            stream=base + "stream",
            channel=base + "frames",
            presence=base + "presence",
            presence_exp=base + "presence:exp",
            leader=base + "leader",
        )

    @property
    def stream_keys(self) -> list[str]:
        return [self.epoch, self.seq, self.stream]

    @property
    def presence_keys(self) -> list[str]:
        return [self.presence, self.presence_exp]


class Scripts:
    """The scripts above as typed calls; Redis errors pass through unchanged.

    Scripts run by EVALSHA and are loaded again when missing, so a Redis that
    restarted empty needs nothing special here.
    """

    def __init__(self, redis: Redis) -> None:
        self._publish = redis.register_script(PUBLISH)
        self._position = redis.register_script(POSITION)
        self._history = redis.register_script(HISTORY)
        self._presence_put = redis.register_script(PRESENCE_PUT)
        self._presence_remove = redis.register_script(PRESENCE_REMOVE)
        self._presence_list = redis.register_script(PRESENCE_LIST)
        self._presence_sweep = redis.register_script(PRESENCE_SWEEP)
        self._lead = redis.register_script(LEAD)

    async def publish(self, keys: EventKeys, body: bytes, maxlen: int) -> StreamFrame:
        args: list[bytes | str | int] = [new_epoch(), body, maxlen, keys.channel]
        epoch, seq = await self._publish(keys=keys.stream_keys, args=args)
        return StreamFrame(text(epoch), int(seq), body)

    async def position(self, keys: EventKeys) -> tuple[str, int]:
        epoch, seq = await self._position(keys=keys.stream_keys, args=[new_epoch()])
        return text(epoch), int(seq)

    async def history(
        self, keys: EventKeys, epoch: str, after_seq: int
    ) -> tuple[int, list[StreamFrame]] | None:
        """The stream's last seq and the frames held after ``after_seq``; None if
        the epoch differs."""
        reply = await self._history(keys=keys.stream_keys, args=[epoch, f"{after_seq + 1}-0"])
        if not reply[0]:
            return None
        return int(reply[1]), parse_entries(epoch, reply[2])

    async def presence_put(
        self, keys: EventKeys, entries: Sequence[PresenceEntry], ttl_s: float
    ) -> list[str]:
        args: list[bytes | str | int] = [ttl_ms(ttl_s)]
        for entry in entries:
            args += [entry.session, dump_entry(entry)]
        new = await self._presence_put(keys=keys.presence_keys, args=args)
        return [text(session) for session in new]

    async def presence_remove(self, keys: EventKeys, sessions: Sequence[str]) -> None:
        await self._presence_remove(keys=keys.presence_keys, args=list(sessions))

    async def presence_list(self, keys: EventKeys) -> list[PresenceEntry]:
        return [load_entry(doc) for doc in await self._presence_list(keys=keys.presence_keys)]

    async def presence_sweep(self, keys: EventKeys) -> list[PresenceEntry]:
        return [load_entry(doc) for doc in await self._presence_sweep(keys=keys.presence_keys)]

    async def lead(self, keys: EventKeys, owner: str, ttl_s: float) -> bool:
        return bool(await self._lead(keys=[keys.leader], args=[owner, ttl_ms(ttl_s)]))


# Connections one process keeps for broker commands, and how long a command may wait
# for one before it fails as unavailable. A storm of hellos (each puts its presence)
# queues for a connection instead of failing with "Too many connections", as
# redis-py's default pool (100, non-blocking) did (issue 11; docs/benchmarks.md).
# Scripts take well under a millisecond, so 32 keep up with thousands a second.
POOL_CONNECTIONS = 32
POOL_WAIT_S = 10.0
# Pub/sub holds its connection for as long as it listens: it gets a pool of its own,
# so it never takes a command's place nor waits behind a storm of commands when it
# reconnects. One is in use at a time; the second covers a close not yet released.
PUBSUB_CONNECTIONS = 2


def client(
    url: str,
    *,
    max_connections: int = POOL_CONNECTIONS,
    wait_s: float = POOL_WAIT_S,
    name: str = "hubs-bridge-broker",
) -> Redis:
    """A Redis client of the broker: bytes replies, bounded waits, no hidden retries.

    Its own blocking pool of ``max_connections``, closed with the client. ``name``
    is set on every connection (``CLIENT LIST`` shows who holds what).
    """
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=wait_s,
        client_name=client_name(name),
        health_check_interval=10,
        socket_timeout=5,
        socket_connect_timeout=2,
        # redis-py's own retries are off: a retried publish could number a
        # frame twice, and a silently reconnected pub/sub would hide a gap.
        retry=Retry(NoBackoff(), 0),
        # redis-py 8.1 skips its dead-connection check at checkout when these
        # are on (the RESP3 default), handing out sockets Redis closed
        # (redis/redis-py#4252); one Redis, no maintenance events to follow.
        maint_notifications_config=MaintNotificationsConfig(enabled=False),
    )
    # from_pool: the client owns the pool, so aclose() closes its connections too.
    return Redis.from_pool(pool)


def client_name(name: str) -> str:
    """``name`` as Redis accepts it for CLIENT SETNAME: printable ASCII, no spaces."""
    return re.sub(r"[^!-~]", "_", name)[:200] or "hubs-bridge"


def new_epoch() -> str:
    """A fresh epoch; only used if the script finds none (the first writer wins)."""
    return secrets.token_hex(8)


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def parse_message(data: bytes) -> tuple[str, int, bytes]:
    """Split a pub/sub payload ``epoch\\nseq\\nbody`` (the body may hold newlines)."""
    epoch, seq, body = data.split(b"\n", 2)
    return epoch.decode(), int(seq), body


def parse_entries(epoch: str, entries: list[Any]) -> list[StreamFrame]:
    """Frames from an XRANGE reply: ``[[b"<seq>-0", [b"b", body]], ...]``."""
    frames = []
    for entry_id, fields in entries:
        seq = int(text(entry_id).partition("-")[0])
        values = dict(zip(fields[::2], fields[1::2], strict=True))
        frames.append(StreamFrame(epoch, seq, bytes(values[b"b"])))
    return frames


def dump_entry(entry: PresenceEntry) -> bytes:
    # orjson writes a slots dataclass as an object of its fields; tuples become lists.
    return orjson.dumps(entry)


def load_entry(raw: bytes | str) -> PresenceEntry:
    data = orjson.loads(raw)
    return PresenceEntry(
        session=data["session"],
        visitor=data["visitor"],
        room=data["room"],
        source=data["source"],
        role=data["role"],
        name=data["name"],
        details=tuple((str(k), str(v)) for k, v in data["details"]),
    )


def ttl_ms(ttl_s: float) -> int:
    # PX 0 is an error in Redis; a lease or entry always lives at least 1 ms.
    return max(1, round(ttl_s * 1000))
