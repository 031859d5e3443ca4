"""Heartbeats from the REST endpoint and the WebSocket op: who may send them, then the stream."""

from __future__ import annotations

from app.errors import Forbidden
from app.runtime import Runtime
from app.security.principal import Principal
from app.telemetry import parts
from app.telemetry.batcher import Acceptance
from app.telemetry.schemas import HeartbeatIn
from app.telemetry.targets import KnownEnrollments


def overloaded(runtime: Runtime) -> bool:
    """True when this process takes no more heartbeats now (`record_heartbeat` would refuse one with
    Overloaded): a caller may refuse before it even reads the heartbeat, which keeps a refusal cheap."""
    return parts.stream(runtime).batcher.refuses()


async def record_heartbeat(
    runtime: Runtime,
    principal: Principal,
    course_id: int,
    heartbeat: HeartbeatIn,
    *,
    idempotency_key: str | None = None,
    known: KnownEnrollments | None = None,
) -> Acceptance:
    """Validate, then append to the durable stream; returns only after the append (what the callers
    reply is theirs to build: the REST route a model, the socket a plain dict). A heartbeat
    without `seq` is accepted at most once per `idempotency_key` (made up here when None). `known`: the
    enrollments the caller's WebSocket already found."""
    if principal.is_blocked:
        raise Forbidden("Blocked accounts cannot record time.", code="user_blocked")
    # Shed before any store work: a refusal under overload must cost next to nothing.
    stream = parts.stream(runtime)
    stream.admit()
    try:
        targets = parts.targets(runtime)
        enrollment_id = known.get(course_id) if known is not None else None
        if enrollment_id is None:
            enrollment_id = await targets.enrollment(principal, course_id)
            if known is not None:
                known.keep(course_id, enrollment_id)
        await targets.lesson(course_id, heartbeat.lesson_id)
        accepted = await stream.accept(
            user_id=principal.user_id,
            course_id=course_id,
            lesson_id=heartbeat.lesson_id,
            seconds=heartbeat.seconds_spent,
            seq=heartbeat.seq,
            enrollment_id=enrollment_id,
            idempotency_key=idempotency_key,
        )
    finally:
        stream.release()
    return accepted
