"""The ASGI application: routes of every domain, middleware, error handlers and the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from openapi_ui_bundles.swagger_ui import static_path as swagger_ui_path
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from app import __version__
from app.analytics.routes import routes as analytics_routes
from app.audit.routes import routes as audit_routes
from app.auth.routes import routes as auth_routes
from app.config import Settings
from app.courses.floor import floor_route
from app.courses.routes import routes as courses_routes
from app.discussions.routes import routes as discussions_routes
from app.enrollments.routes import routes as enrollments_routes
from app.http.errors import exception_handlers
from app.http.frontend import FrontendFallback
from app.http.middleware import Network, RequestContextMiddleware
from app.http.openapi import docs_init, docs_page, openapi_document, openapi_endpoint
from app.http.security_headers import SecurityHeadersMiddleware
from app.leaderboards.routes import routes as leaderboards_routes
from app.lessons.counters import count_missing_lessons
from app.lessons.routes import routes as lessons_routes
from app.live.publisher import HubEventPublisher
from app.live.routes import WS_PATH, websocket_app
from app.live.routes import routes as live_routes
from app.live.wiring import start_hub
from app.media.routes import media_routes as media_mounts
from app.media.routes import routes as media_routes
from app.messages.routes import routes as messages_routes
from app.ops.routes import routes as ops_routes
from app.progress.routes import routes as progress_routes
from app.ratings.routes import routes as ratings_routes
from app.runtime import Runtime, StoreUrls
from app.startup import StartupSteps
from app.telemetry.routes import routes as telemetry_routes
from app.users.routes import routes as users_routes
from app.users.service import bootstrap_admin

FRONTEND_DIST = Path(__file__).resolve().parent.parent / "frontend" / "dist"


def api_routes() -> list[BaseRoute]:
    return [
        *auth_routes,
        *users_routes,
        *courses_routes,
        *ratings_routes,
        *leaderboards_routes,
        *lessons_routes,
        *enrollments_routes,
        *progress_routes,
        *telemetry_routes,
        *discussions_routes,
        *messages_routes,
        *analytics_routes,
        *audit_routes,
        *media_routes,
        *ops_routes,
    ]


Background = Callable[[Runtime], Awaitable[Callable[[], Awaitable[None]]]]


class LearnFlowApp(Starlette):
    """Starlette, with /ws sockets dispatched ahead of the middleware stack.

    A socket holds every coroutine frame between the server and its read loop for as long as it is
    open (hours, for thousands of sockets), so it skips the layers that do nothing for it: security
    headers, CORS and the error middleware act on HTTP only, and routing one fixed path needs no
    router. It still goes through RequestContextMiddleware (client IP, request id, log context); the
    endpoint does the rest of the checks (token in the URL, connection attempts), as through the route.
    """

    def __init__(self, *args: Any, trusted_proxies: Sequence[Network] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._websocket: ASGIApp = RequestContextMiddleware(websocket_app, trusted_proxies=trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and _route_path(scope) == WS_PATH:
            scope["app"] = self
            await self._websocket(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path the router would match (without the root path), as Starlette computes it."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def create_app(
    settings: Settings,
    urls: StoreUrls,
    *,
    background: Background | None = None,
    frontend_dist: Path = FRONTEND_DIST,
) -> Starlette:
    """`background` starts work beside the API once the stores are open (the CLI passes the workers in
    embedded mode) and returns the coroutine function that stops it. Requests no route matches fall
    through to the built web app in `frontend_dist`."""
    routes = api_routes()
    document = openapi_document(routes, title="LearnFlow API", version=__version__)
    routes += [
        *live_routes,
        Route("/api/openapi.json", openapi_endpoint(document), methods=["GET"], include_in_schema=False),
        Route("/api/docs", docs_page, methods=["GET"], include_in_schema=False),
        Route("/api/docs/init.js", docs_init, methods=["GET"], include_in_schema=False),
        Mount("/api/docs/assets", StaticFiles(directory=swagger_ui_path), name="docs-assets"),
        *media_mounts(settings),
    ]
    if settings.bench_floor_route:
        routes.insert(0, floor_route())  # first, so that route matching costs the floor the least

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime = Runtime.open(settings, urls)
        app.state.runtime = runtime
        steps = StartupSteps()
        try:
            await runtime.documents.ensure_schema()
            await steps.run("lesson counts", lambda: count_missing_lessons(runtime))
            hub = await start_hub(runtime)
            # From here on every domain event goes out on its channels (app/channels.py names them).
            runtime.events = HubEventPublisher(hub, runtime.redis)
            await runtime.public_cache.start(runtime.redis)
            await steps.run("admin bootstrap", lambda: bootstrap_admin(runtime))
            stop_background = await background(runtime) if background is not None else None
            try:
                yield
            finally:
                if stop_background is not None:
                    await stop_background()
        finally:
            await steps.stop()
            await runtime.close()

    middleware = [
        Middleware(SecurityHeadersMiddleware),
        Middleware(RequestContextMiddleware, trusted_proxies=settings.trusted_proxy_networks),
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=[
                "X-Total-Count",
                "Link",
                "Retry-After",
                "X-Request-ID",
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset",
            ],
            max_age=600,
        ),
    ]
    app = LearnFlowApp(
        routes=routes,
        middleware=middleware,
        exception_handlers=exception_handlers(),
        lifespan=lifespan,
        trusted_proxies=settings.trusted_proxy_networks,
    )
    app.state.openapi = document
    # The router's default rather than a catch-all route: an API path no route serves stays a JSON 404,
    # and a known path with the wrong method a 405 with Allow (a catch-all would answer both itself).
    app.router.default = FrontendFallback(frontend_dist, app.router.default)
    return app
