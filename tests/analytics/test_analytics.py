"""GET /api/analytics/{stats,categories,enrollment-trends,user-growth,insights}: exact figures on seeded data,
gap-free series, and instructor scoping (an instructor never sees another instructor's courses)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx

from app.analytics.service import months_back
from tests.analytics.helpers import World, add_course, build_world, enroll, today, track
from tests.helpers import Account, Api


async def get(client: httpx.AsyncClient, who: Account, path: str, **params: Any) -> Any:
    response = await client.get(path, params=params, headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()


# --- stats -------------------------------------------------------------------------------------------------


async def test_stats_for_admin_cover_the_platform(client: httpx.AsyncClient, api: Api) -> None:
    w = await build_world(api)
    assert await get(client, w.admin, "/api/analytics/stats") == {
        "scope": "platform",
        "total_users": 8,
        "active_users": 3,  # people with an enrollment, as total_students
        "total_learners": 5,
        "total_instructors": 2,
        "total_admins": 1,
        "blocked_users": 1,
        "deactivated_users": 1,
        "new_users_last_30_days": 7,  # l2's account is 100 days old
        "total_courses": 3,
        "published_courses": 2,
        "draft_courses": 1,
        "total_enrollments": 5,
        "total_completions": 2,
        "completion_rate": 40.0,
        "average_progress": 54.0,  # (100 + 50 + 0 + 100 + 20) / 5
        "total_students": 3,
        "enrollments_last_7_days": 3,  # E2 today, E3 3 days ago, E5 yesterday
        "completions_last_7_days": 1,  # E1 two days ago (E4 was 40 days ago)
        "total_time_spent_seconds": 2110,
        "active_learners_last_7_days": 3,
        "total_ratings": 3,
        "average_rating": 3.67,
        "total_comments": 3,
    }


async def test_stats_for_instructors_cover_only_their_courses(client: httpx.AsyncClient, api: Api) -> None:
    w = await build_world(api)
    assert await get(client, w.i1, "/api/analytics/stats") == {
        "scope": "instructor",
        "total_users": 3,  # the people enrolled in C1/C2
        "active_users": 3,
        "total_learners": 3,
        "total_instructors": 0,
        "total_admins": 0,
        "blocked_users": 0,
        "deactivated_users": 0,
        "new_users_last_30_days": 3,  # first enrollments in i1's courses: 10 days ago, today, 3 days ago
        "total_courses": 2,
        "published_courses": 1,
        "draft_courses": 1,
        "total_enrollments": 3,
        "total_completions": 1,
        "completion_rate": 33.33,
        "average_progress": 50.0,
        "total_students": 3,
        "enrollments_last_7_days": 2,
        "completions_last_7_days": 1,
        "total_time_spent_seconds": 1050,  # 600 + 300 + 120 + 30
        "active_learners_last_7_days": 2,  # l3's time in C1 is 8 days old
        "total_ratings": 2,
        "average_rating": 4.5,
        "total_comments": 2,
    }
    assert await get(client, w.i2, "/api/analytics/stats") == {
        "scope": "instructor",
        "total_users": 2,
        "active_users": 2,
        "total_learners": 2,
        "total_instructors": 0,
        "total_admins": 0,
        "blocked_users": 0,
        "deactivated_users": 0,
        "new_users_last_30_days": 1,  # l1 first enrolled in C3 60 days ago; l3 yesterday
        "total_courses": 1,
        "published_courses": 1,
        "draft_courses": 0,
        "total_enrollments": 2,
        "total_completions": 1,
        "completion_rate": 50.0,
        "average_progress": 60.0,
        "total_students": 2,
        "enrollments_last_7_days": 1,
        "completions_last_7_days": 0,
        "total_time_spent_seconds": 1060,
        "active_learners_last_7_days": 1,
        "total_ratings": 1,
        "average_rating": 2.0,
        "total_comments": 1,
    }


async def test_stats_without_any_activity(client: httpx.AsyncClient, api: Api) -> None:
    admin = await api.account("admin")
    newcomer = await api.account("instructor")
    expected_zero = {
        "total_courses": 0,
        "total_enrollments": 0,
        "total_completions": 0,
        "completion_rate": 0.0,
        "average_progress": 0.0,
        "total_time_spent_seconds": 0,
        "total_ratings": 0,
        "average_rating": None,
        "total_comments": 0,
    }
    platform = await get(client, admin, "/api/analytics/stats")
    assert (
        platform["total_users"] == 2 and platform["total_admins"] == 1 and platform["total_instructors"] == 1
    )
    assert {key: platform[key] for key in expected_zero} == expected_zero
    own = await get(client, newcomer, "/api/analytics/stats")
    assert own["total_users"] == 0 and own["new_users_last_30_days"] == 0
    assert {key: own[key] for key in expected_zero} == expected_zero


# --- categories --------------------------------------------------------------------------------------------

DATA = {
    "category": "Data",
    "courses": 2,
    "published_courses": 1,
    "enrollments": 3,
    "completions": 1,
    "completion_rate": 33.33,
    "students": 3,
}
DESIGN = {
    "category": "Design",
    "courses": 1,
    "published_courses": 1,
    "enrollments": 2,
    "completions": 1,
    "completion_rate": 50.0,
    "students": 2,
}


def share(category: dict[str, Any], percentage: int) -> dict[str, Any]:
    """A category's row with the original API's name, count and whole-percent share of the courses."""
    return {"name": category["category"], "count": category["courses"], "percentage": percentage, **category}


async def test_categories(client: httpx.AsyncClient, api: Api) -> None:
    w = await build_world(api)
    assert await get(client, w.admin, "/api/analytics/categories") == [share(DATA, 67), share(DESIGN, 33)]
    assert await get(client, w.i1, "/api/analytics/categories") == [share(DATA, 100)]
    assert await get(client, w.i2, "/api/analytics/categories") == [share(DESIGN, 100)]
    assert await get(client, await api.account("instructor"), "/api/analytics/categories") == []


async def test_categories_count_courses_without_enrollments(client: httpx.AsyncClient, api: Api) -> None:
    admin = await api.account("admin")
    teacher = await api.account("instructor")
    await add_course(api.runtime, teacher.id, title="A", category="Zoology", is_published=False)
    await add_course(api.runtime, teacher.id, title="B", category="Art")
    assert await get(client, admin, "/api/analytics/categories") == [
        {
            "name": "Art",
            "count": 1,
            "percentage": 50,
            "category": "Art",
            "courses": 1,
            "published_courses": 1,
            "enrollments": 0,
            "completions": 0,
            "completion_rate": 0.0,
            "students": 0,
        },
        {
            "name": "Zoology",
            "count": 1,
            "percentage": 50,
            "category": "Zoology",
            "courses": 1,
            "published_courses": 0,
            "enrollments": 0,
            "completions": 0,
            "completion_rate": 0.0,
            "students": 0,
        },
    ]


# --- enrollment trends -------------------------------------------------------------------------------------


def point(
    days_ago: int, enrollments: int = 0, completions: int = 0, active: int = 0, seconds: int = 0
) -> dict[str, Any]:
    return {
        "date": (today() - timedelta(days=days_ago)).isoformat(),
        "enrollments": enrollments,
        "completions": completions,
        "active_learners": active,
        "time_spent_seconds": seconds,
    }


def assert_gap_free(series: list[dict[str, Any]], days: int) -> None:
    assert len(series) == days
    dates = [date.fromisoformat(entry["date"]) for entry in series]
    assert dates == [today() - timedelta(days=days - 1 - index) for index in range(days)]


async def test_trends_are_gap_free_with_exact_counts(client: httpx.AsyncClient, api: Api) -> None:
    w = await build_world(api)
    week = await get(client, w.admin, "/api/analytics/enrollment-trends", days=7)
    assert_gap_free(week, 7)
    assert week == [
        point(6),
        point(5),
        point(4),
        point(3, enrollments=1),  # E3
        point(2, completions=1),  # E1 completed
        point(1, enrollments=1, active=1, seconds=600),  # E5; l1 in C1
        point(0, enrollments=1, active=3, seconds=480),  # E2; l1, l2, l3
    ]
    assert await get(client, w.i1, "/api/analytics/enrollment-trends", days=7) == [
        point(6),
        point(5),
        point(4),
        point(3, enrollments=1),
        point(2, completions=1),
        point(1, active=1, seconds=600),
        point(0, enrollments=1, active=2, seconds=420),
    ]
    assert await get(client, w.i2, "/api/analytics/enrollment-trends", days=3) == [
        point(2),
        point(1, enrollments=1),
        point(0, active=1, seconds=60),
    ]
    assert await get(client, w.admin, "/api/analytics/enrollment-trends", days=1) == [
        point(0, enrollments=1, active=3, seconds=480)
    ]


async def test_trends_default_and_longest_windows(client: httpx.AsyncClient, api: Api) -> None:
    w = await build_world(api)
    month = await get(client, w.admin, "/api/analytics/enrollment-trends")
    assert_gap_free(month, 30)
    assert sum(entry["enrollments"] for entry in month) == 4  # E4 was 60 days ago
    assert sum(entry["completions"] for entry in month) == 1
    assert month[-11]["enrollments"] == 1  # E1, ten days ago
    year = await get(client, w.admin, "/api/analytics/enrollment-trends", days=365)
    assert_gap_free(year, 365)
    assert sum(entry["enrollments"] for entry in year) == 5
    assert sum(entry["completions"] for entry in year) == 2
    assert sum(entry["time_spent_seconds"] for entry in year) == 2110
    assert year[-41] == point(40, completions=1, active=1, seconds=1000)


async def test_trends_use_utc_days(client: httpx.AsyncClient, api: Api) -> None:
    """An enrollment just before and one just after UTC midnight fall on different days."""
    admin = await api.account("admin")
    teacher = await api.account("instructor")
    learners = [await api.account() for _ in range(2)]
    course = await add_course(api.runtime, teacher.id, title="Night")
    midnight = datetime.combine(today() - timedelta(days=1), time(), UTC)
    await enroll(api.runtime, learners[0].id, course, enrolled_at=midnight - timedelta(microseconds=1))
    await enroll(api.runtime, learners[1].id, course, enrolled_at=midnight)
    series = await get(client, admin, "/api/analytics/enrollment-trends", days=3)
    assert [entry["enrollments"] for entry in series] == [1, 1, 0]


# --- user growth -------------------------------------------------------------------------------------------


def month_moment(months_ago: int) -> datetime:
    """A moment in the calendar month `months_ago` before this one, never in the future."""
    first = months_back(today().replace(day=1), months_ago)
    if months_ago == 0:
        return datetime.combine(first, time(), UTC)
    return datetime.combine(first + timedelta(days=14), time(12), UTC)


def month_key(months_ago: int) -> str:
    return months_back(today().replace(day=1), months_ago).strftime("%Y-%m")


async def test_user_growth_for_admin(client: httpx.AsyncClient, api: Api) -> None:
    admin = await api.account("admin")
    people = [await api.account() for _ in range(4)]
    await api.set_user(admin.id, created_at=month_moment(20))  # before any window asked for below
    await api.set_user(people[0].id, created_at=month_moment(2))
    await api.set_user(people[1].id, created_at=month_moment(2))
    await api.set_user(people[2].id, created_at=month_moment(0))
    await api.set_user(people[3].id, created_at=month_moment(5))
    assert await get(client, admin, "/api/analytics/user-growth", months=3) == [
        {"month": month_key(2), "new_users": 2, "total_users": 4},
        {"month": month_key(1), "new_users": 0, "total_users": 4},
        {"month": month_key(0), "new_users": 1, "total_users": 5},
    ]
    year = await get(client, admin, "/api/analytics/user-growth")
    assert [entry["month"] for entry in year] == [month_key(ago) for ago in range(11, -1, -1)]
    assert [entry["new_users"] for entry in year] == [0] * 6 + [1, 0, 0, 2, 0, 1]
    assert [entry["total_users"] for entry in year] == [1] * 6 + [2, 2, 2, 4, 4, 5]
    longest = await get(client, admin, "/api/analytics/user-growth", months=36)
    assert len(longest) == 36 and longest[0]["month"] == month_key(35)
    assert longest[35 - 20] == {"month": month_key(20), "new_users": 1, "total_users": 1}
    assert await get(client, admin, "/api/analytics/user-growth", months=1) == [
        {"month": month_key(0), "new_users": 1, "total_users": 5}
    ]


async def test_user_growth_for_instructors_counts_learners_joining_their_courses(
    client: httpx.AsyncClient, api: Api
) -> None:
    teacher = await api.account("instructor")
    rival = await api.account("instructor")
    l1, l2, l3, l4 = [await api.account() for _ in range(4)]
    first = await add_course(api.runtime, teacher.id, title="One")
    second = await add_course(api.runtime, teacher.id, title="Two")
    elsewhere = await add_course(api.runtime, rival.id, title="Theirs")
    await enroll(api.runtime, l1.id, first, enrolled_at=month_moment(2))
    await enroll(api.runtime, l1.id, second, enrolled_at=month_moment(0))  # not new: already a learner
    await enroll(api.runtime, l2.id, second, enrolled_at=month_moment(0))
    await enroll(api.runtime, l3.id, first, enrolled_at=month_moment(5))  # before the window
    await enroll(api.runtime, l4.id, elsewhere, enrolled_at=month_moment(1))  # another instructor's
    assert await get(client, teacher, "/api/analytics/user-growth", months=3) == [
        {"month": month_key(2), "new_users": 1, "total_users": 2},
        {"month": month_key(1), "new_users": 0, "total_users": 2},
        {"month": month_key(0), "new_users": 1, "total_users": 3},
    ]
    assert await get(client, rival, "/api/analytics/user-growth", months=2) == [
        {"month": month_key(1), "new_users": 1, "total_users": 1},
        {"month": month_key(0), "new_users": 0, "total_users": 1},
    ]


def test_months_back_crosses_years() -> None:
    assert months_back(date(2024, 3, 1), 0) == date(2024, 3, 1)
    assert months_back(date(2024, 3, 1), 2) == date(2024, 1, 1)
    assert months_back(date(2024, 3, 1), 3) == date(2023, 12, 1)
    assert months_back(date(2024, 3, 1), 35) == date(2021, 4, 1)


# --- insights ----------------------------------------------------------------------------------------------


def course_insight(w: World, which: str) -> dict[str, Any]:
    return {
        "C1": {
            "course_id": w.c1,
            "title": "Python 101",
            "category": "Data",
            "enrollments": 3,
            "completions": 1,
            "completion_rate": 33.33,
        },
        "C3": {
            "course_id": w.c3,
            "title": "Design Basics",
            "category": "Design",
            "enrollments": 2,
            "completions": 1,
            "completion_rate": 50.0,
        },
    }[which]


async def test_insights(client: httpx.AsyncClient, api: Api) -> None:
    w = await build_world(api)
    ada = {"user_id": w.l1.id, "name": "Ada Lovelace", "email": w.l1.email}
    bob = {"user_id": w.l2.id, "name": "Bob Stone", "email": w.l2.email}
    cy = {"user_id": w.l3.id, "name": "Cy Young", "email": w.l3.email}
    assert await get(client, w.admin, "/api/analytics/insights") == {
        # The original API's figures: 6 learner-lesson pairs with time over 5 enrollments, 2 completed.
        "avg_lesson_views": 1.2,
        "completion_rate": 40.0,
        "total_lessons_viewed": 6,
        "total_enrollments": 5,
        "completed_enrollments": 2,
        "scope": "platform",
        "top_courses": [course_insight(w, "C1"), course_insight(w, "C3")],
        "lowest_completion_courses": [course_insight(w, "C1"), course_insight(w, "C3")],
        "top_rated_courses": [
            {"course_id": w.c1, "title": "Python 101", "average_rating": 4.5, "rating_count": 2},
            {"course_id": w.c3, "title": "Design Basics", "average_rating": 2.0, "rating_count": 1},
        ],
        "most_active_learners": [
            {**ada, "time_spent_seconds": 1900, "courses": 2},
            {**bob, "time_spent_seconds": 120, "courses": 1},
            {**cy, "time_spent_seconds": 90, "courses": 2},
        ],
    }
    assert await get(client, w.i1, "/api/analytics/insights") == {
        "avg_lesson_views": 1.33,
        "completion_rate": 33.33,
        "total_lessons_viewed": 4,
        "total_enrollments": 3,
        "completed_enrollments": 1,
        "scope": "instructor",
        "top_courses": [course_insight(w, "C1")],
        "lowest_completion_courses": [course_insight(w, "C1")],
        "top_rated_courses": [
            {"course_id": w.c1, "title": "Python 101", "average_rating": 4.5, "rating_count": 2}
        ],
        "most_active_learners": [
            {**ada, "time_spent_seconds": 900, "courses": 1},
            {**bob, "time_spent_seconds": 120, "courses": 1},
            {**cy, "time_spent_seconds": 30, "courses": 1},
        ],
    }
    assert await get(client, w.i2, "/api/analytics/insights") == {
        "avg_lesson_views": 1.0,
        "completion_rate": 50.0,
        "total_lessons_viewed": 2,
        "total_enrollments": 2,
        "completed_enrollments": 1,
        "scope": "instructor",
        "top_courses": [course_insight(w, "C3")],
        "lowest_completion_courses": [course_insight(w, "C3")],
        "top_rated_courses": [
            {"course_id": w.c3, "title": "Design Basics", "average_rating": 2.0, "rating_count": 1}
        ],
        "most_active_learners": [
            {**ada, "time_spent_seconds": 1000, "courses": 1},
            {**cy, "time_spent_seconds": 60, "courses": 1},
        ],
    }
    one = await get(client, w.admin, "/api/analytics/insights", limit=1)
    assert one["top_courses"] == [course_insight(w, "C1")]
    assert one["lowest_completion_courses"] == [course_insight(w, "C1")]
    assert [entry["course_id"] for entry in one["top_rated_courses"]] == [w.c1]
    assert [entry["user_id"] for entry in one["most_active_learners"]] == [w.l1.id]


async def test_insights_orderings(client: httpx.AsyncClient, api: Api) -> None:
    """Most enrolled first; lowest completion rate first (ties: more enrollments first)."""
    admin = await api.account("admin")
    teacher = await api.account("instructor")
    learners = [await api.account() for _ in range(4)]
    full = await add_course(api.runtime, teacher.id, title="Full")  # 4 enrollments, 1 completed: 25%
    half = await add_course(api.runtime, teacher.id, title="Half")  # 2 enrollments, 1 completed: 50%
    none = await add_course(api.runtime, teacher.id, title="None")  # 1 enrollment, 0 completed: 0%
    await add_course(api.runtime, teacher.id, title="Empty")  # no enrollments: in neither list
    done = datetime.now(UTC)
    for index, learner in enumerate(learners):
        await enroll(api.runtime, learner.id, full, completed_at=done if index == 0 else None)
    await enroll(api.runtime, learners[0].id, half, completed_at=done)
    await enroll(api.runtime, learners[1].id, half)
    await enroll(api.runtime, learners[2].id, none)
    await track(api.runtime, learners[3].id, full, "a", today(), 0)  # no time: not "active"
    result = await get(client, admin, "/api/analytics/insights")
    assert [(c["title"], c["enrollments"]) for c in result["top_courses"]] == [
        ("Full", 4),
        ("Half", 2),
        ("None", 1),
    ]
    assert [(c["title"], c["completion_rate"]) for c in result["lowest_completion_courses"]] == [
        ("None", 0.0),
        ("Full", 25.0),
        ("Half", 50.0),
    ]
    assert result["top_rated_courses"] == [] and result["most_active_learners"] == []
