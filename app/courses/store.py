"""SQL for courses, the enrollment look-ups every course-scoped domain needs, and the removal of a
deleted course's documents."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    String,
    and_,
    bindparam,
    column,
    delete,
    exists,
    false,
    func,
    or_,
    select,
    true,
    update,
)

from app.stores.models import Course, Enrollment, User
from app.stores.mongo import COURSE_SCOPED, DocumentStore
from app.stores.plain import PlainRow, PlainStatement
from app.stores.sql import Database, Tx, like_escape


async def get(tx: Tx, course_id: int) -> Course | None:
    return await tx.get(Course, course_id)


async def get_for_update(tx: Tx, course_id: int) -> Course | None:
    query = select(Course).where(Course.id == course_id).with_for_update()
    return (await tx.execute(query)).scalar_one_or_none()


async def add(tx: Tx, **fields: Any) -> Course:
    course = Course(**fields)
    tx.add(course)
    await tx.flush()
    await tx.refresh(course)
    return course


async def set_fields(tx: Tx, course: Course, **fields: Any) -> Course:
    for name, value in fields.items():
        setattr(course, name, value)
    await tx.flush()
    await tx.refresh(course)
    return course


async def remove(tx: Tx, course: Course) -> None:
    await tx.delete(course)
    await tx.flush()


async def remove_documents(documents: DocumentStore, course_id: int) -> None:
    """A deleted course's lessons, progress and telemetry documents."""
    for collection in COURSE_SCOPED:
        await documents.delete_where(collection, {"course_id": course_id})


def _visible(role: str | None) -> ColumnElement[bool]:
    """Learners and anonymous users see published courses; instructors also their own (`viewer_id`);
    admins all."""
    if role == "admin":
        return true()
    if role == "instructor":
        return or_(
            Course.is_published.is_(True), Course.instructor_id == bindparam("viewer_id", required=True)
        )
    return Course.is_published.is_(True)


def _conditions(*, role: str | None, category: bool, level: bool, search: bool) -> ColumnElement[bool]:
    conditions = [_visible(role)]
    if category:
        conditions.append(Course.category == bindparam("category", required=True))
    if level:
        conditions.append(Course.level == bindparam("level", required=True))
    if search:
        pattern = bindparam("pattern", required=True, type_=String)
        conditions.append(
            or_(Course.title.ilike(pattern, escape="\\"), Course.description.ilike(pattern, escape="\\"))
        )
    return and_(*conditions)


_PAGE_COLUMNS = (
    *Course.__table__.c,
    User.first_name.label("instructor_first_name"),
    User.last_name.label("instructor_last_name"),
    User.avatar_url.label("instructor_avatar_url"),
)


def _enrolled(by_viewer: bool) -> Any:
    if not by_viewer:
        return false().label("is_enrolled")
    enrolled = exists().where(
        Enrollment.user_id == bindparam("viewer_id", required=True), Enrollment.course_id == Course.id
    )
    return enrolled.label("is_enrolled")


# Built once per shape (role kind, which filters, one course or a page, whether enrollment is asked),
# with every value a parameter: a few dozen statements at most.
_CATALOGUE: dict[tuple[Any, ...], PlainStatement] = {}


def _catalogue_statement(
    role: str | None, *, category: bool, level: bool, search: bool, one_course: bool, enrolled: bool
) -> PlainStatement:
    role_kind = role if role in ("admin", "instructor") else None
    shape = (role_kind, category, level, search, one_course, enrolled)
    if shape not in _CATALOGUE:
        where = _conditions(role=role_kind, category=category, level=level, search=search)
        counted = select(func.count().label("total")).select_from(Course).where(where)
        page = (
            select(*_PAGE_COLUMNS, _enrolled(enrolled))
            .outerjoin(User, User.id == Course.instructor_id)
            .where(where)
        )
        if one_course:
            counted = counted.where(Course.id == bindparam("course_id", required=True))
            page = page.where(Course.id == bindparam("course_id", required=True))
        total = counted.subquery("total")
        paged = (
            page.order_by(Course.created_at.desc(), Course.id.desc())
            .offset(bindparam("skip", required=True))
            .limit(bindparam("limit", required=True))
            .lateral("page")
        )
        _CATALOGUE[shape] = PlainStatement.of(
            select(total.c.total, paged).select_from(total.outerjoin(paged, true()))
        )
    return _CATALOGUE[shape]


async def catalogue_page(
    db: Database,
    *,
    viewer_id: int | None,
    role: str | None,
    category: str | None = None,
    level: str | None = None,
    search: str | None = None,
    course_id: int | None = None,
    skip: int = 0,
    limit: int = 1,
) -> tuple[list[PlainRow], int]:
    """One plain statement: the page of courses `viewer_id` in `role` may see (with instructor,
    maintained counters and whether the viewer is enrolled) and how many match. The count is the
    outer side of a lateral join, so a page past the end still reports the total."""
    statement = _catalogue_statement(
        role,
        category=bool(category),
        level=bool(level),
        search=bool(search),
        one_course=course_id is not None,
        enrolled=viewer_id is not None,
    )
    values = {
        "viewer_id": viewer_id,
        "category": category,
        "level": level,
        "pattern": "%" + like_escape(search) + "%" if search else None,
        "course_id": course_id,
        "skip": skip,
        "limit": limit,
    }
    rows = await db.plain.fetch(statement, values)
    count = int(rows[0].total) if rows else 0
    return [row for row in rows if row.id is not None], count


