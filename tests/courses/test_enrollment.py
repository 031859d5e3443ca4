"""Enrolling and leaving (docs/PRODUCT.md, "REST surface by area")."""

from __future__ import annotations

import asyncio

import httpx

from app.progress.store import empty_progress
from app.stores.mongo import PROGRESS
from tests.courses.helpers import (
    add_lesson,
    audit_rows,
    enroll,
    enrollment_row,
    error_code,
    make_course,
    mark,
    progress_doc,
    progress_of,
    quick_account,
    set_course,
    set_seconds,
)
from tests.helpers import Api


async def test_enroll_and_audit(client: httpx.AsyncClient, api: Api) -> None:
    teacher = await quick_account(api.runtime, "instructor")
    learner = await quick_account(api.runtime, "learner")
    course = await make_course(client, teacher)
    response = await client.post(f"/api/courses/{course['id']}/enroll", headers=learner.headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "user_id", "course_id", "enrolled_at", "progress", "completed_at", "message"}
    assert body["message"] == "Enrolled successfully"
    assert (body["user_id"], body["course_id"], body["progress"], body["completed_at"]) == (
        learner.id,
        course["id"],
        0.0,
        None,
    )
    assert body["enrolled_at"].endswith("Z")
    doc = await progress_doc(api.runtime, learner.id, course["id"])
    assert doc is not None and doc["completed_lessons"] == [] and doc["total_seconds_spent"] == 0
    (row,) = await audit_rows(api.runtime, "enrolled")
    assert (row.user_id, row.resource_type, row.resource_id) == (learner.id, "course", str(course["id"]))
    detail = (await client.get(f"/api/courses/{course['id']}", headers=learner.headers)).json()
    assert detail["is_enrolled"] and detail["enrollment_count"] == 1


async def test_who_cannot_enroll(client: httpx.AsyncClient, api: Api) -> None:
    teacher = await quick_account(api.runtime, "instructor")
    admin = await quick_account(api.runtime, "admin")
    learner = await quick_account(api.runtime, "learner")
    course = await make_course(client, teacher)
    draft = await make_course(client, teacher, title="Draft", published=False)

    async def attempt(who_headers: dict[str, str], course_id: int, status: int) -> str:
        return error_code(await client.post(f"/api/courses/{course_id}/enroll", headers=who_headers), status)

    # A draft does not exist for a learner; those who can see it are told it is a draft.
    assert await attempt(learner.headers, draft["id"], 404) == "course_not_found"
    assert await attempt(admin.headers, draft["id"], 400) == "course_not_published"
    assert await attempt(teacher.headers, draft["id"], 400) == "course_not_published"
    assert await attempt(teacher.headers, course["id"], 400) == "own_course"
    await enroll(client, learner, course["id"])
    assert await attempt(learner.headers, course["id"], 409) == "already_enrolled"
    blocked = await quick_account(api.runtime, "learner")
    await api.set_user(blocked.id, is_blocked=True)
    assert await attempt(blocked.headers, course["id"], 403) == "user_blocked"
    assert await enrollment_row(api.runtime, blocked.id, course["id"]) is None
    assert len(await audit_rows(api.runtime, "enrolled")) == 1
    # Admins and other instructors may learn.
    other_teacher = await quick_account(api.runtime, "instructor")
    await enroll(client, admin, course["id"])
    await enroll(client, other_teacher, course["id"])


async def test_concurrent_enrollments_give_one_enrollment_and_a_conflict(
    client: httpx.AsyncClient, api: Api
) -> None:
    teacher = await quick_account(api.runtime, "instructor")
    learner = await quick_account(api.runtime, "learner")
    course = await make_course(client, teacher)
    responses = await asyncio.gather(
        *[client.post(f"/api/courses/{course['id']}/enroll", headers=learner.headers) for _ in range(20)]
    )
    assert sorted(response.status_code for response in responses) == [201] + [409] * 19
    assert len(await audit_rows(api.runtime, "enrolled")) == 1


