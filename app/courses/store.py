"""SQL for courses, and the enrollment look-ups every course-scoped domain needs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, delete, func, or_, select

from app.stores.models import Course, Enrollment, Rating, User
from app.stores.sql import Tx, like_escape


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


def visible_to(user_id: int | None, role: str | None) -> Any:
    """Learners and anonymous users see published courses; instructors also their own; admins all."""
    if role == "admin":
        return True
    if role == "instructor" and user_id is not None:
        return or_(Course.is_published.is_(True), Course.instructor_id == user_id)
    return Course.is_published.is_(True)


def _filtered(
    query: Select[Any], *, visibility: Any, category: str | None, level: str | None, search: str | None
) -> Select[Any]:
    conditions = [visibility]
    if category:
        conditions.append(Course.category == category)
    if level:
        conditions.append(Course.level == level)
    if search:
        pattern = "%" + like_escape(search) + "%"
        conditions.append(
            or_(Course.title.ilike(pattern, escape="\\"), Course.description.ilike(pattern, escape="\\"))
        )
    return query.where(and_(*conditions))


async def list_courses(
    tx: Tx,
    *,
    visibility: Any,
    category: str | None,
    level: str | None,
    search: str | None,
    skip: int,
    limit: int,
) -> tuple[Sequence[Course], int]:
    filters = {"visibility": visibility, "category": category, "level": level, "search": search}
    total = (await tx.execute(_filtered(select(func.count(Course.id)), **filters))).scalar_one()
    query = _filtered(select(Course), **filters).order_by(Course.created_at.desc(), Course.id.desc())
    rows = (await tx.execute(query.offset(skip).limit(limit))).scalars().all()
    return rows, int(total)


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


async def enrollment(tx: Tx, user_id: int, course_id: int, *, for_update: bool = False) -> Enrollment | None:
    query = select(Enrollment).where(Enrollment.user_id == user_id, Enrollment.course_id == course_id)
    if for_update:
        query = query.with_for_update()
    return (await tx.execute(query)).scalar_one_or_none()


async def enrolled_course_ids(tx: Tx, user_id: int, course_ids: Sequence[int]) -> set[int]:
    if not course_ids:
        return set()
    query = select(Enrollment.course_id).where(
        Enrollment.user_id == user_id, Enrollment.course_id.in_(course_ids)
    )
    return set((await tx.execute(query)).scalars().all())


async def enrollment_counts(tx: Tx, course_ids: Sequence[int]) -> dict[int, int]:
    if not course_ids:
        return {}
    query = (
        select(Enrollment.course_id, func.count(Enrollment.id))
        .where(Enrollment.course_id.in_(course_ids))
        .group_by(Enrollment.course_id)
    )
    return {course_id: int(count) for course_id, count in (await tx.execute(query)).all()}


async def rating_averages(tx: Tx, course_ids: Sequence[int]) -> dict[int, tuple[float, int]]:
    if not course_ids:
        return {}
    query = (
        select(Rating.course_id, func.avg(Rating.stars), func.count(Rating.id))
        .where(Rating.course_id.in_(course_ids))
        .group_by(Rating.course_id)
    )
    return {cid: (round(float(avg), 2), int(n)) for cid, avg, n in (await tx.execute(query)).all()}


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
