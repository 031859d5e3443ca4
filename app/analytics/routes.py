"""Analytics and reports (admins: the platform; instructors: their own courses; learners: 403)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from starlette.responses import Response

from app.analytics import service
from app.analytics.schemas import (
    ActivityReport,
    ActivityReportQuery,
    ActivityReportRow,
    CategoryStats,
    CourseReport,
    CourseReportQuery,
    CourseReportRow,
    GrowthPoint,
    GrowthQuery,
    InsightsPublic,
    InsightsQuery,
    LiveAnalytics,
    ReportQuery,
    StatsPublic,
    StudentReport,
    StudentReportQuery,
    StudentReportRow,
    TrendPoint,
    TrendsQuery,
    UserReport,
    UserReportQuery,
    UserReportRow,
)
from app.audit import service as audit
from app.http.pagination import page_headers
from app.http.routing import Context, api_route

ANALYTICS = ["analytics"]
REPORTS = ["reports"]
STAFF = ("admin", "instructor")
ADMIN = ("admin",)


@api_route(
    "GET",
    "/api/analytics/stats",
    summary="Headline totals (admin: platform; instructor: own courses)",
    tags=ANALYTICS,
    response=StatsPublic,
    roles=STAFF,
    errors=(401, 403),
)
async def stats(ctx: Context[None, None]) -> StatsPublic:
    """Users by role, courses, enrollments, completions and rate, tracked time, recent activity, ratings,
    comments. For instructors the user counts are the people enrolled in their courses."""
    return await service.stats(ctx.runtime, scope=service.scope_of(ctx.user))


@api_route(
    "GET",
    "/api/analytics/categories",
    summary="Courses, enrollments and completions per category",
    tags=ANALYTICS,
    response=list[CategoryStats],
    roles=STAFF,
    errors=(401, 403),
)
async def categories(ctx: Context[None, None]) -> list[CategoryStats]:
    """Every category with at least one course in scope (drafts included), alphabetically. `name`, `count`
    and `percentage` (whole-percent share of the courses in scope) are the original API's fields."""
    return await service.categories(ctx.runtime, scope=service.scope_of(ctx.user))


@api_route(
    "GET",
    "/api/analytics/enrollment-trends",
    summary="Daily enrollments and completions, one entry per UTC day (zeros included)",
    tags=ANALYTICS,
    query=TrendsQuery,
    response=list[TrendPoint],
    roles=STAFF,
    errors=(401, 403, 422),
)
async def enrollment_trends(ctx: Context[None, TrendsQuery]) -> list[TrendPoint]:
    """`days` entries, oldest first, ending today (UTC)."""
    return await service.enrollment_trends(ctx.runtime, scope=service.scope_of(ctx.user), days=ctx.query.days)


@api_route(
    "GET",
    "/api/analytics/user-growth",
    summary="New and total users per month (instructors: learners joining their courses)",
    tags=ANALYTICS,
    query=GrowthQuery,
    response=list[GrowthPoint],
    roles=STAFF,
    errors=(401, 403, 422),
)
async def user_growth(ctx: Context[None, GrowthQuery]) -> list[GrowthPoint]:
    """`months` entries, oldest first, ending with the current UTC month. Admins: accounts created;
    instructors: people counted in the month of their first enrollment in one of the instructor's courses."""
    return await service.user_growth(ctx.runtime, scope=service.scope_of(ctx.user), months=ctx.query.months)


@api_route(
    "GET",
    "/api/analytics/insights",
    summary="Top courses, lowest completion, top rated, most active learners",
    tags=ANALYTICS,
    query=InsightsQuery,
    response=InsightsPublic,
    roles=STAFF,
    errors=(401, 403, 422),
)
async def insights(ctx: Context[None, InsightsQuery]) -> InsightsPublic:
    return await service.insights(ctx.runtime, scope=service.scope_of(ctx.user), limit=ctx.query.limit)


@api_route(
    "GET",
    "/api/analytics/live",
    summary="Real-time snapshot: users online, learners active per course, heartbeats and messages a minute",
    tags=ANALYTICS,
    response=LiveAnalytics,
    roles=ADMIN,
    errors=(401, 403),
)
async def live(ctx: Context[None, None]) -> LiveAnalytics:
    """Admins only. Users online: distinct users with an open WebSocket connection on any instance (an
    instance that stops refreshing is forgotten within the presence TTL). Active learners: an accepted
    heartbeat in the last 5 minutes. Rates: the last 60 seconds. The same snapshot is pushed on the
    `admin:analytics` channel (event `analytics`) every few seconds while an admin is subscribed."""
    return await service.live(ctx.runtime)


