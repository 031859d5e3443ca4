"""PostgreSQL analytics: aggregates, gap-free daily and monthly series (generate_series), report rows.

Every function takes `instructor_id`: None means the whole platform, an id narrows everything to that
instructor's courses (and the enrollments, ratings, comments and telemetry of those courses). Days and
months are UTC calendar days, whatever the server's time zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Float,
    Select,
    and_,
    cast,
    distinct,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.sql.expression import ColumnClause

from app.stores.models import Comment, Course, Enrollment, Rating, Telemetry, User
from app.stores.sql import Tx, like_escape

# Constants rendered inline, not as bind parameters, so that GROUP BY repeats the SELECT's expression.
_UTC: ColumnClause[str] = literal_column("'UTC'")
_MONTH: ColumnClause[str] = literal_column("'month'")
_ONE_DAY: ColumnClause[Any] = literal_column("interval '1 day'")
_ONE_MONTH: ColumnClause[Any] = literal_column("interval '1 month'")


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _utc_day(column: Any) -> ColumnElement[date]:
    return cast(func.timezone(_UTC, column), Date)


def _owned_course_ids(instructor_id: int) -> Select[int]:
    return select(Course.id).where(Course.instructor_id == instructor_id)


def _course_in_scope(column: Any, instructor_id: int | None) -> ColumnElement[bool]:
    if instructor_id is None:
        return true()
    return column.in_(_owned_course_ids(instructor_id))  # type: ignore[no-any-return]


def _people_in_scope(instructor_id: int | None) -> ColumnElement[bool]:
    """Everyone on the platform, or the people enrolled in the instructor's courses."""
    if instructor_id is None:
        return true()
    enrolled = select(Enrollment.user_id).where(_course_in_scope(Enrollment.course_id, instructor_id))
    return User.id.in_(enrolled)


def _arrivals(instructor_id: int | None) -> Any:
    """(user_id, at): when each person joined the scope — account creation on the platform, first
    enrollment in one of the instructor's courses otherwise."""
    if instructor_id is None:
        return select(User.id.label("user_id"), User.created_at.label("at")).cte("arrivals")
    return (
        select(Enrollment.user_id.label("user_id"), func.min(Enrollment.enrolled_at).label("at"))
        .where(_course_in_scope(Enrollment.course_id, instructor_id))
        .group_by(Enrollment.user_id)
        .cte("arrivals")
    )


def _series(first: date, last: date, step: ColumnClause[Any], name: str) -> tuple[Any, ColumnElement[date]]:
    """A gap-free series of dates from `first` to `last`, as a FROM item and its date column."""
    series = (
        func.generate_series(cast(literal(first), Date), cast(literal(last), Date), step)
        .table_valued(name)
        .render_derived(name=f"{name}_series")
    )
    return series, cast(series.c[name], Date)


def _int(value: Any) -> int:
    return int(value or 0)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


# --- headline totals ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    total_users: int
    total_learners: int
    total_instructors: int
    total_admins: int
    blocked_users: int
    deactivated_users: int
    new_users: int
    total_courses: int
    published_courses: int
    total_enrollments: int
    total_completions: int
    average_progress: float | None
    total_students: int
    recent_enrollments: int
    recent_completions: int
    total_seconds: int
    active_learners: int
    total_ratings: int
    average_rating: float | None
    total_comments: int


