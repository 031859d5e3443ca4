from __future__ import annotations

from app.enrollments import service
from app.enrollments.schemas import Enrolled, LearnerEnrollment
from app.http.meta import request_meta
from app.http.routing import Context, api_route
from app.http.schemas import Message

TAGS = ["learning"]


@api_route(
    "POST",
    "/api/courses/{course_id:int}/enroll",
    summary="Enroll in a published course",
    tags=TAGS,
    response=Enrolled,
    status_code=201,
    errors=(400, 403, 404, 409),
)
async def enroll(ctx: Context[None, None]) -> Enrolled:
    return await service.enroll(ctx.runtime, ctx.user, ctx.path_param("course_id"), request_meta(ctx))


@api_route(
    "DELETE",
    "/api/courses/{course_id:int}/unenroll",
    summary="Leave a course (removes your progress)",
    tags=TAGS,
    response=Message,
    errors=(404,),
)
async def unenroll(ctx: Context[None, None]) -> Message:
    await service.unenroll(ctx.runtime, ctx.user, ctx.path_param("course_id"), request_meta(ctx))
    return Message(message="Unenrolled successfully")


@api_route(
    "GET",
    "/api/learner/enrollments",
    summary="The courses you are enrolled in (id = course id), with your progress",
    tags=TAGS,
    response=list[LearnerEnrollment],
)
async def learner_enrollments(ctx: Context[None, None]) -> list[LearnerEnrollment]:
    return await service.learner_enrollments(ctx.runtime, ctx.user)


routes = [enroll, unenroll, learner_enrollments]
