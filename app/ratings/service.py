"""Course ratings: enrolled learners rate once and may change their rating."""

from __future__ import annotations

from app.courses import access
from app.courses import store as courses
from app.errors import Forbidden
from app.ratings import store
from app.ratings.schemas import RatingInput, RatingPublic
from app.runtime import Runtime
from app.security.principal import Principal
from app.stores.models import Rating, User


def _public(rating: Rating, user: User) -> RatingPublic:
    return RatingPublic(
        id=rating.id,
        course_id=rating.course_id,
        user_id=rating.user_id,
        name=f"{user.first_name} {user.last_name}".strip(),
        avatar=user.avatar_url,
        stars=rating.stars,
        review=rating.review,
        created_at=rating.created_at,
        updated_at=rating.updated_at,
    )


async def rate(runtime: Runtime, principal: Principal, course_id: int, body: RatingInput) -> RatingPublic:
    access.require_not_blocked(principal)
    review = body.review.strip() if body.review else None
    async with runtime.db.transaction() as tx:
        await access.visible_course(tx, principal, course_id)
        if await courses.enrollment(tx, principal.user_id, course_id) is None:
            raise Forbidden("Only enrolled learners can rate a course.", code="not_enrolled")
        rating = await store.upsert(
            tx, user_id=principal.user_id, course_id=course_id, stars=body.stars, review=review or None
        )
        user = await courses.users_by_id(tx, {principal.user_id})
    await runtime.public_cache.changed()
    return _public(rating, user[principal.user_id])


async def ratings(
    runtime: Runtime, principal: Principal | None, course_id: int, *, skip: int, limit: int
) -> tuple[list[RatingPublic], int]:
    async with runtime.db.read() as tx:
        await access.visible_course(tx, principal, course_id)
        rows, total = await store.for_course(tx, course_id, skip=skip, limit=limit)
    return [_public(rating, user) for rating, user in rows], total
