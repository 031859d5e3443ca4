"""Redis-backed state of the live views (docs/PRODUCT.md: `course:{id}:leaderboard`, `course:{id}:activity`,
`admin:analytics`), shared by every api instance and worker.

Leaderboards: `lf:lb:dirty` is the set of courses whose ranking may have changed; a worker claims a course
with `SET lf:lb:lock:{id} NX PX 1000` (and takes it out of the set in the same script), so at most one push
per second per course leaves the whole cluster. `lf:lb:sig:{id}` remembers what was pushed last.

Activity: what the script accepting heartbeats writes, with its key layout and timings, is described in
app/telemetry/activity.py (session entries per course, session starts, changed courses). A worker sweeps a
course atomically: entries idle longer than the timeout are removed and returned as leaves.

Analytics: `lf:{act}:recent` scores "course:user" by last heartbeat (the last five minutes are counted);
`lf:{act}:rate:hb:{second}` / `lf:{act}:rate:msg:{second}` count heartbeats and messages per second
(summed over the last 60 s); users online come from the hub's online sets (realtime.online).
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.stores.models import Course
from app.stores.sql import Tx
from app.telemetry import activity
from realtime.online import count_online
from realtime.redis_client import RedisClient
from realtime.relay import channels_with_listeners


@dataclass
class LiveTuning:
    """Timings of the live views. Module-level (`TUNING`) so tests can shorten them."""

    activity_refresh_seconds: float = 5.0  # a watched course's activity is re-sent at least this often
    rate_window_seconds: int = 60  # heartbeats / messages "per minute"
    leaderboard_interval_seconds: float = 0.5  # worker tick; pushes are capped by the lock below
    leaderboard_lock_ms: int = 1000  # at most one push per course per this many ms, cluster-wide
    activity_interval_seconds: float = 1.0
    activity_max_listed: int = 200  # learners listed per activity push (the count covers everyone)
    analytics_interval_seconds: float = 3.0


TUNING = LiveTuning()

# Hash tags: each script's keys share one Redis Cluster slot: the leaderboard claim pairs the dirty set
# with the course's lock (`{lb}`); the activity scripts and the counters read with them share `{act}`
# (one shard carries all live-activity bookkeeping; see README "Scaling out").
_LB_DIRTY = "lf:{lb}:dirty"
_LB_LOCK = "lf:{{lb}}:lock:{}"
_LB_SIG = "lf:lb:sig:{}"
_ACT = activity.ACTIVITY
_ACT_JOINS = activity.JOINS
_ACT_DIRTY = activity.DIRTY
_ACT_COURSES = activity.COURSES
_ACT_LOCK = "lf:act:lock:{}"
_RECENT = activity.RECENT
_ANALYTICS_LOCK = "lf:an:lock"
_RATE_TTL = 180
_JOINS_KEEP = 1000


def _now_ms() -> int:
    return int(time.time() * 1000)


_rate_key = activity.rate_key


# --- leaderboards ------------------------------------------------------------------------------------------


async def mark_leaderboards(redis: RedisClient, course_ids: Iterable[int]) -> None:
    ids = [str(course_id) for course_id in course_ids]
    if ids:
        await redis.sadd(_LB_DIRTY, *ids)


async def forget_leaderboard(redis: RedisClient, course_id: int) -> None:
    async with redis.pipeline(transaction=False) as pipe:
        pipe.srem(_LB_DIRTY, str(course_id))
        pipe.delete(_LB_SIG.format(course_id))
        await pipe.execute()


async def dirty_leaderboards(redis: RedisClient, limit: int = 1000) -> list[int]:
    members = await redis.srandmember(_LB_DIRTY, limit)
    return sorted(int(member) for member in members or [] if str(member).isdigit())


# KEYS: lock, dirty set. ARGV: lock ms, course id.
_CLAIM_LEADERBOARD = """
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  redis.call('SREM', KEYS[2], ARGV[2])
  return 1
end
return 0
"""


async def claim_leaderboard(redis: RedisClient, course_id: int, lock_ms: int) -> bool:
    """Take a dirty course for this push; False while its last push is younger than `lock_ms` (it stays
    dirty and is taken on a later tick). A change committed after the claim marks it dirty again."""
    claimed = await redis.register_script(_CLAIM_LEADERBOARD)(
        keys=[_LB_LOCK.format(course_id), _LB_DIRTY], args=[lock_ms, str(course_id)]
    )
    return bool(claimed)


async def last_push(redis: RedisClient, course_id: int) -> str | None:
    """The signature of the course's last leaderboard push (pushes that change nothing are skipped)."""
    value = await redis.get(_LB_SIG.format(course_id))
    return None if value is None else str(value)


async def remember_push(redis: RedisClient, course_id: int, signature: str) -> None:
    await redis.set(_LB_SIG.format(course_id), signature, ex=3600)


# --- activity ----------------------------------------------------------------------------------------------


async def active_courses(redis: RedisClient) -> list[int]:
    """Courses with activity entries young enough to matter (older ones are dropped from the index)."""
    horizon = _now_ms() - int(activity.TUNING.activity_idle_seconds * 10_000)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zremrangebyscore(_ACT_COURSES, "-inf", horizon)
        pipe.zrange(_ACT_COURSES, 0, -1)
        _, members = await pipe.execute()
    return sorted(int(member) for member in members if str(member).isdigit())


async def claim_activity(redis: RedisClient, course_id: int, lock_ms: int) -> bool:
    return bool(await redis.set(_ACT_LOCK.format(course_id), "1", nx=True, px=lock_ms))


