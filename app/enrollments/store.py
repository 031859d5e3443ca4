"""SQL for enrollments."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from app.stores.models import Enrollment, User
from app.stores.sql import Tx


async def add(tx: Tx, *, user_id: int, course_id: int) -> Enrollment | None:
    """The new enrollment, or None when the user is already enrolled (a concurrent request won)."""
    statement = (
        insert(Enrollment)
        .values(user_id=user_id, course_id=course_id)
        .on_conflict_do_nothing(index_elements=[Enrollment.user_id, Enrollment.course_id])
        .returning(Enrollment)
    )
    return (await tx.execute(statement)).scalar_one_or_none()


async def remove(tx: Tx, enrollment: Enrollment) -> None:
    await tx.delete(enrollment)
    await tx.flush()


async def with_users(tx: Tx, course_id: int) -> Sequence[tuple[Enrollment, User]]:
    query = (
        select(Enrollment, User)
        .join(User, User.id == Enrollment.user_id)
        .where(Enrollment.course_id == course_id)
        .order_by(Enrollment.id)
    )
    return [(row[0], row[1]) for row in (await tx.execute(query)).all()]
