"""Each course's lesson ids in syllabus order, kept in the public cache (app/http/public_cache.py) while
it holds them: every lesson change empties it, on every instance."""

from __future__ import annotations

from collections.abc import Sequence

from app.runtime import Runtime
from app.syllabus import store


async def lesson_ids_by_course(runtime: Runtime, course_ids: Sequence[int]) -> dict[int, list[str]]:
    cache = runtime.public_cache
    by_course: dict[int, list[str]] = {}
    missing = []
    for course_id in course_ids:
        known: tuple[str, ...] | None = cache.known(("lesson-ids", course_id))
        if known is None:
            missing.append(course_id)
        else:
            by_course[course_id] = list(known)
    if missing:
        generation = cache.generation
        found = await store.lesson_ids_by_course(runtime.documents, missing)
        for course_id, ids in found.items():
            cache.remember(("lesson-ids", course_id), tuple(ids), generation)
        by_course.update(found)
    return by_course
