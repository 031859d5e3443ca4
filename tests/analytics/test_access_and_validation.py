"""Who may call the analytics, report and audit endpoints; 422s that name the query field; hostile filter
values that must give ordinary (empty) results, never a 500."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.analytics.helpers import add_course, enroll, fields_named, listed
from tests.helpers import Account, Api

ENDPOINTS = (
    "/api/analytics/stats",
    "/api/analytics/categories",
    "/api/analytics/enrollment-trends",
    "/api/analytics/user-growth",
    "/api/analytics/insights",
    "/api/reports/courses",
    "/api/reports/students",
    "/api/reports/users",
    "/api/reports/activity",
    "/api/audit-logs",
)

# Blocked users may still read, so a blocked admin or instructor keeps their views; deactivated accounts
# cannot authenticate at all. The user report is for admins only.
# fmt: off
PRINCIPALS = (
    "anonymous", "enrolled_learner", "other_learner", "owner", "other_instructor", "admin",
    "blocked_learner", "blocked_instructor", "blocked_admin", "deactivated_admin",
)
STAFF =      (401, 403, 403, 200, 200, 200, 403, 200, 200, 401)
ADMIN_ONLY = (401, 403, 403, 403, 403, 200, 403, 403, 200, 401)
# fmt: on
MATRIX = {path: ADMIN_ONLY if path == "/api/reports/users" else STAFF for path in ENDPOINTS}


@dataclass
class Cast:
    accounts: dict[str, Account | None]
    course_id: int


async def cast(api: Api) -> Cast:
    owner = await api.account("instructor")
    enrolled = await api.account()
    course = await add_course(api.runtime, owner.id, title="Owned")
    await enroll(api.runtime, enrolled.id, course)
    return Cast(
        accounts={
            "anonymous": None,
            "enrolled_learner": enrolled,
            "other_learner": await api.account(),
            "owner": owner,
            "other_instructor": await api.account("instructor"),
            "admin": await api.account("admin"),
            "blocked_learner": await api.account(blocked=True),
            "blocked_instructor": await api.account("instructor", blocked=True),
            "blocked_admin": await api.account("admin", blocked=True),
            "deactivated_admin": await api.account("admin", active=False),
        },
        course_id=course,
    )


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_permission_matrix(client: httpx.AsyncClient, api: Api, path: str) -> None:
    scene = await cast(api)
    for principal, expected in zip(PRINCIPALS, MATRIX[path], strict=True):
        account = scene.accounts[principal]
        headers = account.headers if account else {}
        response = await client.get(path, headers=headers)
        assert response.status_code == expected, (principal, response.text)
        if expected == 401:
            assert response.json()["error"]["code"] in {"not_authenticated", "account_deactivated"}
        if expected == 403:
            assert response.json()["error"]["code"] == "insufficient_role"


async def test_other_instructor_sees_none_of_the_owners_figures(client: httpx.AsyncClient, api: Api) -> None:
    scene = await cast(api)
    other = scene.accounts["other_instructor"]
    assert other is not None
    stats = (await client.get("/api/analytics/stats", headers=other.headers)).json()
    assert (stats["total_courses"], stats["total_enrollments"], stats["total_users"]) == (0, 0, 0)
    for path in (
        "/api/analytics/categories",
        "/api/reports/courses",
        "/api/reports/students",
        "/api/audit-logs",
        "/api/reports/activity",
    ):
        response = await client.get(path, headers=other.headers)
        assert response.status_code == 200 and listed(path, response.json()) == [], path
    insights = (await client.get("/api/analytics/insights", headers=other.headers)).json()
    assert insights["top_courses"] == [] and insights["most_active_learners"] == []
    owner = scene.accounts["owner"]
    assert owner is not None
    own = (await client.get("/api/reports/students", headers=owner.headers)).json()
    assert [row["course_id"] for row in own["students"]] == [scene.course_id]


# --- 422s --------------------------------------------------------------------------------------------------

BAD_QUERIES: list[tuple[str, dict[str, Any], str]] = [
    ("/api/analytics/enrollment-trends", {"days": "0"}, "days"),
    ("/api/analytics/enrollment-trends", {"days": "366"}, "days"),
    ("/api/analytics/enrollment-trends", {"days": "week"}, "days"),
    ("/api/analytics/enrollment-trends", {"days": "1.5"}, "days"),
    ("/api/analytics/user-growth", {"months": "0"}, "months"),
    ("/api/analytics/user-growth", {"months": "37"}, "months"),
    ("/api/analytics/user-growth", {"months": "1e9"}, "months"),
    ("/api/analytics/insights", {"limit": "0"}, "limit"),
    ("/api/analytics/insights", {"limit": "51"}, "limit"),
    ("/api/reports/courses", {"limit": "0"}, "limit"),
    ("/api/reports/courses", {"limit": "1001"}, "limit"),
    ("/api/reports/courses", {"skip": "-1"}, "skip"),
    ("/api/reports/courses", {"format": "xlsx"}, "format"),
    ("/api/reports/courses", {"level": "Expert"}, "level"),
    ("/api/reports/courses", {"is_published": "maybe"}, "is_published"),
    ("/api/reports/courses", {"instructor_id": "abc"}, "instructor_id"),
    ("/api/reports/courses", {"instructor_id": "99999999999"}, "instructor_id"),
    ("/api/reports/courses", {"instructor_id": "0"}, "instructor_id"),
    ("/api/reports/courses", {"search": "x" * 201}, "search"),
    ("/api/reports/courses", {"category": "x" * 101}, "category"),
    ("/api/reports/students", {"limit": "1001"}, "limit"),
    ("/api/reports/students", {"course_id": "1 OR 1=1"}, "course_id"),
    ("/api/reports/students", {"user_id": "-5"}, "user_id"),
    ("/api/reports/students", {"completed": "perhaps"}, "completed"),
    ("/api/reports/students", {"min_progress": "101"}, "min_progress"),
    ("/api/reports/students", {"min_progress": "-1"}, "min_progress"),
    ("/api/reports/students", {"min_progress": "nan"}, "min_progress"),
    ("/api/reports/students", {"min_progress": "lots"}, "min_progress"),
    ("/api/reports/students", {"format": "CSV "}, "format"),
    ("/api/reports/users", {"limit": "1001"}, "limit"),
    ("/api/reports/users", {"role": "superuser"}, "role"),
    ("/api/reports/users", {"is_active": "2"}, "is_active"),
    ("/api/reports/users", {"is_blocked": "blocked"}, "is_blocked"),
    ("/api/reports/users", {"created_from": "yesterday"}, "created_from"),
    ("/api/reports/users", {"created_to": "2024-02-30"}, "created_to"),
    ("/api/reports/users", {"created_from": "2024-05-02", "created_to": "2024-05-01"}, "created_to"),
    ("/api/reports/activity", {"limit": "1001"}, "limit"),
    ("/api/reports/activity", {"user_id": "me"}, "user_id"),
    ("/api/reports/activity", {"date_from": "2024-13-01"}, "date_from"),
    ("/api/reports/activity", {"date_to": "0001-01-01T00:00:00+05:00"}, "date_to"),
    ("/api/reports/activity", {"date_from": "2024-05-02T00:00:00Z", "date_to": "2024-05-01"}, "date_to"),
    ("/api/reports/activity", {"action": "a" * 65}, "action"),
    ("/api/audit-logs", {"limit": "101"}, "limit"),
    ("/api/audit-logs", {"limit": "0"}, "limit"),
    ("/api/audit-logs", {"skip": "x"}, "skip"),
    ("/api/audit-logs", {"user_id": "2147483648"}, "user_id"),
    ("/api/audit-logs", {"date_from": "12/31/2024"}, "date_from"),
    ("/api/audit-logs", {"date_to": "1714000000"}, "date_to"),
    ("/api/audit-logs", {"date_from": "2024-05-06", "date_to": "2024-05-05T23:59:59Z"}, "date_to"),
    ("/api/audit-logs", {"resource_type": "r" * 65}, "resource_type"),
    ("/api/audit-logs", {"search": "s" * 201}, "search"),
    ("/api/audit-logs", {"search": "a\x00b"}, "search"),
]


@pytest.mark.parametrize(("path", "params", "field"), BAD_QUERIES)
async def test_bad_query_is_422_naming_the_field(
    client: httpx.AsyncClient, api: Api, path: str, params: dict[str, Any], field: str
) -> None:
    admin = await api.account("admin")
    response = await client.get(path, params=params, headers=admin.headers)
    assert field in fields_named(response)


async def test_range_edges_are_accepted(client: httpx.AsyncClient, api: Api) -> None:
    admin = await api.account("admin")
    for path, params in [
        ("/api/analytics/enrollment-trends", {"days": 1}),
        ("/api/analytics/enrollment-trends", {"days": 365}),
        ("/api/analytics/user-growth", {"months": 1}),
        ("/api/analytics/user-growth", {"months": 36}),
        ("/api/analytics/insights", {"limit": 50}),
        ("/api/reports/courses", {"limit": 1000, "skip": 1_000_000, "instructor_id": 2_147_483_647}),
        ("/api/reports/students", {"min_progress": 100, "completed": "0"}),
        ("/api/reports/users", {"created_from": "2024-05-01", "created_to": "2024-05-01"}),
        ("/api/reports/activity", {"date_from": "0001-01-01", "date_to": "9999-12-31"}),
        ("/api/audit-logs", {"date_from": "0001-01-01T00:00:00Z", "date_to": "9999-12-31T23:59:59.999999Z"}),
        ("/api/audit-logs", {"action": "", "search": "  ", "resource_type": ""}),  # blank means no filter
    ]:
        response = await client.get(path, params=params, headers=admin.headers)
        assert response.status_code == 200, (path, params, response.text)


# --- hostile input -----------------------------------------------------------------------------------------

HOSTILE = [
    "' OR '1'='1",
    "'; DROP TABLE users; --",
    '") OR 1=1 --',
    "%",
    "_",
    "\\",
    "%' UNION SELECT password_hash FROM users --",
    '{"$ne": null}',
    "<script>alert(1)</script>",
    "‮ﷺ🙂",
    "=1+1",
]

TEXT_FILTERS: list[tuple[str, str]] = [
    ("/api/reports/courses", "category"),
    ("/api/reports/courses", "search"),
    ("/api/reports/students", "search"),
    ("/api/reports/users", "search"),
    ("/api/reports/activity", "action"),
    ("/api/reports/activity", "resource_type"),
    ("/api/reports/activity", "search"),
    ("/api/audit-logs", "action"),
    ("/api/audit-logs", "resource_type"),
    ("/api/audit-logs", "search"),
]


@pytest.mark.parametrize(("path", "param"), TEXT_FILTERS)
async def test_hostile_text_filters_give_empty_results(
    client: httpx.AsyncClient, api: Api, path: str, param: str
) -> None:
    scene = await cast(api)
    for who in ("admin", "owner"):
        account = scene.accounts[who]
        assert account is not None
        if path == "/api/reports/users" and who == "owner":
            continue
        for value in HOSTILE:
            for fmt in ("json", "csv"):
                params = {param: value} if path == "/api/audit-logs" else {param: value, "format": fmt}
                response = await client.get(path, params=params, headers=account.headers)
                assert response.status_code == 200, (who, value, response.text)
                if fmt == "json":
                    assert listed(path, response.json()) == [], (who, value)
                    assert response.headers["x-total-count"] == "0"
    # Still there afterwards.
    admin = scene.accounts["admin"]
    assert admin is not None
    users = await client.get("/api/reports/users", headers=admin.headers)
    assert users.status_code == 200 and len(users.json()["users"]) == len(scene.accounts) - 1


async def test_hostile_non_text_filters_are_422_not_500(client: httpx.AsyncClient, api: Api) -> None:
    admin = await api.account("admin")
    for path, param in [
        ("/api/analytics/enrollment-trends", "days"),
        ("/api/analytics/user-growth", "months"),
        ("/api/analytics/insights", "limit"),
        ("/api/reports/courses", "instructor_id"),
        ("/api/reports/courses", "level"),
        ("/api/reports/courses", "is_published"),
        ("/api/reports/students", "course_id"),
        ("/api/reports/students", "min_progress"),
        ("/api/reports/users", "role"),
        ("/api/reports/users", "created_from"),
        ("/api/reports/activity", "date_to"),
        ("/api/audit-logs", "user_id"),
        ("/api/audit-logs", "date_from"),
    ]:
        for value in HOSTILE:
            response = await client.get(path, params={param: value}, headers=admin.headers)
            assert param in fields_named(response), (path, value)


async def test_repeated_parameters_are_422(client: httpx.AsyncClient, api: Api) -> None:
    admin = await api.account("admin")
    response = await client.get(
        "/api/audit-logs?date_from=2024-01-01&date_from=2024-02-01", headers=admin.headers
    )
    assert "date_from" in fields_named(response)
    response = await client.get("/api/reports/courses?category=a&category=b", headers=admin.headers)
    assert "category" in fields_named(response)
