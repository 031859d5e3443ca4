"""The durable telemetry stream in Redis: heartbeats are validated against the user's wall clock and
appended in one Lua script, so acceptance, the anti-inflation budget and the append are atomic.
Acceptance is batched (app/telemetry/batcher.py); names of keys are in app/telemetry/keys.py."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.telemetry import keys as keys_
from app.telemetry.activity import ActivityKeys, activity_keys
from app.telemetry.batcher import MIN_IN_FLIGHT, Acceptance, HeartbeatBatcher, Pending

log = logging.getLogger(__name__)

__all__ = [
    "GROUP",
    "PACKED",
    "STREAM",
    "Acceptance",
    "Entry",
    "StreamConsumer",
    "TelemetryStream",
    "parse_entries",
]

STREAM = keys_.STREAM
GROUP = keys_.GROUP

# Idempotency windows: a client's key must outlive any client retry of one request; a key the server
# made up only has to outlive the call that carries it.
CLIENT_KEY_WINDOW_MS = 600_000
SERVER_KEY_WINDOW_MS = 60_000
# Entries per read or claim: a reply of a hundred thousand entries would hold Redis, and every acceptance
# call waiting on it, for a good part of a second; a flush gathers its entries over several reads.
READ_CHUNK = 20_000

# One call accepts a partition's share of a batch, in order, so budgets and seqs stay exact within it and
# across api instances (a script runs alone). Every key is in the partition's slot (app/telemetry/keys.py).
# KEYS: the partition's stream, then per heartbeat: budget (user), last seq (user and course),
# idempotency key. ARGV: tolerance ms, first-heartbeat max ms, then per heartbeat: seconds, seq or "",
# idempotency window ms, "user|course|enrollment id|lesson" (the tail of its stream entry, PACKED below).
# Returns (outcome, credited seconds, entry id) per heartbeat, then the stream's length.
# The budget key holds the instant up to which the user's time is already credited; a heartbeat is
# credited at most the wall-clock time between that instant and now (+ tolerance), across all courses,
# so sending 60 s every second earns one second per second.
_ACCEPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tolerance, first = tonumber(ARGV[1]), tonumber(ARGV[2])
local out = {}
local n = (#KEYS - 1) / 3
for i = 0, n - 1 do
  local k, a = 1 + i * 3, 2 + i * 4
  local seconds, seq = tonumber(ARGV[a + 1]), ARGV[a + 2]
  local duplicate = false
  if seq ~= '' then
    local last_seq = redis.call('GET', KEYS[k + 2])
    if last_seq and tonumber(seq) <= tonumber(last_seq) then duplicate = true end
  elseif redis.call('SET', KEYS[k + 3], '1', 'NX', 'PX', ARGV[a + 3]) == false then
    duplicate = true
  end
  if duplicate then
    out[#out + 1] = 'duplicate'; out[#out + 1] = 0; out[#out + 1] = ''
  else
    local until_ms = tonumber(redis.call('GET', KEYS[k + 1]) or '0')
    local base = math.max(until_ms, now - 60000)
    if until_ms == 0 then base = now - first end
    local available = math.floor((now + tolerance - base) / 1000)
    local credit = math.max(0, math.min(seconds, available))
    redis.call('SET', KEYS[k + 1], base + credit * 1000, 'PX', 86400000)
    if seq ~= '' then redis.call('SET', KEYS[k + 2], seq, 'PX', 86400000) end
    local id = ''
    if credit > 0 then
      id = redis.call('XADD', KEYS[1], '*', 'h', credit .. '|' .. now .. '|' .. ARGV[a + 4])
    end
    out[#out + 1] = 'accepted'; out[#out + 1] = credit; out[#out + 1] = id
  end
end
-- Entries not yet folded (acknowledged entries are deleted): how far behind the workers are.
out[#out + 1] = redis.call('XLEN', KEYS[1])
return out
"""

