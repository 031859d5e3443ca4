"""The live views the workers push through the hub (docs/PRODUCT.md, "Channels"), each from its own loop:

- `course:{id}:leaderboard` (event `leaderboard`): courses marked dirty (progress, completion and
  enrollment events from the api, time folded by the telemetry worker) get the ranked top N from the same
  code as the REST endpoint. A per-course lock (`SET NX PX 1000`) caps pushes at one per second per course
  across every worker; a course nobody listens to stays dirty, without computing anything, until someone
  subscribes; a ranking identical to the last push is not sent again.
- `course:{id}:activity` (event `activity`): for watched courses with learners active now, the learners
  (lesson, seconds this session), the sessions started since the last push (`joins`) and the learners
  without a heartbeat for `activity_idle_seconds` (`leaves`); pushed when something changed, and at least
  every `activity_refresh_seconds` while watched so a new subscriber gets the picture quickly.
- `admin:analytics` (event `analytics`): the GET /api/analytics/live snapshot every
  `analytics_interval_seconds`, only while an admin is subscribed.

"Someone listens" is PUBSUB SHARDNUMSUB on the relay's shard channel
(realtime.relay.channels_with_listeners): every hub instance with a local subscriber holds one
subscription to it. Every loop runs in every worker process; the Redis locks make each push a
cluster-wide singleton. Tests drive the `*_tick` methods directly.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from app import channels
from app.analytics import service as analytics
from app.channels import ADMIN_ANALYTICS
from app.courses import store as courses
from app.leaderboards.service import top
from app.live import store as live
from app.runtime import Runtime
from app.syllabus import store as lessons
from app.timestamps import from_epoch_ms
from realtime.hub import Hub
from workers.metrics import LIVE_DIRTY_LEADERBOARDS, LIVE_ERRORS, LIVE_PUSHES, LIVE_TICK_SECONDS
from workers.stopping import stop_if_requested

log = logging.getLogger("learnflow.worker.live")

_PEOPLE_CACHE_SECONDS = 60.0
_LESSONS_CACHE_SECONDS = 30.0
_CACHE_MAX = 10_000


def _iso(ms: Any) -> str | None:
    try:
        return from_epoch_ms(float(ms), timespec="seconds")
    except (TypeError, ValueError, OverflowError, OSError):
        return None


class LiveWorker:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._folded: set[int] = set()
        self._people: dict[int, tuple[float, str, str | None]] = {}
        self._lessons: dict[int, tuple[float, dict[str, str]]] = {}
        self._activity_pushed: dict[int, float] = {}

    @property
    def hub(self) -> Hub:
        hub = self.runtime.hub
        if hub is None:
            raise RuntimeError("the live views publish through the hub; start it first")
        return hub

    def on_folded(self, course_ids: set[int]) -> None:
        """The telemetry worker's callback: time was added in these courses (marked on the next tick)."""
        self._folded |= course_ids

    async def run(self) -> None:
        log.info("live views started")
        await asyncio.gather(
            self._loop(
                "leaderboard", self.leaderboards_tick, lambda: live.TUNING.leaderboard_interval_seconds
            ),
            self._loop("activity", self.activity_tick, lambda: live.TUNING.activity_interval_seconds),
            self._loop("analytics", self.analytics_tick, lambda: live.TUNING.analytics_interval_seconds),
        )

    async def _loop(
        self, view: str, tick: Callable[[], Awaitable[object]], interval: Callable[[], float]
    ) -> None:
        while True:
            stop_if_requested()
            started = time.monotonic()
            try:
                await tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - e.g. Redis away; the next tick tries again
                stop_if_requested(exc)  # a client may have turned our stop into its own error
                LIVE_ERRORS.labels(view).inc()
                log.warning("live %s tick failed", view, exc_info=True)
            elapsed = time.monotonic() - started
            LIVE_TICK_SECONDS.labels(view).observe(elapsed)
            await asyncio.sleep(max(0.05, interval() - elapsed))

    # -- leaderboards ------------------------------------------------------------------------------------

    async def leaderboards_tick(self) -> int:
        """Push the top N of dirty, watched courses whose last push is at least a second old."""
        redis = self.runtime.redis
        folded, self._folded = self._folded, set()
        try:
            await live.mark_leaderboards(redis, folded)
        except BaseException:
            self._folded |= folded
            raise
        dirty = await live.dirty_leaderboards(redis)
        LIVE_DIRTY_LEADERBOARDS.set(len(dirty))
        if not dirty:
            return 0
        heard = await live.listened(redis, [channels.leaderboard(course_id) for course_id in dirty])
        pushes = 0
        for course_id in dirty:
            channel = channels.leaderboard(course_id)
            if not heard.get(channel):
                continue
            if not await live.claim_leaderboard(redis, course_id, live.TUNING.leaderboard_lock_ms):
                continue
            try:
                pushes += await self._push_leaderboard(course_id, channel)
            except Exception:  # noqa: BLE001 - this course is retried; the others go on
                LIVE_ERRORS.labels("leaderboard").inc()
                log.warning("leaderboard push failed", exc_info=True, extra={"course_id": course_id})
                await live.mark_leaderboards(redis, [course_id])
        return pushes

    async def _push_leaderboard(self, course_id: int, channel: str) -> int:
        entries = await top(self.runtime, course_id, self.runtime.settings.leaderboard_top_n)
        data = {"course_id": course_id, "entries": [entry.model_dump(mode="json") for entry in entries]}
        signature = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:32]
        if await live.last_push(self.runtime.redis, course_id) == signature:
            return 0
        await self.hub.publish(channel, "leaderboard", data)
        await live.remember_push(self.runtime.redis, course_id, signature)
        LIVE_PUSHES.labels("leaderboard").inc()
        return 1

    # -- instructor activity -----------------------------------------------------------------------------

    async def activity_tick(self) -> int:
        redis = self.runtime.redis
        course_ids = await live.active_courses(redis)
        for gone in set(self._activity_pushed) - set(course_ids):
            del self._activity_pushed[gone]
        if not course_ids:
            return 0
        heard = await live.listened(redis, [channels.activity(course_id) for course_id in course_ids])
        lock_ms = max(50, int(live.TUNING.activity_interval_seconds * 900))
        pushes = 0
        for course_id in course_ids:
            channel = channels.activity(course_id)
            if not heard.get(channel) or not await live.claim_activity(redis, course_id, lock_ms):
                continue
            try:
                pushes += await self._push_activity(course_id, channel)
            except Exception:  # noqa: BLE001 - the next tick re-sends the full picture
                LIVE_ERRORS.labels("activity").inc()
                log.warning("activity push failed", exc_info=True, extra={"course_id": course_id})
        return pushes

    async def _push_activity(self, course_id: int, channel: str) -> int:
        sweep = await live.sweep_activity(self.runtime.redis, course_id)
        now = time.monotonic()
        last = self._activity_pushed.get(course_id)
        due = last is None or now - last >= live.TUNING.activity_refresh_seconds
        if not (sweep.changed or sweep.joins or sweep.leaves or due):
            return 0
        await self.hub.publish(channel, "activity", await self.activity_payload(course_id, sweep))
        self._activity_pushed[course_id] = now
        LIVE_PUSHES.labels("activity").inc()
        return 1

    async def activity_payload(self, course_id: int, sweep: live.ActivitySweep) -> dict[str, Any]:
        user_ids = {int(entry["user_id"]) for entry in sweep.active + sweep.leaves if "user_id" in entry}
        people = await self._people_of(user_ids)
        titles = await self._lesson_titles(course_id)

        def describe(entry: dict[str, Any]) -> dict[str, Any]:
            user_id = int(entry.get("user_id") or 0)
            name, avatar = people.get(user_id, ("", None))
            lesson_id = str(entry.get("lesson_id") or "")
            return {
                "user_id": user_id,
                "name": name,
                "avatar": avatar,
                "lesson_id": lesson_id,
                "lesson_title": titles.get(lesson_id),
                "session_started": _iso(entry.get("session_started")),
                "session_seconds": int(entry.get("session_seconds") or 0),
                "last_seen": _iso(entry.get("last_seen")),
            }

        active = sorted(
            (describe(entry) for entry in sweep.active), key=lambda e: (e["name"].lower(), e["user_id"])
        )
        by_user = {entry["user_id"]: entry for entry in active}
        # A session start of someone who already left again (nobody watched meanwhile) is not news.
        joins = [by_user[user_id] for user_id in dict.fromkeys(sweep.joins) if user_id in by_user]
        return {
            "course_id": course_id,
            "active_count": len(active),
            "active": active[: live.TUNING.activity_max_listed],
            "joins": joins[: live.TUNING.activity_max_listed],
            "leaves": [describe(entry) for entry in sweep.leaves][: live.TUNING.activity_max_listed],
        }

    async def _people_of(self, user_ids: set[int]) -> dict[int, tuple[str, str | None]]:
        now = time.monotonic()
        missing = {user_id for user_id in user_ids if self._people.get(user_id, (0.0,))[0] < now}
        if missing:
            async with self.runtime.db.read() as tx:
                found = await courses.users_by_id(tx, missing)
            if len(self._people) > _CACHE_MAX:
                self._people.clear()
            for user_id in missing:
                user = found.get(user_id)
                name = f"{user.first_name} {user.last_name}".strip() if user else ""
                self._people[user_id] = (now + _PEOPLE_CACHE_SECONDS, name, user.avatar_url if user else None)
        return {user_id: self._people[user_id][1:] for user_id in user_ids if user_id in self._people}

    async def _lesson_titles(self, course_id: int) -> dict[str, str]:
        now = time.monotonic()
        cached = self._lessons.get(course_id)
        if cached is None or cached[0] < now:
            docs = await lessons.syllabus(self.runtime.documents, course_id)
            if len(self._lessons) > _CACHE_MAX:
                self._lessons.clear()
            cached = self._lessons[course_id] = (
                now + _LESSONS_CACHE_SECONDS,
                {str(doc["_id"]): str(doc.get("title") or "") for doc in docs},
            )
        return cached[1]

    # -- admin analytics ---------------------------------------------------------------------------------

    async def analytics_tick(self) -> bool:
        """Push the live snapshot if an admin listens and no worker pushed one in this interval."""
        redis = self.runtime.redis
        if not (await live.listened(redis, [ADMIN_ANALYTICS])).get(ADMIN_ANALYTICS):
            return False
        if not await live.claim_analytics(redis, max(50, int(live.TUNING.analytics_interval_seconds * 800))):
            return False
        snapshot = await analytics.live(self.runtime)
        await self.hub.publish(ADMIN_ANALYTICS, "analytics", snapshot.model_dump(mode="json"))
        LIVE_PUSHES.labels("analytics").inc()
        return True
