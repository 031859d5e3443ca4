"""SQL for ratings (one per learner and course)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from app.stores.models import Rating, User
from app.stores.sql import Tx


async def upsert(tx: Tx, *, user_id: int, course_id: int, stars: int, review: str | None) -> Rating:
    statement = (
        insert(Rating)
        .values(user_id=user_id, course_id=course_id, stars=stars, review=review)
        .on_conflict_do_update(
            index_elements=[Rating.user_id, Rating.course_id],
            set_={"stars": stars, "review": review, "updated_at": func.now()},
        )
        .returning(Rating)
    )
    return (await tx.execute(statement)).scalar_one()


async def for_course(
    tx: Tx, course_id: int, *, skip: int, limit: int
) -> tuple[Sequence[tuple[Rating, User]], int]:
    total = (
        await tx.execute(select(func.count(Rating.id)).where(Rating.course_id == course_id))
    ).scalar_one()
    query = (
        select(Rating, User)
        .join(User, User.id == Rating.user_id)
        .where(Rating.course_id == course_id)
        .order_by(Rating.updated_at.desc(), Rating.id.desc())
        .offset(skip)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in (await tx.execute(query)).all()], int(total)
