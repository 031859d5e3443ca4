"""The durable telemetry stream in Redis: heartbeats are validated against the user's wall clock and
appended in one Lua script, so acceptance, the anti-inflation budget and the append are atomic.
Acceptance is batched (app/telemetry/batcher.py); names of keys are in app/telemetry/keys.py."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter, defaultdict
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
# Heartbeats per stream entry at most: an entry is appended in one XADD, whose arguments the script unpacks
# onto Lua's stack (two per heartbeat, a few thousand at most).
RECORDS_PER_ENTRY = 1000
# Entries per read or claim, so at most 20,000 heartbeats: a reply of a hundred thousand would hold Redis,
# and every acceptance call waiting on it, for a good part of a second; a flush gathers its heartbeats over
# several reads.
READ_CHUNK = 20

# One call accepts a partition's share of a batch, in order, so budgets and seqs stay exact within it and
# across api instances (a script runs alone). Every key is in the partition's slot (app/telemetry/keys.py).
# KEYS: the partition's stream, its backlog counter, then per heartbeat: its budget (user), then its last
# seq (user and course) if it has a seq, else its idempotency key. ARGV: tolerance ms, first-heartbeat max
# ms, heartbeats per entry, the number L of lesson ids, the L lesson ids, then per heartbeat
# "seconds|seq or empty|idempotency window ms|user|course|enrollment id|lesson number (0..L-1)".
# Returns (outcome, credited seconds, record id) per heartbeat, then the heartbeats of the partition not
# yet folded.
# A heartbeat is one packed argument and the lessons of a batch (a few) are sent once: redis-py encodes
# every argument on its own, which with one per value was a tenth of the api's CPU
# (docs/performance/telemetry-ingest.md, "One stream entry per call, ..., one argument per heartbeat").
# Lesson ids are sent apart because they may hold any character.
# The budget key holds the instant up to which the user's time is already credited; a heartbeat is
# credited at most the wall-clock time between that instant and now (+ tolerance), across all courses,
# so sending 60 s every second earns one second per second.
# The credited heartbeats of a call are appended as one stream entry (up to RECORDS_PER_ENTRY each): the
# stream's per-entry work (the append, the delivery to a worker and its copy in the AOF, the
# acknowledgement and the deletion) is then paid once per call, not once per heartbeat.
# The backlog counter goes up here by the records appended and down as workers delete entries (_ACK);
# when the stream holds nothing but this call's entries it is set to exactly those records, so a count
# that drifted (entries deleted by hand, written by an older version) is right again once workers catch up.
# All or nothing: Redis does not undo what a script wrote before an error, so the script reads every key it
# checks, and the stream key's type, before it writes any. A call that fails (a key of the wrong type or
# content; a Redis out of memory refuses a script's first write) has then written nothing, and its
# heartbeats sent again are not taken for duplicates of a call that never appended them.
_ACCEPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tolerance, first, per_entry = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local lessons = tonumber(ARGV[4])
-- Reads first, every write after: a call that fails does so before it has written anything.
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind ~= 'stream' and kind ~= 'none' then
  return redis.error_reply('WRONGTYPE the telemetry stream key holds a ' .. kind)
end
local backlog_was = redis.call('GET', KEYS[2])
if backlog_was and not string.match(backlog_was, '^%-?%d+$') then
  return redis.error_reply('ERR the telemetry backlog counter is not an integer')
end
-- The budget and seq keys (a heartbeat without a seq has an idempotency key instead, only ever SET NX),
-- each read once: their numbers (a seq key not there yet: -1), kept current below as this call sets them.
local known = {}
local k = 3
for a = 5 + lessons, #ARGV do
  local budget, guard = KEYS[k], KEYS[k + 1]
  k = k + 2
  if known[budget] == nil then
    known[budget] = tonumber(redis.call('GET', budget) or '0')
    if known[budget] == nil then return redis.error_reply('ERR ' .. budget .. ' does not hold a number') end
  end
  if known[guard] == nil and not string.find(ARGV[a], '^%d+||') then
    known[guard] = tonumber(redis.call('GET', guard) or '-1')
    if known[guard] == nil then return redis.error_reply('ERR ' .. guard .. ' does not hold a number') end
  end
end
local out = {}
local fields, slots = {}, {}
local appended, entries = 0, 0
local function append()
  local id = redis.call('XADD', KEYS[1], '*', unpack(fields))
  for r, slot in ipairs(slots) do
    if r == 1 then out[slot] = id else out[slot] = id .. '.' .. (r - 1) end
  end
  appended, entries = appended + #slots, entries + 1
  fields, slots = {}, {}
end
k = 3
for a = 5 + lessons, #ARGV do
  local seconds, seq, window, user, course, enrollment, lesson =
    string.match(ARGV[a], '^(%d+)|(%d*)|(%d+)|(%d+)|(%d+)|(%d+)|(%d+)$')
  local budget, guard = KEYS[k], KEYS[k + 1]
  k = k + 2
  local duplicate = false
  if seq ~= '' then
    if tonumber(seq) <= known[guard] then duplicate = true end
  elseif redis.call('SET', guard, '1', 'NX', 'PX', window) == false then
    duplicate = true
  end
  if duplicate then
    out[#out + 1] = 'duplicate'; out[#out + 1] = 0; out[#out + 1] = ''
  else
    local until_ms = known[budget]
    local base = math.max(until_ms, now - 60000)
    if until_ms == 0 then base = now - first end
    local available = math.floor((now + tolerance - base) / 1000)
    local credit = math.max(0, math.min(tonumber(seconds), available))
    known[budget] = base + credit * 1000
    redis.call('SET', budget, known[budget], 'PX', 86400000)
    if seq ~= '' then
      known[guard] = tonumber(seq)
      redis.call('SET', guard, seq, 'PX', 86400000)
    end
    out[#out + 1] = 'accepted'; out[#out + 1] = credit; out[#out + 1] = ''
    if credit > 0 then
      if #slots == 0 then fields[1] = 'h' else fields[#fields + 1] = tostring(#slots) end
      fields[#fields + 1] = credit .. '|' .. now .. '|' .. user .. '|' .. course .. '|' .. enrollment .. '|'
        .. ARGV[5 + tonumber(lesson)]
      slots[#slots + 1] = #out
      if #slots == per_entry then append() end
    end
  end
end
if #slots > 0 then append() end
local backlog
if appended == 0 then
  backlog = tonumber(backlog_was or '0')
elseif redis.call('XLEN', KEYS[1]) == entries then
  redis.call('SET', KEYS[2], appended); backlog = appended
else
  backlog = redis.call('INCRBY', KEYS[2], appended)
end
out[#out + 1] = backlog
return out
"""

