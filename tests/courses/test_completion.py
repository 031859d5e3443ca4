"""Progress and completion (docs/PRODUCT.md; the old API never recorded completion):
the last lesson completes the course, and completion follows every change of the lesson list."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.courses.helpers import (
    add_lesson,
    audit_rows,
    enroll,
    enrollment_row,
    lesson_docs,
    make_course,
    mark,
    progress_doc,
    progress_of,
    quick_account,
    sql_counts,
)
from tests.helpers import Account, Api


class Course:
    def __init__(self, course_id: int, lessons: list[str], teacher: Account) -> None:
        self.id = course_id
        self.lessons = lessons
        self.teacher = teacher


@pytest.fixture
async def course(client: httpx.AsyncClient, api: Api) -> Course:
    teacher = await quick_account(api.runtime, "instructor")
    made = await make_course(client, teacher)
    lessons = [(await add_lesson(client, teacher, made["id"], f"L{n}"))["id"] for n in range(3)]
    return Course(made["id"], lessons, teacher)


@pytest.fixture
async def learner(client: httpx.AsyncClient, api: Api, course: Course) -> Account:
    account = await quick_account(api.runtime, "learner")
    await enroll(client, account, course.id)
    return account


async def test_a_fresh_enrollment_has_empty_progress(
    client: httpx.AsyncClient, course: Course, learner: Account
) -> None:
    progress = await progress_of(client, learner, course.id)
    assert progress == {
        "id": f"{learner.id}:{course.id}",
        "user_id": learner.id,
        "course_id": course.id,
        "completed_lessons": [],
        "total_lessons": 3,
        "progress_percentage": 0.0,
        "total_seconds_spent": 0,
        "last_accessed": None,
        "lesson_times": {},
        "completed_at": None,
    }


async def test_completing_the_last_lesson_completes_the_course(
    client: httpx.AsyncClient, api: Api, course: Course, learner: Account
) -> None:
    first = await mark(client, learner, course.id, course.lessons[1])
    assert first["completed_lessons"] == [course.lessons[1]]
    assert first["progress_percentage"] == 33.33 and first["completed_at"] is None
    assert first["last_accessed"].endswith("Z")
    row = await enrollment_row(api.runtime, learner.id, course.id)
    assert row is not None and row.progress == 33.33 and row.completed_at is None

    await mark(client, learner, course.id, course.lessons[0])
    # Marking a completed lesson again changes nothing.
    again = await mark(client, learner, course.id, course.lessons[0])
    assert again["progress_percentage"] == 66.67
    done = await mark(client, learner, course.id, course.lessons[2])
    # Completed lessons are listed in course order, whatever order they were done in.
    assert done["completed_lessons"] == course.lessons
    assert done["progress_percentage"] == 100.0 and done["completed_at"].endswith("Z")
    row = await enrollment_row(api.runtime, learner.id, course.id)
    assert row is not None and row.progress == 100.0 and row.completed_at is not None
    assert (await progress_of(client, learner, course.id))["completed_at"] == done["completed_at"]

    lesson_rows = await audit_rows(api.runtime, "lesson_completed")
    assert [(r.user_id, r.resource_type, r.resource_id) for r in lesson_rows] == [
        (learner.id, "lesson", course.lessons[1]),
        (learner.id, "lesson", course.lessons[0]),
        (learner.id, "lesson", course.lessons[2]),
    ]
    assert all(r.details == {"course_id": course.id} for r in lesson_rows)
    (completed,) = await audit_rows(api.runtime, "course_completed")
    assert (completed.user_id, completed.resource_type, completed.resource_id) == (
        learner.id,
        "course",
        str(course.id),
    )
    assert completed.details == {"user_id": learner.id}

    # Completing a completed course again records nothing new.
    await mark(client, learner, course.id, course.lessons[2])
    assert len(await audit_rows(api.runtime, "course_completed")) == 1
    stats = (await client.get("/api/learner/stats", headers=learner.headers)).json()
    assert stats == {
        "courses_in_progress": 0,
        "courses_completed": 1,
        "lessons_completed": 3,
        "total_enrolled": 1,
        "total_seconds_spent": 0,
    }


async def test_uncompleting_a_lesson_reopens_the_course(
    client: httpx.AsyncClient, api: Api, course: Course, learner: Account
) -> None:
    for lesson_id in course.lessons:
        await mark(client, learner, course.id, lesson_id)
    reopened = await mark(client, learner, course.id, course.lessons[0], completed=False)
    assert reopened["completed_at"] is None and reopened["progress_percentage"] == 66.67
    assert reopened["completed_lessons"] == course.lessons[1:]
    row = await enrollment_row(api.runtime, learner.id, course.id)
    assert row is not None and row.completed_at is None and row.progress == 66.67
    # Un-completing something never completed is harmless.
    await mark(client, learner, course.id, course.lessons[0], completed=False)
    # Completing it again completes the course again, and that is recorded again.
    again = await mark(client, learner, course.id, course.lessons[0])
    assert again["completed_at"] is not None
    assert len(await audit_rows(api.runtime, "course_completed")) == 2
    stats = (await client.get("/api/learner/stats", headers=learner.headers)).json()
    assert stats["courses_completed"] == 1 and stats["courses_in_progress"] == 0


async def test_a_new_lesson_reopens_and_deleting_it_completes_again(
    client: httpx.AsyncClient, api: Api, course: Course, learner: Account
) -> None:
    partial = await quick_account(api.runtime, "learner")
    await enroll(client, partial, course.id)
    await mark(client, partial, course.id, course.lessons[0])
    for lesson_id in course.lessons:
        await mark(client, learner, course.id, lesson_id)

    extra = await add_lesson(client, course.teacher, course.id, "Bonus")
    after = await progress_of(client, learner, course.id)
    assert (
        after["completed_at"] is None and after["progress_percentage"] == 75.0 and after["total_lessons"] == 4
    )
    row = await enrollment_row(api.runtime, learner.id, course.id)
    assert row is not None and row.completed_at is None and row.progress == 75.0
    other = await enrollment_row(api.runtime, partial.id, course.id)
    assert other is not None and other.progress == 25.0

    gone = await client.delete(
        f"/api/courses/{course.id}/lessons/{extra['id']}", headers=course.teacher.headers
    )
    assert gone.status_code == 200 and gone.json() == {"message": "Lesson deleted successfully"}
    back = await progress_of(client, learner, course.id)
    assert back["completed_at"] is not None and back["progress_percentage"] == 100.0
    row = await enrollment_row(api.runtime, learner.id, course.id)
    assert row is not None and row.completed_at is not None and row.progress == 100.0
    other = await enrollment_row(api.runtime, partial.id, course.id)
    assert other is not None and other.progress == 33.33 and other.completed_at is None
    completions = await audit_rows(api.runtime, "course_completed")
    assert [r.details["user_id"] for r in completions] == [learner.id, learner.id]
    # The second completion was caused by the instructor's deletion.
    assert completions[1].user_id == course.teacher.id


async def test_deleting_a_completed_lesson_forgets_it(
    client: httpx.AsyncClient, api: Api, course: Course, learner: Account
) -> None:
    await mark(client, learner, course.id, course.lessons[0])
    await client.delete(
        f"/api/courses/{course.id}/lessons/{course.lessons[0]}", headers=course.teacher.headers
    )
    progress = await progress_of(client, learner, course.id)
    assert progress["completed_lessons"] == [] and progress["progress_percentage"] == 0.0
    assert progress["total_lessons"] == 2
    doc = await progress_doc(api.runtime, learner.id, course.id)
    assert doc is not None and doc["completed_lessons"] == []
    # Completing the remaining two completes the course.
    for lesson_id in course.lessons[1:]:
        done = await mark(client, learner, course.id, lesson_id)
    assert done["completed_at"] is not None


async def test_deleting_the_only_incomplete_lesson_completes_the_course(
    client: httpx.AsyncClient, api: Api, course: Course, learner: Account
) -> None:
    for lesson_id in course.lessons[:2]:
        await mark(client, learner, course.id, lesson_id)
    assert (await progress_of(client, learner, course.id))["completed_at"] is None
    await client.delete(
        f"/api/courses/{course.id}/lessons/{course.lessons[2]}", headers=course.teacher.headers
    )
    progress = await progress_of(client, learner, course.id)
    assert progress["completed_at"] is not None and progress["progress_percentage"] == 100.0
    assert len(await audit_rows(api.runtime, "course_completed")) == 1


async def test_progress_views_of_the_learner(
    client: httpx.AsyncClient, api: Api, course: Course, learner: Account
) -> None:
    second = await make_course(client, course.teacher, title="Second")
    only = await add_lesson(client, course.teacher, second["id"], "Only")
    await enroll(client, learner, second["id"])
    await mark(client, learner, second["id"], only["id"])
    await mark(client, learner, course.id, course.lessons[0])

    mine = (await client.get("/api/my-progress", headers=learner.headers)).json()
    by_course = {item["course_id"]: item for item in mine}
    assert by_course[course.id]["progress_percentage"] == 33.33
    assert by_course[second["id"]]["completed_at"] is not None
    enrollments = (await client.get("/api/learner/enrollments", headers=learner.headers)).json()
    assert [item["course"]["title"] for item in enrollments] == ["Second", "Python from scratch"]
    assert [item["progress"] for item in enrollments] == [100.0, 33.33]
    assert enrollments[0]["completed_at"].endswith("Z") and enrollments[1]["completed_at"] is None
    assert all(item["course"]["is_enrolled"] for item in enrollments)
    stats = (await client.get("/api/learner/stats", headers=learner.headers)).json()
    assert stats == {
        "courses_in_progress": 1,
        "courses_completed": 1,
        "lessons_completed": 2,
        "total_enrolled": 2,
        "total_seconds_spent": 0,
    }
    nobody = await quick_account(api.runtime, "learner")
    assert (await client.get("/api/my-progress", headers=nobody.headers)).json() == []
    assert (await client.get("/api/learner/enrollments", headers=nobody.headers)).json() == []


async def test_deleting_a_course_removes_lessons_progress_and_enrollments(
    client: httpx.AsyncClient, api: Api, course: Course, learner: Account
) -> None:
    keep = await make_course(client, course.teacher, title="Kept")
    kept_lesson = await add_lesson(client, course.teacher, keep["id"], "Kept lesson")
    await enroll(client, learner, keep["id"])
    await mark(client, learner, course.id, course.lessons[0])
    await client.put(f"/api/courses/{course.id}/rating", headers=learner.headers, json={"stars": 5})
    assert await progress_doc(api.runtime, learner.id, course.id) is not None
    for course_id in (course.id, keep["id"]):
        await api.runtime.documents.insert(
            "course_telemetry", {"_id": f"{learner.id}:{course_id}:x:h", "course_id": course_id, "seconds": 5}
        )

    gone = await client.delete(f"/api/courses/{course.id}", headers=course.teacher.headers)
    assert gone.status_code == 200, gone.text
    assert gone.json() == {"message": "Course deleted successfully"}
    assert await sql_counts(api.runtime, course.id) == {"courses": 0, "enrollments": 0, "ratings": 0}
    assert await lesson_docs(api.runtime, course.id) == []
    assert await progress_doc(api.runtime, learner.id, course.id) is None
    assert await api.runtime.documents.count("course_telemetry", {"course_id": course.id}) == 0
    assert await api.runtime.documents.count("course_telemetry", {"course_id": keep["id"]}) == 1
    (deleted,) = await audit_rows(api.runtime, "course_deleted")
    assert (deleted.user_id, deleted.resource_id, deleted.details["title"]) == (
        course.teacher.id,
        str(course.id),
        "Python from scratch",
    )
    # The other course is untouched.
    assert await sql_counts(api.runtime, keep["id"]) == {"courses": 1, "enrollments": 1, "ratings": 0}
    assert [doc["_id"] for doc in await lesson_docs(api.runtime, keep["id"])] == [kept_lesson["id"]]
    assert await progress_doc(api.runtime, learner.id, keep["id"]) is not None
    assert [
        item["course_id"] for item in (await client.get("/api/my-progress", headers=learner.headers)).json()
    ] == [keep["id"]]
    assert (await client.get(f"/api/courses/{course.id}", headers=course.teacher.headers)).status_code == 404


async def test_concurrent_marks_complete_the_course_once(
    client: httpx.AsyncClient, api: Api, course: Course, learner: Account
) -> None:
    more = [(await add_lesson(client, course.teacher, course.id, f"M{n}"))["id"] for n in range(5)]
    responses = await asyncio.gather(
        *[
            client.post(
                f"/api/courses/{course.id}/progress", headers=learner.headers, json={"lesson_id": lesson_id}
            )
            for lesson_id in course.lessons + more
        ]
    )
    assert [response.status_code for response in responses] == [200] * 8
    progress = await progress_of(client, learner, course.id)
    assert progress["progress_percentage"] == 100.0 and progress["completed_at"] is not None
    assert len(await audit_rows(api.runtime, "course_completed")) == 1
    assert len(await audit_rows(api.runtime, "lesson_completed")) == 8
