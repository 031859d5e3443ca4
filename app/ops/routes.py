"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.errors import ServiceUnavailable
from app.http.routing import Context, api_route

TAGS = ["operations"]
_CHECK_TIMEOUT_SECONDS = 2.0


class Health(BaseModel):
    status: str
    databases: dict[str, str] = Field(
        description="Not checked by liveness (kept for clients of the original API); /api/ready checks them"
    )


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]


@api_route(
    "GET",
    "/api/health",
    summary="Liveness: the process answers",
    tags=TAGS,
    response=Health,
    auth="none",
    rate_limit=None,
)
async def health(ctx: Context[None, None]) -> Health:
    unchecked = "not checked here; see /api/ready"
    return Health(status="ok", databases={"postgresql": unchecked, "mongodb": unchecked})


async def _check(probe: Callable[[], Awaitable[None]]) -> str:
    try:
        await asyncio.wait_for(probe(), _CHECK_TIMEOUT_SECONDS)
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        return "unavailable"
    return "ok"


@api_route(
    "GET",
    "/api/ready",
    summary="Readiness: every store answers (503 names those that don't)",
    tags=TAGS,
    response=Readiness,
    auth="none",
    rate_limit=None,
    errors=(503,),
)
async def ready(ctx: Context[None, None]) -> Readiness:
    runtime = ctx.runtime
    probes = {"postgres": runtime.db.ping, "redis": runtime.redis.ping, "mongo": runtime.documents.ping}
    results = await asyncio.gather(*(_check(probe) for probe in probes.values()))  # type: ignore[arg-type]
    checks = dict(zip(probes, results, strict=True))
    failing = [name for name, result in checks.items() if result != "ok"]
    if failing:
        raise ServiceUnavailable(
            f"Not ready: {', '.join(failing)} unavailable.", code="not_ready", details={"checks": checks}
        )
    return Readiness(status="ready", checks=checks)


async def metrics(request: Request) -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


routes = [health, ready, Route("/metrics", metrics, methods=["GET"], include_in_schema=False)]