# The live activity of the heartbeats a batch accepted (app/telemetry/activity.py); every key is in the
# `{act}` slot. KEYS: heartbeat rate counter, activity dirty set, activity courses zset, recent zset, then
# per heartbeat: activity hash (course), joins list (course). ARGV: idle ms, recent window ms, then per
# heartbeat: user, course, lesson, credited seconds.
# Its writes are not propagated to the append-only file or to replicas (`REPL_NONE`): the activity lives
# for a minute or so and a restarted Redis rebuilds it from the next heartbeats, while writing it down
# cost Redis about a sixth of its CPU per heartbeat (README, "Time tracking ingest").
_NOTE_ACTIVITY = """
redis.set_repl(redis.REPL_NONE)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local idle, recent = tonumber(ARGV[1]), tonumber(ARGV[2])
local n = (#KEYS - 4) / 2
local courses = {}
for i = 0, n - 1 do
  local k, a = 4 + i * 2, 2 + i * 4
  local user, course, lesson, credit = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], tonumber(ARGV[a + 4])
  local started, session, joined = now, 0, true
  local raw = redis.call('HGET', KEYS[k + 1], user)
  if raw then
    local ok, entry = pcall(cjson.decode, raw)
    if ok and type(entry) == 'table' and now - (tonumber(entry.last_seen) or 0) <= idle then
      started = tonumber(entry.session_started) or now
      session = tonumber(entry.session_seconds) or 0
      joined = false
    end
  end
  redis.call('HSET', KEYS[k + 1], user, cjson.encode({
    user_id = tonumber(user), lesson_id = lesson, session_started = started,
    session_seconds = session + credit, last_seen = now}))
  if joined then
    redis.call('RPUSH', KEYS[k + 2], user)
    redis.call('LTRIM', KEYS[k + 2], -1000, -1)
    redis.call('PEXPIRE', KEYS[k + 2], idle * 10)
  end
  courses[course] = KEYS[k + 1]
  redis.call('ZADD', KEYS[4], now, course .. ':' .. user)
end
-- Once per course, not per heartbeat: a batch holds many heartbeats of a few courses.
for course, activity in pairs(courses) do
  redis.call('PEXPIRE', activity, idle * 10)
  redis.call('SADD', KEYS[2], course)
  redis.call('ZADD', KEYS[3], now, course)
end
if n > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - recent)
  redis.call('INCRBY', KEYS[1], n)
  redis.call('EXPIRE', KEYS[1], 180)
end
return n
"""


# While a partition holds more entries than `max_backlog` not yet folded, the workers are far behind: the
# api refuses every heartbeat (before any store work, as when it is itself overloaded) for this long,
# then looks again with the next call. So a sustained overload is shed at the door instead of growing the
# stream, and the lag to the analytics, without bound.
BACKLOG_HOLD_SECONDS = 1.0