async def totals(tx: Tx, *, instructor_id: int | None, week_start: date, month_start: date) -> Totals:
    """Counts for the stats endpoint; "recent" and "active" mean on or after `week_start`, "new" on or
    after `month_start`."""
    week_from = midnight(week_start)
    users = (
        await tx.execute(
            select(
                func.count(),
                func.count().filter(User.role == "learner"),
                func.count().filter(User.role == "instructor"),
                func.count().filter(User.role == "admin"),
                func.count().filter(User.is_blocked.is_(True)),
                func.count().filter(User.is_active.is_(False)),
            )
            .select_from(User)
            .where(_people_in_scope(instructor_id))
        )
    ).one()
    arrivals = _arrivals(instructor_id)
    new_users = (
        await tx.execute(
            select(func.count()).select_from(arrivals).where(arrivals.c.at >= midnight(month_start))
        )
    ).scalar_one()
    courses = (
        await tx.execute(
            select(func.count(), func.count().filter(Course.is_published.is_(True)))
            .select_from(Course)
            .where(_course_in_scope(Course.id, instructor_id))
        )
    ).one()
    enrollments = (
        await tx.execute(
            select(
                func.count(),
                func.count(Enrollment.completed_at),
                func.avg(Enrollment.progress),
                func.count(distinct(Enrollment.user_id)),
                func.count().filter(Enrollment.enrolled_at >= week_from),
                func.count().filter(Enrollment.completed_at >= week_from),
            ).where(_course_in_scope(Enrollment.course_id, instructor_id))
        )
    ).one()
    telemetry = (
        await tx.execute(
            select(
                func.sum(Telemetry.seconds),
                func.count(distinct(Telemetry.user_id)).filter(Telemetry.day >= week_start),
            ).where(_course_in_scope(Telemetry.course_id, instructor_id))
        )
    ).one()
    ratings = (
        await tx.execute(
            select(func.count(), func.avg(Rating.stars)).where(
                _course_in_scope(Rating.course_id, instructor_id)
            )
        )
    ).one()
    comments = (
        await tx.execute(
            select(func.count())
            .select_from(Comment)
            .where(_course_in_scope(Comment.course_id, instructor_id))
        )
    ).scalar_one()
    return Totals(
        total_users=_int(users[0]),
        total_learners=_int(users[1]),
        total_instructors=_int(users[2]),
        total_admins=_int(users[3]),
        blocked_users=_int(users[4]),
        deactivated_users=_int(users[5]),
        new_users=_int(new_users),
        total_courses=_int(courses[0]),
        published_courses=_int(courses[1]),
        total_enrollments=_int(enrollments[0]),
        total_completions=_int(enrollments[1]),
        average_progress=_float(enrollments[2]),
        total_students=_int(enrollments[3]),
        recent_enrollments=_int(enrollments[4]),
        recent_completions=_int(enrollments[5]),
        total_seconds=_int(telemetry[0]),
        active_learners=_int(telemetry[1]),
        total_ratings=_int(ratings[0]),
        average_rating=_float(ratings[1]),
        total_comments=_int(comments),
    )


# --- categories --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryTotals:
    category: str
    courses: int
    published_courses: int
    enrollments: int
    completions: int
    students: int


async def categories(tx: Tx, *, instructor_id: int | None) -> list[CategoryTotals]:
    query = (
        select(
            Course.category,
            func.count(distinct(Course.id)),
            func.count(distinct(Course.id)).filter(Course.is_published.is_(True)),
            func.count(Enrollment.id),
            func.count(Enrollment.completed_at),
            func.count(distinct(Enrollment.user_id)),
        )
        .select_from(Course)
        .outerjoin(Enrollment, Enrollment.course_id == Course.id)
        .where(_course_in_scope(Course.id, instructor_id))
        .group_by(Course.category)
        .order_by(Course.category)
    )
    return [
        CategoryTotals(
            category=row[0],
            courses=_int(row[1]),
            published_courses=_int(row[2]),
            enrollments=_int(row[3]),
            completions=_int(row[4]),
            students=_int(row[5]),
        )
        for row in (await tx.execute(query)).all()
    ]


# --- series ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayTotals:
    day: date
    enrollments: int
    completions: int
    active_learners: int
    seconds: int


