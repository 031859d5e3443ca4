"""The catalogue's maintained counters (lessons, enrollments, ratings) equal a recount after any
sequence of enrollments, unenrollments, ratings, lesson additions and deletions made through the API."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.lessons.counters import count_missing_lessons
from app.runtime import Runtime
from app.startup import StartupSteps
from app.stores.embedded import free_port
from app.stores.models import Course, Enrollment, Rating
from app.stores.mongo import LESSONS
from app.stores.sql import Database
from tests.courses.helpers import add_lesson, make_course, quick_account

LEARNERS = 3
COURSES = 2

step = st.one_of(
    st.tuples(st.just("enroll"), st.integers(0, LEARNERS - 1), st.integers(0, COURSES - 1)),
    st.tuples(st.just("unenroll"), st.integers(0, LEARNERS - 1), st.integers(0, COURSES - 1)),
    st.tuples(st.just("rate"), st.integers(0, LEARNERS - 1), st.integers(0, COURSES - 1), st.integers(1, 5)),
    st.tuples(st.just("add_lesson"), st.integers(0, COURSES - 1)),
    st.tuples(st.just("delete_lesson"), st.integers(0, COURSES - 1), st.integers(0, 3)),
)


async def recount(runtime: Runtime, course_id: int) -> dict[str, Any]:
    async with runtime.db.read() as tx:
        enrollments = (
            await tx.execute(select(func.count()).where(Enrollment.course_id == course_id))
        ).scalar_one()
        count, total = (
            await tx.execute(
                select(func.count(), func.coalesce(func.sum(Rating.stars), 0)).where(
                    Rating.course_id == course_id
                )
            )
        ).one()
    lessons = await runtime.documents.count(LESSONS, {"course_id": course_id})
    return {"lessons": lessons, "enrollments": enrollments, "ratings": count, "stars": total}


async def columns(runtime: Runtime, course_id: int) -> dict[str, Any]:
    async with runtime.db.read() as tx:
        course = await tx.get(Course, course_id)
        assert course is not None
        return {
            "lessons": course.lessons_count,
            "enrollments": course.enrollment_count,
            "ratings": course.rating_count,
            "stars": course.rating_sum,
        }


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, max_size=18))
async def test_counters_equal_a_recount_after_any_sequence(
    client: httpx.AsyncClient, runtime: Runtime, steps: list[tuple[Any, ...]]
) -> None:
    teacher = await quick_account(runtime, "instructor")
    learners = [await quick_account(runtime) for _ in range(LEARNERS)]
    courses = [(await make_course(client, teacher))["id"] for _ in range(COURSES)]
    lessons: dict[int, list[str]] = {course_id: [] for course_id in courses}
    for action, *args in steps:
        if action == "enroll":
            who, course_id = learners[args[0]], courses[args[1]]
            response = await client.post(f"/api/courses/{course_id}/enroll", headers=who.headers)
            assert response.status_code in (201, 409), response.text
        elif action == "unenroll":
            who, course_id = learners[args[0]], courses[args[1]]
            response = await client.delete(f"/api/courses/{course_id}/unenroll", headers=who.headers)
            assert response.status_code in (200, 404), response.text
        elif action == "rate":
            who, course_id = learners[args[0]], courses[args[1]]
            response = await client.put(
                f"/api/courses/{course_id}/rating", headers=who.headers, json={"stars": args[2]}
            )
            assert response.status_code in (200, 403), response.text
        elif action == "add_lesson":
            course_id = courses[args[0]]
            lessons[course_id].append((await add_lesson(client, teacher, course_id))["id"])
        else:
            course_id = courses[args[0]]
            if lessons[course_id]:
                lesson_id = lessons[course_id].pop(args[1] % len(lessons[course_id]))
                response = await client.delete(
                    f"/api/courses/{course_id}/lessons/{lesson_id}", headers=teacher.headers
                )
                assert response.status_code == 200, response.text
    listed = {item["id"]: item for item in (await client.get("/api/courses?limit=100")).json()}
    for course_id in courses:
        counted = await recount(runtime, course_id)
        assert await columns(runtime, course_id) == counted
        shown = listed[course_id]
        assert shown["lessonsCount"] == counted["lessons"]
        assert shown["enrollment_count"] == shown["enrolledStudents"] == counted["enrollments"]
        assert shown["rating_count"] == counted["ratings"]
        expected = round(counted["stars"] / counted["ratings"], 2) if counted["ratings"] else None
        assert shown["average_rating"] == expected
        assert shown["rating"] == (expected or 0.0)


async def test_unknown_lesson_counts_are_counted_once_from_the_document_store(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    teacher = await quick_account(runtime, "instructor")
    course_id = (await make_course(client, teacher))["id"]
    for title in ("One", "Two", "Three"):
        await add_lesson(client, teacher, course_id, title)
    async with runtime.db.transaction() as tx:
        course = await tx.get(Course, course_id)
        assert course is not None
        course.lessons_count = None  # as a course that existed before the column did
    assert await count_missing_lessons(runtime) == 1
    assert (await columns(runtime, course_id))["lessons"] == 3
    assert await count_missing_lessons(runtime) == 0
    shown = (await client.get(f"/api/courses/{course_id}")).json()
    assert shown["lessonsCount"] == 3


async def test_lesson_counts_wait_for_postgres_when_it_is_away_at_start(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    teacher = await quick_account(runtime, "instructor")
    course_id = (await make_course(client, teacher))["id"]
    await add_lesson(client, teacher, course_id, "Only")
    async with runtime.db.transaction() as tx:
        course = await tx.get(Course, course_id)
        assert course is not None
        course.lessons_count = None
    assert (await client.get("/api/courses")).status_code == 200  # a page cached with 0 lessons
    away = Database(f"postgresql://postgres@127.0.0.1:{free_port()}/learnflow")
    starting = dataclasses.replace(runtime, db=away)
    steps = StartupSteps(retry_seconds=0.05)
    try:
        assert not await steps.run("lesson counts", lambda: count_missing_lessons(starting))
        await asyncio.sleep(0.3)
        (waiting,) = steps.waiting
        assert not waiting.done()  # still trying, not crashed
        assert (await columns(runtime, course_id))["lessons"] is None
        starting.db = runtime.db  # PostgreSQL is reachable again
        await asyncio.wait_for(waiting, timeout=10)
    finally:
        await steps.stop()
        await away.engine.dispose()
    assert (await columns(runtime, course_id))["lessons"] == 1
    listed = {c["id"]: c for c in (await client.get("/api/courses")).json()}
    assert listed[course_id]["lessonsCount"] == 1  # the cached page was forgotten
