"""GET /api/audit-logs: newest first, every filter, literal search, paging, and the instructor rule (entries
about their own courses only: resource "course" with their id, or details.course_id naming one)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import delete

from app.stores.models import AuditLog
from tests.analytics.helpers import World, audit, build_world, day_at
from tests.helpers import Account, Api


@dataclass
class Entries:
    w: World
    role_changed: int
    c1_created: int
    c3_created: int
    enrolled_c1: int
    lesson_c1: int
    lesson_c3: int
    login: int
    course_id_as_text: int
    percent: int
    system: int

    def newest_first(self) -> list[int]:
        return [
            self.system,
            self.percent,
            self.course_id_as_text,
            self.login,
            self.lesson_c3,
            self.lesson_c1,
            self.enrolled_c1,
            self.c3_created,
            self.c1_created,
            self.role_changed,
        ]


async def seed(api: Api) -> Entries:
    w = await build_world(api)
    async with api.runtime.db.transaction() as tx:  # forget the sign-ups and sign-ins of the set-up
        await tx.execute(delete(AuditLog))
    rt = api.runtime
    return Entries(
        w=w,
        role_changed=await audit(
            rt,
            "role_changed",
            actor_id=w.admin.id,
            resource_type="user",
            resource_id=w.i1.id,
            details={"from": "learner", "to": "instructor"},
            ip_address="10.0.0.1",
            user_agent="AdminBrowser/1.0",
            created_at=day_at(9),
        ),
        c1_created=await audit(
            rt,
            "course_created",
            actor_id=w.i1.id,
            resource_type="course",
            resource_id=w.c1,
            details={"title": "Python 101"},
            created_at=day_at(8),
        ),
        c3_created=await audit(
            rt,
            "course_created",
            actor_id=w.i2.id,
            resource_type="course",
            resource_id=w.c3,
            details={"title": "Design Basics"},
            created_at=day_at(7),
        ),
        enrolled_c1=await audit(
            rt,
            "enrolled",
            actor_id=w.l1.id,
            resource_type="course",
            resource_id=w.c1,
            ip_address="198.51.100.9",
            user_agent="LearnerPhone",
            created_at=day_at(6),
        ),
        lesson_c1=await audit(
            rt,
            "lesson_created",
            actor_id=w.i1.id,
            resource_type="lesson",
            resource_id="abc123",
            details={"course_id": w.c1, "title": "Intro"},
            created_at=day_at(5),
        ),
        lesson_c3=await audit(
            rt,
            "lesson_deleted",
            actor_id=w.i2.id,
            resource_type="lesson",
            resource_id="def456",
            details={"course_id": w.c3},
            created_at=day_at(4),
        ),
        login=await audit(
            rt, "login", actor_id=w.l1.id, resource_type="user", resource_id=w.l1.id, created_at=day_at(3)
        ),
        course_id_as_text=await audit(
            rt,
            "comment_deleted",
            actor_id=w.admin.id,
            resource_type="comment",
            resource_id=77,
            details={"course_id": str(w.c1)},
            created_at=day_at(2),
        ),
        percent=await audit(
            rt,
            "media_uploaded",
            actor_id=w.i2.id,
            resource_type="media",
            resource_id="m1",
            details={"course_id": w.c3, "note": "100%_done"},
            created_at=day_at(1),
        ),
        system=await audit(
            rt,
            "role_changed",
            actor_id=None,
            resource_type="user",
            resource_id=w.admin.id,
            details={"by": "admin_bootstrap"},
            ip_address=None,
            user_agent="learnflow-cli",
            created_at=day_at(0),
        ),
    )


async def logs(client: httpx.AsyncClient, who: Account, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/api/audit-logs", params=params, headers=who.headers)
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


async def ids(client: httpx.AsyncClient, who: Account, **params: Any) -> list[int]:
    return [entry["id"] for entry in await logs(client, who, **params)]


async def test_admin_sees_everything_newest_first(client: httpx.AsyncClient, api: Api) -> None:
    e = await seed(api)
    entries = await logs(client, e.w.admin)
    assert [entry["id"] for entry in entries] == e.newest_first()
    by_id = {entry["id"]: entry for entry in entries}
    assert by_id[e.role_changed] == {
        "id": e.role_changed,
        "user_id": e.w.admin.id,
        "user_email": e.w.admin.email,
        "user_name": "Test User",
        "action": "role_changed",
        "resource_type": "user",
        "resource_id": e.w.i1.id,
        "resource_key": str(e.w.i1.id),
        "details": '{"from": "learner", "to": "instructor"}',
        "details_data": {"from": "learner", "to": "instructor"},
        "ip_address": "10.0.0.1",
        "user_agent": "AdminBrowser/1.0",
        "created_at": day_at(9).isoformat().replace("+00:00", "Z"),
    }
    assert by_id[e.system]["user_id"] is None and by_id[e.system]["user_email"] is None
    assert by_id[e.system]["user_name"] is None and by_id[e.system]["ip_address"] is None
    assert by_id[e.enrolled_c1]["user_name"] == "Ada Lovelace"
    # A resource whose id is not a number (a lesson) keeps the original API's number type: null, and the
    # id as text beside it.
    assert (by_id[e.lesson_c1]["resource_id"], by_id[e.lesson_c1]["resource_key"]) == (None, "abc123")


async def test_the_original_apis_action_names_filter_too(client: httpx.AsyncClient, api: Api) -> None:
    e = await seed(api)
    assert await ids(client, e.w.admin, action="course_enrolled") == [e.enrolled_c1]
    assert await ids(client, e.w.admin, action="user_login") == [e.login]


async def test_filters(client: httpx.AsyncClient, api: Api) -> None:
    e = await seed(api)
    admin = e.w.admin
    assert await ids(client, admin, user_id=e.w.i1.id) == [e.lesson_c1, e.c1_created]
    assert await ids(client, admin, action="course_created") == [e.c3_created, e.c1_created]
    assert await ids(client, admin, action="course") == []  # exact, not a prefix
    assert await ids(client, admin, resource_type="lesson") == [e.lesson_c3, e.lesson_c1]
    assert await ids(client, admin, action="role_changed", resource_type="user") == [e.system, e.role_changed]
    assert await ids(client, admin, user_id=e.w.l1.id, action="login") == [e.login]
    assert await ids(client, admin, user_id=e.w.l2.id) == []
    # Dates: a bare date is the whole UTC day on either side; a date-time is exact.
    assert await ids(client, admin, date_from=day_at(2).date().isoformat()) == [
        e.system,
        e.percent,
        e.course_id_as_text,
    ]
    assert await ids(client, admin, date_to=day_at(8).date().isoformat()) == [e.c1_created, e.role_changed]
    assert await ids(
        client, admin, date_from=day_at(5).date().isoformat(), date_to=day_at(4).date().isoformat()
    ) == [e.lesson_c3, e.lesson_c1]
    assert await ids(client, admin, date_from=day_at(5).isoformat(), date_to=day_at(5).isoformat()) == [
        e.lesson_c1
    ]
    just_after = day_at(5).replace(microsecond=1).isoformat()
    assert await ids(client, admin, date_from=just_after, date_to=day_at(4).isoformat()) == [e.lesson_c3]
    naive = day_at(5).replace(tzinfo=None).isoformat()  # naive means UTC
    assert await ids(client, admin, date_from=naive, date_to=naive) == [e.lesson_c1]
    assert await ids(client, admin, date_to="2000-01-01") == []
    assert await ids(client, admin, date_from="9999-12-31", date_to="9999-12-31") == []


async def test_search_is_literal(client: httpx.AsyncClient, api: Api) -> None:
    e = await seed(api)
    admin = e.w.admin
    assert await ids(client, admin, search="%") == [e.percent]
    assert await ids(client, admin, search="100%_d") == [e.percent]
    assert await ids(client, admin, search="100%xd") == []
    assert await ids(client, admin, search="_done") == [e.percent]
    assert await ids(client, admin, search="\\") == []
    assert await ids(client, admin, search="LESSON_") == [
        e.lesson_c3,
        e.lesson_c1,
    ]  # action, case-insensitive
    assert await ids(client, admin, search="def456") == [e.lesson_c3]  # resource id
    assert await ids(client, admin, search="Design Basics") == [e.c3_created]  # details
    assert await ids(client, admin, search="admin_bootstrap") == [e.system]
    assert await ids(client, admin, search=e.w.l1.email) == [e.login, e.enrolled_c1]  # the actor's email
    assert await ids(client, admin, search="course_created", user_id=e.w.i2.id) == [e.c3_created]


async def test_instructors_see_entries_about_their_own_courses_only(
    client: httpx.AsyncClient, api: Api
) -> None:
    e = await seed(api)
    assert await ids(client, e.w.i1) == [e.course_id_as_text, e.lesson_c1, e.enrolled_c1, e.c1_created]
    assert await ids(client, e.w.i2) == [e.percent, e.lesson_c3, e.c3_created]
    for entry in await logs(client, e.w.i1):
        assert entry["ip_address"] is None and entry["user_agent"] is None
    # Filters narrow within the scope and never widen it.
    assert await ids(client, e.w.i1, action="course_created") == [e.c1_created]
    assert await ids(client, e.w.i1, user_id=e.w.i2.id) == []
    assert await ids(client, e.w.i1, search="Design") == []
    assert await ids(client, e.w.i1, resource_type="user") == []
    assert await ids(client, e.w.i2, search="%") == [e.percent]
    newcomer = await api.account("instructor")
    assert await ids(client, newcomer) == []


async def test_paging(client: httpx.AsyncClient, api: Api) -> None:
    e = await seed(api)
    newest = e.newest_first()
    first = await client.get("/api/audit-logs", params={"limit": 3}, headers=e.w.admin.headers)
    assert [entry["id"] for entry in first.json()] == newest[:3]
    assert first.headers["x-total-count"] == "10"
    assert 'rel="next"' in first.headers["link"] and "skip=3" in first.headers["link"]
    assert await ids(client, e.w.admin, skip=3, limit=3) == newest[3:6]
    assert await ids(client, e.w.admin, skip=9, limit=100) == newest[9:]
    scoped = await client.get(
        "/api/audit-logs", params={"limit": 1, "action": "course_created"}, headers=e.w.i1.headers
    )
    assert scoped.headers["x-total-count"] == "1"
    assert "action=course_created" in scoped.headers["link"]