async def daily_trends(tx: Tx, *, instructor_id: int | None, first: date, last: date) -> list[DayTotals]:
    """One row per UTC day from `first` to `last` inclusive, days without activity included as zeros."""
    start, end = midnight(first), midnight(last + timedelta(days=1))
    days, day = _series(first, last, _ONE_DAY, "day")

    enrolled_day = _utc_day(Enrollment.enrolled_at)
    enrolled = (
        select(enrolled_day.label("day"), func.count().label("n"))
        .where(
            _course_in_scope(Enrollment.course_id, instructor_id),
            Enrollment.enrolled_at >= start,
            Enrollment.enrolled_at < end,
        )
        .group_by(enrolled_day)
        .subquery("enrolled")
    )
    completed_day = _utc_day(Enrollment.completed_at)
    completed = (
        select(completed_day.label("day"), func.count().label("n"))
        .where(
            _course_in_scope(Enrollment.course_id, instructor_id),
            Enrollment.completed_at >= start,
            Enrollment.completed_at < end,
        )
        .group_by(completed_day)
        .subquery("completed")
    )
    tracked = (
        select(
            Telemetry.day.label("day"),
            func.count(distinct(Telemetry.user_id)).label("learners"),
            func.sum(Telemetry.seconds).label("seconds"),
        )
        .where(
            _course_in_scope(Telemetry.course_id, instructor_id),
            Telemetry.day >= first,
            Telemetry.day <= last,
        )
        .group_by(Telemetry.day)
        .subquery("tracked")
    )
    query = (
        select(
            day,
            func.coalesce(enrolled.c.n, 0),
            func.coalesce(completed.c.n, 0),
            func.coalesce(tracked.c.learners, 0),
            func.coalesce(tracked.c.seconds, 0),
        )
        .select_from(days)
        .outerjoin(enrolled, enrolled.c.day == day)
        .outerjoin(completed, completed.c.day == day)
        .outerjoin(tracked, tracked.c.day == day)
        .order_by(day)
    )
    return [
        DayTotals(
            day=row[0],
            enrollments=_int(row[1]),
            completions=_int(row[2]),
            active_learners=_int(row[3]),
            seconds=_int(row[4]),
        )
        for row in (await tx.execute(query)).all()
    ]


async def monthly_growth(
    tx: Tx, *, instructor_id: int | None, first_month: date, last_month: date
) -> list[tuple[date, int, int]]:
    """(month start, arrivals that month, running total at its end) for every month, gaps included."""
    arrivals = _arrivals(instructor_id)
    months, month = _series(first_month, last_month, _ONE_MONTH, "month")
    arrival_month = cast(func.date_trunc(_MONTH, func.timezone(_UTC, arrivals.c.at)), Date)
    per_month = (
        select(arrival_month.label("month"), func.count().label("n"))
        .where(arrivals.c.at >= midnight(first_month))
        .group_by(arrival_month)
        .subquery("per_month")
    )
    before = (
        select(func.count())
        .select_from(arrivals)
        .where(arrivals.c.at < midnight(first_month))
        .scalar_subquery()
    )
    new = func.coalesce(per_month.c.n, 0)
    query = (
        select(month, new, before + func.sum(new).over(order_by=month))
        .select_from(months)
        .outerjoin(per_month, per_month.c.month == month)
        .order_by(month)
    )
    return [(row[0], _int(row[1]), _int(row[2])) for row in (await tx.execute(query)).all()]


# --- insights ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CourseCounts:
    course_id: int
    title: str
    category: str
    enrollments: int
    completions: int


@dataclass(frozen=True)
class CourseRating:
    course_id: int
    title: str
    average: float
    count: int


@dataclass(frozen=True)
class LearnerTime:
    user_id: int
    first_name: str
    last_name: str
    email: str
    seconds: int
    courses: int


async def course_rankings(
    tx: Tx, *, instructor_id: int | None, limit: int
) -> tuple[list[CourseCounts], list[CourseCounts]]:
    """(most enrolled, lowest completion rate) among courses with at least one enrollment."""
    counts = (
        select(
            Enrollment.course_id.label("course_id"),
            func.count().label("enrollments"),
            func.count(Enrollment.completed_at).label("completions"),
        )
        .where(_course_in_scope(Enrollment.course_id, instructor_id))
        .group_by(Enrollment.course_id)
        .subquery("counts")
    )
    base = select(Course.id, Course.title, Course.category, counts.c.enrollments, counts.c.completions).join(
        counts, counts.c.course_id == Course.id
    )
    rate = cast(counts.c.completions, Float) / counts.c.enrollments
    top = base.order_by(counts.c.enrollments.desc(), Course.id).limit(limit)
    lowest = base.order_by(rate, counts.c.enrollments.desc(), Course.id).limit(limit)

    def build(rows: Sequence[Any]) -> list[CourseCounts]:
        return [CourseCounts(row[0], row[1], row[2], _int(row[3]), _int(row[4])) for row in rows]

    return build((await tx.execute(top)).all()), build((await tx.execute(lowest)).all())


