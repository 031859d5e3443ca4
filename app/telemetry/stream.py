"""The durable telemetry stream in Redis: heartbeats are validated against the user's wall clock and
appended in one Lua script, so acceptance, the anti-inflation budget and the append are atomic."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

STREAM = "lf:telemetry"
GROUP = "telemetry-workers"

# KEYS: credit budget (per user), last seq (per user and course), stream, idempotency key (per user and
# request; used only without a seq).
# ARGV: seconds, seq or "", tolerance ms, first-heartbeat max ms, user, course, lesson, enrollment id,
# idempotency window ms.
# The budget key holds the instant up to which the user's time is already credited; a heartbeat is
# credited at most the wall-clock time between that instant and now (+ tolerance), across all courses,
# so sending 60 s every second earns one second per second.
_ACCEPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local seq = ARGV[2]
if seq ~= '' then
  local last_seq = redis.call('GET', KEYS[2])
  if last_seq and tonumber(seq) <= tonumber(last_seq) then
    return {'duplicate', 0, ''}
  end
elseif redis.call('SET', KEYS[4], '1', 'NX', 'PX', ARGV[9]) == false then
  return {'duplicate', 0, ''}
end
local until_ms = tonumber(redis.call('GET', KEYS[1]) or '0')
local base = math.max(until_ms, now - 60000)
if until_ms == 0 then base = now - tonumber(ARGV[4]) end
local available = math.floor((now + tonumber(ARGV[3]) - base) / 1000)
local credit = math.max(0, math.min(tonumber(ARGV[1]), available))
redis.call('SET', KEYS[1], base + credit * 1000, 'PX', 86400000)
if seq ~= '' then redis.call('SET', KEYS[2], seq, 'PX', 86400000) end
if credit == 0 then
  return {'accepted', 0, ''}
end
local id = redis.call(
  'XADD', KEYS[3], '*', 'u', ARGV[5], 'c', ARGV[6], 'l', ARGV[7], 's', credit, 't', now, 'e', ARGV[8])
return {'accepted', credit, id}
"""


@dataclass(frozen=True)
class Acceptance:
    duplicate: bool
    credited_seconds: int
    entry_id: str | None


# How long a request's idempotency key is remembered: a client's key longer than any client retries one
# request; a key the server made up only has to outlive the call that carries it.
CLIENT_KEY_WINDOW_MS = 600_000
SERVER_KEY_WINDOW_MS = 60_000


