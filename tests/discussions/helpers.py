"""Set-up for discussion tests: a course with its owner and enrolled learners, made directly in the stores
(the courses endpoints belong to another domain), and small wrappers around the discussion endpoints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from app.runtime import Runtime
from app.stores.models import AuditLog, Comment
from tests.builders import course_in_store, enrollment_in_store
from tests.builders import error_code as error_code
from tests.builders import fields_named as fields_named
from tests.builders import post as post
from tests.helpers import Account, Api


async def make_course(runtime: Runtime, owner: Account, *, published: bool = True) -> int:
    return await course_in_store(runtime, owner.id, published=published)


async def enroll(runtime: Runtime, account: Account, course_id: int) -> None:
    await enrollment_in_store(runtime, account.id, course_id)


async def make_lesson(runtime: Runtime, course_id: int, lesson_id: str) -> str:
    await runtime.documents.insert(
        "lessons",
        {"_id": lesson_id, "course_id": course_id, "title": "A lesson", "type": "text", "order": 1},
    )
    return lesson_id


async def age_post(runtime: Runtime, comment_id: int, seconds: int) -> None:
    """Pretend a post was written `seconds` ago."""
    async with runtime.db.transaction() as tx:
        await tx.execute(
            update(Comment)
            .where(Comment.id == comment_id)
            .values(created_at=Comment.created_at - timedelta(seconds=seconds))
        )


async def audit_rows(runtime: Runtime, action: str) -> list[AuditLog]:
    async with runtime.db.read() as tx:
        query = select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
        return list((await tx.execute(query)).scalars())


async def comment_row(runtime: Runtime, comment_id: int) -> Comment | None:
    async with runtime.db.read() as tx:
        return await tx.get(Comment, comment_id)


@dataclass
class Course:
    """A published course with its owner and one enrolled learner."""

    id: int
    owner: Account
    learner: Account


async def course_with_learner(api: Api) -> Course:
    owner = await api.account("instructor")
    learner = await api.account("learner")
    course_id = await make_course(api.runtime, owner)
    await enroll(api.runtime, learner, course_id)
    return Course(course_id, owner, learner)


async def enrolled_learner(api: Api, course_id: int, *, blocked: bool = False) -> Account:
    learner = await api.account("learner", blocked=blocked)
    await enroll(api.runtime, learner, course_id)
    return learner


async def listing(
    client: httpx.AsyncClient, account: Account, course_id: int, *, flat: bool = False, **params: Any
) -> list[dict[str, Any]]:
    """The course's threads (first posts), a thread's replies with `parent_id`, or with `flat` every post
    the API's plain GET lists (replies included)."""
    if not flat and "parent_id" not in params:
        params["threads"] = "true"
    response = await client.get(
        f"/api/courses/{course_id}/discussions", params=params, headers=account.headers
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()
    return items


async def vote(
    client: httpx.AsyncClient, account: Account, comment_id: int, vote_type: int
) -> httpx.Response:
    return await client.post(
        f"/api/discussions/{comment_id}/vote", json={"vote_type": vote_type}, headers=account.headers
    )
