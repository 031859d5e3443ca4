"""Analytics and reports: query filters and response shapes.

Every figure is computed for a scope: `platform` for admins, `instructor` (only the caller's own courses
and the people enrolled in them) for instructors. Rates and averages are percentages rounded to 2 decimals;
durations are whole seconds from the telemetry rollups; days and months are UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from app.audit.schemas import (
    AuditEntry,
    AuditLogPublic,
    DateBound,
    DateRange,
    DbId,
    check_range,
    original_action,
)
from app.http.schemas import UtcDatetime, blank_is_none

Scope = Literal["platform", "instructor"]
Level = Literal["Beginner", "Intermediate", "Advanced"]
Role = Literal["learner", "instructor", "admin"]
Bound = dt.date | dt.datetime
Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]

# --- analytics ---------------------------------------------------------------------------------------------


class StatsPublic(BaseModel):
    """Headline totals. For instructors the user counts cover the people enrolled in their courses."""

    scope: Scope
    total_users: int
    active_users: int = Field(description="Distinct people with at least one enrollment (total_students)")
    total_learners: int
    total_instructors: int
    total_admins: int
    blocked_users: int
    deactivated_users: int
    new_users_last_30_days: int = Field(
        description="Admins: accounts created; instructors: people whose first enrollment in one of "
        "their courses was in the last 30 days (today included)"
    )
    total_courses: int
    published_courses: int
    draft_courses: int
    total_enrollments: int
    total_completions: int = Field(description="Enrollments with a completion date")
    completion_rate: float = Field(description="total_completions / total_enrollments in %, 0 without any")
    average_progress: float = Field(description="Mean enrollment progress in %, 0 without enrollments")
    total_students: int = Field(description="Distinct people with at least one enrollment")
    enrollments_last_7_days: int
    completions_last_7_days: int
    total_time_spent_seconds: int = Field(description="Sum of the telemetry rollups")
    active_learners_last_7_days: int = Field(
        description="Distinct learners with tracked time on one of the last 7 UTC days (today included)"
    )
    total_ratings: int
    average_rating: float | None = Field(description="Mean stars, null without ratings")
    total_comments: int = Field(description="Discussion posts and replies")


class CategoryStats(BaseModel):
    name: str = Field(description='The category, "Uncategorized" when it is empty')
    count: int = Field(description="Courses in the category (the same as courses)")
    percentage: int = Field(description="The category's whole-percent share of the courses in scope")
    category: str
    courses: int
    published_courses: int
    enrollments: int
    completions: int
    completion_rate: float
    students: int = Field(description="Distinct people enrolled in the category's courses")


class TrendsQuery(BaseModel):
    days: int = Field(30, ge=1, le=365, description="How many UTC days, ending today (1–365)")


class TrendPoint(BaseModel):
    date: dt.date
    enrollments: int = Field(description="Enrollments made that day")
    completions: int = Field(description="Enrollments completed that day")
    active_learners: int = Field(description="Distinct learners with tracked time that day")
    time_spent_seconds: int


class GrowthQuery(BaseModel):
    months: int = Field(12, ge=1, le=36, description="How many calendar months, ending with this one (1–36)")


class GrowthPoint(BaseModel):
    month: str = Field(description="YYYY-MM (UTC)")
    new_users: int = Field(
        description="Admins: accounts created that month; instructors: people whose first enrollment in "
        "one of their courses was that month"
    )
    total_users: int = Field(description="Running total at the end of the month")


class InsightsQuery(BaseModel):
    limit: int = Field(5, ge=1, le=50, description="Entries per list (1–50)")


class CourseInsight(BaseModel):
    course_id: int
    title: str
    category: str
    enrollments: int
    completions: int
    completion_rate: float


class RatedCourseInsight(BaseModel):
    course_id: int
    title: str
    average_rating: float
    rating_count: int


class LearnerInsight(BaseModel):
    user_id: int
    name: str
    email: str
    time_spent_seconds: int
    courses: int = Field(description="Courses (in scope) with tracked time")


class InsightsPublic(BaseModel):
    avg_lesson_views: float = Field(description="total_lessons_viewed / total_enrollments, 2 decimals")
    completion_rate: float = Field(description="completed_enrollments / total_enrollments in %")
    total_lessons_viewed: int = Field(description="Distinct (learner, lesson) pairs with tracked time")
    total_enrollments: int
    completed_enrollments: int
    scope: Scope
    top_courses: list[CourseInsight] = Field(description="Most enrollments first")
    lowest_completion_courses: list[CourseInsight] = Field(
        description="Lowest completion rate first, among courses with at least one enrollment"
    )
    top_rated_courses: list[RatedCourseInsight] = Field(description="Highest mean rating first")
    most_active_learners: list[LearnerInsight] = Field(description="Most tracked time first, all time")


# --- reports -----------------------------------------------------------------------------------------------
#
# A report answers an object, as the original API did: totals and the rows under a name (`courses`,
# `students`, `users`; the activity report adds the audit entries as `entries`). Its CSV export (format=csv)
# is the rows alone, one column per field of the *Row model.

REPORT_MAX_LIMIT = 1000


class ReportQuery(BaseModel):
    skip: int = Field(0, ge=0, le=1_000_000)
    limit: int = Field(100, ge=1, le=REPORT_MAX_LIMIT, description="Rows per page, at most 1000")
    format: Literal["json", "csv"] = Field("json", description="csv: text/csv attachment with a header row")


class DatedReportQuery(ReportQuery, DateRange):
    pass


class CourseReportQuery(DatedReportQuery):
    """`date_from`/`date_to` bound the courses' creation."""

    category: str | None = Field(None, max_length=100)
    level: Level | None = None
    is_published: bool | None = None
    instructor_id: DbId | None = None
    search: str | None = Field(None, max_length=200, description="Literal text in the title or description")

    _blank = field_validator("category", "search", mode="before")(blank_is_none)


