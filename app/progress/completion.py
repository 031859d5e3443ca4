"""Progress percentage and completion: the one place that decides when a course is complete."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from app.audit.service import record
from app.events import DomainEvent
from app.http.meta import RequestMeta
from app.stores.models import Enrollment
from app.stores.mongo import Document
from app.stores.sql import Tx
from app.timestamps import iso_z


def percentage(completed: Sequence[str], lesson_ids: Sequence[str]) -> tuple[list[str], float]:
    """The completed lessons that still exist (in course order) and the percentage they make."""
    done = set(completed)
    kept = [lesson_id for lesson_id in lesson_ids if lesson_id in done]
    if not lesson_ids:
        return kept, 0.0
    return kept, round(100.0 * len(kept) / len(lesson_ids), 2)


async def apply(
    tx: Tx,
    meta: RequestMeta,
    enrollment: Enrollment,
    progress: Document | None,
    lesson_ids: Sequence[str],
    *,
    actor_id: int | None,
) -> list[DomainEvent]:
    """Bring the enrollment's `progress` and `completed_at` in line with the lessons completed.

    Completing the last lesson sets `completed_at` (audited, and the learner is told); a lesson added
    later reopens the course. Returns the events to publish once the transaction has committed.
    """
    completed = list(progress.get("completed_lessons", [])) if progress else []
    _, pct = percentage(completed, lesson_ids)
    events: list[DomainEvent] = []
    now = datetime.now(UTC)
    is_complete = bool(lesson_ids) and pct >= 100.0
    if enrollment.progress != pct:
        enrollment.progress = pct
    if is_complete and enrollment.completed_at is None:
        enrollment.completed_at = now
        await record(
            tx,
            meta,
            "course_completed",
            actor_id=actor_id,
            resource_type="course",
            resource_id=enrollment.course_id,
            details={"user_id": enrollment.user_id},
        )
        events.append(
            DomainEvent(
                name="course.completed",
                data={
                    "user_id": enrollment.user_id,
                    "course_id": enrollment.course_id,
                    "completed_at": iso_z(now),
                },
                course_id=enrollment.course_id,
                user_ids=(enrollment.user_id,),
            )
        )
    elif not is_complete and enrollment.completed_at is not None:
        enrollment.completed_at = None
        events.append(
            DomainEvent(
                name="course.reopened",
                data={"user_id": enrollment.user_id, "course_id": enrollment.course_id, "progress": pct},
                course_id=enrollment.course_id,
                user_ids=(enrollment.user_id,),
            )
        )
    await tx.flush()
    return events
