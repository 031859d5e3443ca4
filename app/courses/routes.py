from __future__ import annotations

from starlette.responses import Response

from app.courses import public, service
from app.courses.schemas import (
    CategoryPublic,
    CourseCreate,
    CourseDetail,
    CourseListQuery,
    CoursePublic,
    CourseUpdate,
    CourseWithEnrollments,
)
from app.http.meta import request_meta
from app.http.routing import Context, Page, api_route
from app.http.schemas import Message

TAGS = ["courses"]
TEACHERS = ("instructor", "admin")


@api_route(
    "GET",
    "/api/courses",
    summary="The catalogue: published courses (plus your drafts or all, by role)",
    tags=TAGS,
    query=CourseListQuery,
    response=list[CoursePublic],
    auth="optional",
    paged=True,
)
async def list_courses(ctx: Context[None, CourseListQuery]) -> Page[CoursePublic] | Response:
    if service.uses_public_pages(ctx.principal):
        return await public.catalogue(ctx)
    q = ctx.query
    items, total = await service.list_courses(
        ctx.runtime,
        ctx.principal,
        category=q.category,
        level=q.level,
        search=q.search,
        skip=q.skip,
        limit=q.limit,
    )
    return Page(items, total)


@api_route(
    "GET",
    "/api/courses/with-enrollments",
    summary="Courses you teach (admin: all) with enrollment figures",
    tags=TAGS,
    response=list[CourseWithEnrollments],
    roles=TEACHERS,
)
async def with_enrollments(ctx: Context[None, None]) -> list[CourseWithEnrollments]:
    return await service.with_enrollments(ctx.runtime, ctx.user)


@api_route(
    "GET",
    "/api/categories",
    summary="Categories of published courses, by name",
    tags=TAGS,
    response=list[str],
    auth="none",
)
async def categories(ctx: Context[None, None]) -> list[str]:
    return await service.categories(ctx.runtime)


@api_route(
    "GET",
    "/api/categories/counts",
    summary="Categories of published courses with how many courses each has",
    tags=TAGS,
    response=list[CategoryPublic],
    auth="none",
)
async def category_counts(ctx: Context[None, None]) -> list[CategoryPublic]:
    return await service.category_counts(ctx.runtime)


@api_route(
    "GET",
    "/api/courses/{course_id:int}",
    summary="A course with its lessons in order (content and notes for those who may open them)",
    tags=TAGS,
    response=CourseDetail,
    auth="optional",
    errors=(404,),
)
async def get_course(ctx: Context[None, None]) -> CourseDetail | Response:
    course_id = ctx.path_param("course_id")
    if service.uses_public_pages(ctx.principal):
        cached = await public.course_page(ctx, course_id)
        if cached is not None:
            return cached
    return await service.get_course(ctx.runtime, ctx.principal, course_id)


@api_route(
    "POST",
    "/api/courses",
    summary="Create a course (as a draft)",
    tags=TAGS,
    body=CourseCreate,
    response=CourseDetail,
    status_code=201,
    roles=TEACHERS,
)
async def create_course(ctx: Context[CourseCreate, None]) -> CourseDetail:
    return await service.create_course(ctx.runtime, ctx.user, ctx.body, request_meta(ctx))


@api_route(
    "PUT",
    "/api/courses/{course_id:int}",
    summary="Update or publish a course (owner or admin)",
    tags=TAGS,
    body=CourseUpdate,
    response=CourseDetail,
    roles=TEACHERS,
    errors=(403, 404),
)
async def update_course(ctx: Context[CourseUpdate, None]) -> CourseDetail:
    return await service.update_course(
        ctx.runtime, ctx.user, ctx.path_param("course_id"), ctx.body, request_meta(ctx)
    )


@api_route(
    "DELETE",
    "/api/courses/{course_id:int}",
    summary="Delete a course with its lessons, progress and enrollments (owner or admin)",
    tags=TAGS,
    response=Message,
    roles=TEACHERS,
    errors=(403, 404),
)
async def delete_course(ctx: Context[None, None]) -> Message:
    await service.delete_course(ctx.runtime, ctx.user, ctx.path_param("course_id"), request_meta(ctx))
    return Message(message="Course deleted successfully")


routes = [
    list_courses,
    with_enrollments,
    categories,
    category_counts,
    get_course,
    create_course,
    update_course,
    delete_course,
]