async def top_rated(tx: Tx, *, instructor_id: int | None, limit: int) -> list[CourseRating]:
    average = func.avg(Rating.stars)
    query = (
        select(Course.id, Course.title, average, func.count(Rating.id))
        .join(Rating, Rating.course_id == Course.id)
        .where(_course_in_scope(Course.id, instructor_id))
        .group_by(Course.id)
        .order_by(average.desc(), func.count(Rating.id).desc(), Course.id)
        .limit(limit)
    )
    return [
        CourseRating(row[0], row[1], float(row[2]), _int(row[3])) for row in (await tx.execute(query)).all()
    ]


async def most_active_learners(tx: Tx, *, instructor_id: int | None, limit: int) -> list[LearnerTime]:
    seconds = func.sum(Telemetry.seconds)
    query = (
        select(
            User.id,
            User.first_name,
            User.last_name,
            User.email,
            seconds,
            func.count(distinct(Telemetry.course_id)),
        )
        .join(Telemetry, Telemetry.user_id == User.id)
        .where(_course_in_scope(Telemetry.course_id, instructor_id))
        .group_by(User.id)
        .having(seconds > 0)
        .order_by(seconds.desc(), User.id)
        .limit(limit)
    )
    return [
        LearnerTime(row[0], row[1], row[2], row[3], _int(row[4]), _int(row[5]))
        for row in (await tx.execute(query)).all()
    ]


# --- reports -----------------------------------------------------------------------------------------------


def _contains(columns: Sequence[Any], text: str) -> ColumnElement[bool]:
    """Any of the columns contains `text` literally (LIKE wildcards escaped), case-insensitively."""
    pattern = "%" + like_escape(text) + "%"
    return or_(*(column.ilike(pattern, escape="\\") for column in columns))


async def _page(
    tx: Tx, query: Select[Any], count: Select[Any], conditions: Sequence[Any], *, skip: int, limit: int
) -> tuple[list[Any], int]:
    """One page of `query` and the number of rows `count` finds, both under the same conditions."""
    total = (await tx.execute(count.where(*conditions))).scalar_one()
    rows = (await tx.execute(query.where(*conditions).offset(skip).limit(limit))).all()
    return list(rows), int(total)


@dataclass(frozen=True)
class CourseReport:
    course: Course
    instructor_first_name: str
    instructor_last_name: str
    enrollments: int
    completions: int
    average_progress: float | None
    average_rating: float | None
    rating_count: int
    seconds: int


async def course_report(
    tx: Tx,
    *,
    instructor_id: int | None,
    category: str | None,
    level: str | None,
    is_published: bool | None,
    owner_id: int | None,
    search: str | None,
    since: datetime | None,
    before: datetime | None,
    skip: int,
    limit: int,
) -> tuple[list[CourseReport], int]:
    """`since`/`before` (exclusive) bound the creation time."""
    conditions: list[Any] = [_course_in_scope(Course.id, instructor_id)]
    if since is not None:
        conditions.append(Course.created_at >= since)
    if before is not None:
        conditions.append(Course.created_at < before)
    if category is not None:
        conditions.append(Course.category == category)
    if level is not None:
        conditions.append(Course.level == level)
    if is_published is not None:
        conditions.append(Course.is_published.is_(is_published))
    if owner_id is not None:
        conditions.append(Course.instructor_id == owner_id)
    if search is not None:
        conditions.append(_contains([Course.title, Course.description], search))
    enrolled = (
        select(
            func.count(Enrollment.id).label("n"),
            func.count(Enrollment.completed_at).label("completed"),
            func.avg(Enrollment.progress).label("progress"),
        )
        .where(Enrollment.course_id == Course.id)
        .lateral("enrolled")
    )
    rated = (
        select(func.avg(Rating.stars).label("average"), func.count(Rating.id).label("n"))
        .where(Rating.course_id == Course.id)
        .lateral("rated")
    )
    seconds = select(func.coalesce(func.sum(Telemetry.seconds), 0)).where(Telemetry.course_id == Course.id)
    query = (
        select(
            Course,
            User.first_name,
            User.last_name,
            enrolled.c.n,
            enrolled.c.completed,
            enrolled.c.progress,
            rated.c.average,
            rated.c.n,
            seconds.scalar_subquery(),
        )
        .join(User, User.id == Course.instructor_id)
        .join(enrolled, true())
        .join(rated, true())
        .order_by(Course.id)
    )
    count = select(func.count()).select_from(Course)
    rows, total = await _page(tx, query, count, conditions, skip=skip, limit=limit)
    return [
        CourseReport(
            course=row[0],
            instructor_first_name=row[1],
            instructor_last_name=row[2],
            enrollments=_int(row[3]),
            completions=_int(row[4]),
            average_progress=_float(row[5]),
            average_rating=_float(row[6]),
            rating_count=_int(row[7]),
            seconds=_int(row[8]),
        )
        for row in rows
    ], total


