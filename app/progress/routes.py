from __future__ import annotations

from app.http.meta import request_meta
from app.http.routing import Context, api_route
from app.progress import service
from app.progress.schemas import LearnerStats, ProgressPublic, ProgressUpdate, StudentStats

TAGS = ["learning"]


@api_route(
    "GET",
    "/api/courses/{course_id:int}/progress",
    summary="Your progress in a course (empty when you are not enrolled)",
    tags=TAGS,
    response=ProgressPublic,
    errors=(404,),
)
async def get_progress(ctx: Context[None, None]) -> ProgressPublic:
    return await service.get_progress(ctx.runtime, ctx.user, ctx.path_param("course_id"))


@api_route(
    "POST",
    "/api/courses/{course_id:int}/progress",
    summary="Mark a lesson complete or not; the last one completes the course",
    tags=TAGS,
    body=ProgressUpdate,
    response=ProgressPublic,
    errors=(403, 404),
)
async def update_progress(ctx: Context[ProgressUpdate, None]) -> ProgressPublic:
    return await service.update_progress(
        ctx.runtime, ctx.user, ctx.path_param("course_id"), ctx.body, request_meta(ctx)
    )


@api_route(
    "GET",
    "/api/my-progress",
    summary="Your progress in every course you are enrolled in",
    tags=TAGS,
    response=list[ProgressPublic],
)
async def my_progress(ctx: Context[None, None]) -> list[ProgressPublic]:
    return await service.progress_of_user(ctx.runtime, ctx.user.user_id)


@api_route("GET", "/api/learner/stats", summary="Your learning totals", tags=TAGS, response=LearnerStats)
async def learner_stats(ctx: Context[None, None]) -> LearnerStats:
    return await service.learner_stats(ctx.runtime, ctx.user)


@api_route(
    "GET",
    "/api/admin/students/{user_id:int}/stats",
    summary="A student's per-course progress, time and per-lesson breakdown (admin; instructor: own courses)",
    tags=["users"],
    response=StudentStats,
    roles=("instructor", "admin"),
    errors=(404,),
)
async def student_stats(ctx: Context[None, None]) -> StudentStats:
    return await service.student_stats(ctx.runtime, ctx.user, ctx.path_param("user_id"))


routes = [
    get_progress,
    update_progress,
    my_progress,
    learner_stats,
    student_stats,
]
