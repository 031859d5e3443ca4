from __future__ import annotations

from app.http.routing import Context, Page, api_route
from app.http.schemas import PageQuery
from app.ratings import service as ratings
from app.ratings.schemas import RatingInput, RatingPublic

TAGS = ["courses"]  # listed with the course they rate


@api_route(
    "PUT",
    "/api/courses/{course_id:int}/rating",
    summary="Rate a course you are enrolled in (1–5)",
    tags=TAGS,
    body=RatingInput,
    response=RatingPublic,
    errors=(403, 404),
)
async def rate_course(ctx: Context[RatingInput, None]) -> RatingPublic:
    return await ratings.rate(ctx.runtime, ctx.user, ctx.path_param("course_id"), ctx.body)


@api_route(
    "GET",
    "/api/courses/{course_id:int}/ratings",
    summary="A course's ratings, newest first",
    tags=TAGS,
    query=PageQuery,
    response=list[RatingPublic],
    auth="optional",
    errors=(404,),
    paged=True,
)
async def course_ratings(ctx: Context[None, PageQuery]) -> Page[RatingPublic]:
    q = ctx.query
    items, total = await ratings.ratings(
        ctx.runtime, ctx.principal, ctx.path_param("course_id"), skip=q.skip, limit=q.limit
    )
    return Page(items, total)


routes = [rate_course, course_ratings]