@dataclass(frozen=True)
class StudentReport:
    enrollment: Enrollment
    user: User
    course_title: str
    seconds: int


async def student_report(
    tx: Tx,
    *,
    instructor_id: int | None,
    course_id: int | None,
    user_id: int | None,
    completed: bool | None,
    status: str | None,
    min_progress: float | None,
    search: str | None,
    since: datetime | None,
    before: datetime | None,
    skip: int,
    limit: int,
) -> tuple[list[StudentReport], int, int]:
    """A page of enrollments, how many match and how many distinct students they have. `status`:
    "enrolled" (no progress, not completed), "in_progress" (some progress, not completed), "completed".
    `since`/`before` (exclusive) bound the enrollment time."""
    conditions: list[Any] = [_course_in_scope(Enrollment.course_id, instructor_id)]
    if status == "completed":
        conditions.append(Enrollment.completed_at.is_not(None))
    elif status in ("enrolled", "in_progress"):
        conditions.append(Enrollment.completed_at.is_(None))
        conditions.append(Enrollment.progress == 0 if status == "enrolled" else Enrollment.progress > 0)
    if since is not None:
        conditions.append(Enrollment.enrolled_at >= since)
    if before is not None:
        conditions.append(Enrollment.enrolled_at < before)
    if course_id is not None:
        conditions.append(Enrollment.course_id == course_id)
    if user_id is not None:
        conditions.append(Enrollment.user_id == user_id)
    if completed is True:
        conditions.append(Enrollment.completed_at.is_not(None))
    elif completed is False:
        conditions.append(Enrollment.completed_at.is_(None))
    if min_progress is not None:
        conditions.append(Enrollment.progress >= min_progress)
    if search is not None:
        conditions.append(_contains([User.email, User.first_name + " " + User.last_name], search))
    seconds = select(func.coalesce(func.sum(Telemetry.seconds), 0)).where(
        Telemetry.user_id == Enrollment.user_id, Telemetry.course_id == Enrollment.course_id
    )
    query = (
        select(Enrollment, User, Course.title, seconds.scalar_subquery())
        .join(User, User.id == Enrollment.user_id)
        .join(Course, Course.id == Enrollment.course_id)
        .order_by(Enrollment.course_id, Enrollment.id)
    )
    count = (
        select(func.count())
        .select_from(Enrollment)
        .join(User, User.id == Enrollment.user_id)
        .join(Course, Course.id == Enrollment.course_id)
    )
    rows, total = await _page(tx, query, count, conditions, skip=skip, limit=limit)
    students = select(func.count(distinct(Enrollment.user_id))).join(User, User.id == Enrollment.user_id)
    distinct_students = (await tx.execute(students.where(*conditions))).scalar_one()
    return (
        [StudentReport(row[0], row[1], row[2], _int(row[3])) for row in rows],
        total,
        int(distinct_students),
    )


@dataclass(frozen=True)
class UserReport:
    user: User
    enrollments: int
    completions: int
    courses_owned: int
    seconds: int


async def user_report(
    tx: Tx,
    *,
    role: str | None,
    is_active: bool | None,
    is_blocked: bool | None,
    search: str | None,
    since: datetime | None,
    before: datetime | None,
    skip: int,
    limit: int,
) -> tuple[list[UserReport], int]:
    """Platform-wide (admins only); `before` is exclusive."""
    conditions: list[Any] = []
    if role is not None:
        conditions.append(User.role == role)
    if is_active is not None:
        conditions.append(User.is_active.is_(is_active))
    if is_blocked is not None:
        conditions.append(User.is_blocked.is_(is_blocked))
    if search is not None:
        conditions.append(
            _contains(
                [User.email, User.first_name, User.last_name, User.first_name + " " + User.last_name], search
            )
        )
    if since is not None:
        conditions.append(User.created_at >= since)
    if before is not None:
        conditions.append(User.created_at < before)
    enrolled = (
        select(func.count(Enrollment.id).label("n"), func.count(Enrollment.completed_at).label("completed"))
        .where(Enrollment.user_id == User.id)
        .lateral("enrolled")
    )
    owned = select(func.count(Course.id)).where(Course.instructor_id == User.id).scalar_subquery()
    seconds = select(func.coalesce(func.sum(Telemetry.seconds), 0)).where(Telemetry.user_id == User.id)
    query = (
        select(User, enrolled.c.n, enrolled.c.completed, owned, seconds.scalar_subquery())
        .join(enrolled, true())
        .order_by(User.id)
    )
    count = select(func.count()).select_from(User)
    rows, total = await _page(tx, query, count, conditions, skip=skip, limit=limit)
    return [UserReport(row[0], _int(row[1]), _int(row[2]), _int(row[3]), _int(row[4])) for row in rows], total


