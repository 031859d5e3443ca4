from __future__ import annotations

import httpx

from app.runtime import Runtime
from app.stores.mongo import LESSONS, PROGRESS
from tests.helpers import Api, RecordingPublisher


async def test_course_lifecycle_with_completion_and_reopen(
    client: httpx.AsyncClient, api: Api, runtime: Runtime
) -> None:
    runtime.events = RecordingPublisher()
    teacher = await api.account("instructor")
    learner = await api.account("learner")
    created = await client.post(
        "/api/courses",
        headers=teacher.headers,
        json={
            "title": "Python",
            "description": "Learn",
            "category": "Programming",
            "level": "Beginner",
            "duration": "4 weeks",
        },
    )
    assert created.status_code == 201, created.text
    course = created.json()
    assert course["is_published"] is False and course["lessons"] == [] and course["average_rating"] is None
    # Drafts are invisible to learners.
    assert (await client.get(f"/api/courses/{course['id']}", headers=learner.headers)).status_code == 404
    assert (await client.get("/api/courses", headers=learner.headers)).json() == []
    lesson_ids = []
    for n in range(2):
        made = await client.post(
            f"/api/courses/{course['id']}/lessons",
            headers=teacher.headers,
            json={
                "title": f"L{n}",
                "type": "text",
                "content": "<p onclick='x()'>Hi<script>alert(1)</script></p>",
            },
        )
        assert made.status_code == 201, made.text
        assert made.json()["content"] == "<p>Hi</p>"
        lesson_ids.append(made.json()["id"])
    published = await client.put(
        f"/api/courses/{course['id']}", headers=teacher.headers, json={"is_published": True}
    )
    assert published.status_code == 200, published.text
    enrolled = await client.post(f"/api/courses/{course['id']}/enroll", headers=learner.headers)
    assert enrolled.status_code == 201, enrolled.text
    assert (
        await client.post(f"/api/courses/{course['id']}/enroll", headers=learner.headers)
    ).status_code == 409
    for lesson_id in lesson_ids:
        done = await client.post(
            f"/api/courses/{course['id']}/progress",
            headers=learner.headers,
            json={"lesson_id": lesson_id, "completed": True},
        )
        assert done.status_code == 200, done.text
    progress = done.json()
    assert progress["progress_percentage"] == 100.0
    assert progress["completed_at"] is not None
    more = await client.post(
        f"/api/courses/{course['id']}/lessons",
        headers=teacher.headers,
        json={"title": "L3", "type": "video", "content": "https://example.com/v.mp4"},
    )
    assert more.status_code == 201
    after = (await client.get(f"/api/courses/{course['id']}/progress", headers=learner.headers)).json()
    assert after["completed_at"] is None and after["progress_percentage"] == 66.67
    board = await client.get(f"/api/courses/{course['id']}/leaderboard", headers=learner.headers)
    assert board.status_code == 200, board.text
    assert board.json()[0]["user_id"] == learner.id and board.json()[0]["rank"] == 1
    rated = await client.put(
        f"/api/courses/{course['id']}/rating", headers=learner.headers, json={"stars": 4}
    )
    assert rated.status_code == 200, rated.text
    detail = (await client.get(f"/api/courses/{course['id']}")).json()
    assert detail["rating"] == 4.0 and detail["lessonsCount"] == 3
    admin = await api.account("admin")
    stats = await client.get(f"/api/admin/students/{learner.id}/stats", headers=admin.headers)
    assert stats.status_code == 200, stats.text
    assert stats.json()["courses"][0]["completed_lessons"] == 2
    assert "course.completed" in runtime.events.names()  # type: ignore[attr-defined]
    assert "course.reopened" in runtime.events.names()  # type: ignore[attr-defined]
    assert await runtime.documents.count(LESSONS, {"course_id": course["id"]}) == 3
    assert await runtime.documents.count(PROGRESS, {"course_id": course["id"]}) == 1
    gone = await client.delete(f"/api/courses/{course['id']}", headers=teacher.headers)
    assert gone.status_code == 200
    assert await runtime.documents.count(LESSONS, {"course_id": course["id"]}) == 0
    assert await runtime.documents.count(PROGRESS, {"course_id": course["id"]}) == 0
    assert (await client.get(f"/api/courses/{course['id']}", headers=admin.headers)).status_code == 404
