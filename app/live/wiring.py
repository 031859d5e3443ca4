from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from app import channels
from app.errors import StoreUnavailable
from app.http.routing import MAX_ID
from app.live.access import AppAuthorizer, AppTokenVerifier
from app.runtime import Runtime
from app.security.principal import Principal
from app.stores.availability import client_error
from app.telemetry import service as telemetry
from app.telemetry.batcher import Overloaded
from app.telemetry.schemas import HeartbeatIn
from app.telemetry.targets import KnownEnrollments
from realtime.connection import HubPrincipal
from realtime.contracts import OpHandler
from realtime.hub import Hub
from realtime.protocol import ClientFrame, ProtocolError
from realtime.redis_backends import redis_backends

log = logging.getLogger(__name__)

# Frame keys that belong to the protocol or the address, not to the heartbeat body.
_NOT_BODY = ("op", "id", "course_id")


def _validation_message(error: ValidationError) -> str:
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        field = ".".join(str(part) for part in item["loc"]) or "frame"
        problems.append(f"{field}: {item['msg']}")
    return "invalid heartbeat: " + "; ".join(problems)


def heartbeat_op(runtime: Runtime) -> OpHandler:
    """`heartbeat {course_id, lesson_id, seconds_spent, seq?, client_ts?}`: the REST heartbeat
    over the socket, with the same validation, permissions, wall-clock budget and reply fields."""

    async def handle(principal: HubPrincipal, frame: ClientFrame) -> dict[str, Any]:
        # Refused before anything is read or checked: under overload a refusal must cost next to nothing.
        if telemetry.overloaded(runtime):
            raise ProtocolError(Overloaded.code, Overloaded.MESSAGE, frame.id)
        course_id = frame.body.get("course_id")
        if not isinstance(course_id, int) or isinstance(course_id, bool):
            raise ProtocolError(
                "validation_error", "invalid heartbeat: course_id: must be an integer", frame.id
            )
        if not 0 < course_id <= MAX_ID:
            raise ProtocolError("not_found", "No such resource.", frame.id)  # as the REST path does
        try:
            heartbeat = HeartbeatIn.model_validate(
                {key: value for key, value in frame.body.items() if key not in _NOT_BODY}
            )
        except ValidationError as exc:
            raise ProtocolError("validation_error", _validation_message(exc), frame.id) from exc
        who: Principal = principal.payload
        try:
            known = principal.state.setdefault("enrollments", KnownEnrollments())
            accepted = await telemetry.record_heartbeat(runtime, who, course_id, heartbeat, known=known)
        except Exception as exc:
            error = client_error(exc)
            if error is None:
                raise
            if isinstance(error, StoreUnavailable) and error is not exc:
                log.warning("heartbeat refused: store unavailable", extra={"store": error.details["store"]})
            raise ProtocolError(error.code, error.message, frame.id) from exc
        # The REST reply's fields (HeartbeatAccepted) but its REST-only `status`, without building the model:
        # this runs for every heartbeat the socket carries.
        return {
            "accepted": True,
            "duplicate": accepted.duplicate,
            "credited_seconds": accepted.credited_seconds,
        }

    return handle


async def start_hub(runtime: Runtime) -> Hub:
    """Start this process's hub (stopped by `Runtime.close`). The caller routes domain events through it
    by installing `HubEventPublisher` as `runtime.events`."""
    config = runtime.settings.hub_config()
    hub = Hub(
        redis_backends(runtime.redis, config),
        config,
        verifier=AppTokenVerifier(runtime),
        authorizer=AppAuthorizer(runtime),
        handlers={"heartbeat": heartbeat_op(runtime)},
        presence_for=channels.has_presence,
    )
    await hub.start()
    runtime.hub = hub
    return hub