# --- activity summary --------------------------------------------------------------------------------------

RECENT = 10


@dataclass(frozen=True)
class RecentEnrollment:
    id: int
    user_id: int
    course_id: int
    enrolled_at: datetime


@dataclass(frozen=True)
class Activity:
    new_users: int
    new_enrollments: int
    course_completions: int
    new_courses: int
    recent_users: list[tuple[User, datetime]]
    recent_enrollments: list[RecentEnrollment]


async def activity(tx: Tx, *, instructor_id: int | None, since: datetime, before: datetime) -> Activity:
    """What happened in [since, before): people joining the scope (accounts created; for an instructor,
    first enrollments in their courses), enrollments, completions and courses created, with the newest
    arrivals and enrollments."""
    arrivals = _arrivals(instructor_id)
    arrived = and_(arrivals.c.at >= since, arrivals.c.at < before)
    new_users = (await tx.execute(select(func.count()).select_from(arrivals).where(arrived))).scalar_one()
    recent_users = (
        await tx.execute(
            select(User, arrivals.c.at)
            .join(arrivals, arrivals.c.user_id == User.id)
            .where(arrived)
            .order_by(arrivals.c.at.desc(), User.id.desc())
            .limit(RECENT)
        )
    ).all()
    in_scope = _course_in_scope(Enrollment.course_id, instructor_id)
    enrolled = and_(in_scope, Enrollment.enrolled_at >= since, Enrollment.enrolled_at < before)
    counts = (
        await tx.execute(
            select(
                func.count(Enrollment.id).filter(
                    Enrollment.enrolled_at >= since, Enrollment.enrolled_at < before
                ),
                func.count(Enrollment.id).filter(
                    Enrollment.completed_at >= since, Enrollment.completed_at < before
                ),
            ).where(in_scope)
        )
    ).one()
    recent_enrollments = (
        await tx.execute(
            select(Enrollment.id, Enrollment.user_id, Enrollment.course_id, Enrollment.enrolled_at)
            .where(enrolled)
            .order_by(Enrollment.enrolled_at.desc(), Enrollment.id.desc())
            .limit(RECENT)
        )
    ).all()
    new_courses = (
        await tx.execute(
            select(func.count(Course.id)).where(
                _course_in_scope(Course.id, instructor_id),
                Course.created_at >= since,
                Course.created_at < before,
            )
        )
    ).scalar_one()
    return Activity(
        new_users=int(new_users),
        new_enrollments=_int(counts[0]),
        course_completions=_int(counts[1]),
        new_courses=int(new_courses),
        recent_users=[(row[0], row[1]) for row in recent_users],
        recent_enrollments=[RecentEnrollment(row[0], row[1], row[2], row[3]) for row in recent_enrollments],
    )


async def viewing(tx: Tx, *, instructor_id: int | None) -> tuple[int, int, int]:
    """(distinct learner-lesson pairs with tracked time, enrollments, completed enrollments)."""
    pairs = (
        select(Telemetry.user_id, Telemetry.lesson_id)
        .where(_course_in_scope(Telemetry.course_id, instructor_id))
        .distinct()
        .subquery("viewed")
    )
    viewed = (await tx.execute(select(func.count()).select_from(pairs))).scalar_one()
    enrollments = (
        await tx.execute(
            select(func.count(Enrollment.id), func.count(Enrollment.completed_at)).where(
                _course_in_scope(Enrollment.course_id, instructor_id)
            )
        )
    ).one()
    return int(viewed), _int(enrollments[0]), _int(enrollments[1])