_ENROLLED_COURSES = PlainStatement.of(
    select(
        Enrollment.id.label("enrollment_id"),
        Enrollment.enrolled_at,
        Enrollment.completed_at,
        Enrollment.progress.label("enrollment_progress"),
        *_PAGE_COLUMNS,
        true().label("is_enrolled"),
    )
    .select_from(Enrollment)
    .join(Course, Course.id == Enrollment.course_id)
    .outerjoin(User, User.id == Course.instructor_id)
    .where(Enrollment.user_id == bindparam("user_id", required=True))
    .order_by(Enrollment.enrolled_at.desc(), Enrollment.id.desc())
)


async def enrolled_courses(db: Database, user_id: int) -> list[PlainRow]:
    """One plain statement: a user's enrollments, the newest first, each with its course's catalogue
    columns (`enrollment_id`, `enrolled_at`, `completed_at`, `enrollment_progress` beside them)."""
    return await db.plain.fetch(_ENROLLED_COURSES, {"user_id": user_id})


async def lock_for_counters(tx: Tx, course_id: int) -> None:
    """The lock a counter update takes on the course's row (none if there is no such course)."""
    await tx.execute(select(Course.id).where(Course.id == course_id).with_for_update(key_share=True))


async def without_lesson_count(tx: Tx) -> list[int]:
    query = select(Course.id).where(Course.lessons_count.is_(None))
    return list((await tx.execute(query)).scalars().all())


async def lock_lesson_count(tx: Tx, course_id: int) -> tuple[bool, int | None]:
    """(whether the course exists, its lesson count), with the course's row locked."""
    query = select(Course.lessons_count).where(Course.id == course_id).with_for_update()
    row = (await tx.execute(query)).one_or_none()
    return (False, None) if row is None else (True, row[0])


async def set_lesson_count(tx: Tx, course_id: int, count: int) -> None:
    await tx.execute(update(Course).where(Course.id == course_id).values(lessons_count=count))


async def lessons_changed(tx: Tx, course_id: int, delta: int) -> None:
    """Keep `lessons_count` exact: called in the transaction that adds or deletes a lesson document
    (under the course's row lock). A NULL count (not counted yet) stays NULL."""
    await tx.execute(
        update(Course).where(Course.id == course_id).values(lessons_count=Course.lessons_count + delta)
    )


async def owned_by(tx: Tx, instructor_id: int | None) -> Sequence[Course]:
    """Courses of one instructor, or of everyone when `instructor_id` is None."""
    query = select(Course).order_by(Course.id)
    if instructor_id is not None:
        query = query.where(Course.instructor_id == instructor_id)
    return (await tx.execute(query)).scalars().all()


async def course_ids_owned_by(tx: Tx, instructor_id: int) -> list[int]:
    query = select(Course.id).where(Course.instructor_id == instructor_id)
    return list((await tx.execute(query)).scalars().all())


async def categories(tx: Tx) -> list[tuple[str, int]]:
    query = (
        select(Course.category, func.count(Course.id))
        .where(Course.is_published.is_(True), Course.category != "")
        .group_by(Course.category)
        .order_by(Course.category)
    )
    return [(name, int(count)) for name, count in (await tx.execute(query)).all()]


async def users_by_id(tx: Tx, user_ids: set[int]) -> dict[int, User]:
    if not user_ids:
        return {}
    rows = (await tx.execute(select(User).where(User.id.in_(user_ids)))).scalars().all()
    return {user.id: user for user in rows}


# Built once with their values as parameters: these run on most course-internal requests, and a reused
# statement spares SQLAlchemy its per-statement cache-key walk.
_ENROLLMENT = select(Enrollment).where(
    Enrollment.user_id == bindparam("user_id", required=True),
    Enrollment.course_id == bindparam("course_id", required=True),
)
_ENROLLMENT_FOR_UPDATE = _ENROLLMENT.with_for_update()


_COURSE_AND_ENROLLMENT = PlainStatement.of(
    select(
        Course.id,
        Course.instructor_id,
        Course.is_published,
        Course.is_leaderboard_public,
        select(Enrollment.id)
        .where(Enrollment.user_id == bindparam("user_id", required=True), Enrollment.course_id == Course.id)
        .scalar_subquery()
        .label("enrollment_id"),
    ).where(Course.id == bindparam("course_id", required=True))
)


@dataclass(frozen=True)
class CourseAccess:
    """What deciding who may take part in a course needs of it."""

    id: int
    instructor_id: int
    is_published: bool
    is_leaderboard_public: bool