class TelemetryStream:
    """Acceptance. `redis` must not retry commands by itself (see `create_redis(retries=0)`): the
    script is not idempotent for a heartbeat without `seq` unless it carries an idempotency key, and a
    lost reply is reported to the caller, who may send the same heartbeat again."""

    def __init__(self, redis: Redis, *, tolerance_seconds: float, first_heartbeat_max_seconds: int) -> None:
        self._redis = redis
        self._tolerance_ms = int(tolerance_seconds * 1000)
        self._first_ms = int(first_heartbeat_max_seconds * 1000)
        self._accept = redis.register_script(_ACCEPT)

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
        `Idempotency-Key`, or one made up by the server); the same key again is a duplicate."""
        window = CLIENT_KEY_WINDOW_MS
        if seq is None and not idempotency_key:
            idempotency_key, window = uuid.uuid4().hex, SERVER_KEY_WINDOW_MS
        status, credit, entry_id = await self._accept(
            keys=[
                f"lf:hb:budget:{user_id}",
                f"lf:hb:seq:{user_id}:{course_id}",
                STREAM,
                f"lf:hb:idem:{user_id}:{idempotency_key or ''}",
            ],
            args=[
                seconds,
                "" if seq is None else seq,
                self._tolerance_ms,
                self._first_ms,
                user_id,
                course_id,
                lesson_id,
                enrollment_id,
                window,
            ],
        )
        return Acceptance(status == "duplicate", int(credit), str(entry_id) or None)

    @property
    def client(self) -> Redis:
        return self._redis

    async def close(self) -> None:
        await self._redis.aclose()


def stream_order(entry_id: str) -> tuple[int, int] | None:
    """A stream entry id ("<ms>-<seq>") as a comparable pair; None when it is not one."""
    ms, _, seq = entry_id.partition("-")
    try:
        return int(ms), int(seq or "0")
    except ValueError:
        return None


@dataclass(frozen=True)
class Entry:
    entry_id: str
    user_id: int
    course_id: int
    lesson_id: str
    seconds: int
    at_ms: int
    # The enrollment the heartbeat was accepted under (absent in entries written by older versions).
    enrollment_id: int | None = None


def _entries(raw: list[tuple[str, dict[str, str]]]) -> list[Entry]:
    result = []
    for entry_id, fields in raw:
        try:
            result.append(
                Entry(
                    entry_id,
                    int(fields["u"]),
                    int(fields["c"]),
                    fields["l"],
                    int(fields["s"]),
                    int(fields["t"]),
                    int(fields["e"]) if fields.get("e") else None,
                )
            )
        except (KeyError, ValueError, TypeError):
            # Not ours, or deleted while pending (no fields): acknowledged with the batch so it never
            # blocks the group.
            continue
    return result


class StreamConsumer:
    """One consumer of the telemetry group: read new entries, claim those of dead consumers, ack."""

    def __init__(self, redis: Redis, consumer: str) -> None:
        self._redis = redis
        self.consumer = consumer

    async def ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
        except Exception as exc:  # noqa: BLE001 - BUSYGROUP: another worker created it first
            if "BUSYGROUP" not in str(exc):
                raise

    async def read_new(self, count: int, block_ms: int) -> tuple[list[str], list[Entry]]:
        reply: Any = await self._redis.xreadgroup(
            GROUP, self.consumer, {STREAM: ">"}, count=count, block=block_ms
        )
        raw = reply[0][1] if reply else []
        return [entry_id for entry_id, _ in raw], _entries(raw)

    async def read_own_pending(self, count: int) -> tuple[list[str], list[Entry]]:
        """Entries delivered to this consumer name before and never acknowledged (a restart)."""
        reply: Any = await self._redis.xreadgroup(GROUP, self.consumer, {STREAM: "0"}, count=count)
        raw = reply[0][1] if reply else []
        return [entry_id for entry_id, _ in raw], _entries(raw)

    async def claim_stale(self, min_idle_ms: int, count: int) -> tuple[list[str], list[Entry]]:
        """Entries pending on consumers that stopped acknowledging (dead workers) become ours."""
        reply: Any = await self._redis.xautoclaim(
            STREAM, GROUP, self.consumer, min_idle_time=min_idle_ms, start_id="0-0", count=count
        )
        raw = [item for item in reply[1] if item and item[1] is not None]
        return [entry_id for entry_id, _ in raw], _entries(raw)

    async def oldest_pending(self) -> str | None:
        """The oldest entry delivered to any consumer of the group and not acknowledged yet. Every entry
        older than it was acknowledged (and deleted): it can never be delivered again."""
        summary: Any = await self._redis.xpending(STREAM, GROUP)
        oldest = summary.get("min") if summary else None
        return str(oldest) if oldest else None

    async def ack(self, entry_ids: list[str]) -> None:
        if entry_ids:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.xack(STREAM, GROUP, *entry_ids)
                pipe.xdel(STREAM, *entry_ids)
                await pipe.execute()

    async def stats(self) -> tuple[int, int, int]:
        """Stream length, entries pending acknowledgement, and the group's lag (entries never read)."""
        length = await self._redis.xlen(STREAM)
        if not await self._redis.exists(STREAM):
            return 0, 0, 0
        groups = await self._redis.xinfo_groups(STREAM)
        for group in groups:
            if group.get("name") == GROUP:
                return int(length), int(group.get("pending") or 0), int(group.get("lag") or 0)
        return int(length), 0, 0