class TelemetryStream:
    """Acceptance, in batches (`HeartbeatBatcher`: one script call per batch of up to 20 ms). `redis` must
    not resend commands by itself (`create_redis(retries=0)`): a lost reply may hide a batch that ran,
    so it is reported to the callers, who send the same heartbeat again with its `seq` or key."""

    def __init__(
        self,
        redis: Redis,
        *,
        tolerance_seconds: float,
        first_heartbeat_max_seconds: int,
        min_in_flight: int = MIN_IN_FLIGHT,
        partitions: int = 1,
        max_backlog: int = 1_000_000,
    ) -> None:
        self._redis = redis
        self._tolerance_ms = int(tolerance_seconds * 1000)
        self._first_ms = int(first_heartbeat_max_seconds * 1000)
        self.partitions = partitions
        self.max_backlog = max_backlog
        self._accept = redis.register_script(_ACCEPT)
        self._note_activity = redis.register_script(_NOTE_ACTIVITY)
        self.batcher = HeartbeatBatcher(self._accept_batch, min_in_flight=min_in_flight)

    def admit(self) -> None:
        """Overloaded (503, Retry-After) when this process already holds its bound of heartbeats;
        otherwise a place is taken until `release`."""
        self.batcher.admit()

    def release(self) -> None:
        self.batcher.release()

    async def accept(
        self,
        *,
        user_id: int,
        course_id: int,
        lesson_id: str,
        seconds: int,
        seq: int | None,
        enrollment_id: int,
        idempotency_key: str | None = None,
    ) -> Acceptance:
        """`idempotency_key`: for a heartbeat without `seq`, a key naming the request (the client's
        `Idempotency-Key`, or one made up here); the same key again is a duplicate."""
        return await self.batcher.submit(
            Pending(user_id, course_id, lesson_id, seconds, seq, enrollment_id, idempotency_key or "")
        )

    async def _accept_batch(self, batch: Sequence[Pending]) -> list[Acceptance]:
        """Each partition's share in one script call (concurrently), then the live activity of what
        they accepted in one more. A failed partition call fails the whole batch: its callers retry
        with their `seq` or key, and what another partition accepted is then a duplicate."""
        shares: dict[int, list[int]] = defaultdict(list)
        for index, item in enumerate(batch):
            shares[keys_.partition_of(item.user_id, self.partitions)].append(index)
        results: list[Acceptance | None] = [None] * len(batch)
        replies = await asyncio.gather(
            *(
                self._accept_share(partition, [batch[i] for i in indexes])
                for partition, indexes in shares.items()
            )
        )
        for indexes, (reply, backlog) in zip(shares.values(), replies, strict=True):
            for index, acceptance in zip(indexes, reply, strict=True):
                results[index] = acceptance
            self._mind_backlog(backlog)
        accepted = [acceptance for acceptance in results if acceptance is not None]
        await self._note(
            [
                (item, acceptance.credited_seconds)
                for item, acceptance in zip(batch, accepted, strict=True)
                if not acceptance.duplicate
            ]
        )
        return accepted

    def _mind_backlog(self, backlog: int) -> None:
        # Batches admitted before the hold still finish during it: one warning per hold, not per batch.
        if backlog > self.max_backlog and self.batcher.hold_off(BACKLOG_HOLD_SECONDS):
            log.warning(
                "telemetry workers behind; refusing heartbeats",
                extra={"backlog": backlog, "max_backlog": self.max_backlog, "seconds": BACKLOG_HOLD_SECONDS},
            )

    async def _accept_share(self, partition: int, items: list[Pending]) -> tuple[list[Acceptance], int]:
        keys: list[str] = [keys_.stream(partition)]
        args: list[str | int] = [self._tolerance_ms, self._first_ms]
        for item in items:
            key, window = item.idempotency_key, CLIENT_KEY_WINDOW_MS
            if item.seq is None and not key:
                key, window = uuid.uuid4().hex, SERVER_KEY_WINDOW_MS
            keys += [
                keys_.budget(partition, item.user_id),
                keys_.last_seq(partition, item.user_id, item.course_id),
                keys_.idempotency(partition, item.user_id, key),
            ]
            args += [
                item.seconds,
                "" if item.seq is None else item.seq,
                window,
                f"{item.user_id}|{item.course_id}|{item.enrollment_id}|{item.lesson_id}",
            ]
        reply: Any = await self._accept(keys=keys, args=args)
        acceptances = [
            Acceptance(reply[i] == "duplicate", int(reply[i + 1]), str(reply[i + 2]) or None)
            for i in range(0, len(reply) - 1, 3)
        ]
        return acceptances, int(reply[-1])

    async def _note(self, items: list[tuple[Pending, int]]) -> None:
        """Best effort: the heartbeats are accepted already, and the live views only lag if this fails."""
        if not items:
            return
        live = activity_keys()
        keys: list[str] = [live.rate, live.dirty, live.courses, live.recent]
        args: list[str | int] = [live.idle_ms, live.recent_ms]
        for item, credited in items:
            keys += [ActivityKeys.activity(item.course_id), ActivityKeys.joins(item.course_id)]
            args += [item.user_id, item.course_id, item.lesson_id, credited]
        try:
            await self._note_activity(keys=keys, args=args)
        except (RedisError, OSError):
            log.warning("live activity not noted", extra={"heartbeats": len(items)}, exc_info=True)

    @property
    def client(self) -> Redis:
        return self._redis

    async def close(self) -> None:
        await self._redis.aclose()


