"""The framework floor for bench/rest: the anonymous catalogue's bytes, computed once, then served from
memory by a bare route in the same app (same middleware, no authentication, no store access)."""

from __future__ import annotations

from pydantic import TypeAdapter
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.courses import service
from app.courses.schemas import CoursePublic
from app.runtime import Runtime

FLOOR_PATH = "/api/bench/floor"
_CATALOGUE = TypeAdapter(list[CoursePublic])


def floor_route() -> Route:
    body: list[bytes] = []

    async def floor(request: Request) -> Response:
        if not body:
            runtime: Runtime = request.app.state.runtime
            items, _ = await service.list_courses(
                runtime, None, category=None, level=None, search=None, skip=0, limit=50
            )
            body.append(_CATALOGUE.dump_json(items))
        return Response(body[0], media_type="application/json")

    return Route(FLOOR_PATH, floor, methods=["GET"], include_in_schema=False)