# The live activity of the heartbeats a batch accepted (app/telemetry/activity.py); every key is in the
# `{act}` slot. KEYS: heartbeat rate counter, activity dirty set, activity courses zset, recent zset, then
# per course of the batch: its activity hash, its joins list. ARGV: idle ms, recent window ms, the number C
# of courses, their C ids (in the order of their keys), the number L of lesson ids, the L lesson ids, then
# per heartbeat "user|course number (0..C-1)|lesson number (0..L-1)|credited seconds".
# A learner's entry in a course's activity hash is "session started ms|session seconds|last seen ms|lesson"
# (the lesson last: it may hold the separator); entries of older versions are JSON objects with those
# fields, read here and by the sweep (app/live/store.py) until they are written again or expire. Packed
# rather than JSON: decoding and encoding JSON was about a fifth of this script's cost
# (`python -m bench.telemetry.scripts`).
# Its writes are not propagated to the append-only file or to replicas (`REPL_NONE`): the activity lives
# for a minute or so and a restarted Redis rebuilds it from the next heartbeats, while writing it down
# cost Redis about a sixth of its CPU per heartbeat (docs/performance/telemetry-ingest.md, "One stream
# entry per call, activity kept in memory").
_NOTE_ACTIVITY = """
redis.set_repl(redis.REPL_NONE)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local idle, recent = tonumber(ARGV[1]), tonumber(ARGV[2])
local courses = tonumber(ARGV[3])
local lessons_at = 4 + courses
local first = lessons_at + 1 + tonumber(ARGV[lessons_at])
local touched = {}
for a = first, #ARGV do
  local user, c, l, credit = string.match(ARGV[a], '^(%d+)|(%d+)|(%d+)|(%d+)$')
  c = tonumber(c)
  local course, activity, joins = ARGV[4 + c], KEYS[5 + c * 2], KEYS[6 + c * 2]
  local lesson = ARGV[lessons_at + 1 + tonumber(l)]
  local started, session, joined = now, 0, true
  local raw = redis.call('HGET', activity, user)
  if raw then
    local s, n, last = string.match(raw, '^(%d+)|(%d+)|(%d+)|')
    if not last then
      local ok, entry = pcall(cjson.decode, raw)  -- written by an older version
      if ok and type(entry) == 'table' then
        s, n, last = entry.session_started, entry.session_seconds, entry.last_seen
      end
    end
    if last and now - (tonumber(last) or 0) <= idle then
      started = tonumber(s) or now
      session = tonumber(n) or 0
      joined = false
    end
  end
  session = session + tonumber(credit)
  redis.call('HSET', activity, user, started .. '|' .. session .. '|' .. now .. '|' .. lesson)
  if joined then
    redis.call('RPUSH', joins, user)
    redis.call('LTRIM', joins, -1000, -1)
    redis.call('PEXPIRE', joins, idle * 10)
  end
  touched[c] = true
  redis.call('ZADD', KEYS[4], now, course .. ':' .. user)
end
-- Once per course, not per heartbeat: a batch holds many heartbeats of a few courses.
for c in pairs(touched) do
  redis.call('PEXPIRE', KEYS[5 + c * 2], idle * 10)
  redis.call('SADD', KEYS[2], ARGV[4 + c])
  redis.call('ZADD', KEYS[3], now, ARGV[4 + c])
end
local n = #ARGV - first + 1
if n > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - recent)
  redis.call('INCRBY', KEYS[1], n)
  redis.call('EXPIRE', KEYS[1], 180)
end
return n
"""


