"""What one process keeps for time tracking, made on first use and closed with the runtime: the
heartbeat stream client (with its group-commit batcher) and the cache of who may send heartbeats."""

from __future__ import annotations

from app.runtime import Runtime
from app.stores.redis import create_redis
from app.telemetry.stream import TelemetryStream
from app.telemetry.targets import HeartbeatTargets


def _stream(runtime: Runtime) -> TelemetryStream:
    settings = runtime.settings
    return TelemetryStream(
        # No retries: the accept script is not idempotent for a heartbeat without `seq`.
        create_redis(runtime.urls.redis_url, retries=0),  # type: ignore[arg-type]
        tolerance_seconds=settings.telemetry_tolerance_seconds,
        first_heartbeat_max_seconds=settings.telemetry_first_heartbeat_max_seconds,
        partitions=settings.telemetry_partitions,
        max_backlog=settings.telemetry_max_backlog,
    )


def _targets(runtime: Runtime) -> HeartbeatTargets:
    return HeartbeatTargets(runtime.db, runtime.documents)


def stream(runtime: Runtime) -> TelemetryStream:
    return runtime.part(_stream)


def targets(runtime: Runtime) -> HeartbeatTargets:
    return runtime.part(_targets)