# KEYS: activity hash, joins list, dirty set, courses zset. ARGV: now ms, idle ms, course id. Entries are
# "session started ms|session seconds|last seen ms|lesson" (app/telemetry/stream.py), or JSON objects
# written by older versions; an entry that is neither is dropped unreported. Returns the active and the
# left as flat lists of user id, entry.
_SWEEP = """
local now = tonumber(ARGV[1])
local idle = tonumber(ARGV[2])
local fields = redis.call('HGETALL', KEYS[1])
local active, leaves = {}, {}
for i = 1, #fields, 2 do
  local raw = fields[i + 1]
  local last = string.match(raw, '^%d+|%d+|(%d+)|')
  if not last then
    local ok, entry = pcall(cjson.decode, raw)
    if ok and type(entry) == 'table' then last = tonumber(entry.last_seen) or 0 end
  end
  if not last or now - tonumber(last) > idle then
    redis.call('HDEL', KEYS[1], fields[i])
    if last then table.insert(leaves, fields[i]); table.insert(leaves, raw) end
  else
    table.insert(active, fields[i]); table.insert(active, raw)
  end
end
local joins = redis.call('LRANGE', KEYS[2], 0, -1)
redis.call('DEL', KEYS[2])
local changed = redis.call('SREM', KEYS[3], ARGV[3])
if #active == 0 then redis.call('ZREM', KEYS[4], ARGV[3]) end
return {changed, active, leaves, joins}
"""


@dataclass(frozen=True)
class ActivitySweep:
    changed: bool
    active: list[dict[str, Any]]
    leaves: list[dict[str, Any]]
    joins: list[int]


def activity_entry(user: str, raw: str) -> dict[str, Any]:
    """A learner's entry of a course's activity hash as the live views read it."""
    if raw.startswith("{"):
        entry: dict[str, Any] = json.loads(raw)
        return entry
    started, seconds, last_seen, lesson_id = raw.split("|", 3)
    return {
        "user_id": int(user),
        "lesson_id": lesson_id,
        "session_started": int(started),
        "session_seconds": int(seconds),
        "last_seen": int(last_seen),
    }


def _entries(flat: list[str]) -> list[dict[str, Any]]:
    return [activity_entry(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]


async def sweep_activity(redis: RedisClient, course_id: int) -> ActivitySweep:
    """Atomically: drop the learners idle past the timeout (returned as leaves), take the session starts
    queued since the last sweep, and clear the course's changed mark."""
    changed, active, leaves, joins = await redis.register_script(_SWEEP)(
        keys=[_ACT.format(course_id), _ACT_JOINS.format(course_id), _ACT_DIRTY, _ACT_COURSES],
        args=[_now_ms(), int(activity.TUNING.activity_idle_seconds * 1000), str(course_id)],
    )
    return ActivitySweep(
        changed=bool(changed),
        active=_entries(active),
        leaves=_entries(leaves),
        joins=[int(user) for user in joins if str(user).isdigit()],
    )


# --- analytics ---------------------------------------------------------------------------------------------


async def count_message(redis: RedisClient) -> None:
    key = _rate_key("msg", int(time.time()))
    async with redis.pipeline(transaction=False) as pipe:
        pipe.incr(key)
        pipe.expire(key, _RATE_TTL)
        await pipe.execute()


@dataclass(frozen=True)
class LiveCounts:
    users_online: int
    active_by_course: dict[int, int]
    active_learners: int
    heartbeats_per_minute: int
    messages_per_minute: int


async def live_counts(redis: RedisClient, *, online_key: str | None) -> LiveCounts:
    now = time.time()
    second = int(now)
    window = range(second - TUNING.rate_window_seconds + 1, second + 1)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zremrangebyscore(_RECENT, "-inf", int((now - activity.TUNING.recent_window_seconds) * 1000))
        pipe.zrange(_RECENT, 0, -1)
        # One GET per second rather than MGET: redis-py refuses MGET in a cluster pipeline.
        for kind in ("hb", "msg"):
            for s in window:
                pipe.get(_rate_key(kind, s))
        _, recent, *rates = await pipe.execute()
    heartbeats, messages = rates[: len(window)], rates[len(window) :]
    by_course: dict[int, set[str]] = defaultdict(set)
    learners: set[str] = set()
    for member in recent:
        course, _, user = str(member).partition(":")
        if course.isdigit() and user:
            by_course[int(course)].add(user)
            learners.add(user)
    return LiveCounts(
        users_online=await count_online(redis, online_key) if online_key else 0,
        active_by_course={course: len(users) for course, users in by_course.items()},
        active_learners=len(learners),
        heartbeats_per_minute=sum(int(value) for value in heartbeats if value),
        messages_per_minute=sum(int(value) for value in messages if value),
    )


async def claim_analytics(redis: RedisClient, lock_ms: int) -> bool:
    return bool(await redis.set(_ANALYTICS_LOCK, "1", nx=True, px=lock_ms))


async def course_titles(tx: Tx, course_ids: Sequence[int]) -> dict[int, str]:
    if not course_ids:
        return {}
    rows = (await tx.execute(select(Course.id, Course.title).where(Course.id.in_(list(course_ids))))).all()
    return {int(course_id): str(title) for course_id, title in rows}


# --- listeners ---------------------------------------------------------------------------------------------


async def listened(redis: RedisClient, channels: Sequence[str]) -> dict[str, bool]:
    """Whether any hub instance is subscribed to each channel."""
    return await channels_with_listeners(redis, channels)
