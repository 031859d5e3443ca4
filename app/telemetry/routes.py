from __future__ import annotations

from app.http.routing import Context, api_route
from app.telemetry import service
from app.telemetry.schemas import HeartbeatAccepted, HeartbeatIn


@api_route(
    "POST",
    "/api/courses/{course_id:int}/telemetry",
    summary="Record time on a lesson (enrolled learners); acknowledged after the durable append",
    tags=["learning"],
    body=HeartbeatIn,
    response=HeartbeatAccepted,
    status_code=202,
    errors=(403, 404),
)
async def heartbeat(ctx: Context[HeartbeatIn, None]) -> HeartbeatAccepted:
    return await service.record_heartbeat(ctx.runtime, ctx.user, ctx.path_param("course_id"), ctx.body)


routes = [heartbeat]
