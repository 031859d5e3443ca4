"""`GET /api/admin/students/{id}/stats` (README, "Learning domain"): per-course progress, time spent and a
per-lesson breakdown; admins see every course of the student, instructors only the ones they teach."""

from __future__ import annotations

from typing import Any

import httpx

from app.stores.mongo import PROGRESS, progress_id
from tests.courses.helpers import add_lesson, enroll, error_code, make_course, mark, quick_account, set_course
from tests.helpers import Account, Api


async def stats(client: httpx.AsyncClient, who: Account, student_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/admin/students/{student_id}/stats", headers=who.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_student_stats(client: httpx.AsyncClient, api: Api) -> None:
    mine = await quick_account(api.runtime, "instructor")
    theirs = await quick_account(api.runtime, "instructor")
    admin = await quick_account(api.runtime, "admin")
    student = await quick_account(
        api.runtime, "learner", first_name="Sam", last_name="Student", avatar_url="https://i.example/s.png"
    )
    python = await make_course(client, mine, title="Python")
    intro, loops, funcs = [
        (await add_lesson(client, mine, python["id"], t))["id"] for t in ("Intro", "Loops", "Funcs")
    ]
    # Reordered, so the breakdown must follow the course order, not creation order.
    await client.put(
        f"/api/courses/{python['id']}/lessons/order",
        headers=mine.headers,
        json={"lesson_ids": [loops, intro, funcs]},
    )
    art = await make_course(client, theirs, title="Art")
    sketch = (await add_lesson(client, theirs, art["id"], "Sketch"))["id"]
    for course in (python, art):
        await enroll(client, student, course["id"])
    await mark(client, student, python["id"], intro)
    await mark(client, student, art["id"], sketch)
    await api.runtime.documents.update(
        PROGRESS,
        progress_id(student.id, python["id"]),
        {"$set": {"lesson_times": {intro: 120, loops: 30}, "total_seconds_spent": 150}},
    )
    await set_course(client, theirs, art["id"], is_published=False)  # a draft now, still counted for admins

    everything = await stats(client, admin, student.id)
    assert everything["student"] == {
        "id": student.id,
        "name": "Sam Student",
        "email": student.email,
        "avatar": "https://i.example/s.png",
        "role": "learner",
    }
    by_title = {course["title"]: course for course in everything["courses"]}
    assert set(by_title) == {"Python", "Art"}
    assert (everything["total_enrolled"], everything["courses_completed"]) == (2, 1)
    assert (everything["lessons_completed"], everything["total_seconds_spent"]) == (2, 150)
    py = by_title["Python"]
    assert py["course_id"] == python["id"]
    assert (py["progress_percentage"], py["completed_lessons"], py["total_lessons"]) == (33.33, 1, 3)
    assert py["total_seconds_spent"] == 150 and py["completed_at"] is None
    assert py["enrolled_at"].endswith("Z") and py["last_accessed"].endswith("Z")
    assert py["lessons"] == [
        {"lesson_id": loops, "title": "Loops", "completed": False, "seconds_spent": 30},
        {"lesson_id": intro, "title": "Intro", "completed": True, "seconds_spent": 120},
        {"lesson_id": funcs, "title": "Funcs", "completed": False, "seconds_spent": 0},
    ]
    assert by_title["Art"]["completed_at"].endswith("Z") and by_title["Art"]["progress_percentage"] == 100.0

    # Each instructor sees only their own course of this student.
    assert [course["title"] for course in (await stats(client, mine, student.id))["courses"]] == ["Python"]
    only_theirs = await stats(client, theirs, student.id)
    assert [course["title"] for course in only_theirs["courses"]] == ["Art"]
    assert (
        only_theirs["total_enrolled"],
        only_theirs["lessons_completed"],
        only_theirs["total_seconds_spent"],
    ) == (
        1,
        1,
        0,
    )


async def test_who_is_not_found(client: httpx.AsyncClient, api: Api) -> None:
    teacher = await quick_account(api.runtime, "instructor")
    admin = await quick_account(api.runtime, "admin")
    student = await quick_account(api.runtime, "learner")
    elsewhere = await make_course(client, await quick_account(api.runtime, "instructor"))
    await enroll(client, student, elsewhere["id"])
    # A student of someone else's course, and a learner with no courses at all, are not this instructor's.
    for student_id in (student.id, (await quick_account(api.runtime, "learner")).id, 987654):
        response = await client.get(f"/api/admin/students/{student_id}/stats", headers=teacher.headers)
        assert error_code(response, 404) == "student_not_found"
    # An instructor's course without lessons still lists its students.
    own = await make_course(client, teacher)
    await enroll(client, student, own["id"])
    (course,) = (await stats(client, teacher, student.id))["courses"]
    assert (course["total_lessons"], course["progress_percentage"], course["lessons"]) == (0, 0.0, [])
    # Admins see any existing user, even one without enrollments.
    loner = await quick_account(api.runtime, "learner")
    empty = await stats(client, admin, loner.id)
    assert empty["courses"] == [] and empty["total_enrolled"] == 0
    missing = await client.get("/api/admin/students/987654/stats", headers=admin.headers)
    assert error_code(missing, 404) == "student_not_found"
    learner_asks = await client.get(f"/api/admin/students/{student.id}/stats", headers=student.headers)
    assert error_code(learner_asks, 403) == "insufficient_role"
