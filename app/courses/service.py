"""Courses: the catalogue, drafts, publishing, deletion (with lessons, progress and enrollments)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter

from app.audit.service import record
from app.courses import access, store
from app.courses.schemas import (
    CategoryPublic,
    CourseCreate,
    CourseDetail,
    CoursePublic,
    CourseUpdate,
    CourseWithEnrollments,
)
from app.errors import Forbidden, NotFound
from app.events import DomainEvent
from app.http.meta import RequestMeta
from app.http.public_cache import Page
from app.runtime import Runtime
from app.security.principal import Principal
from app.stores.models import Course
from app.stores.sql import Tx
from app.syllabus import store as lessons
from app.syllabus.public import to_public as lesson_public


def _full_name(first: str, last: str) -> str:
    return f"{first} {last}".strip()


def _average(rating_sum: int, rating_count: int) -> float | None:
    return round(rating_sum / rating_count, 2) if rating_count else None


def _public(course: Any, *, instructor: str, avatar: str | None, is_enrolled: bool) -> CoursePublic:
    """`course` is a Course or a catalogue row: both carry the course's columns and counters."""
    average = _average(course.rating_sum, course.rating_count)
    return CoursePublic(
        id=course.id,
        title=course.title,
        description=course.description,
        category=course.category,
        level=course.level,
        duration=course.duration,
        thumbnail_url=course.thumbnail_url,
        banner_url=course.banner_url,
        instructor_id=course.instructor_id,
        instructor=instructor,
        instructorAvatar=avatar,
        is_published=course.is_published,
        is_leaderboard_public=course.is_leaderboard_public,
        is_enrolled=is_enrolled,
        lessonsCount=course.lessons_count or 0,
        enrollment_count=course.enrollment_count,
        enrolledStudents=course.enrollment_count,
        rating=average or 0.0,
        average_rating=average,
        rating_count=course.rating_count,
        created_at=course.created_at,
        updated_at=course.updated_at,
    )


def from_row(row: Any) -> CoursePublic:
    """A public view of one row of `store.catalogue_page`."""
    return _public(
        row,
        instructor=_full_name(row.instructor_first_name or "", row.instructor_last_name or ""),
        avatar=row.instructor_avatar_url,
        is_enrolled=bool(row.is_enrolled),
    )


async def present(
    tx: Tx, runtime: Runtime, courses: Sequence[Course], principal: Principal | None
) -> list[CoursePublic]:
    """Public views of loaded courses, with their instructor, counters and the caller's enrollment."""
    ids = [course.id for course in courses]
    instructors = await store.users_by_id(tx, {course.instructor_id for course in courses})
    enrolled = await store.enrolled_course_ids(tx, principal.user_id, ids) if principal else set()
    result = []
    for course in courses:
        teacher = instructors.get(course.instructor_id)
        result.append(
            _public(
                course,
                instructor=_full_name(teacher.first_name, teacher.last_name) if teacher else "",
                avatar=teacher.avatar_url if teacher else None,
                is_enrolled=course.id in enrolled,
            )
        )
    return result


async def list_courses(
    runtime: Runtime,
    principal: Principal | None,
    *,
    category: str | None,
    level: str | None,
    search: str | None,
    skip: int,
    limit: int,
) -> tuple[list[CoursePublic], int]:
    rows, total = await store.catalogue_page(
        runtime.db,
        viewer_id=principal.user_id if principal else None,
        role=principal.role if principal else None,
        category=category,
        level=level,
        search=search,
        skip=skip,
        limit=limit,
    )
    return [from_row(row) for row in rows], total


async def get_course(runtime: Runtime, principal: Principal | None, course_id: int) -> CourseDetail:
    """The course with its lessons; their content and notes only for those who may open them."""
    rows, _ = await store.catalogue_page(
        runtime.db,
        viewer_id=principal.user_id if principal else None,
        role=principal.role if principal else None,
        course_id=course_id,
    )
    if not rows:
        raise NotFound("No such course.", code="course_not_found")
    public = from_row(rows[0])
    opens_lessons = public.is_enrolled or access.can_manage_course(principal, public.instructor_id)
    docs = await (
        lessons.for_course(runtime.documents, course_id)
        if opens_lessons
        else lessons.syllabus(runtime.documents, course_id)
    )
    return CourseDetail(
        **public.model_dump(), lessons=[lesson_public(doc, with_content=opens_lessons) for doc in docs]
    )


_ITEM = TypeAdapter(CoursePublic)
_DETAIL = TypeAdapter(CourseDetail)


def uses_public_pages(principal: Principal | None) -> bool:
    """Anonymous callers and learners see the same courses (the published ones); instructors and
    admins also see drafts, so their pages are never the public ones."""
    return principal is None or principal.role == "learner"


async def public_catalogue(
    runtime: Runtime, *, category: str | None, level: str | None, search: str | None, skip: int, limit: int
) -> Page:
    """The anonymous catalogue page, as cacheable bytes."""
    items, total = await list_courses(
        runtime, None, category=category, level=level, search=search, skip=skip, limit=limit
    )
    return Page.of_list(
        [_ITEM.dump_json(item) for item in items],
        [item.id for item in items],
        total,
        runtime.public_cache.seconds,
    )


