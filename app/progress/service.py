"""A learner's progress: lessons completed, time spent, completion; and the views built on it."""

from __future__ import annotations

from app.audit.service import record
from app.courses import access
from app.courses import store as courses
from app.errors import Forbidden, NotFound
from app.events import DomainEvent
from app.http.meta import RequestMeta
from app.progress import completion, store
from app.progress.schemas import (
    CourseBreakdown,
    LearnerStats,
    LessonBreakdown,
    ProgressPublic,
    ProgressUpdate,
    StudentStats,
    StudentSummary,
)
from app.runtime import Runtime
from app.security.principal import Principal
from app.stores.models import Enrollment
from app.stores.mongo import Document, progress_id
from app.syllabus import store as lessons
from app.syllabus.lesson_ids import lesson_ids_by_course


def to_public(
    user_id: int, course_id: int, doc: Document | None, lesson_ids: list[str], enrollment: Enrollment | None
) -> ProgressPublic:
    completed, pct = completion.percentage(doc.get("completed_lessons", []) if doc else [], lesson_ids)
    times = doc.get("lesson_times", {}) if doc else {}
    return ProgressPublic(
        id=progress_id(user_id, course_id),
        user_id=user_id,
        course_id=course_id,
        completed_lessons=completed,
        total_lessons=len(lesson_ids),
        progress_percentage=pct,
        total_seconds_spent=int(doc.get("total_seconds_spent", 0)) if doc else 0,
        last_accessed=doc.get("last_accessed") if doc else None,
        lesson_times={str(key): int(value) for key, value in times.items()},
        completed_at=enrollment.completed_at if enrollment else None,
    )


async def get_progress(runtime: Runtime, principal: Principal, course_id: int) -> ProgressPublic:
    """The caller's progress; empty for anyone who may see the course but is not enrolled (admins
    previewing it, learners before enrolling), so a course page can always load it."""
    async with runtime.db.read() as tx:
        await access.visible_course(tx, principal, course_id)
        enrollment = await courses.enrollment(tx, principal.user_id, course_id)
    lesson_ids = [doc["_id"] for doc in await lessons.for_course(runtime.documents, course_id)]
    doc = await store.get(runtime.documents, principal.user_id, course_id) if enrollment else None
    return to_public(principal.user_id, course_id, doc, lesson_ids, enrollment)


async def update_progress(
    runtime: Runtime, principal: Principal, course_id: int, body: ProgressUpdate, meta: RequestMeta
) -> ProgressPublic:
    events: list[DomainEvent] = []
    async with runtime.db.transaction() as tx:
        await access.visible_course(tx, principal, course_id)
        # The row lock serializes concurrent updates of one learner's progress in this course.
        enrollment = await courses.enrollment(tx, principal.user_id, course_id, for_update=True)
        if enrollment is None:
            raise Forbidden("Enroll in this course first.", code="not_enrolled")
        lesson_ids = [doc["_id"] for doc in await lessons.for_course(runtime.documents, course_id)]
        if body.lesson_id not in lesson_ids:
            raise NotFound("No such lesson in this course.", code="lesson_not_found")
        before = await store.ensure(runtime.documents, principal.user_id, course_id)
        was_done = body.lesson_id in before.get("completed_lessons", [])
        await store.mark_lesson(
            runtime.documents, principal.user_id, course_id, body.lesson_id, body.completed
        )
        doc = await store.get(runtime.documents, principal.user_id, course_id)
        if body.completed and not was_done:
            await record(
                tx,
                meta,
                "lesson_completed",
                actor_id=principal.user_id,
                resource_type="lesson",
                resource_id=body.lesson_id,
                details={"course_id": course_id},
            )
        events += await completion.apply(tx, meta, enrollment, doc, lesson_ids, actor_id=principal.user_id)
        result = to_public(principal.user_id, course_id, doc, lesson_ids, enrollment)
    events.insert(
        0,
        DomainEvent(
            name="progress.updated",
            data={
                "user_id": principal.user_id,
                "course_id": course_id,
                "progress": result.progress_percentage,
            },
            course_id=course_id,
            user_ids=(principal.user_id,),
        ),
    )
    for event in events:
        await runtime.events.publish(event)
    return result