@dataclass(frozen=True)
class Entry:
    entry_id: str  # the applied id (app/telemetry/keys.py): the stream id, qualified by its partition
    user_id: int
    course_id: int
    lesson_id: str
    seconds: int
    at_ms: int
    # The enrollment the heartbeat was accepted under (absent in entries written by older versions).
    enrollment_id: int | None = None


# A stream entry is one field, PACKED: "seconds|at ms|user|course|enrollment id|lesson" (the lesson id
# last, so it may hold the separator). One field instead of one per value: every entry is written to the
# AOF, sent to the worker and parsed there, and a dozen small strings cost each of them several times
# what one does. Entries of older versions have one field per value (u, c, l, s, t and e).
PACKED = "h"


def parse_entries(partition: int, raw: list[tuple[str, dict[str, str]]]) -> list[Entry]:
    result = []
    for stream_id, fields in raw:
        try:
            packed = fields.get(PACKED)
            if packed is not None:
                seconds, at_ms, user, course, enrollment, lesson = packed.split("|", 5)
                entry = Entry(
                    keys_.applied_id(partition, stream_id),
                    int(user),
                    int(course),
                    lesson,
                    int(seconds),
                    int(at_ms),
                    int(enrollment),
                )
            else:
                entry = Entry(
                    keys_.applied_id(partition, stream_id),
                    int(fields["u"]),
                    int(fields["c"]),
                    fields["l"],
                    int(fields["s"]),
                    int(fields["t"]),
                    int(fields["e"]) if fields.get("e") else None,
                )
            result.append(entry)
        except (KeyError, ValueError, TypeError):
            # Not ours, or deleted while pending (no fields): acknowledged with the batch so it never
            # blocks the group.
            continue
    return result


