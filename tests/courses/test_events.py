"""Domain events of the courses side: published once the change is committed (a publisher that looks at
the database from its own session sees it), with the right payload, and never for a failed request."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.audit.service import record as real_record
from app.events import DomainEvent
from app.runtime import Runtime
from app.stores.models import Course, Enrollment
from tests.courses.helpers import (
    add_lesson,
    enroll,
    enrollment_row,
    error_code,
    make_course,
    mark,
    quick_account,
    set_course,
)
from tests.helpers import Api


class CommitCheckingPublisher:
    """Records each event together with whether its change was already visible to another session."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.events: list[DomainEvent] = []
        self.committed: list[bool] = []

    def names(self) -> list[str]:
        return [event.name for event in self.events]

    def clear(self) -> None:
        self.events.clear()
        self.committed.clear()

    async def publish(self, event: DomainEvent) -> None:
        self.events.append(event)
        self.committed.append(await self._visible(event))

    async def _visible(self, event: DomainEvent) -> bool:
        data = event.data
        async with self.runtime.db.read() as tx:
            course = await tx.get(Course, event.course_id) if event.course_id is not None else None
            enrollment: Enrollment | None = None
            if "user_id" in data and "course_id" in data:
                query = select(Enrollment).where(
                    Enrollment.user_id == data["user_id"], Enrollment.course_id == data["course_id"]
                )
                enrollment = (await tx.execute(query)).scalar_one_or_none()
        checks: dict[str, Any] = {
            "course.published": lambda: course is not None and course.is_published,
            "course.deleted": lambda: course is None,
            "enrollment.created": lambda: enrollment is not None,
            "enrollment.deleted": lambda: enrollment is None,
            "progress.updated": lambda: enrollment is not None and enrollment.progress == data["progress"],
            "course.completed": lambda: enrollment is not None and enrollment.completed_at is not None,
            "course.reopened": lambda: enrollment is not None and enrollment.completed_at is None,
        }
        return bool(checks[event.name]())


@pytest.fixture
def publisher(runtime: Runtime) -> CommitCheckingPublisher:
    recorder = CommitCheckingPublisher(runtime)
    runtime.events = recorder
    return recorder


async def test_events_follow_commits(
    client: httpx.AsyncClient, api: Api, publisher: CommitCheckingPublisher
) -> None:
    teacher = await quick_account(api.runtime, "instructor")
    learner = await quick_account(api.runtime, "learner")
    course = await make_course(client, teacher, published=False)
    c = course["id"]
    lessons = [(await add_lesson(client, teacher, c, f"L{n}"))["id"] for n in range(2)]
    assert publisher.names() == []  # drafts and lessons with nobody enrolled tell nobody anything

    await set_course(client, teacher, c, is_published=True)
    await set_course(client, teacher, c, is_published=True, title="Again")  # already published: no event
    await enroll(client, learner, c)
    await mark(client, learner, c, lessons[0])
    await mark(client, learner, c, lessons[1])
    await add_lesson(client, teacher, c, "L2")
    assert publisher.names() == [
        "course.published",
        "enrollment.created",
        "progress.updated",
        "progress.updated",
        "course.completed",
        "course.reopened",
    ]
    assert all(publisher.committed), list(zip(publisher.names(), publisher.committed, strict=True))

    published, enrolled, first, second, completed, reopened = publisher.events
    assert published.course_id == c and published.data == {"course_id": c, "title": "Python from scratch"}
    assert enrolled.data == {"user_id": learner.id, "course_id": c} and enrolled.user_ids == (learner.id,)
    assert first.data == {"user_id": learner.id, "course_id": c, "progress": 50.0}
    assert second.data["progress"] == 100.0 and second.user_ids == (learner.id,)
    assert completed.course_id == c and completed.user_ids == (learner.id,)
    assert completed.data["user_id"] == learner.id and completed.data["completed_at"].endswith("Z")
    assert reopened.data == {"user_id": learner.id, "course_id": c, "progress": 66.67}
    assert all(not event.private for event in publisher.events)

    publisher.clear()
    await client.delete(f"/api/courses/{c}/unenroll", headers=learner.headers)
    await client.delete(f"/api/courses/{c}", headers=teacher.headers)
    assert publisher.names() == ["enrollment.deleted", "course.deleted"]
    assert all(publisher.committed)


async def test_deleting_a_lesson_that_completes_the_course_tells_the_learner(
    client: httpx.AsyncClient, api: Api, publisher: CommitCheckingPublisher
) -> None:
    teacher = await quick_account(api.runtime, "instructor")
    learner = await quick_account(api.runtime, "learner")
    course = await make_course(client, teacher)
    done, left = [(await add_lesson(client, teacher, course["id"], t))["id"] for t in ("Done", "Left")]
    await enroll(client, learner, course["id"])
    await mark(client, learner, course["id"], done)
    publisher.clear()
    await client.delete(f"/api/courses/{course['id']}/lessons/{left}", headers=teacher.headers)
    assert publisher.names() == ["course.completed"]
    assert publisher.committed == [True] and publisher.events[0].user_ids == (learner.id,)


