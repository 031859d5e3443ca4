"""HTTP answers of the public catalogue and course pages from the process's cache (public_cache.py).

Anonymous callers get the cached bytes with an ETag (`If-None-Match` with it: 304) and a short public
`Cache-Control`. Learners see the same courses, so they get the same bytes with their own `is_enrolled`
merged in (the ids of their courses, cached beside the pages and emptied with them); on a course page,
a learner who is not enrolled gets exactly the anonymous page, and one who is enrolled the page every
enrolled learner gets (lessons with content), cached beside it and emptied with it, without ETag or
public `Cache-Control` (it is not for everyone).
Instructors and admins (who also see drafts) never use these pages.
"""

from __future__ import annotations

from starlette.responses import Response

from app.courses import service
from app.courses.schemas import CourseListQuery
from app.http.pagination import page_headers
from app.http.public_cache import Page
from app.http.routing import Context

CACHE_CONTROL = "public, max-age=5"


def _anonymous(if_none_match: str | None, page: Page, headers: dict[str, str]) -> Response:
    headers = {**headers, "ETag": page.etag, "Cache-Control": CACHE_CONTROL, "Vary": "Authorization"}
    if page.matches(if_none_match):
        return Response(status_code=304, headers=headers)
    return Response(page.body, headers=headers, media_type="application/json")


async def catalogue(ctx: Context[None, CourseListQuery]) -> Response:
    q = ctx.query
    key = ("catalogue", q.category, q.level, q.search, q.skip, q.limit)

    async def compute() -> Page:
        return await service.public_catalogue(
            ctx.runtime, category=q.category, level=q.level, search=q.search, skip=q.skip, limit=q.limit
        )

    page = await ctx.runtime.public_cache.get(key, compute)
    assert page is not None  # a catalogue page is always cacheable
    url = str(ctx.request.url)
    headers = page.headers.get(url)
    if headers is None:
        headers = page_headers(ctx.request, skip=q.skip, limit=q.limit, total=page.total)
        if len(page.headers) < 64:  # the Host header varies; keep the memo small
            page.headers[url] = headers
    if ctx.principal is None:
        return _anonymous(ctx.request.headers.get("if-none-match"), page, headers)
    enrolled = await service.enrolled_in(ctx.runtime, ctx.principal.user_id)
    return Response(page.list_for(set(enrolled)), headers=headers, media_type="application/json")


async def course_page(ctx: Context[None, None], course_id: int) -> Response | None:
    """The course page from the cache: the public one, or the enrolled learners' one; None when the
    caller must be answered without the cache."""
    learner = ctx.principal
    if learner is not None and course_id in await service.enrolled_in(ctx.runtime, learner.user_id):

        async def enrolled() -> Page | None:
            return await service.enrolled_course(ctx.runtime, learner, course_id)

        page = await ctx.runtime.public_cache.get(("enrolled-course", course_id), enrolled)
        return None if page is None else Response(page.body, media_type="application/json")

    async def compute() -> Page | None:
        return await service.public_course(ctx.runtime, course_id)

    page = await ctx.runtime.public_cache.get(("course", course_id), compute)
    if page is None:
        return None
    if ctx.principal is None:
        return _anonymous(ctx.request.headers.get("if-none-match"), page, {})
    return Response(page.body, media_type="application/json")