async def test_unenroll_removes_progress_and_reenrolling_starts_from_zero(
    client: httpx.AsyncClient, api: Api
) -> None:
    teacher = await quick_account(api.runtime, "instructor")
    learner = await quick_account(api.runtime, "learner")
    course = await make_course(client, teacher)
    c = course["id"]
    only = await add_lesson(client, teacher, c, "Only")
    await enroll(client, learner, c)
    await mark(client, learner, c, only["id"])
    await set_seconds(api.runtime, learner.id, c, 600)
    assert (await progress_of(client, learner, c))["completed_at"] is not None

    left = await client.delete(f"/api/courses/{c}/unenroll", headers=learner.headers)
    assert left.status_code == 200, left.text
    assert left.json() == {"message": "Unenrolled successfully"}
    assert await progress_doc(api.runtime, learner.id, c) is None
    assert await enrollment_row(api.runtime, learner.id, c) is None
    (row,) = await audit_rows(api.runtime, "unenrolled")
    assert (row.user_id, row.resource_type, row.resource_id) == (learner.id, "course", str(c))
    # Not enrolled any more: the progress reads as empty (the record is gone).
    after = (await client.get(f"/api/courses/{c}/progress", headers=learner.headers)).json()
    assert (after["completed_lessons"], after["total_seconds_spent"], after["lesson_times"]) == ([], 0, {})
    again = await client.delete(f"/api/courses/{c}/unenroll", headers=learner.headers)
    assert error_code(again, 404) == "not_enrolled"

    back = await enroll(client, learner, c)
    assert back["progress"] == 0.0 and back["completed_at"] is None
    progress = await progress_of(client, learner, c)
    assert progress["completed_lessons"] == [] and progress["total_seconds_spent"] == 0
    assert progress["progress_percentage"] == 0.0 and progress["completed_at"] is None


async def test_enrolling_ignores_a_stale_progress_document(client: httpx.AsyncClient, api: Api) -> None:
    """A late write (a telemetry batch folded after the learner left) must not leak into a new enrollment."""
    teacher = await quick_account(api.runtime, "instructor")
    learner = await quick_account(api.runtime, "learner")
    course = await make_course(client, teacher)
    lesson = await add_lesson(client, teacher, course["id"], "Only")
    stale = {
        **empty_progress(learner.id, course["id"]),
        "completed_lessons": [lesson["id"]],
        "total_seconds_spent": 999,
        "lesson_times": {lesson["id"]: 999},
    }
    await api.runtime.documents.replace(PROGRESS, stale)
    await enroll(client, learner, course["id"])
    progress = await progress_of(client, learner, course["id"])
    assert progress["completed_lessons"] == [] and progress["total_seconds_spent"] == 0
    assert progress["lesson_times"] == {}


async def test_leaving_a_course_that_was_unpublished(client: httpx.AsyncClient, api: Api) -> None:
    teacher = await quick_account(api.runtime, "instructor")
    learner = await quick_account(api.runtime, "learner")
    stranger = await quick_account(api.runtime, "learner")
    course = await make_course(client, teacher)
    await enroll(client, learner, course["id"])
    await set_course(client, teacher, course["id"], is_published=False)
    # The hidden course stays hidden from someone who was never in it...
    stranger_leaves = await client.delete(f"/api/courses/{course['id']}/unenroll", headers=stranger.headers)
    assert error_code(stranger_leaves, 404) == "course_not_found"
    # ...but an enrolled learner can still leave it.
    left = await client.delete(f"/api/courses/{course['id']}/unenroll", headers=learner.headers)
    assert left.status_code == 200, left.text
    assert await enrollment_row(api.runtime, learner.id, course["id"]) is None


async def test_blocked_learners_keep_learning_but_cannot_rate(client: httpx.AsyncClient, api: Api) -> None:
    teacher = await quick_account(api.runtime, "instructor")
    learner = await quick_account(api.runtime, "learner")
    course = await make_course(client, teacher)
    lesson = await add_lesson(client, teacher, course["id"], "Only")
    await enroll(client, learner, course["id"])
    await api.set_user(learner.id, is_blocked=True)
    assert (await mark(client, learner, course["id"], lesson["id"]))["completed_at"] is not None
    rate = await client.put(f"/api/courses/{course['id']}/rating", headers=learner.headers, json={"stars": 1})
    assert error_code(rate, 403) == "user_blocked"
    assert (await client.get(f"/api/courses/{course['id']}")).json()["average_rating"] is None