def _report(
    ctx: Context[None, Any], name: str, model: type[BaseModel], rows: Sequence[BaseModel], total: int
) -> Response | None:
    """The CSV attachment of the rows when format=csv (None otherwise); X-Total-Count and Link either way."""
    query: ReportQuery = ctx.query
    ctx.response_headers.update(page_headers(ctx.request, skip=query.skip, limit=query.limit, total=total))
    if query.format != "csv":
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Response(
        service.to_csv(model, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="learnflow-{name}-{stamp}.csv"'},
    )


@api_route(
    "GET",
    "/api/reports/courses",
    summary="Course report: enrollments, completion, rating, time per course",
    tags=REPORTS,
    query=CourseReportQuery,
    response=CourseReport,
    roles=STAFF,
    errors=(401, 403, 422),
    paged=True,
    other_media_types=("text/csv",),
)
async def course_report(ctx: Context[None, CourseReportQuery]) -> CourseReport | Response:
    """`{total_courses, courses: [...]}`, ordered by course id; instructors see only their own courses.
    `date_from`/`date_to` bound the creation date. `limit` 1–1000 (default 100). `format=csv` answers the
    rows as a text/csv attachment with a header row; a cell starting with = + - @ (or a tab or carriage
    return) gets a leading apostrophe so spreadsheets do not run it."""
    rows, total = await service.course_report(ctx.runtime, scope=service.scope_of(ctx.user), query=ctx.query)
    csv = _report(ctx, "courses", CourseReportRow, rows, total)
    return csv or service.course_report_json(rows, total)


@api_route(
    "GET",
    "/api/reports/students",
    summary="Student report: one row per enrollment",
    tags=REPORTS,
    query=StudentReportQuery,
    response=StudentReport,
    roles=STAFF,
    errors=(401, 403, 422),
    paged=True,
    other_media_types=("text/csv",),
)
async def student_report(ctx: Context[None, StudentReportQuery]) -> StudentReport | Response:
    """`{total_students, total_enrollments, students: [...]}`, ordered by course, then enrollment;
    instructors see only their courses' enrollments. `completed` means the enrollment has a completion
    date; `status` is enrolled, in_progress or completed; `date_from`/`date_to` bound the enrollment date.
    `limit` 1–1000 (default 100); `format=csv` as for courses."""
    rows, total, students = await service.student_report(
        ctx.runtime, scope=service.scope_of(ctx.user), query=ctx.query
    )
    csv = _report(ctx, "students", StudentReportRow, rows, total)
    return csv or service.student_report_json(rows, total, students)


@api_route(
    "GET",
    "/api/reports/users",
    summary="User report (admin only)",
    tags=REPORTS,
    query=UserReportQuery,
    response=UserReport,
    roles=ADMIN,
    errors=(401, 403, 422),
    paged=True,
    other_media_types=("text/csv",),
)
async def user_report(ctx: Context[None, UserReportQuery]) -> UserReport | Response:
    """`{total_users, users: [...]}`, ordered by user id. `created_from`/`created_to` (or
    `date_from`/`date_to`) take a date (whole UTC day) or a date-time. `limit` 1–1000 (default 100);
    `format=csv` as for courses."""
    rows, total = await service.user_report(ctx.runtime, query=ctx.query)
    csv = _report(ctx, "users", UserReportRow, rows, total)
    return csv or service.user_report_json(rows, total)


@api_route(
    "GET",
    "/api/reports/activity",
    summary="Activity report: what happened in a period, and the audit entries, newest first",
    tags=REPORTS,
    query=ActivityReportQuery,
    response=ActivityReport,
    roles=STAFF,
    errors=(401, 403, 422),
    paged=True,
    other_media_types=("text/csv",),
)
async def activity_report(ctx: Context[None, ActivityReportQuery]) -> ActivityReport | Response:
    """New users, enrollments, completions and courses in the period (`date_from`..`date_to`, by default
    the last 30 days; instructors: their courses), the newest of them, and as `entries` the audit entries
    of GET /api/audit-logs with the same filters and scope, up to 1000 per page (default 100).
    `format=csv` answers the entries as CSV."""
    query = ctx.query
    scope = service.scope_of(ctx.user)
    rows, total = await audit.browse(ctx.runtime, instructor_id=scope.instructor_id, query=query)
    csv = _report(ctx, "activity", ActivityReportRow, rows, total)
    return csv or await service.activity_report_json(ctx.runtime, scope=scope, query=query, entries=rows)


routes = [
    stats,
    categories,
    enrollment_trends,
    user_growth,
    insights,
    live,
    course_report,
    student_report,
    user_report,
    activity_report,
]
