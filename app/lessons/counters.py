"""Lesson counts of courses that have none yet (NULL `lessons_count`: courses that existed before the
column did, see migration 0006): counted once from the document store under the course's row lock,
which the lesson service also holds while it adds or deletes a lesson, so the count written is exact.

A server must start while PostgreSQL is away (readiness then reports it), so when the first count cannot
reach it, counting goes on in the background until it can."""

from __future__ import annotations

import asyncio
import logging

from app.courses import store as courses
from app.errors import StoreUnavailable
from app.lessons import store
from app.runtime import Runtime

log = logging.getLogger(__name__)


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
    return counted


async def start_counting_missing_lessons(
    runtime: Runtime, retry_seconds: float = 5.0
) -> asyncio.Task[None] | None:
    """Count now; if PostgreSQL is unavailable, return the task that keeps trying every `retry_seconds`
    (the caller cancels it at shutdown)."""
    try:
        await count_missing_lessons(runtime)
        return None
    except StoreUnavailable:
        log.warning("lesson counts wait for postgres", extra={"retry_seconds": retry_seconds})
        return asyncio.create_task(_count_when_reachable(runtime, retry_seconds))


async def _count_when_reachable(runtime: Runtime, retry_seconds: float) -> None:
    while True:
        await asyncio.sleep(retry_seconds)
        try:
            counted = await count_missing_lessons(runtime)
        except StoreUnavailable:
            continue
        log.info("lesson counts filled", extra={"courses": counted})
        return
