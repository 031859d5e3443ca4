"""Who may send heartbeats for which lesson, cached briefly in the api process."""

from __future__ import annotations

import time

from app.courses import access
from app.courses import store as courses
from app.errors import Forbidden, NotFound
from app.lessons import store as lessons
from app.security.principal import Principal
from app.stores.mongo import DocumentStore
from app.stores.sql import Database

_CACHE_SECONDS = 30.0
_MISS_REFETCH_SECONDS = 1.0


class HeartbeatTargets:
    """Short-lived cache of (enrolled?) and (lessons of a course), so heartbeats do not hit the stores
    thousands of times a second. An unenrollment or a deleted lesson is seen within 30 s."""

    def __init__(self, db: Database, documents: DocumentStore) -> None:
        self._db = db
        self._documents = documents
        # (user, course) -> (expiry, enrollment id or None when not allowed to send)
        self._enrolled: dict[tuple[int, int], tuple[float, int | None]] = {}
        self._lessons: dict[int, tuple[float, frozenset[str]]] = {}

    async def check(self, principal: Principal, course_id: int, lesson_id: str) -> int:
        """The id of the enrollment the heartbeat counts toward; Forbidden/NotFound otherwise."""
        now = time.monotonic()
        key = (principal.user_id, course_id)
        cached = self._enrolled.get(key)
        if cached is None or cached[0] < now:
            async with self._db.read() as tx:
                course = await courses.get(tx, course_id)
                enrollment = (
                    await courses.enrollment(tx, principal.user_id, course_id)
                    if course is not None and access.can_see(principal, course)
                    else None
                )
                enrolled = None if enrollment is None else enrollment.id
            if len(self._enrolled) > 100_000:
                self._enrolled.clear()
            cached = self._enrolled[key] = (now + _CACHE_SECONDS, enrolled)
        if cached[1] is None:
            raise Forbidden("Only enrolled learners can record time in a course.", code="not_enrolled")
        known = self._lessons.get(course_id)
        # An unknown id refetches the course's lessons (it may be new), but at most once a second per
        # course: a stream of made-up ids must not reach the document store on every heartbeat.
        missed = (
            known is not None
            and lesson_id not in known[1]
            and now - (known[0] - _CACHE_SECONDS) > _MISS_REFETCH_SECONDS
        )
        if known is None or known[0] < now or missed:
            ids = frozenset(doc["_id"] for doc in await lessons.for_course(self._documents, course_id))
            known = self._lessons[course_id] = (now + _CACHE_SECONDS, ids)
        if lesson_id not in known[1]:
            raise NotFound("No such lesson in this course.", code="lesson_not_found")
        return cached[1]
