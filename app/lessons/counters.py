"""Lesson counts of courses that have none yet (NULL `lessons_count`: courses that existed before the
column did, see migration 0006): counted once from the document store under the course's row lock,
which the lesson service also holds while it adds or deletes a lesson, so the count written is exact.
Run at start-up (app/startup.py retries it while PostgreSQL is away)."""

from __future__ import annotations

from app.courses import store as courses
from app.runtime import Runtime
from app.syllabus import store


async def count_missing_lessons(runtime: Runtime) -> int:
    """Fill every NULL `lessons_count`; returns how many courses were counted."""
    async with runtime.db.read() as tx:
        missing = await courses.without_lesson_count(tx)
    counted = 0
    for course_id in missing:
        async with runtime.db.transaction() as tx:
            exists, count = await courses.lock_lesson_count(tx, course_id)
            if not exists or count is not None:
                continue
            await courses.set_lesson_count(
                tx, course_id, await store.count_for_course(runtime.documents, course_id)
            )
            counted += 1
    if counted:
        await runtime.public_cache.changed()  # pages cached meanwhile showed these courses with 0 lessons
    return counted