class CourseReportRow(BaseModel):
    id: int
    title: str
    category: str
    level: str
    instructor_id: int
    instructor_name: str
    is_published: bool
    enrollments: int
    completions: int
    completion_rate: float
    average_progress: float
    average_rating: float | None
    rating_count: int
    time_spent_seconds: int
    created_at: UtcDatetime


class CourseReportItem(CourseReportRow):
    total_enrollments: int = Field(description="The same as enrollments")
    completed_enrollments: int = Field(description="The same as completions")


class CourseReport(BaseModel):
    total_courses: int = Field(description="Courses matching the filters (all pages)")
    courses: list[CourseReportItem]


StudentStatus = Literal["enrolled", "in_progress", "completed"]


class StudentReportQuery(DatedReportQuery):
    """`date_from`/`date_to` bound the enrollment date. `status`: enrolled (no progress yet), in_progress,
    completed."""

    course_id: DbId | None = None
    user_id: DbId | None = None
    completed: bool | None = None
    status: StudentStatus | None = None
    min_progress: Percent | None = None
    search: str | None = Field(None, max_length=200, description="Literal text in the name or email")

    _blank = field_validator("search", "status", mode="before")(blank_is_none)


class StudentReportRow(BaseModel):
    """One enrollment. completed_lessons and last_accessed come from the progress documents."""

    enrollment_id: int
    user_id: int
    name: str
    email: str
    course_id: int
    course_title: str
    enrolled_at: UtcDatetime
    progress: float
    completed: bool
    completed_at: UtcDatetime | None
    completed_lessons: int
    time_spent_seconds: int
    last_accessed: UtcDatetime | None


class StudentReportItem(BaseModel):
    """One enrollment, with the original API's names (`id` is the enrollment's, `progress` whole percent)."""

    id: int
    student_id: int
    student_name: str
    student_email: str
    course_id: int
    course_title: str
    enrolled_at: UtcDatetime
    completed_at: UtcDatetime | None
    progress: int = Field(description="Whole percent, rounded down")
    status: StudentStatus
    enrollment_id: int
    user_id: int
    name: str
    email: str
    progress_percentage: float = Field(description="Percent, 2 decimals")
    completed: bool
    completed_lessons: int
    time_spent_seconds: int
    last_accessed: UtcDatetime | None


