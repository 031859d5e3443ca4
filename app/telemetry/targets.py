"""Who may send heartbeats for which lesson, cached briefly in the api process.

Without care, such a cache stampedes: entries made together (a classroom connecting at once) expire
together, and each expiry sends every concurrent heartbeat of that key to the stores. So expiries are
jittered (spread over 24–36 s), concurrent misses of one key share one look-up, the enrollment misses of
20 ms are looked up by one statement (app/tick_batch.py, `LOOKUP_LINGER_SECONDS`), and at most `MAX_LOOKUPS`
enrollment statements and as many lesson look-ups run at a time per process (the rest wait for a free
place, they never fail for it). Under load a
look-up's turn comes slowly, so looking up a crowd's enrollments one by one would hold their heartbeats
for seconds.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar, cast

from app.courses import access
from app.courses import store as courses
from app.errors import Forbidden, NotFound
from app.security.principal import Principal
from app.stores.mongo import DocumentStore
from app.stores.sql import Database
from app.syllabus import store as lessons
from app.tick_batch import TickBatcher

_CACHE_SECONDS = 30.0
_JITTER = 0.2  # expiry within ±20 % of _CACHE_SECONDS
_MISS_REFETCH_SECONDS = 1.0
# Well under the PostgreSQL pool (20): heartbeats must never take every connection from other requests.
MAX_LOOKUPS = 8
# (user, course) pairs per enrollment statement.
_MAX_PAIRS = 1000
# A miss waits at most this long for others to share its statement: with learners heartbeating every 15 s
# and entries lasting about 30 s, an api's misses are spread one or two a tick, a statement each.
LOOKUP_LINGER_SECONDS = 0.02

K = TypeVar("K")
V = TypeVar("V")


def _expiry(now: float) -> float:
    return now + _CACHE_SECONDS * random.uniform(1 - _JITTER, 1 + _JITTER)


class HeartbeatTargets:
    """Short-lived cache of (enrollment id or refused) and (lessons of a course), so heartbeats do not
    hit the stores thousands of times a second. An unenrollment or a deleted lesson is seen within
    36 s; at once where `forget_user` is called (a WebSocket of the user is re-checked)."""

    def __init__(self, db: Database, documents: DocumentStore, *, max_lookups: int = MAX_LOOKUPS) -> None:
        self._db = db
        self._documents = documents
        # user -> course -> (expiry, enrollment id or None when not allowed to send); by user first so
        # that `forget_user` drops one entry
        self._enrolled: dict[int, dict[int, tuple[float, int | None]]] = {}
        self._lessons: dict[int, tuple[float, float, frozenset[str]]] = {}  # (fetched, expiry, ids)
        self._lookups = asyncio.Semaphore(max_lookups)
        self._enrollment_lookups: TickBatcher[tuple[Principal, int], int | None] = TickBatcher(
            self._enrollments, max_batch=_MAX_PAIRS, concurrency=max_lookups, linger=LOOKUP_LINGER_SECONDS
        )
        self._inflight: dict[object, asyncio.Future[object]] = {}
        self.lookups = 0  # store statements made, for tests

    async def _once(self, key: K, load: Callable[[], Awaitable[V]], *, bounded: bool = True) -> V:
        """One look-up per key at a time, shared by every caller that missed meanwhile. `bounded`: it
        waits for one of the `max_lookups` places (False: `load` bounds itself)."""
        pending = self._inflight.get(key)
        if pending is not None:
            return cast(V, await asyncio.shield(pending))
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            if bounded:
                async with self._lookups:
                    value = await load()
            else:
                value = await load()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters get it, nobody else must be told
            raise
        else:
            future.set_result(value)
            return value
        finally:
            del self._inflight[key]

    async def check(self, principal: Principal, course_id: int, lesson_id: str) -> int:
        """The id of the enrollment the heartbeat counts toward; Forbidden/NotFound otherwise."""
        enrollment_id = await self.enrollment(principal, course_id)
        await self.lesson(course_id, lesson_id)
        return enrollment_id

    async def enrollment(self, principal: Principal, course_id: int) -> int:
        """The id of the caller's enrollment in the course; Forbidden when there is none to count to."""
        now = time.monotonic()
        cached = self._enrolled.get(principal.user_id, {}).get(course_id)
        if cached is None or cached[0] < now:
            key = (principal.user_id, course_id)
            enrolled = await self._once(
                ("enrolled", key),
                lambda: self._enrollment_lookups.submit((principal, course_id)),
                bounded=False,
            )
            if len(self._enrolled) > 100_000:
                self._enrolled.clear()
            cached = self._enrolled.setdefault(principal.user_id, {})[course_id] = (_expiry(now), enrolled)
        if cached[1] is None:
            raise Forbidden("Only enrolled learners can record time in a course.", code="not_enrolled")
        return cached[1]

    def forget_user(self, user_id: int) -> None:
        """Drop what is kept of the user's enrollments (their enrollments, role or account changed)."""
        self._enrolled.pop(user_id, None)

    async def lesson(self, course_id: int, lesson_id: str) -> None:
        """NotFound unless the lesson belongs to the course."""
        now = time.monotonic()
        known = self._lessons.get(course_id)
        # An unknown id refetches the course's lessons (it may be new), but at most once a second per
        # course: a stream of made-up ids must not reach the document store on every heartbeat.
        missed = known is not None and lesson_id not in known[2] and now - known[0] > _MISS_REFETCH_SECONDS
        if known is None or known[1] < now or missed:
            ids = await self._once(("lessons", course_id), lambda: self._lesson_ids(course_id))
            known = self._lessons[course_id] = (now, _expiry(now), ids)
        if lesson_id not in known[2]:
            raise NotFound("No such lesson in this course.", code="lesson_not_found")

    async def _enrollments(self, asked: Sequence[tuple[Principal, int]]) -> list[int | None]:
        """For each (caller, course): the enrollment's id, or None when the caller may not count time
        there (no such course, one it cannot see, or not enrolled)."""
        self.lookups += 1
        found = await courses.courses_and_enrollments(
            self._db, [(principal.user_id, course_id) for principal, course_id in asked]
        )
        answers: list[int | None] = []
        for principal, course_id in asked:
            course, enrollment_id = found.get((principal.user_id, course_id), (None, None))
            visible = course is not None and access.can_see(principal, course)
            answers.append(enrollment_id if visible else None)
        return answers

    async def _lesson_ids(self, course_id: int) -> frozenset[str]:
        self.lookups += 1
        return frozenset((await lessons.lesson_ids_by_course(self._documents, [course_id]))[course_id])


class KnownEnrollments:
    """One WebSocket's enrollments as its heartbeats found them. The connection keeps it until the hub
    re-checks the connection (an unenrollment, a role, block or account change of the user: the new
    principal starts empty); each entry lasts as long as a process-wide one (24–36 s)."""

    def __init__(self) -> None:
        self._ids: dict[int, tuple[float, int]] = {}

    def get(self, course_id: int) -> int | None:
        kept = self._ids.get(course_id)
        if kept is None or kept[0] < time.monotonic():
            return None
        return kept[1]

    def keep(self, course_id: int, enrollment_id: int) -> None:
        self._ids[course_id] = (_expiry(time.monotonic()), enrollment_id)