async def enrolled_course(runtime: Runtime, learner: Principal, course_id: int) -> Page | None:
    """The course page every learner enrolled in the course gets (lessons with their content,
    `is_enrolled` true), as cacheable bytes; None unless `learner` is a learner enrolled in the
    published course (then the caller answers without the cache)."""
    detail = await get_course(runtime, learner, course_id)
    if learner.role != "learner" or not detail.is_enrolled or not detail.is_published:
        return None
    return Page.of_one(_DETAIL.dump_json(detail), course_id, runtime.public_cache.seconds)


async def public_course(runtime: Runtime, course_id: int) -> Page | None:
    """The anonymous course page, as cacheable bytes (None for a draft: drafts are never cached;
    anonymous callers cannot see them anyway)."""
    detail = await get_course(runtime, None, course_id)
    if not detail.is_published:
        return None
    return Page.of_one(_DETAIL.dump_json(detail), course_id, runtime.public_cache.seconds)


async def enrolled_in(runtime: Runtime, user_id: int) -> frozenset[int]:
    """The courses a user is enrolled in, from the public cache while it holds them."""

    async def compute() -> frozenset[int]:
        async with runtime.db.read() as tx:
            return frozenset(await store.all_enrolled_course_ids(tx, user_id))

    return await runtime.public_cache.enrolled(user_id, compute)


async def create_course(
    runtime: Runtime, principal: Principal, body: CourseCreate, meta: RequestMeta
) -> CourseDetail:
    access.require_not_blocked(principal)
    async with runtime.db.transaction() as tx:
        course = await store.add(tx, **body.model_dump(), instructor_id=principal.user_id, is_published=False)
        await record(
            tx,
            meta,
            "course_created",
            actor_id=principal.user_id,
            resource_type="course",
            resource_id=course.id,
            details={"title": course.title},
        )
    return await get_course(runtime, principal, course.id)


async def update_course(
    runtime: Runtime, principal: Principal, course_id: int, body: CourseUpdate, meta: RequestMeta
) -> CourseDetail:
    access.require_not_blocked(principal)
    changes: dict[str, Any] = body.changes()
    events: list[DomainEvent] = []
    async with runtime.db.transaction() as tx:
        course = await access.managed_course(tx, principal, course_id, for_update=True)
        was_published = course.is_published
        was_public_board = course.is_leaderboard_public
        await store.set_fields(tx, course, **changes)
        if (was_published and not course.is_published) or (
            was_public_board and not course.is_leaderboard_public
        ):
            # Subscribers of the course's channels may have lost access: they are re-authorized.
            events.append(
                DomainEvent(name="course.access_narrowed", data={"course_id": course_id}, course_id=course_id)
            )
        await record(
            tx,
            meta,
            "course_updated",
            actor_id=principal.user_id,
            resource_type="course",
            resource_id=course_id,
            details={"fields": sorted(changes)},
        )
        if course.is_published and not was_published:
            await record(
                tx,
                meta,
                "course_published",
                actor_id=principal.user_id,
                resource_type="course",
                resource_id=course_id,
            )
            events.append(
                DomainEvent(
                    name="course.published",
                    data={"course_id": course_id, "title": course.title},
                    course_id=course_id,
                )
            )
    await runtime.public_cache.changed()
    for event in events:
        await runtime.events.publish(event)
    return await get_course(runtime, principal, course_id)


async def delete_course(runtime: Runtime, principal: Principal, course_id: int, meta: RequestMeta) -> None:
    access.require_not_blocked(principal)
    async with runtime.db.transaction() as tx:
        course = await access.managed_course(tx, principal, course_id, for_update=True)
        title = course.title
        await store.remove(tx, course)  # enrollments, ratings, comments and telemetry go by ON DELETE CASCADE
        await record(
            tx,
            meta,
            "course_deleted",
            actor_id=principal.user_id,
            resource_type="course",
            resource_id=course_id,
            details={"title": title},
        )
    await store.remove_documents(runtime.documents, course_id)
    await runtime.public_cache.changed()
    await runtime.events.publish(
        DomainEvent(name="course.deleted", data={"course_id": course_id}, course_id=course_id)
    )


async def with_enrollments(runtime: Runtime, principal: Principal) -> list[CourseWithEnrollments]:
    if principal.role not in ("instructor", "admin"):
        raise Forbidden("Only instructors and admins have courses.", code="insufficient_role")
    async with runtime.db.read() as tx:
        courses = await store.owned_by(tx, None if principal.is_admin else principal.user_id)
        public = await present(tx, runtime, courses, principal)
        stats = await store.completion_stats(tx, [course.id for course in courses])
    return [
        CourseWithEnrollments(
            **item.model_dump(),
            enrollments=item.enrollment_count,
            completed_count=stats.get(item.id, (0, 0.0))[0],
            average_progress=stats.get(item.id, (0, 0.0))[1],
        )
        for item in public
    ]


async def categories(runtime: Runtime) -> list[str]:
    async with runtime.db.read() as tx:
        return [name for name, _ in await store.categories(tx)]


async def category_counts(runtime: Runtime) -> list[CategoryPublic]:
    async with runtime.db.read() as tx:
        return [CategoryPublic(name=name, course_count=count) for name, count in await store.categories(tx)]