async def test_failed_requests_publish_nothing(
    client: httpx.AsyncClient, api: Api, publisher: CommitCheckingPublisher
) -> None:
    teacher = await quick_account(api.runtime, "instructor")
    intruder = await quick_account(api.runtime, "instructor")
    learner = await quick_account(api.runtime, "learner")
    blocked = await quick_account(api.runtime, "learner")
    await api.set_user(blocked.id, is_blocked=True)
    draft = await make_course(client, teacher, published=False)
    course = await make_course(client, teacher)
    lesson = await add_lesson(client, teacher, course["id"], "Only")
    await enroll(client, learner, course["id"])
    publisher.clear()
    c, d, lid = course["id"], draft["id"], lesson["id"]
    # (who, method, path, body, status)
    failures = [
        (intruder, "PUT", f"/api/courses/{d}", {"is_published": True}, 404),
        (teacher, "PUT", f"/api/courses/{d}", {"is_published": 7}, 422),
        (learner, "POST", f"/api/courses/{c}/enroll", None, 409),
        (blocked, "POST", f"/api/courses/{c}/enroll", None, 403),
        (learner, "POST", f"/api/courses/{d}/enroll", None, 404),
        (learner, "POST", f"/api/courses/{c}/progress", {"lesson_id": "x"}, 404),
        (blocked, "POST", f"/api/courses/{c}/progress", {"lesson_id": lid}, 403),
        (intruder, "POST", f"/api/courses/{c}/lessons", {"title": "x", "type": "text"}, 403),
        (intruder, "DELETE", f"/api/courses/{c}/lessons/{lid}", None, 403),
        (intruder, "DELETE", f"/api/courses/{c}", None, 403),
        (intruder, "DELETE", f"/api/courses/{c}/unenroll", None, 404),
    ]
    for who, method, path, body, status in failures:
        response = await client.request(method, path, headers=who.headers, json=body)
        assert response.status_code == status, (method, path, response.text)
    assert publisher.names() == []


async def test_a_rolled_back_completion_publishes_nothing(
    client: httpx.AsyncClient, api: Api, publisher: CommitCheckingPublisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The transaction fails after the completion was decided: no event, no completion in SQL."""
    import app.progress.completion as completion

    teacher = await quick_account(api.runtime, "instructor")
    learner = await quick_account(api.runtime, "learner")
    course = await make_course(client, teacher)
    lesson = await add_lesson(client, teacher, course["id"], "Only")
    await enroll(client, learner, course["id"])
    publisher.clear()

    async def failing_record(tx: Any, meta: Any, action: str, **kwargs: Any) -> None:
        await real_record(tx, meta, action, **kwargs)
        if action == "course_completed":
            raise RuntimeError("the database went away mid-transaction")

    monkeypatch.setattr(completion, "record", failing_record)
    response = await client.post(
        f"/api/courses/{course['id']}/progress", headers=learner.headers, json={"lesson_id": lesson["id"]}
    )
    assert error_code(response, 500) == "internal_error"
    assert "Traceback" not in response.text and "went away" not in response.text
    assert publisher.names() == []
    row = await enrollment_row(api.runtime, learner.id, course["id"])
    assert row is not None and row.completed_at is None and row.progress == 0.0

    # Once the failure is gone, marking the lesson again completes the course as it should have.
    monkeypatch.setattr(completion, "record", real_record)
    done = await mark(client, learner, course["id"], lesson["id"])
    assert done["completed_at"] is not None
    assert publisher.names() == ["progress.updated", "course.completed"]
    assert all(publisher.committed)


async def test_a_rolled_back_publication_publishes_nothing(
    client: httpx.AsyncClient, api: Api, publisher: CommitCheckingPublisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.courses.service as courses

    teacher = await quick_account(api.runtime, "instructor")
    course = await make_course(client, teacher, published=False)

    async def failing_record(tx: Any, meta: Any, action: str, **kwargs: Any) -> None:
        await real_record(tx, meta, action, **kwargs)
        if action == "course_published":
            raise RuntimeError("boom")

    monkeypatch.setattr(courses, "record", failing_record)
    response = await client.put(
        f"/api/courses/{course['id']}", headers=teacher.headers, json={"is_published": True}
    )
    assert error_code(response, 500) == "internal_error"
    assert publisher.names() == []
    detail = (await client.get(f"/api/courses/{course['id']}", headers=teacher.headers)).json()
    assert detail["is_published"] is False
