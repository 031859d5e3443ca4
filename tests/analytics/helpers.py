"""Set-up for analytics tests: rows written directly through the stores, with chosen timestamps, and one
seeded "world" whose every figure the tests know exactly."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from app.audit import store as audit_store
from app.progress.store import empty_progress
from app.runtime import Runtime
from app.stores.models import AuditLog, Comment, Rating, Telemetry
from app.stores.mongo import PROGRESS
from tests.builders import course_in_store
from tests.builders import enrollment_in_store as enroll
from tests.builders import fields_named as fields_named
from tests.helpers import Account, Api

# Reports answer objects; these keys hold their rows (the activity report's audit entries are `entries`).
REPORT_ROWS = {"courses": "courses", "students": "students", "users": "users", "activity": "entries"}


def listed(path: str, body: Any) -> list[dict[str, Any]]:
    """The rows of a response: the array itself, or a report's rows."""
    name = path.rstrip("/").rsplit("/", 1)[-1]
    rows: list[dict[str, Any]] = body[REPORT_ROWS[name]] if path.startswith("/api/reports/") else body
    return rows


def today() -> date:
    return datetime.now(UTC).date()


def day_at(days_ago: int, hour: int = 12) -> datetime:
    """A moment on the UTC day `days_ago` before today; today's is midnight so it is never in the future."""
    if days_ago == 0:
        return datetime.combine(today(), time(), UTC)
    return datetime.combine(today() - timedelta(days=days_ago), time(hour), UTC)


async def add_course(
    runtime: Runtime,
    instructor_id: int,
    *,
    title: str,
    category: str = "General",
    level: str = "Beginner",
    is_published: bool = True,
    description: str = "",
) -> int:
    return await course_in_store(
        runtime,
        instructor_id,
        title=title,
        description=description,
        category=category,
        level=level,
        published=is_published,
    )


async def rate(runtime: Runtime, user_id: int, course_id: int, stars: int) -> None:
    async with runtime.db.transaction() as tx:
        tx.add(Rating(user_id=user_id, course_id=course_id, stars=stars))


async def comment(runtime: Runtime, user_id: int, course_id: int, content: str = "Hello") -> None:
    async with runtime.db.transaction() as tx:
        tx.add(Comment(user_id=user_id, course_id=course_id, content=content))


async def track(
    runtime: Runtime,
    user_id: int,
    course_id: int,
    lesson_id: str,
    day: date,
    seconds: int,
    heartbeats: int = 1,
) -> None:
    """A daily telemetry rollup, as the workers write it."""
    async with runtime.db.transaction() as tx:
        tx.add(
            Telemetry(
                user_id=user_id,
                course_id=course_id,
                lesson_id=lesson_id,
                day=day,
                seconds=seconds,
                heartbeats=heartbeats,
            )
        )


async def progress_document(
    runtime: Runtime, user_id: int, course_id: int, *, completed_lessons: list[str], last_accessed: str | None
) -> None:
    document = empty_progress(user_id, course_id)
    document.update(completed_lessons=completed_lessons, last_accessed=last_accessed)
    await runtime.documents.replace(PROGRESS, document)


async def audit(
    runtime: Runtime,
    action: str,
    *,
    actor_id: int | None,
    resource_type: str | None = None,
    resource_id: int | str | None = None,
    details: dict[str, Any] | None = None,
    ip_address: str | None = "203.0.113.7",
    user_agent: str | None = "pytest-agent",
    created_at: datetime | None = None,
) -> int:
    """An audit entry through the audit store, then dated as chosen."""
    async with runtime.db.transaction() as tx:
        await audit_store.add(
            tx,
            action=action,
            user_id=actor_id,
            resource_type=resource_type,
            resource_id=None if resource_id is None else str(resource_id),
            details=details or {},
            ip_address=ip_address,
            user_agent=user_agent,
        )
        # The store does not hand the row back; within this transaction it is the newest one.
        entry = (await tx.execute(select(AuditLog).order_by(AuditLog.id.desc()).limit(1))).scalar_one()
        if created_at is not None:
            entry.created_at = created_at
        return entry.id


