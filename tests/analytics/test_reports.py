"""GET /api/reports/{courses,students,users,activity}: exact rows, real filters, a limit that works (default
100, at most 1000), skip, paging headers, instructor scoping, and CSV that parses back and cannot run as a
spreadsheet formula."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.users import store as users_store
from tests.analytics.helpers import (
    World,
    add_course,
    audit,
    build_world,
    csv_header,
    day_at,
    enroll,
    listed,
    parse_csv,
)
from tests.helpers import Account, Api


async def report(client: httpx.AsyncClient, who: Account, name: str, **params: Any) -> httpx.Response:
    response = await client.get(f"/api/reports/{name}", params=params, headers=who.headers)
    assert response.status_code == 200, response.text
    return response


async def rows(client: httpx.AsyncClient, who: Account, name: str, **params: Any) -> list[dict[str, Any]]:
    return listed(f"/api/reports/{name}", (await report(client, who, name, **params)).json())


def without(items: list[dict[str, Any]], *keys: str) -> list[dict[str, Any]]:
    return [{k: v for k, v in item.items() if k not in keys} for item in items]


# --- courses -----------------------------------------------------------------------------------------------


def course_item(row: dict[str, Any]) -> dict[str, Any]:
    """A course report row (the CSV's columns) as the JSON lists it, with the original API's names too."""
    return {**row, "total_enrollments": row["enrollments"], "completed_enrollments": row["completions"]}


def course_rows(w: World) -> dict[int, dict[str, Any]]:
    return {
        w.c1: {
            "id": w.c1,
            "title": "Python 101",
            "category": "Data",
            "level": "Beginner",
            "instructor_id": w.i1.id,
            "instructor_name": "Test User",
            "is_published": True,
            "enrollments": 3,
            "completions": 1,
            "completion_rate": 33.33,
            "average_progress": 50.0,
            "average_rating": 4.5,
            "rating_count": 2,
            "time_spent_seconds": 1050,
        },
        w.c2: {
            "id": w.c2,
            "title": "Draft SQL",
            "category": "Data",
            "level": "Advanced",
            "instructor_id": w.i1.id,
            "instructor_name": "Test User",
            "is_published": False,
            "enrollments": 0,
            "completions": 0,
            "completion_rate": 0.0,
            "average_progress": 0.0,
            "average_rating": None,
            "rating_count": 0,
            "time_spent_seconds": 0,
        },
        w.c3: {
            "id": w.c3,
            "title": "Design Basics",
            "category": "Design",
            "level": "Intermediate",
            "instructor_id": w.i2.id,
            "instructor_name": "Test User",
            "is_published": True,
            "enrollments": 2,
            "completions": 1,
            "completion_rate": 50.0,
            "average_progress": 60.0,
            "average_rating": 2.0,
            "rating_count": 1,
            "time_spent_seconds": 1060,
        },
    }


async def test_course_report_rows_and_filters(client: httpx.AsyncClient, api: Api) -> None:
    w = await build_world(api)
    expected = {key: course_item(row) for key, row in course_rows(w).items()}

    async def ids(who: Account, **params: Any) -> list[int]:
        return [row["id"] for row in await rows(client, who, "courses", **params)]

    everything = await rows(client, w.admin, "courses")
    assert without(everything, "created_at") == [expected[w.c1], expected[w.c2], expected[w.c3]]
    assert all(row["created_at"].endswith("Z") for row in everything)
    assert await ids(w.admin, category="Data") == [w.c1, w.c2]
    assert await ids(w.admin, level="Advanced") == [w.c2]
    assert await ids(w.admin, is_published="false") == [w.c2]
    assert await ids(w.admin, is_published="true") == [w.c1, w.c3]
    assert await ids(w.admin, instructor_id=w.i2.id) == [w.c3]
    assert await ids(w.admin, search="pYtHoN") == [w.c1]
    assert await ids(w.admin, search="learn python") == [w.c1]  # the description
    assert await ids(w.admin, category="Data", level="Beginner", is_published="true") == [w.c1]
    assert await ids(w.admin, category="Nope") == []
    # Instructors: only their own courses, whatever they ask for.
    assert without(await rows(client, w.i1, "courses"), "created_at") == [expected[w.c1], expected[w.c2]]
    assert without(await rows(client, w.i2, "courses"), "created_at") == [expected[w.c3]]
    assert await ids(w.i1, instructor_id=w.i2.id) == []
    assert await ids(w.i1, search="Design") == []


async def test_course_report_limit_skip_and_headers(client: httpx.AsyncClient, api: Api) -> None:
    w = await build_world(api)
    first = await report(client, w.admin, "courses", limit=1)
    assert [row["id"] for row in first.json()["courses"]] == [w.c1]
    assert first.headers["x-total-count"] == "3"
    assert 'rel="next"' in first.headers["link"] and "skip=1" in first.headers["link"]
    second = await report(client, w.admin, "courses", limit=1, skip=1)
    assert [row["id"] for row in second.json()["courses"]] == [w.c2]
    assert [row["id"] for row in await rows(client, w.admin, "courses", skip=2, limit=1000)] == [w.c3]
    assert await rows(client, w.admin, "courses", skip=3) == []
    filtered = await report(client, w.admin, "courses", category="Data", limit=1)
    assert filtered.headers["x-total-count"] == "2"
    assert "category=Data" in filtered.headers["link"]
    assert (await report(client, w.i1, "courses", limit=1)).headers["x-total-count"] == "2"


# --- students ----------------------------------------------------------------------------------------------


def student_rows(w: World) -> dict[int, dict[str, Any]]:
    ada = {"user_id": w.l1.id, "name": "Ada Lovelace", "email": w.l1.email}
    bob = {"user_id": w.l2.id, "name": "Bob Stone", "email": w.l2.email}
    cy = {"user_id": w.l3.id, "name": "Cy Young", "email": w.l3.email}
    c1 = {"course_id": w.c1, "course_title": "Python 101"}
    c3 = {"course_id": w.c3, "course_title": "Design Basics"}

    def at(days_ago: int) -> str:
        return day_at(days_ago).isoformat().replace("+00:00", "Z")

    return {
        w.e1: {
            "enrollment_id": w.e1,
            **ada,
            **c1,
            "enrolled_at": at(10),
            "progress": 100.0,
            "completed": True,
            "completed_at": at(2),
            "completed_lessons": 2,
            "time_spent_seconds": 900,
            "last_accessed": "2024-05-06T07:08:09.123456Z",
        },
        w.e2: {
            "enrollment_id": w.e2,
            **bob,
            **c1,
            "enrolled_at": at(0),
            "progress": 50.0,
            "completed": False,
            "completed_at": None,
            "completed_lessons": 1,
            "time_spent_seconds": 120,
            "last_accessed": None,
        },
        w.e3: {
            "enrollment_id": w.e3,
            **cy,
            **c1,
            "enrolled_at": at(3),
            "progress": 0.0,
            "completed": False,
            "completed_at": None,
            "completed_lessons": 0,
            "time_spent_seconds": 30,
            "last_accessed": None,
        },
        w.e4: {
            "enrollment_id": w.e4,
            **ada,
            **c3,
            "enrolled_at": at(60),
            "progress": 100.0,
            "completed": True,
            "completed_at": at(40),
            "completed_lessons": 0,
            "time_spent_seconds": 1000,
            "last_accessed": None,
        },
        w.e5: {
            "enrollment_id": w.e5,
            **cy,
            **c3,
            "enrolled_at": at(1),
            "progress": 20.0,
            "completed": False,
            "completed_at": None,
            "completed_lessons": 0,
            "time_spent_seconds": 60,
            "last_accessed": None,
        },
    }


def student_item(row: dict[str, Any]) -> dict[str, Any]:
    """A student report row (the CSV's columns) as the JSON lists it: the original API's names beside
    ours, `progress` a whole percent and ours as `progress_percentage`."""
    status = "completed" if row["completed"] else "in_progress" if row["progress"] > 0 else "enrolled"
    return {
        "id": row["enrollment_id"],
        "student_id": row["user_id"],
        "student_name": row["name"],
        "student_email": row["email"],
        **{key: value for key, value in row.items() if key != "progress"},
        "progress": int(row["progress"]),
        "status": status,
        "progress_percentage": row["progress"],
    }


async def test_student_report_rows_and_filters(client: httpx.AsyncClient, api: Api) -> None:
    w = await build_world(api)
    expected = {key: student_item(row) for key, row in student_rows(w).items()}

    async def ids(who: Account, **params: Any) -> list[int]:
        return [row["enrollment_id"] for row in await rows(client, who, "students", **params)]

    assert await rows(client, w.admin, "students") == [expected[e] for e in (w.e1, w.e2, w.e3, w.e4, w.e5)]
    assert await ids(w.admin, completed="true") == [w.e1, w.e4]
    assert await ids(w.admin, completed="false") == [w.e2, w.e3, w.e5]
    assert await ids(w.admin, min_progress=50) == [w.e1, w.e2, w.e4]
    assert await ids(w.admin, min_progress=20.5) == [w.e1, w.e2, w.e4]
    assert await ids(w.admin, min_progress=0) == [w.e1, w.e2, w.e3, w.e4, w.e5]
    assert await ids(w.admin, course_id=w.c3) == [w.e4, w.e5]
    assert await ids(w.admin, user_id=w.l1.id) == [w.e1, w.e4]
    assert await ids(w.admin, search="lovelace") == [w.e1, w.e4]
    assert await ids(w.admin, search="ada love") == [w.e1, w.e4]
    assert await ids(w.admin, search=w.l3.email) == [w.e3, w.e5]
    assert await ids(w.admin, course_id=w.c1, completed="false", min_progress=10) == [w.e2]
    assert await ids(w.admin, course_id=w.c2) == []
    # Instructors see their own courses' enrollments only.
    assert await rows(client, w.i1, "students") == [expected[e] for e in (w.e1, w.e2, w.e3)]
    assert await rows(client, w.i2, "students") == [expected[e] for e in (w.e4, w.e5)]
    assert await ids(w.i1, course_id=w.c3) == []
    assert await ids(w.i2, user_id=w.l2.id) == []


async def test_student_report_limit(client: httpx.AsyncClient, api: Api) -> None:
    w = await build_world(api)
    page = await report(client, w.admin, "students", limit=2, skip=1)
    assert [row["enrollment_id"] for row in page.json()["students"]] == [w.e2, w.e3]
    assert page.headers["x-total-count"] == "5"
    scoped = await report(client, w.i1, "students", limit=2)
    assert len(scoped.json()["students"]) == 2 and scoped.headers["x-total-count"] == "3"


# --- users -------------------------------------------------------------------------------------------------


async def test_user_report_rows_and_filters(client: httpx.AsyncClient, api: Api) -> None:
    w = await build_world(api)

    async def ids(**params: Any) -> list[int]:
        return [row["id"] for row in await rows(client, w.admin, "users", **params)]

    everyone = await rows(client, w.admin, "users")
    assert [row["id"] for row in everyone] == [
        w.admin.id,
        w.i1.id,
        w.i2.id,
        w.l1.id,
        w.l2.id,
        w.l3.id,
        w.blocked.id,
        w.deactivated.id,
    ]
    by_id = {row["id"]: row for row in everyone}
    assert without([by_id[w.l1.id]], "created_at", "last_login_at") == [
        {
            "full_name": "Ada Lovelace",
            "total_courses_enrolled": 2,
            "courses_completed": 2,
            "id": w.l1.id,
            "email": w.l1.email,
            "first_name": "Ada",
            "last_name": "Lovelace",
            "role": "learner",
            "is_active": True,
            "is_blocked": False,
            "enrollments": 2,
            "completions": 2,
            "courses_owned": 0,
            "time_spent_seconds": 1900,
        }
    ]
    assert (by_id[w.i1.id]["courses_owned"], by_id[w.i2.id]["courses_owned"]) == (2, 1)
    assert (
        by_id[w.l3.id]["enrollments"],
        by_id[w.l3.id]["completions"],
        by_id[w.l3.id]["time_spent_seconds"],
    ) == (
        2,
        0,
        90,
    )
    assert by_id[w.i1.id]["last_login_at"].endswith("Z")
    assert await ids(role="instructor") == [w.i1.id, w.i2.id]
    assert await ids(role="admin") == [w.admin.id]
    assert await ids(is_blocked="true") == [w.blocked.id]
    assert await ids(is_active="false") == [w.deactivated.id]
    assert await ids(role="learner", is_active="true", is_blocked="false") == [w.l1.id, w.l2.id, w.l3.id]
    assert await ids(search="STONE") == [w.l2.id]
    assert await ids(search="bob stone") == [w.l2.id]
    assert await ids(search=w.i2.email) == [w.i2.id]
    # l2's account is 100 days old; everyone else's is from today.
    assert await ids(created_to=day_at(50).date().isoformat()) == [w.l2.id]
    assert await ids(
        created_from=day_at(100).date().isoformat(), created_to=day_at(100).date().isoformat()
    ) == [w.l2.id]
    assert await ids(created_from=day_at(99).date().isoformat(), role="learner") == [
        w.l1.id,
        w.l3.id,
        w.blocked.id,
        w.deactivated.id,
    ]
    assert await ids(created_to=day_at(100).isoformat()) == [w.l2.id]  # an exact instant, inclusive
    assert await ids(created_to="2000-01-01", created_from="1999-01-01") == []


async def test_user_report_default_limit_is_100_and_max_1000(client: httpx.AsyncClient, api: Api) -> None:
    admin = await api.account("admin")
    async with api.runtime.db.transaction() as tx:
        for index in range(120):
            await users_store.add(
                tx,
                email=f"bulk{index}@example.com",
                first_name="Bulk",
                last_name=str(index),
                password_hash=None,
            )
    default = await report(client, admin, "users")
    assert len(default.json()["users"]) == 100
    assert default.headers["x-total-count"] == "121"
    assert "skip=100" in default.headers["link"]
    assert len(await rows(client, admin, "users", limit=1000)) == 121
    assert len(await rows(client, admin, "users", limit=7)) == 7
    assert len(await rows(client, admin, "users", skip=118)) == 3
    csv_rows = parse_csv(await report(client, admin, "users", format="csv", limit=5))
    assert len(csv_rows) == 5
    assert len(parse_csv(await report(client, admin, "users", format="csv"))) == 100


# --- activity ----------------------------------------------------------------------------------------------


async def test_activity_report(client: httpx.AsyncClient, api: Api) -> None:
    w = await build_world(api)
    created = await audit(
        api.runtime,
        "course_created",
        actor_id=w.i1.id,
        resource_type="course",
        resource_id=w.c1,
        created_at=day_at(3),
    )
    lesson = await audit(
        api.runtime,
        "lesson_created",
        actor_id=w.i1.id,
        resource_type="lesson",
        resource_id="L1",
        details={"course_id": w.c1},
        created_at=day_at(2),
    )
    other = await audit(
        api.runtime,
        "course_created",
        actor_id=w.i2.id,
        resource_type="course",
        resource_id=w.c3,
        created_at=day_at(1),
    )
    everything = await report(client, w.admin, "activity", limit=1000)
    total = int(everything.headers["x-total-count"])
    assert total == len(everything.json()["entries"]) > 3  # registrations and sign-ins are audited too
    ids = [row["id"] for row in await rows(client, w.admin, "activity", action="course_created")]
    assert ids == [other, created]
    assert [row["id"] for row in await rows(client, w.i1, "activity")] == [lesson, created]
    assert [row["id"] for row in await rows(client, w.i2, "activity")] == [other]
    assert [
        row["id"] for row in await rows(client, w.admin, "activity", user_id=w.i1.id, resource_type="lesson")
    ] == [lesson]
    window = await rows(
        client,
        w.admin,
        "activity",
        date_from=day_at(2).date().isoformat(),
        date_to=day_at(1).date().isoformat(),
    )
    assert [row["id"] for row in window] == [other, lesson]
    page = await report(client, w.admin, "activity", limit=2)
    assert len(page.json()["entries"]) == 2 and page.headers["x-total-count"] == str(total)


async def test_activity_report_default_limit(client: httpx.AsyncClient, api: Api) -> None:
    admin = await api.account("admin")
    for index in range(105):
        await audit(api.runtime, "lesson_completed", actor_id=admin.id, details={"n": index})
    default = await report(client, admin, "activity", action="lesson_completed")
    assert len(default.json()["entries"]) == 100 and default.headers["x-total-count"] == "105"
    assert [row["details_data"]["n"] for row in default.json()["entries"]][:2] == [104, 103]  # newest first
    assert len(await rows(client, admin, "activity", action="lesson_completed", limit=1000)) == 105
    assert len(await rows(client, admin, "activity", action="lesson_completed", limit=3)) == 3


# --- the report objects: totals, the original API's filters, the activity summary ---------------------------


async def test_report_totals_count_every_page(client: httpx.AsyncClient, api: Api) -> None:
    w = await build_world(api)
    courses = (await report(client, w.admin, "courses", limit=1)).json()
    assert courses["total_courses"] == 3 and len(courses["courses"]) == 1
    students = (await report(client, w.admin, "students", limit=2)).json()
    assert (students["total_enrollments"], students["total_students"], len(students["students"])) == (5, 3, 2)
    mine = (await report(client, w.i2, "students")).json()
    assert (mine["total_enrollments"], mine["total_students"]) == (2, 2)
    users = (await report(client, w.admin, "users", limit=3)).json()
    assert users["total_users"] == 8 and len(users["users"]) == 3


async def test_the_original_apis_report_filters(client: httpx.AsyncClient, api: Api) -> None:
    """status and date_from/date_to on the students report (the enrollment date), date_from/date_to on the
    courses (creation) and users (account creation) reports."""
    w = await build_world(api)

    async def ids(name: str, key: str, **params: Any) -> list[int]:
        return [row[key] for row in await rows(client, w.admin, name, **params)]

    assert await ids("students", "id", status="enrolled") == [w.e3]
    assert await ids("students", "id", status="in_progress") == [w.e2, w.e5]
    assert await ids("students", "id", status="completed") == [w.e1, w.e4]
    assert await ids("students", "id", date_from=day_at(3).date().isoformat()) == [w.e2, w.e3, w.e5]
    assert await ids("students", "id", date_to=day_at(3).date().isoformat()) == [w.e1, w.e3, w.e4]
    assert [row["status"] for row in await rows(client, w.admin, "students")] == [
        "completed",
        "in_progress",
        "enrolled",
        "completed",
        "in_progress",
    ]
    assert await ids("courses", "id", date_to=day_at(1).date().isoformat()) == []
    assert await ids("courses", "id", date_from=day_at(0).date().isoformat()) == [w.c1, w.c2, w.c3]
    assert await ids("users", "id", date_to=day_at(50).date().isoformat()) == [w.l2.id]
    bad = await client.get("/api/reports/students", params={"status": "paused"}, headers=w.admin.headers)
    assert bad.status_code == 422


async def test_activity_summary(client: httpx.AsyncClient, api: Api) -> None:
    w = await build_world(api)
    platform = (await report(client, w.admin, "activity")).json()
    # The last 30 days: everyone but l2 (100 days old) joined; E4 (60 days ago) is outside.
    assert (
        platform["new_users"],
        platform["new_enrollments"],
        platform["course_completions"],
        platform["new_courses"],
    ) == (7, 4, 1, 3)
    assert {user["id"] for user in platform["recent_users"]} == {
        w.admin.id,
        w.i1.id,
        w.i2.id,
        w.l1.id,
        w.l3.id,
        w.blocked.id,
        w.deactivated.id,
    }
    assert [e["id"] for e in platform["recent_enrollments"]] == [w.e2, w.e5, w.e3, w.e1]
    assert platform["recent_enrollments"][0] == {
        "id": w.e2,
        "user_id": w.l2.id,
        "course_id": w.c1,
        "enrolled_at": day_at(0).isoformat().replace("+00:00", "Z"),
    }
    ada = next(user for user in platform["recent_users"] if user["id"] == w.l1.id)
    assert (ada["full_name"], ada["email"], ada["role"]) == ("Ada Lovelace", w.l1.email, "learner")
    assert platform["period"]["to"] >= platform["period"]["from"]

    # An instructor's summary covers their courses: people arrive with their first enrollment there.
    own = (await report(client, w.i1, "activity")).json()
    assert (own["new_users"], own["new_enrollments"], own["course_completions"], own["new_courses"]) == (
        3,
        3,
        1,
        2,
    )
    assert [user["id"] for user in own["recent_users"]] == [w.l2.id, w.l3.id, w.l1.id]
    assert [e["id"] for e in own["recent_enrollments"]] == [w.e2, w.e3, w.e1]

    window = (
        await report(
            client,
            w.admin,
            "activity",
            date_from=day_at(5).date().isoformat(),
            date_to=day_at(1).date().isoformat(),
        )
    ).json()
    assert window["period"] == {
        "from": day_at(5).replace(hour=0).isoformat().replace("+00:00", "Z"),
        "to": day_at(0).isoformat().replace("+00:00", "Z"),
    }
    assert (
        window["new_users"],
        window["new_enrollments"],
        window["course_completions"],
        window["new_courses"],
    ) == (0, 2, 1, 0)
    assert [e["id"] for e in window["recent_enrollments"]] == [w.e5, w.e3]


# --- CSV ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "columns"),
    [
        (
            "courses",
            [
                "id",
                "title",
                "category",
                "level",
                "instructor_id",
                "instructor_name",
                "is_published",
                "enrollments",
                "completions",
                "completion_rate",
                "average_progress",
                "average_rating",
                "rating_count",
                "time_spent_seconds",
                "created_at",
            ],
        ),
        (
            "students",
            [
                "enrollment_id",
                "user_id",
                "name",
                "email",
                "course_id",
                "course_title",
                "enrolled_at",
                "progress",
                "completed",
                "completed_at",
                "completed_lessons",
                "time_spent_seconds",
                "last_accessed",
            ],
        ),
        (
            "users",
            [
                "id",
                "email",
                "first_name",
                "last_name",
                "role",
                "is_active",
                "is_blocked",
                "created_at",
                "last_login_at",
                "enrollments",
                "completions",
                "courses_owned",
                "time_spent_seconds",
            ],
        ),
        (
            "activity",
            [
                "id",
                "user_id",
                "user_email",
                "user_name",
                "action",
                "resource_type",
                "resource_id",
                "details",
                "ip_address",
                "user_agent",
                "created_at",
            ],
        ),
    ],
)
async def test_csv_matches_json_and_honours_limit(
    client: httpx.AsyncClient, api: Api, name: str, columns: list[str]
) -> None:
    w = await build_world(api)
    as_json = await rows(client, w.admin, name, limit=1000)
    response = await report(client, w.admin, name, format="csv", limit=1000)
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith(f'attachment; filename="learnflow-{name}-')
    assert csv_header(response) == columns
    parsed = parse_csv(response)
    assert len(parsed) == len(as_json) > 0
    assert response.headers["x-total-count"] == str(len(as_json))
    # The JSON keeps the original API's types under some of the CSV's names; ours are beside them.
    renamed = {
        "students": {"progress": "progress_percentage"},
        "activity": {"resource_id": "resource_key", "details": "details_data"},
    }.get(name, {})
    for json_row, csv_row in zip(as_json, parsed, strict=True):
        for column in columns:
            value = json_row[renamed.get(column, column)]
            if value is None:
                assert csv_row[column] == ""
            elif isinstance(value, bool):
                assert csv_row[column] == ("true" if value else "false")
            elif isinstance(value, int | float):
                assert float(csv_row[column]) == value
            elif isinstance(value, dict):
                assert csv_row[column].startswith("{")
            else:
                assert csv_row[column] == value
    limited = parse_csv(await report(client, w.admin, name, format="csv", limit=2, skip=1))
    assert len(limited) == 2
    assert limited[0][columns[0]] == str(as_json[1][columns[0]])


async def test_empty_csv_still_has_the_header(client: httpx.AsyncClient, api: Api) -> None:
    w = await build_world(api)
    response = await report(client, w.admin, "courses", format="csv", category="Nothing")
    assert csv_header(response)[0] == "id" and parse_csv(response) == []
    assert response.headers["x-total-count"] == "0"


async def test_csv_neutralises_spreadsheet_formulas(client: httpx.AsyncClient, api: Api) -> None:
    admin = await api.account("admin")
    teacher = await api.account("instructor")
    learner = await api.account()
    await api.set_user(teacher.id, first_name="=cmd|' /C calc'!A0", last_name="X")
    await api.set_user(learner.id, first_name="@SUM(A1:A9)", last_name="-2+3")
    course = await add_course(api.runtime, teacher.id, title='=HYPERLINK("http://evil")', category="+1-1")
    await add_course(api.runtime, teacher.id, title="-10", category="\tTabbed")
    await add_course(api.runtime, teacher.id, title='Safe, "quoted"\nmultiline', category="a=b")
    await enroll(api.runtime, learner.id, course)
    await audit(
        api.runtime,
        "=danger",
        actor_id=learner.id,
        resource_type="@type",
        resource_id="+42",
        details={"x": "=1"},
        user_agent="-agent",
    )

    courses = parse_csv(await report(client, admin, "courses", format="csv"))
    assert [(row["title"], row["category"], row["instructor_name"]) for row in courses] == [
        ('\'=HYPERLINK("http://evil")', "'+1-1", "'=cmd|' /C calc'!A0 X"),
        ("'-10", "'\tTabbed", "'=cmd|' /C calc'!A0 X"),
        ('Safe, "quoted"\nmultiline', "a=b", "'=cmd|' /C calc'!A0 X"),
    ]
    students = parse_csv(await report(client, admin, "students", format="csv"))
    assert [(row["name"], row["course_title"]) for row in students] == [
        ("'@SUM(A1:A9) -2+3", '\'=HYPERLINK("http://evil")')
    ]
    users = parse_csv(await report(client, admin, "users", format="csv", search="SUM"))
    assert [(row["first_name"], row["last_name"]) for row in users] == [("'@SUM(A1:A9)", "'-2+3")]
    activity = parse_csv(
        await report(client, admin, "activity", format="csv", user_id=learner.id, action="=danger")
    )
    assert len(activity) == 1
    entry = activity[0]
    assert (entry["action"], entry["resource_type"], entry["resource_id"], entry["user_agent"]) == (
        "'=danger",
        "'@type",
        "'+42",
        "'-agent",
    )
    assert entry["details"] == '{"x": "=1"}'  # JSON text starts with "{", so it is inert
    # The JSON form is untouched: neutralising is a CSV concern only.
    assert (await rows(client, admin, "courses"))[0]["title"] == '=HYPERLINK("http://evil")'