# While a partition holds more heartbeats than `max_backlog` not yet folded, the workers are far behind: the
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

    def accept(
        self,
        *,
        user_id: int,
        course_id: int,
        lesson_id: str,
        seconds: int,
        seq: int | None,
        enrollment_id: int,
        idempotency_key: str | None = None,
    ) -> asyncio.Future[Acceptance]:
        """Queue the heartbeat for the next acceptance call; await the result for its outcome.
        `idempotency_key`: for a heartbeat without `seq`, a key naming the request (the client's
        `Idempotency-Key`, or one made up here); the same key again is a duplicate."""
        return self.batcher.submit(
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
        keys: list[str] = [keys_.stream(partition), keys_.backlog(partition)]
        lessons: dict[str, int] = {}
        heartbeats: list[str] = []
        for item in items:
            keys.append(keys_.budget(partition, item.user_id))
            if item.seq is None:
                key, window = item.idempotency_key, CLIENT_KEY_WINDOW_MS
                if not key:
                    key, window = uuid.uuid4().hex, SERVER_KEY_WINDOW_MS
                keys.append(keys_.idempotency(partition, item.user_id, key))
                seq = ""
            else:
                keys.append(keys_.last_seq(partition, item.user_id, item.course_id))
                seq, window = str(item.seq), CLIENT_KEY_WINDOW_MS
            lesson = lessons.setdefault(item.lesson_id, len(lessons))
            heartbeats.append(
                f"{item.seconds}|{seq}|{window}|{item.user_id}|{item.course_id}|{item.enrollment_id}|{lesson}"
            )
        args: list[str | int] = [self._tolerance_ms, self._first_ms, RECORDS_PER_ENTRY, len(lessons)]
        args += [*lessons, *heartbeats]
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
        courses: dict[int, int] = {}
        lessons: dict[str, int] = {}
        heartbeats: list[str] = []
        for item, credited in items:
            course = courses.get(item.course_id)
            if course is None:
                course = courses[item.course_id] = len(courses)
                keys += [ActivityKeys.activity(item.course_id), ActivityKeys.joins(item.course_id)]
            lesson = lessons.setdefault(item.lesson_id, len(lessons))
            heartbeats.append(f"{item.user_id}|{course}|{lesson}|{credited}")
        args: list[str | int] = [live.idle_ms, live.recent_ms, len(courses), *courses, len(lessons)]
        args += [*lessons, *heartbeats]
        try:
            await self._note_activity(keys=keys, args=args)
        except (RedisError, OSError):
            log.warning("live activity not noted", extra={"heartbeats": len(items)}, exc_info=True)

    @property
    def client(self) -> Redis:
        return self._redis

    async def close(self) -> None:
        await self._redis.aclose()


# Made for every heartbeat read: slotted and not frozen, for the same reason as Pending
# (app/telemetry/batcher.py).
@dataclass(slots=True)
class Entry:
    entry_id: str  # the applied id (app/telemetry/keys.py): its entry's stream id, partition and place in it
    user_id: int
    course_id: int
    lesson_id: str
    seconds: int
    at_ms: int
    # The enrollment the heartbeat was accepted under (absent in entries written by older versions).
    enrollment_id: int | None = None


# A stream entry holds the heartbeats one acceptance call credited in a partition, one field each: the
# first in field PACKED ("h"), the n-th after it in field "<n>", each "seconds|at ms|user|course|enrollment
# id|lesson" (the lesson id last, so it may hold the separator). Packed values instead of one field per
# value: every entry is written to the AOF, sent to the worker and parsed there, and a dozen small strings
# cost each of them several times what one does. Entries of older versions hold one heartbeat: in PACKED,
# or with one field per value (u, c, l, s, t and e).
PACKED = "h"


def _record(applied: str, packed: str) -> Entry:
    seconds, at_ms, user, course, enrollment, lesson = packed.split("|", 5)
    return Entry(applied, int(user), int(course), lesson, int(seconds), int(at_ms), int(enrollment))


def parse_entries(partition: int, raw: list[tuple[str, dict[str, str]]]) -> list[Entry]:
    """The heartbeats of the entries, by applied id (app/telemetry/keys.py). A heartbeat that cannot be
    read (not ours, or an entry deleted while pending: no fields) is skipped, and acknowledged with its
    entry so it never blocks the group."""
    result = []
    for stream_id, fields in raw:
        if not fields:
            continue
        if PACKED not in fields:
            try:
                result.append(
                    Entry(
                        keys_.applied_id(partition, stream_id),
                        int(fields["u"]),
                        int(fields["c"]),
                        fields["l"],
                        int(fields["s"]),
                        int(fields["t"]),
                        int(fields["e"]) if fields.get("e") else None,
                    )
                )
            except (KeyError, ValueError, TypeError):
                pass
            continue
        for name, packed in fields.items():
            try:
                record = 0 if name == PACKED else int(name)
                if name != PACKED and record < 1:
                    continue
                result.append(_record(keys_.applied_id(partition, stream_id, record), packed))
            except (ValueError, TypeError):
                continue
    return result


# KEYS: stream, backlog counter. ARGV: group, then per entry: its id and the heartbeats it holds. Only the
# call that deletes an entry counts its heartbeats off: another consumer may acknowledge it too (a claim).
_ACK = """
local folded = 0
for i = 2, #ARGV, 2 do
  redis.call('XACK', KEYS[1], ARGV[1], ARGV[i])
  if redis.call('XDEL', KEYS[1], ARGV[i]) == 1 then folded = folded + tonumber(ARGV[i + 1]) end
end
if folded > 0 then redis.call('DECRBY', KEYS[2], folded) end
return folded
"""
# Entries per acknowledging call: a script runs alone, and a flush of entries of an older version holds
# one heartbeat each, up to `telemetry_batch_size` of them.
_ACK_CHUNK = 1000

# One consumer of a partition folds it at a time, its *owner*, named by the partition's owner key for as
# long as that key lives (the lease): the folds rely on each document receiving a partition's entries in
# stream order (app/telemetry/fold.py), which two consumers reading new entries side by side would break.
# KEYS: owner key. ARGV: consumer, lease ms. Returns 1 if the consumer held it already (renewed), 2 if it
# has just taken it (it must fold every pending entry before reading new ones), 0 if another holds it.
_ACQUIRE = """
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if owner then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 2
"""

# New entries, for the owner only and renewing its lease in the same step, so a consumer that lost the
# partition (it stalled past its lease) never reads past what its successor folds. Non-blocking (a script
# cannot block): an idle owner polls. KEYS: stream, owner key. ARGV: group, consumer, count, lease ms.
# Returns {0} when the consumer is not the owner, else {1, entries} (XREADGROUP's reply, false if none).
_READ_AS_OWNER = """
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return {0} end
redis.call('PEXPIRE', KEYS[2], ARGV[4])
local reply = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', KEYS[1], '>')
return {1, reply}
"""

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

_RESIGN = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


# How many of its own pending entries a consumer lists at most (own_pending_ids): only used to tell them
# from another consumer's in the counts a takeover logs.
_OWN_PENDING_LIMIT = 100_000


def _raw_entries(reply: Any) -> list[tuple[str, dict[str, str]]]:
    """Entries of an XREADGROUP reply as a script returns it (no client-side parsing)."""
    if not reply:
        return []
    entries = []
    for entry_id, fields in reply[0][1]:
        flat = list(fields or [])
        entries.append((str(entry_id), dict(zip(flat[::2], flat[1::2], strict=True))))
    return entries


class StreamConsumer:
    """One consumer of a partition's group: take the partition over, read new entries as its owner,
    claim what other consumers left pending, ack. Entries are returned with the stream ids to acknowledge
    them by."""

    def __init__(self, redis: Redis, consumer: str, partition: int = 0, *, lease_ms: int = 30_000) -> None:
        self._redis = redis
        self.consumer = consumer
        self.partition = partition
        self.stream = keys_.stream(partition)
        self._owner = keys_.owner(partition)
        self.lease_ms = lease_ms
        self.read_chunk = READ_CHUNK
        self._backlog = keys_.backlog(partition)
        self._acquire = redis.register_script(_ACQUIRE)
        self._read_as_owner = redis.register_script(_READ_AS_OWNER)
        self._renew = redis.register_script(_RENEW)
        self._resign = redis.register_script(_RESIGN)
        self._ack = redis.register_script(_ACK)

    async def ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except Exception as exc:  # noqa: BLE001 - BUSYGROUP: another worker created it first
            if "BUSYGROUP" not in str(exc):
                raise

    async def acquire(self) -> int:
        """Renew this consumer's lease on the partition, or take the partition if nobody holds it: 1 held
        already, 2 just taken (fold everything pending first: `claim`), 0 another consumer owns it."""
        return int(await self._acquire(keys=[self._owner], args=[self.consumer, self.lease_ms]))

    async def renew(self) -> bool:
        """Extend this consumer's lease; False if it no longer holds it (it never takes the partition)."""
        return bool(await self._renew(keys=[self._owner], args=[self.consumer, self.lease_ms]))

    async def resign(self) -> None:
        """Give the partition up (a stopping worker), so a standby takes it over without waiting."""
        await self._resign(keys=[self._owner], args=[self.consumer])

    def entries_per_read(self, heartbeats: int) -> int:
        """How many stream entries to read or claim when `heartbeats` more are wanted: no more than that
        (an entry holds at least one), at most `read_chunk`, at least one. An entry may hold up to
        RECORDS_PER_ENTRY, so a flush can pass its size by up to one read's worth."""
        return max(1, min(heartbeats, self.read_chunk))

    async def read_new(self, count: int) -> tuple[list[str], list[Entry]] | None:
        """At most `count` new entries, at once (none: empty lists), renewing the lease; None when this
        consumer does not own the partition (it must not read)."""
        reply: Any = await self._read_as_owner(
            keys=[self.stream, self._owner], args=[GROUP, self.consumer, count, self.lease_ms]
        )
        if not int(reply[0]):
            return None
        raw = _raw_entries(reply[1] if len(reply) > 1 else None)
        return [entry_id for entry_id, _ in raw], parse_entries(self.partition, raw)

    async def read_own_pending(self, heartbeats: int) -> tuple[list[str], list[Entry]]:
        """Entries delivered to this consumer name before and never acknowledged (a failed flush), oldest
        first, a read at a time until they hold `heartbeats` heartbeats or none is left. A standby calls
        it too (it finds nothing): the call keeps the consumer listed as active in the group."""
        ids: list[str] = []
        entries: list[Entry] = []
        after = "0"
        while len(entries) < heartbeats:
            asked = self.entries_per_read(heartbeats - len(entries))
            reply: Any = await self._redis.xreadgroup(GROUP, self.consumer, {self.stream: after}, count=asked)
            raw = reply[0][1] if reply else []
            ids += [entry_id for entry_id, _ in raw]
            entries += parse_entries(self.partition, raw)
            if len(raw) < asked:
                break
            after = raw[-1][0]
        return ids, entries

    async def own_pending_ids(self) -> set[str]:
        """Stream ids of the entries pending on this consumer (normally none outside a failed flush)."""
        pending: Any = await self._redis.xpending_range(
            self.stream, GROUP, min="-", max="+", count=_OWN_PENDING_LIMIT, consumername=self.consumer
        )
        return {str(item["message_id"]) for item in pending}

    async def claim(self, heartbeats: int) -> tuple[list[str], list[Entry]]:
        """Entries pending on any consumer become ours, oldest first, a claim at a time until they hold
        `heartbeats` heartbeats or none is left. A new owner claims them all before it reads new ones."""
        ids: list[str] = []
        entries: list[Entry] = []
        start = "0-0"
        while len(entries) < heartbeats:
            reply: Any = await self._redis.xautoclaim(
                self.stream,
                GROUP,
                self.consumer,
                min_idle_time=0,
                start_id=start,
                count=self.entries_per_read(heartbeats - len(entries)),
            )
            raw = [item for item in reply[1] if item and item[1] is not None]
            ids += [entry_id for entry_id, _ in raw]
            entries += parse_entries(self.partition, raw)
            start = str(reply[0])
            if start == "0-0":  # the whole list of pending entries was scanned
                break
        return ids, entries

    async def ack(self, entry_ids: list[str], entries: Sequence[Entry]) -> None:
        """Acknowledge and delete the entries `entry_ids`, whose heartbeats (as read) are `entries`; the
        partition's backlog counter goes down by the heartbeats of those this call deleted."""
        held = Counter(keys_.stream_id_of(entry.entry_id) for entry in entries)
        for start in range(0, len(entry_ids), _ACK_CHUNK):
            args: list[str | int] = [GROUP]
            for entry_id in entry_ids[start : start + _ACK_CHUNK]:
                args += [entry_id, held[entry_id]]
            await self._ack(keys=[self.stream, self._backlog], args=args)

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