def parse_csv(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and ".csv" in disposition
    return list(csv.DictReader(io.StringIO(response.text, newline="")))


def csv_header(response: httpx.Response) -> list[str]:
    return next(csv.reader(io.StringIO(response.text, newline="")))


@dataclass
class World:
    """Two instructors, five learners (one blocked, one deactivated), three courses and their activity.

    C1 "Python 101" (i1, Data, Beginner, published)  E1 l1 100% completed 2 days ago (enrolled 10 days ago)
                                                     E2 l2 50% (enrolled today)
                                                     E3 l3 0% (enrolled 3 days ago)
    C2 "Draft SQL" (i1, Data, Advanced, draft)       no enrollments
    C3 "Design Basics" (i2, Design, Intermediate)    E4 l1 100% completed 40 days ago (enrolled 60 days ago)
                                                     E5 l3 20% (enrolled yesterday)
    Telemetry (seconds): l1/C1 600 yesterday + 300 today; l2/C1 120 today; l3/C1 30 eight days ago;
                         l1/C3 1000 forty days ago; l3/C3 60 today.
    Ratings: l1→C1 5, l2→C1 4, l1→C3 2. Comments: two on C1, one on C3. l2's account is 100 days old.
    """

    admin: Account
    i1: Account
    i2: Account
    l1: Account
    l2: Account
    l3: Account
    blocked: Account
    deactivated: Account
    c1: int
    c2: int
    c3: int
    e1: int
    e2: int
    e3: int
    e4: int
    e5: int


async def build_world(api: Api) -> World:
    runtime = api.runtime
    admin = await api.account("admin")
    i1 = await api.account("instructor")
    i2 = await api.account("instructor")
    l1 = await api.account()
    l2 = await api.account()
    l3 = await api.account()
    blocked = await api.account(blocked=True)
    deactivated = await api.account(active=False)
    await api.set_user(l1.id, first_name="Ada", last_name="Lovelace")
    await api.set_user(l2.id, first_name="Bob", last_name="Stone", created_at=day_at(100))
    await api.set_user(l3.id, first_name="Cy", last_name="Young")

    c1 = await add_course(runtime, i1.id, title="Python 101", category="Data", description="Learn Python")
    c2 = await add_course(
        runtime, i1.id, title="Draft SQL", category="Data", level="Advanced", is_published=False
    )
    c3 = await add_course(runtime, i2.id, title="Design Basics", category="Design", level="Intermediate")

    e1 = await enroll(runtime, l1.id, c1, enrolled_at=day_at(10), progress=100, completed_at=day_at(2))
    e2 = await enroll(runtime, l2.id, c1, enrolled_at=day_at(0), progress=50)
    e3 = await enroll(runtime, l3.id, c1, enrolled_at=day_at(3), progress=0)
    e4 = await enroll(runtime, l1.id, c3, enrolled_at=day_at(60), progress=100, completed_at=day_at(40))
    e5 = await enroll(runtime, l3.id, c3, enrolled_at=day_at(1), progress=20)

    now = today()
    await track(runtime, l1.id, c1, "a", now - timedelta(days=1), 600)
    await track(runtime, l1.id, c1, "b", now, 300)
    await track(runtime, l2.id, c1, "a", now, 120)
    await track(runtime, l3.id, c1, "a", now - timedelta(days=8), 30)
    await track(runtime, l1.id, c3, "x", now - timedelta(days=40), 1000)
    await track(runtime, l3.id, c3, "x", now, 60)

    await rate(runtime, l1.id, c1, 5)
    await rate(runtime, l2.id, c1, 4)
    await rate(runtime, l1.id, c3, 2)
    await comment(runtime, l1.id, c1)
    await comment(runtime, l2.id, c1)
    await comment(runtime, l3.id, c3)

    await progress_document(
        runtime, l1.id, c1, completed_lessons=["a", "b"], last_accessed="2024-05-06T07:08:09.123456Z"
    )
    await progress_document(runtime, l2.id, c1, completed_lessons=["a"], last_accessed=None)
    return World(admin, i1, i2, l1, l2, l3, blocked, deactivated, c1, c2, c3, e1, e2, e3, e4, e5)
