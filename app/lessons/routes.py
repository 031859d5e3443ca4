from __future__ import annotations

from app.http.meta import request_meta
from app.http.routing import Context, api_route
from app.http.schemas import Message
from app.lessons import service
from app.lessons.schemas import (
    LessonCreate,
    LessonCreated,
    LessonOrder,
    LessonUpdate,
    LessonUpdated,
)
from app.syllabus.schemas import LessonPublic

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
    response=LessonCreated,
    status_code=201,
    roles=TEACHERS,
    errors=(403, 404),
)
async def create_lesson(ctx: Context[LessonCreate, None]) -> LessonCreated:
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
    summary="Update a lesson (owner or admin); blank values keep what is stored, `clear` erases",
    tags=TAGS,
    body=LessonUpdate,
    response=LessonUpdated,
    roles=TEACHERS,
    errors=(403, 404),
)
async def update_lesson(ctx: Context[LessonUpdate, None]) -> LessonUpdated:
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
    response=Message,
    roles=TEACHERS,
    errors=(403, 404),
)
async def delete_lesson(ctx: Context[None, None]) -> Message:
    await service.delete_lesson(
        ctx.runtime, ctx.user, ctx.path_param("course_id"), ctx.path_param("lesson_id"), request_meta(ctx)
    )
    return Message(message="Lesson deleted successfully")


routes = [list_lessons, create_lesson, reorder_lessons, update_lesson, delete_lesson]