async def progress_of_user(
    runtime: Runtime, user_id: int, course_ids: list[int] | None = None
) -> list[ProgressPublic]:
    async with runtime.db.read() as tx:
        rows = await courses.enrollments_of_user(tx, user_id, course_ids)
    ids = [course.id for _, course in rows]
    by_course = await lesson_ids_by_course(runtime, ids)
    docs = await store.for_pairs(runtime.documents, [(user_id, course_id) for course_id in ids])
    return [
        to_public(user_id, course.id, docs.get(f"{user_id}:{course.id}"), by_course[course.id], enrollment)
        for enrollment, course in rows
    ]


async def learner_stats(runtime: Runtime, principal: Principal) -> LearnerStats:
    items = await progress_of_user(runtime, principal.user_id)
    completed = sum(1 for item in items if item.completed_at is not None)
    return LearnerStats(
        courses_in_progress=len(items) - completed,
        courses_completed=completed,
        lessons_completed=sum(len(item.completed_lessons) for item in items),
        total_enrolled=len(items),
        total_seconds_spent=sum(item.total_seconds_spent for item in items),
    )


async def student_stats(runtime: Runtime, principal: Principal, student_id: int) -> StudentStats:
    """Admins see every course of the student; instructors only the student's courses they teach."""
    if principal.role not in ("admin", "instructor"):
        raise Forbidden("Only instructors and admins can see student statistics.", code="insufficient_role")
    async with runtime.db.read() as tx:
        users = await courses.users_by_id(tx, {student_id})
        scope = None if principal.is_admin else await courses.course_ids_owned_by(tx, principal.user_id)
        rows = await courses.enrollments_of_user(tx, student_id, scope)
    student = users.get(student_id)
    if student is None or (scope is not None and not rows):
        raise NotFound("No such student in your courses.", code="student_not_found")
    ids = [course.id for _, course in rows]
    lesson_docs: dict[int, list[Document]] = {course_id: [] for course_id in ids}
    for lesson in await lessons.for_courses(runtime.documents, ids):
        lesson_docs[lesson["course_id"]].append(lesson)
    docs = await store.for_pairs(runtime.documents, [(student_id, course_id) for course_id in ids])
    breakdowns = []
    for enrollment, course in rows:
        course_lessons = sorted(lesson_docs[course.id], key=lambda d: d["order"])
        doc = docs.get(f"{student_id}:{course.id}")
        item = to_public(student_id, course.id, doc, [d["_id"] for d in course_lessons], enrollment)
        done = set(item.completed_lessons)
        modules = [
            LessonBreakdown(
                lesson_id=d["_id"],
                title=d["title"],
                completed=d["_id"] in done,
                seconds_spent=item.lesson_times.get(d["_id"], 0),
            )
            for d in course_lessons
        ]
        breakdowns.append(
            CourseBreakdown(
                course_id=course.id,
                title=course.title,
                course_title=course.title,
                enrolled_at=enrollment.enrolled_at,
                completed_at=enrollment.completed_at,
                progress_percentage=item.progress_percentage,
                completed_lessons=len(done),
                total_lessons=item.total_lessons,
                total_seconds_spent=item.total_seconds_spent,
                last_accessed=item.last_accessed,
                lessons=modules,
                modules=modules,
            )
        )
    total_seconds = sum(b.total_seconds_spent for b in breakdowns)
    return StudentStats(
        total_hours_spent=round(total_seconds / 3600, 2),
        student=StudentSummary(
            id=student.id,
            name=f"{student.first_name} {student.last_name}".strip(),
            email=student.email,
            avatar=student.avatar_url,
            role=student.role,
        ),
        courses=breakdowns,
        total_enrolled=len(breakdowns),
        courses_completed=sum(1 for b in breakdowns if b.completed_at is not None),
        lessons_completed=sum(b.completed_lessons for b in breakdowns),
        total_seconds_spent=total_seconds,
    )
