"""Analytics and reports (docs/PRODUCT.md; README, "Learning domain").

Scope: admins see the whole platform; instructors get the same views narrowed to the courses they own
(enrollments, ratings, comments and telemetry of those courses, and the people enrolled in them);
everyone else is refused. Time spent always comes from the PostgreSQL telemetry rollups, so every figure
of one scope adds up; the progress documents in MongoDB supply the per-enrollment lesson counts and
last-access times of the students report.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from app.analytics import store
from app.analytics.schemas import (
    LIVE_COURSES_MAX,
    ActivityReport,
    ActivityReportQuery,
    CategoryStats,
    CourseInsight,
    CourseReport,
    CourseReportItem,
    CourseReportQuery,
    CourseReportRow,
    GrowthPoint,
    InsightsPublic,
    LearnerInsight,
    LiveAnalytics,
    LiveCourseActivity,
    Period,
    RatedCourseInsight,
    RecentEnrollment,
    RecentUser,
    StatsPublic,
    StudentReport,
    StudentReportItem,
    StudentReportQuery,
    StudentReportRow,
    TrendPoint,
    UserReport,
    UserReportItem,
    UserReportQuery,
    UserReportRow,
)
from app.audit.schemas import AuditEntry, AuditLogPublic, end_of, start_of
from app.errors import Forbidden
from app.live import store as live_store
from app.progress import store as progress_store
from app.runtime import Runtime
from app.security.principal import Principal
from app.timestamps import iso_z


@dataclass(frozen=True)
class Scope:
    """Whose data a caller may see: `instructor_id` None is the whole platform."""

    instructor_id: int | None

    @property
    def name(self) -> str:
        return "platform" if self.instructor_id is None else "instructor"

    @property
    def is_platform(self) -> bool:
        return self.instructor_id is None


def scope_of(principal: Principal) -> Scope:
    if principal.role == "admin":
        return Scope(None)
    if principal.role == "instructor":
        return Scope(principal.user_id)
    raise Forbidden("Analytics are for instructors and admins.", code="insufficient_role")


def _today() -> date:
    return datetime.now(UTC).date()


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _name(first: str, last: str) -> str:
    return f"{first} {last}".strip()


# --- analytics ---------------------------------------------------------------------------------------------


async def stats(runtime: Runtime, *, scope: Scope) -> StatsPublic:
    today = _today()
    async with runtime.db.read() as tx:
        totals = await store.totals(
            tx,
            instructor_id=scope.instructor_id,
            week_start=today - timedelta(days=6),
            month_start=today - timedelta(days=29),
        )
    return StatsPublic(
        scope="platform" if scope.is_platform else "instructor",
        total_users=totals.total_users,
        active_users=totals.total_students,
        total_learners=totals.total_learners,
        total_instructors=totals.total_instructors,
        total_admins=totals.total_admins,
        blocked_users=totals.blocked_users,
        deactivated_users=totals.deactivated_users,
        new_users_last_30_days=totals.new_users,
        total_courses=totals.total_courses,
        published_courses=totals.published_courses,
        draft_courses=totals.total_courses - totals.published_courses,
        total_enrollments=totals.total_enrollments,
        total_completions=totals.total_completions,
        completion_rate=_percent(totals.total_completions, totals.total_enrollments),
        average_progress=_round(totals.average_progress) or 0.0,
        total_students=totals.total_students,
        enrollments_last_7_days=totals.recent_enrollments,
        completions_last_7_days=totals.recent_completions,
        total_time_spent_seconds=totals.total_seconds,
        active_learners_last_7_days=totals.active_learners,
        total_ratings=totals.total_ratings,
        average_rating=_round(totals.average_rating),
        total_comments=totals.total_comments,
    )


async def categories(runtime: Runtime, *, scope: Scope) -> list[CategoryStats]:
    async with runtime.db.read() as tx:
        rows = await store.categories(tx, instructor_id=scope.instructor_id)
    all_courses = sum(row.courses for row in rows)
    return [
        CategoryStats(
            name=row.category or "Uncategorized",
            count=row.courses,
            percentage=round(100 * row.courses / all_courses) if all_courses else 0,
            category=row.category,
            courses=row.courses,
            published_courses=row.published_courses,
            enrollments=row.enrollments,
            completions=row.completions,
            completion_rate=_percent(row.completions, row.enrollments),
            students=row.students,
        )
        for row in rows
    ]


async def enrollment_trends(runtime: Runtime, *, scope: Scope, days: int) -> list[TrendPoint]:
    today = _today()
    async with runtime.db.read() as tx:
        rows = await store.daily_trends(
            tx, instructor_id=scope.instructor_id, first=today - timedelta(days=days - 1), last=today
        )
    return [
        TrendPoint(
            date=row.day,
            enrollments=row.enrollments,
            completions=row.completions,
            active_learners=row.active_learners,
            time_spent_seconds=row.seconds,
        )
        for row in rows
    ]


def months_back(month: date, count: int) -> date:
    """The first day of the month `count` months before `month`'s."""
    index = month.year * 12 + (month.month - 1) - count
    return date(index // 12, index % 12 + 1, 1)


async def user_growth(runtime: Runtime, *, scope: Scope, months: int) -> list[GrowthPoint]:
    this_month = _today().replace(day=1)
    async with runtime.db.read() as tx:
        rows = await store.monthly_growth(
            tx,
            instructor_id=scope.instructor_id,
            first_month=months_back(this_month, months - 1),
            last_month=this_month,
        )
    return [
        GrowthPoint(month=f"{month.year:04d}-{month.month:02d}", new_users=new, total_users=total)
        for month, new, total in rows
    ]


def _course_insight(row: store.CourseCounts) -> CourseInsight:
    return CourseInsight(
        course_id=row.course_id,
        title=row.title,
        category=row.category,
        enrollments=row.enrollments,
        completions=row.completions,
        completion_rate=_percent(row.completions, row.enrollments),
    )


async def insights(runtime: Runtime, *, scope: Scope, limit: int) -> InsightsPublic:
    async with runtime.db.read() as tx:
        top, lowest = await store.course_rankings(tx, instructor_id=scope.instructor_id, limit=limit)
        rated = await store.top_rated(tx, instructor_id=scope.instructor_id, limit=limit)
        learners = await store.most_active_learners(tx, instructor_id=scope.instructor_id, limit=limit)
        viewed, enrollments, completed = await store.viewing(tx, instructor_id=scope.instructor_id)
    return InsightsPublic(
        avg_lesson_views=round(viewed / enrollments, 2) if enrollments else 0.0,
        completion_rate=_percent(completed, enrollments),
        total_lessons_viewed=viewed,
        total_enrollments=enrollments,
        completed_enrollments=completed,
        scope="platform" if scope.is_platform else "instructor",
        top_courses=[_course_insight(row) for row in top],
        lowest_completion_courses=[_course_insight(row) for row in lowest],
        top_rated_courses=[
            RatedCourseInsight(
                course_id=row.course_id,
                title=row.title,
                average_rating=round(row.average, 2),
                rating_count=row.count,
            )
            for row in rated
        ],
        most_active_learners=[
            LearnerInsight(
                user_id=row.user_id,
                name=_name(row.first_name, row.last_name),
                email=row.email,
                time_spent_seconds=row.seconds,
                courses=row.courses,
            )
            for row in learners
        ],
    )


# --- reports -----------------------------------------------------------------------------------------------


async def course_report(
    runtime: Runtime, *, scope: Scope, query: CourseReportQuery
) -> tuple[list[CourseReportRow], int]:
    async with runtime.db.read() as tx:
        rows, total = await store.course_report(
            tx,
            instructor_id=scope.instructor_id,
            category=query.category,
            level=query.level,
            is_published=query.is_published,
            owner_id=query.instructor_id,
            search=query.search,
            since=start_of(query.date_from),
            before=end_of(query.date_to),
            skip=query.skip,
            limit=query.limit,
        )
    return [
        CourseReportRow(
            id=row.course.id,
            title=row.course.title,
            category=row.course.category,
            level=row.course.level,
            instructor_id=row.course.instructor_id,
            instructor_name=_name(row.instructor_first_name, row.instructor_last_name),
            is_published=row.course.is_published,
            enrollments=row.enrollments,
            completions=row.completions,
            completion_rate=_percent(row.completions, row.enrollments),
            average_progress=_round(row.average_progress) or 0.0,
            average_rating=_round(row.average_rating),
            rating_count=row.rating_count,
            time_spent_seconds=row.seconds,
            created_at=row.course.created_at,
        )
        for row in rows
    ], total


def _iso_datetime(value: Any) -> datetime | None:
    """A progress document's ISO 8601 string (or a datetime), tolerating anything malformed as unknown."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def course_report_json(rows: Sequence[CourseReportRow], total: int) -> CourseReport:
    return CourseReport(
        total_courses=total,
        courses=[
            CourseReportItem(
                **row.model_dump(), total_enrollments=row.enrollments, completed_enrollments=row.completions
            )
            for row in rows
        ],
    )


async def student_report(
    runtime: Runtime, *, scope: Scope, query: StudentReportQuery
) -> tuple[list[StudentReportRow], int, int]:
    """A page of enrollments, how many match, and how many distinct students they have."""
    async with runtime.db.read() as tx:
        rows, total, students = await store.student_report(
            tx,
            instructor_id=scope.instructor_id,
            course_id=query.course_id,
            user_id=query.user_id,
            completed=query.completed,
            status=query.status,
            min_progress=query.min_progress,
            search=query.search,
            since=start_of(query.date_from),
            before=end_of(query.date_to),
            skip=query.skip,
            limit=query.limit,
        )
    documents = await progress_store.for_pairs(
        runtime.documents, [(row.enrollment.user_id, row.enrollment.course_id) for row in rows]
    )
    result = []
    for row in rows:
        enrollment, user = row.enrollment, row.user
        doc = documents.get(f"{enrollment.user_id}:{enrollment.course_id}") or {}
        completed_lessons = doc.get("completed_lessons")
        result.append(
            StudentReportRow(
                enrollment_id=enrollment.id,
                user_id=user.id,
                name=_name(user.first_name, user.last_name),
                email=user.email,
                course_id=enrollment.course_id,
                course_title=row.course_title,
                enrolled_at=enrollment.enrolled_at,
                progress=round(enrollment.progress, 2),
                completed=enrollment.completed_at is not None,
                completed_at=enrollment.completed_at,
                completed_lessons=len(completed_lessons) if isinstance(completed_lessons, list) else 0,
                time_spent_seconds=row.seconds,
                last_accessed=_iso_datetime(doc.get("last_accessed")),
            )
        )
    return result, total, students


def student_report_json(rows: Sequence[StudentReportRow], total: int, students: int) -> StudentReport:
    return StudentReport(
        total_students=students,
        total_enrollments=total,
        students=[
            StudentReportItem(
                **row.model_dump(exclude={"progress"}),
                id=row.enrollment_id,
                student_id=row.user_id,
                student_name=row.name,
                student_email=row.email,
                progress=int(row.progress),
                status="completed" if row.completed else "in_progress" if row.progress > 0 else "enrolled",
                progress_percentage=row.progress,
            )
            for row in rows
        ],
    )


async def user_report(runtime: Runtime, *, query: UserReportQuery) -> tuple[list[UserReportRow], int]:
    async with runtime.db.read() as tx:
        rows, total = await store.user_report(
            tx,
            role=query.role,
            is_active=query.is_active,
            is_blocked=query.is_blocked,
            search=query.search,
            since=start_of(query.created_from or query.date_from),
            before=end_of(query.created_to or query.date_to),
            skip=query.skip,
            limit=query.limit,
        )
    return [
        UserReportRow(
            id=row.user.id,
            email=row.user.email,
            first_name=row.user.first_name,
            last_name=row.user.last_name,
            role=row.user.role,
            is_active=row.user.is_active,
            is_blocked=row.user.is_blocked,
            created_at=row.user.created_at,
            last_login_at=row.user.last_login_at,
            enrollments=row.enrollments,
            completions=row.completions,
            courses_owned=row.courses_owned,
            time_spent_seconds=row.seconds,
        )
        for row in rows
    ], total


def user_report_json(rows: Sequence[UserReportRow], total: int) -> UserReport:
    return UserReport(
        total_users=total,
        users=[
            UserReportItem(
                **row.model_dump(),
                full_name=_name(row.first_name, row.last_name),
                total_courses_enrolled=row.enrollments,
                courses_completed=row.completions,
            )
            for row in rows
        ],
    )


ACTIVITY_DEFAULT_DAYS = 30


async def activity_report_json(
    runtime: Runtime, *, scope: Scope, query: ActivityReportQuery, entries: Sequence[AuditEntry]
) -> ActivityReport:
    """The period is date_from..date_to, by default the last 30 days up to now."""
    now = datetime.now(UTC)
    since = start_of(query.date_from) or now - timedelta(days=ACTIVITY_DEFAULT_DAYS)
    before = end_of(query.date_to) or now
    async with runtime.db.read() as tx:
        summary = await store.activity(tx, instructor_id=scope.instructor_id, since=since, before=before)
    return ActivityReport(
        period=Period(from_=since, to=before),
        new_users=summary.new_users,
        new_enrollments=summary.new_enrollments,
        course_completions=summary.course_completions,
        new_courses=summary.new_courses,
        recent_users=[
            RecentUser(
                id=user.id,
                email=user.email,
                full_name=_name(user.first_name, user.last_name),
                role=user.role,
                created_at=at,
            )
            for user, at in summary.recent_users
        ],
        recent_enrollments=[
            RecentEnrollment(
                id=row.id, user_id=row.user_id, course_id=row.course_id, enrolled_at=row.enrolled_at
            )
            for row in summary.recent_enrollments
        ],
        entries=[AuditLogPublic.of(entry) for entry in entries],
    )


# --- CSV export --------------------------------------------------------------------------------------------

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection); a leading
# apostrophe makes it text. Tab and carriage return are on OWASP's list too.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime):
        return iso_z(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    else:
        text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def to_csv(model: type[BaseModel], rows: Sequence[BaseModel]) -> str:
    """A header row of the model's field names, then one row per item, cells neutralised for spreadsheets."""
    columns = list(model.model_fields)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(getattr(row, column)) for column in columns])
    return buffer.getvalue()


async def live(runtime: Runtime) -> LiveAnalytics:
    """The real-time snapshot (`/live`): read from Redis counters kept by the hub, the heartbeat
    path and the message events; cheap enough to answer on every request and every push."""
    counts = await live_store.live_counts(runtime.redis, online_key=runtime.settings.hub_config().online_key)
    busiest = sorted(counts.active_by_course.items(), key=lambda item: (-item[1], item[0]))
    async with runtime.db.read() as tx:
        titles = await live_store.course_titles(tx, [course_id for course_id, _ in busiest])
    courses = [
        LiveCourseActivity(course_id=course_id, title=titles[course_id], active_learners=count)
        for course_id, count in busiest
        if course_id in titles
    ]
    return LiveAnalytics(
        users_online=counts.users_online,
        active_learners=counts.active_learners,
        courses=courses[:LIVE_COURSES_MAX],
        heartbeats_per_minute=counts.heartbeats_per_minute,
        messages_per_minute=counts.messages_per_minute,
        generated_at=datetime.now(UTC),
    )
