"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.config import Settings, is_loopback_host
from app.errors import DomainError, Forbidden, ServiceUnavailable, TooManyRequests, Unauthorized
from app.http.errors import response_for_exception
from app.http.principal import client_ip_key
from app.http.routing import Context, api_route
from app.runtime import Runtime
from app.stores.availability import unavailable_store

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
    summary="Readiness: every store answers and the live relay is subscribed (503 names what is not)",
    tags=TAGS,
    response=Readiness,
    auth="none",
    rate_limit=None,
    errors=(429, 503),
)
async def ready(ctx: Context[None, None]) -> Readiness:
    """Limited per client address like other public routes (it costs a round trip to every store). The
    limit is counted here rather than by the route declaration so that with Redis down the answer still
    names the failing stores instead of becoming the limiter's own 503."""
    runtime = ctx.runtime
    try:
        await runtime.rate_limiter.hit(
            runtime.settings.rate_limit_default, "ready", client_ip_key(ctx.request)
        )
    except TooManyRequests:
        raise
    except Exception as exc:  # noqa: BLE001 - the limiter's store is one of the things being checked
        if unavailable_store(exc) is None:
            raise
    probes = {"postgres": runtime.db.ping, "redis": runtime.redis.ping, "mongo": runtime.documents.ping}
    results = await asyncio.gather(*(_check(probe) for probe in probes.values()))  # type: ignore[arg-type]
    checks = dict(zip(probes, results, strict=True))
    if runtime.hub is not None:
        # Until its relay is subscribed, this process's WebSocket clients miss what other processes publish.
        checks["relay"] = "ok" if runtime.hub.relay.relaying() else "unavailable"
    failing = [name for name, result in checks.items() if result != "ok"]
    if failing:
        raise ServiceUnavailable(
            f"Not ready: {', '.join(failing)} unavailable.", code="not_ready", details={"checks": checks}
        )
    return Readiness(status="ready", checks=checks)


def _metrics_allowed(request: Request, settings: Settings) -> None:
    """With METRICS_TOKEN the scraper must present it; without, only this machine is answered (the
    direct peer and the resolved client both loopback, so a local reverse proxy does not open it)."""
    if settings.metrics_token:
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            presented.strip().encode(), settings.metrics_token.encode()
        ):
            raise Unauthorized(
                "Send the metrics token as a Bearer token.",
                code="metrics_token_required",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return
    peer = request.client.host if request.client else None
    if not (is_loopback_host(peer or "") and is_loopback_host(str(request.scope.get("client_ip") or ""))):
        raise Forbidden(
            "Metrics are served only to this machine unless METRICS_TOKEN is set.", code="forbidden"
        )


async def metrics(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    try:
        _metrics_allowed(request, runtime.settings)
    except DomainError as exc:
        return response_for_exception(request, exc)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


routes = [health, ready, Route("/metrics", metrics, methods=["GET"], include_in_schema=False)]
