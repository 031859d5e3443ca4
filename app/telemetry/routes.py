from __future__ import annotations

from app.http.routing import Context, api_route
from app.telemetry import service
from app.telemetry.schemas import HeartbeatAccepted, HeartbeatIn

_MAX_KEY = 128


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
    """Without `seq`, an `Idempotency-Key` header makes a retried request count once."""
    key = (ctx.request.headers.get("idempotency-key") or "")[:_MAX_KEY] or None
    accepted = await service.record_heartbeat(
        ctx.runtime, ctx.user, ctx.path_param("course_id"), ctx.body, idempotency_key=key
    )
    return HeartbeatAccepted(duplicate=accepted.duplicate, credited_seconds=accepted.credited_seconds)


routes = [heartbeat]