async def course_and_enrollment(
    db: Database, course_id: int, user_id: int
) -> tuple[CourseAccess | None, int | None]:
    """The course and the id of the user's enrollment in it (None: not enrolled), in one plain
    statement: it runs on every course-internal request, and sees what is committed (a caller's own
    transaction adds neither)."""
    rows = await db.plain.fetch(_COURSE_AND_ENROLLMENT, {"course_id": course_id, "user_id": user_id})
    if not rows:
        return None, None
    row = rows[0]
    course = CourseAccess(row.id, row.instructor_id, row.is_published, row.is_leaderboard_public)
    return course, row.enrollment_id


# (user, course) pairs given as two arrays: one statement whatever their number (an IN list of pairs would
# pass two bind parameters per pair, and be compiled anew for every length).
USER_COURSE_PAIRS = (
    func.unnest(
        bindparam("user_ids", type_=ARRAY(Integer), required=True),
        bindparam("course_ids", type_=ARRAY(Integer), required=True),
    )
    .table_valued(column("user_id", Integer), column("course_id", Integer))
    .render_derived(name="pairs")
)

_COURSES_AND_ENROLLMENTS = PlainStatement.of(
    select(
        USER_COURSE_PAIRS.c.user_id,
        Course.id,
        Course.instructor_id,
        Course.is_published,
        Course.is_leaderboard_public,
        Enrollment.id.label("enrollment_id"),
    ).select_from(
        USER_COURSE_PAIRS.join(Course, Course.id == USER_COURSE_PAIRS.c.course_id).outerjoin(
            Enrollment,
            and_(Enrollment.user_id == USER_COURSE_PAIRS.c.user_id, Enrollment.course_id == Course.id),
        )
    )
)


async def courses_and_enrollments(
    db: Database, pairs: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], tuple[CourseAccess, int | None]]:
    """`course_and_enrollment` for many (user id, course id) pairs in one plain statement; a pair whose
    course does not exist is absent from the answer."""
    if not pairs:
        return {}
    user_ids, course_ids = zip(*pairs, strict=True)
    rows = await db.plain.fetch(
        _COURSES_AND_ENROLLMENTS, {"user_ids": list(user_ids), "course_ids": list(course_ids)}
    )
    return {
        (row.user_id, row.id): (
            CourseAccess(row.id, row.instructor_id, row.is_published, row.is_leaderboard_public),
            row.enrollment_id,
        )
        for row in rows
    }


async def enrollment(tx: Tx, user_id: int, course_id: int, *, for_update: bool = False) -> Enrollment | None:
    query = _ENROLLMENT_FOR_UPDATE if for_update else _ENROLLMENT
    return (await tx.execute(query, {"user_id": user_id, "course_id": course_id})).scalar_one_or_none()


async def enrollments_of_course(tx: Tx, course_id: int, *, for_update: bool = False) -> Sequence[Enrollment]:
    """A course's enrollments in the order they were made (locked with `for_update`)."""
    query = select(Enrollment).where(Enrollment.course_id == course_id).order_by(Enrollment.id)
    if for_update:
        query = query.with_for_update()
    return (await tx.execute(query)).scalars().all()


async def enrollments_of_user(
    tx: Tx, user_id: int, course_ids: Sequence[int] | None = None
) -> Sequence[tuple[Enrollment, Course]]:
    """A user's enrollments with their courses, the newest first (only those in `course_ids` if given)."""
    query = (
        select(Enrollment, Course)
        .join(Course, Course.id == Enrollment.course_id)
        .where(Enrollment.user_id == user_id)
        .order_by(Enrollment.enrolled_at.desc(), Enrollment.id.desc())
    )
    if course_ids is not None:
        query = query.where(Enrollment.course_id.in_(course_ids))
    return [(row[0], row[1]) for row in (await tx.execute(query)).all()]


async def all_enrolled_course_ids(tx: Tx, user_id: int) -> list[int]:
    query = select(Enrollment.course_id).where(Enrollment.user_id == user_id)
    return list((await tx.execute(query)).scalars().all())


async def enrolled_course_ids(tx: Tx, user_id: int, course_ids: Sequence[int]) -> set[int]:
    if not course_ids:
        return set()
    query = select(Enrollment.course_id).where(
        Enrollment.user_id == user_id, Enrollment.course_id.in_(course_ids)
    )
    return set((await tx.execute(query)).scalars().all())


async def delete_enrollments(tx: Tx, course_id: int) -> None:
    await tx.execute(delete(Enrollment).where(Enrollment.course_id == course_id))


async def completion_stats(tx: Tx, course_ids: Sequence[int]) -> dict[int, tuple[int, float]]:
    """Per course: how many enrollments are complete, and the average progress."""
    if not course_ids:
        return {}
    query = (
        select(Enrollment.course_id, func.count(Enrollment.completed_at), func.avg(Enrollment.progress))
        .where(Enrollment.course_id.in_(course_ids))
        .group_by(Enrollment.course_id)
    )
    return {cid: (int(done), round(float(avg or 0), 2)) for cid, done, avg in (await tx.execute(query)).all()}
