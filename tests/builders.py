"""Builders shared by the test suites: rows made straight in the stores for scenes whose subject is
elsewhere, and the error-body readers every suite needs. A suite whose subject is the endpoint itself
goes through the API instead (tests/courses/helpers.py does for courses and enrollments)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import httpx

from app.courses import store as courses
from app.runtime import Runtime
from app.stores.models import Enrollment
from tests.helpers import Account

_titles = itertools.count(1)


async def course_in_store(
    runtime: Runtime,
    instructor_id: int,
    *,
    title: str | None = None,
    description: str = "About things",
    category: str = "Testing",
    level: str = "Beginner",
    published: bool = True,
) -> int:
    """A course row owned by `instructor_id` (published unless told otherwise); its id."""
    async with runtime.db.transaction() as tx:
        course = await courses.add(
            tx,
            title=title or f"Course {next(_titles)}",
            description=description,
            category=category,
            level=level,
            duration="4 weeks",
            instructor_id=instructor_id,
            is_published=published,
        )
        return course.id


async def enrollment_in_store(
    runtime: Runtime,
    user_id: int,
    course_id: int,
    *,
    enrolled_at: datetime | None = None,
    progress: float = 0.0,
    completed_at: datetime | None = None,
) -> int:
    """An enrollment row, as `POST …/enroll` would leave it (or further along); its id."""
    async with runtime.db.transaction() as tx:
        row = Enrollment(
            user_id=user_id,
            course_id=course_id,
            enrolled_at=enrolled_at or datetime.now(UTC),
            progress=progress,
            completed_at=completed_at,
        )
        tx.add(row)
        await tx.flush()
        return row.id


async def published_course(
    client: httpx.AsyncClient,
    teacher: Account,
    *,
    lessons: int = 2,
    title: str = "A course",
    published: bool = True,
    **changes: Any,
) -> tuple[int, list[str]]:
    """A course `teacher` creates, fills with `lessons` text lessons and publishes (unless `published` is
    False), all through the API, with `changes` made in the same update; its id and its lesson ids in
    order."""
    made = await client.post(
        "/api/courses", headers=teacher.headers, json={"title": title, "category": "C", "level": "Beginner"}
    )
    assert made.status_code == 201, made.text
    course_id = int(made.json()["id"])
    lesson_ids = []
    for n in range(lessons):
        lesson = await client.post(
            f"/api/courses/{course_id}/lessons",
            headers=teacher.headers,
            json={"title": f"Lesson {n + 1}", "type": "text", "content": "x"},
        )
        assert lesson.status_code == 201, lesson.text
        lesson_ids.append(str(lesson.json()["id"]))
    update = {"is_published": True, **changes} if published else changes
    if update:
        updated = await client.put(f"/api/courses/{course_id}", headers=teacher.headers, json=update)
        assert updated.status_code == 200, updated.text
    return course_id, lesson_ids


async def post(
    client: httpx.AsyncClient, author: Account, course_id: int, content: str = "Hello", **fields: Any
) -> dict[str, Any]:
    """`author` posts in the course's discussion through the API (201 expected); the post it answers."""
    response = await client.post(
        f"/api/courses/{course_id}/discussions", json={"content": content, **fields}, headers=author.headers
    )
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


async def enroll(client: httpx.AsyncClient, who: Account, course_id: int) -> dict[str, Any]:
    """`who` enrolls through the API (201 expected); the enrollment it answers."""
    response = await client.post(f"/api/courses/{course_id}/enroll", headers=who.headers)
    assert response.status_code == 201, response.text
    enrollment: dict[str, Any] = response.json()
    return enrollment


def error_code(response: httpx.Response, status: int | None = None) -> str:
    """The `error.code` of an error body, checking the status when given and the body's shape always."""
    if status is not None:
        assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}, error
    code: str = error["code"]
    return code


def fields_named(response: httpx.Response) -> set[str]:
    """The fields a 422 names."""
    assert error_code(response, 422) == "validation_error"
    return {item["field"] for item in response.json()["error"]["details"]}
