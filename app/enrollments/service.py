"""Enrolling in and leaving courses."""

from __future__ import annotations

from app.audit.service import record
from app.courses import access
from app.courses import store as courses
from app.courses.service import from_row
from app.enrollments import store
from app.enrollments.schemas import Enrolled, LearnerEnrollment
from app.errors import BadRequest, Conflict, NotFound
from app.events import DomainEvent
from app.http.meta import RequestMeta
from app.progress import completion
from app.progress import store as progress
from app.runtime import Runtime
from app.security.principal import Principal
from app.stores.mongo import progress_id
from app.syllabus.lesson_ids import lesson_ids_by_course


async def enroll(runtime: Runtime, principal: Principal, course_id: int, meta: RequestMeta) -> Enrolled:
    access.require_not_blocked(principal)
    async with runtime.db.transaction() as tx:
        course = await access.visible_course(tx, principal, course_id)
        if not course.is_published:
            raise BadRequest("Drafts cannot be enrolled in.", code="course_not_published")
        if course.instructor_id == principal.user_id:
            raise BadRequest("You teach this course.", code="own_course")
        enrollment = await store.add(tx, user_id=principal.user_id, course_id=course_id)
        if enrollment is None:
            raise Conflict("You are already enrolled in this course.", code="already_enrolled")
        await record(
            tx, meta, "enrolled", actor_id=principal.user_id, resource_type="course", resource_id=course_id
        )
    # A new enrollment starts from zero, whatever a previous enrollment or a late telemetry write left.
    await progress.reset(runtime.documents, principal.user_id, course_id)
    await runtime.public_cache.changed()
    await runtime.events.publish(
        DomainEvent(
            name="enrollment.created",
            data={"user_id": principal.user_id, "course_id": course_id},
            course_id=course_id,
            user_ids=(principal.user_id,),
        )
    )
    return Enrolled(
        id=enrollment.id,
        user_id=enrollment.user_id,
        course_id=enrollment.course_id,
        enrolled_at=enrollment.enrolled_at,
        progress=enrollment.progress,
        completed_at=enrollment.completed_at,
        message="Enrolled successfully",
    )


async def unenroll(runtime: Runtime, principal: Principal, course_id: int, meta: RequestMeta) -> None:
    async with runtime.db.transaction() as tx:
        # The course's row first, as the lesson service takes it before the enrollments: the enrollment
        # trigger updates the course's counter, and the other order could deadlock with a lesson change.
        await courses.lock_for_counters(tx, course_id)
        # Learners may leave a course that was unpublished after they enrolled, so no visibility check
        # when they are enrolled; otherwise a hidden course is reported as missing, like everywhere else.
        enrollment = await courses.enrollment(tx, principal.user_id, course_id, for_update=True)
        if enrollment is None:
            await access.visible_course(tx, principal, course_id)
            raise NotFound("You are not enrolled in this course.", code="not_enrolled")
        await store.remove(tx, enrollment)
        await record(
            tx, meta, "unenrolled", actor_id=principal.user_id, resource_type="course", resource_id=course_id
        )
    await progress.delete(runtime.documents, principal.user_id, course_id)
    await runtime.public_cache.changed()
    await runtime.events.publish(
        DomainEvent(
            name="enrollment.deleted",
            data={"user_id": principal.user_id, "course_id": course_id},
            course_id=course_id,
            user_ids=(principal.user_id,),
        )
    )


# The course's fields a learner's enrollment lists flat beside its own (`id` is the course's).
LISTED_COURSE_FIELDS = {"id", "title", "description", "category", "level", "duration", "thumbnail_url"}


async def learner_enrollments(runtime: Runtime, principal: Principal) -> list[LearnerEnrollment]:
    rows = await courses.enrolled_courses(runtime.db, principal.user_id)
    ids = [row.id for row in rows]
    lesson_ids = await lesson_ids_by_course(runtime, ids)
    pairs = [(principal.user_id, course_id) for course_id in ids]
    docs = await progress.for_pairs(runtime.documents, pairs, fields=("completed_lessons",))
    result = []
    for row in rows:
        course = from_row(row)
        doc = docs.get(progress_id(principal.user_id, course.id)) or {}
        done, _ = completion.percentage(doc.get("completed_lessons", []), lesson_ids[course.id])
        result.append(
            LearnerEnrollment(
                **{name: getattr(course, name) for name in LISTED_COURSE_FIELDS},
                enrolled_at=row.enrolled_at,
                completed_at=row.completed_at,
                total_lessons=len(lesson_ids[course.id]),
                completed_lessons=len(done),
                progress_percentage=int(row.enrollment_progress),
                is_completed=row.completed_at is not None,
                enrollment_id=row.enrollment_id,
                user_id=principal.user_id,
                course_id=course.id,
                progress=row.enrollment_progress,
                course=course,
            )
        )
    return result