class StudentReport(BaseModel):
    total_students: int = Field(description="Distinct students among the enrollments matching the filters")
    total_enrollments: int = Field(description="Enrollments matching the filters (all pages)")
    students: list[StudentReportItem]


class UserReportQuery(DatedReportQuery):
    """`created_from`/`created_to` (or `date_from`/`date_to`) bound the accounts' creation."""

    role: Role | None = None
    is_active: bool | None = None
    is_blocked: bool | None = None
    search: str | None = Field(None, max_length=200, description="Literal text in the name or email")
    created_from: DateBound | None = None
    created_to: DateBound | None = None

    _blank = field_validator("search", mode="before")(blank_is_none)

    @field_validator("created_to")
    @classmethod
    def _created_ordered(
        cls, value: dt.date | dt.datetime | None, info: ValidationInfo
    ) -> dt.date | dt.datetime | None:
        check_range(value, info, "created_from")
        return value


class UserReportRow(BaseModel):
    id: int
    email: str
    first_name: str
    last_name: str
    role: str
    is_active: bool
    is_blocked: bool
    created_at: UtcDatetime
    last_login_at: UtcDatetime | None
    enrollments: int
    completions: int
    courses_owned: int
    time_spent_seconds: int


class UserReportItem(UserReportRow):
    full_name: str
    total_courses_enrolled: int = Field(description="The same as enrollments")
    courses_completed: int = Field(description="The same as completions")


class UserReport(BaseModel):
    total_users: int = Field(description="Users matching the filters (all pages)")
    users: list[UserReportItem]


class ActivityReportQuery(DatedReportQuery):
    """The audit entries' filters; `date_from`/`date_to` also set the summary's period (default: the last
    30 days)."""

    user_id: DbId | None = None
    action: str | None = Field(None, max_length=64)
    resource_type: str | None = Field(None, max_length=64)
    search: str | None = Field(None, max_length=200)

    _blank = field_validator("action", "resource_type", "search", mode="before")(blank_is_none)
    _alias = field_validator("action")(original_action)


ActivityReportRow = AuditEntry


class Period(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)

    from_: UtcDatetime = Field(alias="from")
    to: UtcDatetime


class RecentUser(BaseModel):
    id: int
    email: str
    full_name: str
    role: str
    created_at: UtcDatetime


class RecentEnrollment(BaseModel):
    id: int
    user_id: int
    course_id: int
    enrolled_at: UtcDatetime


class ActivityReport(BaseModel):
    """What happened in the period (instructors: in their courses), and the audit entries."""

    period: Period
    new_users: int = Field(description="Accounts created (instructors: learners joining their courses)")
    new_enrollments: int
    course_completions: int
    new_courses: int
    recent_users: list[RecentUser] = Field(description="The 10 newest of new_users")
    recent_enrollments: list[RecentEnrollment] = Field(description="The 10 newest of new_enrollments")
    entries: list[AuditLogPublic] = Field(description="Audit entries matching the filters, newest first")


# --- live --------------------------------------------------------------------------------------------------

LIVE_COURSES_MAX = 100


class LiveCourseActivity(BaseModel):
    course_id: int
    title: str
    active_learners: int = Field(
        description="Distinct learners with an accepted heartbeat in the last 5 minutes"
    )


class LiveAnalytics(BaseModel):
    """The real-time snapshot, also pushed on the `admin:analytics` channel (event `analytics`)."""

    users_online: int = Field(description="Distinct users with an open WebSocket connection, on any instance")
    active_learners: int = Field(
        description="Distinct learners with an accepted heartbeat in the last 5 minutes, in any course"
    )
    courses: list[LiveCourseActivity] = Field(
        description=f"Learners active in the last 5 minutes per course, most active first (at most "
        f"{LIVE_COURSES_MAX}); courses without activity are left out"
    )
    heartbeats_per_minute: int = Field(description="Heartbeats accepted in the last 60 seconds")
    messages_per_minute: int = Field(description="Direct messages sent in the last 60 seconds")
    generated_at: UtcDatetime