_FORGET_LAPSED = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
"""


class StreamConsumer:
    """One consumer of a partition's group: read new entries, claim those of dead consumers, ack.
    Entries are returned with the stream ids to acknowledge them by."""

    def __init__(
        self, redis: Redis, consumer: str, partition: int = 0, *, floor_ttl_ms: int = 300_000
    ) -> None:
        self._redis = redis
        self.consumer = consumer
        self.partition = partition
        self.stream = keys_.stream(partition)
        self._floors = keys_.floors(partition)
        self.floor_ttl_ms = floor_ttl_ms
        self.read_chunk = READ_CHUNK
        self._forget_lapsed = redis.register_script(_FORGET_LAPSED)

    async def ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except Exception as exc:  # noqa: BLE001 - BUSYGROUP: another worker created it first
            if "BUSYGROUP" not in str(exc):
                raise

    async def read_new(self, count: int, block_ms: int | None) -> tuple[list[str], list[Entry]]:
        """At most `count` and READ_CHUNK entries; `block_ms` None: return at once with what is there."""
        reply: Any = await self._redis.xreadgroup(
            GROUP, self.consumer, {self.stream: ">"}, count=min(count, self.read_chunk), block=block_ms
        )
        raw = reply[0][1] if reply else []
        return [entry_id for entry_id, _ in raw], parse_entries(self.partition, raw)

    async def read_own_pending(self, count: int) -> tuple[list[str], list[Entry]]:
        """Entries delivered to this consumer name before and never acknowledged (a restart), at most
        `count` and READ_CHUNK."""
        reply: Any = await self._redis.xreadgroup(
            GROUP, self.consumer, {self.stream: "0"}, count=min(count, self.read_chunk)
        )
        raw = reply[0][1] if reply else []
        return [entry_id for entry_id, _ in raw], parse_entries(self.partition, raw)

    async def claim_stale(self, min_idle_ms: int, count: int) -> tuple[list[str], list[Entry]]:
        """Entries pending on consumers that stopped acknowledging (dead workers) become ours, at most
        `count` and READ_CHUNK."""
        reply: Any = await self._redis.xautoclaim(
            self.stream,
            GROUP,
            self.consumer,
            min_idle_time=min_idle_ms,
            start_id="0-0",
            count=min(count, self.read_chunk),
        )
        raw = [item for item in reply[1] if item and item[1] is not None]
        return [entry_id for entry_id, _ in raw], parse_entries(self.partition, raw)

    async def hold_from(self, floor: str | None = None) -> None:
        """Declare that every entry this consumer holds or is about to read or claim is at least `floor`.
        The default is the group's oldest pending entry, or with none pending the last one delivered
        (read in that order): an entry claimed later was pending then, and a new one comes after every
        delivered one. Call it before reading or claiming, and again with the smallest id held once
        entries are in hand; a declaration lapses `floor_ttl_ms` after it was made."""
        if floor is None:
            delivered = await self._last_delivered()
            floor = await self._oldest_pending() or delivered
        expires_ms = int(time.time() * 1000) + self.floor_ttl_ms
        await self._redis.hset(self._floors, self.consumer, f"{floor}|{expires_ms}")

    async def release(self) -> None:
        await self._redis.hdel(self._floors, self.consumer)

    async def settled_before(self) -> str | None:
        """The applied id below which every entry of the partition is settled: acknowledged and in no
        consumer's hands, so never to be written again. That is the oldest entry still pending, or an
        entry some consumer declared it may hold (an entry can be acknowledged by the consumer that
        first read it while another that claimed it has still to write it), whichever is older. The
        pending entries are read first: a consumer that declares itself after that read claims only
        entries that were pending or not yet delivered at it."""
        bounds = []
        oldest = await self._oldest_pending()
        if oldest is not None:
            bounds.append(keys_.stream_order(oldest))
        now_ms = time.time() * 1000
        declared: dict[Any, Any] = await self._redis.hgetall(self._floors)
        for consumer, value in declared.items():
            floor, _, expires = str(value).partition("|")
            if float(expires or 0) < now_ms:
                # Only if unchanged: the consumer may have renewed it since it was read.
                await self._forget_lapsed(keys=[self._floors], args=[consumer, value])
            else:
                bounds.append(keys_.stream_order(floor))
        if not bounds:
            return None
        ms, seq = min(bounds)
        return keys_.applied_id(self.partition, f"{ms}-{seq}")

    async def _oldest_pending(self) -> str | None:
        summary: Any = await self._redis.xpending(self.stream, GROUP)
        oldest = summary.get("min") if summary else None
        return str(oldest) if oldest else None

    async def _last_delivered(self) -> str:
        groups: Any = await self._redis.xinfo_groups(self.stream)
        for group in groups:
            if group.get("name") == GROUP:
                return str(group.get("last-delivered-id") or "0-0")
        return "0-0"

    async def ack(self, entry_ids: list[str]) -> None:
        if entry_ids:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.xack(self.stream, GROUP, *entry_ids)
                pipe.xdel(self.stream, *entry_ids)
                await pipe.execute()

    async def stats(self) -> tuple[int, int, int]:
        """Stream length, entries pending acknowledgement, and the group's lag (entries never read)."""
        length = await self._redis.xlen(self.stream)
        if not await self._redis.exists(self.stream):
            return 0, 0, 0
        groups = await self._redis.xinfo_groups(self.stream)
        for group in groups:
            if group.get("name") == GROUP:
                return int(length), int(group.get("pending") or 0), int(group.get("lag") or 0)
        return int(length), 0, 0
