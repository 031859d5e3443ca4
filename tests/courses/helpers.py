"""Set-up and look-ups shared by the courses-side tests: everything goes through the public API except
what only the stores can show (audit rows, enrollment rows, progress documents)."""

from __future__ import annotations

import itertools
import re
import uuid
from typing import Any

import httpx
from sqlalchemy import select

from app.runtime import Runtime
from app.stores.models import AuditLog, Course, Enrollment, Rating, User
from app.stores.mongo import LESSONS, PROGRESS, progress_id
from tests.builders import enroll as enroll
from tests.builders import error_code as error_code
from tests.builders import fields_named as fields_named
from tests.helpers import Account

_LINK = re.compile(r'^\s*<([^>]*)>\s*;\s*rel="([^"]+)"\s*$')
_numbers = itertools.count(1)


async def quick_account(
    runtime: Runtime,
    role: str = "learner",
    *,
    first_name: str = "Test",
    last_name: str = "User",
    avatar_url: str | None = None,
) -> Account:
    """A user row and a signed access token, without the HTTP sign-up (tests/auth covers that): for
    scenes that need many accounts. The token is as good as one from /api/auth/login."""
    email = f"quick{next(_numbers)}-{uuid.uuid4().hex[:8]}@example.com"
    async with runtime.db.transaction() as tx:
        user = User(email=email, first_name=first_name, last_name=last_name, role=role, avatar_url=avatar_url)
        tx.add(user)
        await tx.flush()
        user_id = user.id
    token = runtime.tokens.issue_access(user_id=user_id, role=role, session_id=uuid.uuid4().hex)
    return Account(user_id, email, token, "")


def course_body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Python from scratch",
        "description": "Variables, loops and functions",
        "category": "Programming",
        "level": "Beginner",
        "duration": "4 weeks",
    }
    body.update(fields)
    return body


async def make_course(
    client: httpx.AsyncClient, owner: Account, *, published: bool = True, **fields: Any
) -> dict[str, Any]:
    created = await client.post("/api/courses", headers=owner.headers, json=course_body(**fields))
    assert created.status_code == 201, created.text
    course: dict[str, Any] = created.json()
    if published:
        course = await set_course(client, owner, course["id"], is_published=True)
    return course


async def set_course(
    client: httpx.AsyncClient, who: Account, course_id: int, **fields: Any
) -> dict[str, Any]:
    response = await client.put(f"/api/courses/{course_id}", headers=who.headers, json=fields)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def add_lesson(
    client: httpx.AsyncClient, owner: Account, course_id: int, title: str = "Lesson", **fields: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"title": title, "type": "text", "content": f"<p>{title}</p>", "duration": 10}
    body.update(fields)
    response = await client.post(f"/api/courses/{course_id}/lessons", headers=owner.headers, json=body)
    assert response.status_code == 201, response.text
    lesson: dict[str, Any] = response.json()
    return lesson


async def mark(
    client: httpx.AsyncClient, who: Account, course_id: int, lesson_id: str, completed: bool = True
) -> dict[str, Any]:
    response = await client.post(
        f"/api/courses/{course_id}/progress",
        headers=who.headers,
        json={"lesson_id": lesson_id, "completed": completed},
    )
    assert response.status_code == 200, response.text
    progress: dict[str, Any] = response.json()
    return progress


async def progress_of(client: httpx.AsyncClient, who: Account, course_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/courses/{course_id}/progress", headers=who.headers)
    assert response.status_code == 200, response.text
    progress: dict[str, Any] = response.json()
    return progress


async def lesson_ids(client: httpx.AsyncClient, who: Account, course_id: int) -> list[str]:
    response = await client.get(f"/api/courses/{course_id}/lessons", headers=who.headers)
    assert response.status_code == 200, response.text
    return [lesson["id"] for lesson in response.json()]


def links(response: httpx.Response) -> dict[str, dict[str, str]]:
    """The RFC 8288 Link header as {rel: query parameters of its target}."""
    result: dict[str, dict[str, str]] = {}
    for part in response.headers["link"].split(","):
        match = _LINK.match(part)
        assert match, f"malformed Link entry: {part!r}"
        result[match[2]] = dict(httpx.URL(match[1]).params)
    return result


# --- what only the stores can show ---------------------------------------------------------------------


async def audit_rows(runtime: Runtime, action: str | None = None) -> list[AuditLog]:
    async with runtime.db.read() as tx:
        query = select(AuditLog).order_by(AuditLog.id)
        if action is not None:
            query = query.where(AuditLog.action == action)
        return list((await tx.execute(query)).scalars())


async def enrollment_row(runtime: Runtime, user_id: int, course_id: int) -> Enrollment | None:
    async with runtime.db.read() as tx:
        query = select(Enrollment).where(Enrollment.user_id == user_id, Enrollment.course_id == course_id)
        return (await tx.execute(query)).scalar_one_or_none()


async def sql_counts(runtime: Runtime, course_id: int) -> dict[str, int]:
    async with runtime.db.read() as tx:
        return {
            "courses": len((await tx.execute(select(Course).where(Course.id == course_id))).all()),
            "enrollments": len(
                (await tx.execute(select(Enrollment).where(Enrollment.course_id == course_id))).all()
            ),
            "ratings": len((await tx.execute(select(Rating).where(Rating.course_id == course_id))).all()),
        }


async def lesson_docs(runtime: Runtime, course_id: int) -> list[dict[str, Any]]:
    return await runtime.documents.find(LESSONS, {"course_id": course_id})


async def progress_doc(runtime: Runtime, user_id: int, course_id: int) -> dict[str, Any] | None:
    return await runtime.documents.get(PROGRESS, progress_id(user_id, course_id))


async def set_seconds(runtime: Runtime, user_id: int, course_id: int, seconds: int) -> None:
    """Time spent, as the telemetry workers would have folded it into the progress document."""
    matched = await runtime.documents.update(
        PROGRESS, progress_id(user_id, course_id), {"$set": {"total_seconds_spent": seconds}}
    )
    assert matched, "no progress document to update"
