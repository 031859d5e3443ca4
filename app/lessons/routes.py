from __future__ import annotations

from starlette.responses import Response

from app.http.meta import request_meta
from app.http.routing import Context, api_route
from app.lessons import service
from app.lessons.schemas import LessonCreate, LessonOrder, LessonPublic, LessonUpdate

TAGS = ["lessons"]
TEACHERS = ("instructor", "admin")
COURSE = "/api/courses/{course_id:int}/lessons"


@api_route(
    "GET",
    COURSE,
    summary="A course's lessons in order (enrolled learners, owner, admin)",
    tags=TAGS,
    response=list[LessonPublic],
    errors=(403, 404),
)
async def list_lessons(ctx: Context[None, None]) -> list[LessonPublic]:
    return await service.list_lessons(ctx.runtime, ctx.user, ctx.path_param("course_id"))


@api_route(
    "POST",
    COURSE,
    summary="Add a lesson (owner or admin); reopens completed enrollments",
    tags=TAGS,
    body=LessonCreate,
    response=LessonPublic,
    status_code=201,
    roles=TEACHERS,
    errors=(403, 404),
)
async def create_lesson(ctx: Context[LessonCreate, None]) -> LessonPublic:
    return await service.create_lesson(
        ctx.runtime, ctx.user, ctx.path_param("course_id"), ctx.body, request_meta(ctx)
    )


@api_route(
    "PUT",
    COURSE + "/order",
    summary="Reorder lessons: every lesson id exactly once",
    tags=TAGS,
    body=LessonOrder,
    response=list[LessonPublic],
    roles=TEACHERS,
    errors=(403, 404),
)
async def reorder_lessons(ctx: Context[LessonOrder, None]) -> list[LessonPublic]:
    return await service.reorder(
        ctx.runtime, ctx.user, ctx.path_param("course_id"), ctx.body.lesson_ids, request_meta(ctx)
    )


@api_route(
    "PUT",
    COURSE + "/{lesson_id}",
    summary="Update a lesson (owner or admin)",
    tags=TAGS,
    body=LessonUpdate,
    response=LessonPublic,
    roles=TEACHERS,
    errors=(403, 404),
)
async def update_lesson(ctx: Context[LessonUpdate, None]) -> LessonPublic:
    return await service.update_lesson(
        ctx.runtime,
        ctx.user,
        ctx.path_param("course_id"),
        ctx.path_param("lesson_id"),
        ctx.body,
        request_meta(ctx),
    )


@api_route(
    "DELETE",
    COURSE + "/{lesson_id}",
    summary="Delete a lesson (owner or admin)",
    tags=TAGS,
    status_code=204,
    roles=TEACHERS,
    errors=(403, 404),
)
async def delete_lesson(ctx: Context[None, None]) -> Response:
    await service.delete_lesson(
        ctx.runtime, ctx.user, ctx.path_param("course_id"), ctx.path_param("lesson_id"), request_meta(ctx)
    )
    return Response(status_code=204)


routes = [list_lessons, create_lesson, reorder_lessons, update_lesson, delete_lesson]
