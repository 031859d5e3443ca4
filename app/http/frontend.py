"""The built single-page app (frontend/dist) served by the api process, with client-side routing fallback."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

# Paths the SPA never owns: an unknown one keeps the API's JSON 404 instead of getting index.html.
RESERVED_PREFIXES = ("/api", "/ws", "/media", "/metrics")
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

NOT_BUILT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>LearnFlow</title></head>
<body>
<h1>LearnFlow API is running</h1>
<p>The web app is not built. Install Node.js and npm, then run <code>make install</code>
(it runs <code>npm ci</code> and <code>npm run build</code> in <code>frontend/</code>).</p>
<p>The API is documented at <a href="/api/docs">/api/docs</a>.</p>
</body></html>
"""


def is_reserved(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in RESERVED_PREFIXES)


class FrontendFallback:
    """The router's default app: answers GET/HEAD requests no route matched with a file of the build, or
    index.html so deep links survive a reload. Anything else goes to `not_found`, which keeps the
    router's 404 (JSON through the error handlers) and 405 behaviour intact."""

    def __init__(self, dist: Path, not_found: ASGIApp) -> None:
        self.dist = dist
        self.not_found = not_found
        self.files = StaticFiles(directory=dist, check_dir=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or is_reserved(scope["path"]):
            await self.not_found(scope, receive, send)
            return
        response = await self.response(scope)
        await response(scope, receive, send)

    async def response(self, scope: Scope) -> Response:
        path: str = scope["path"]
        # Checked per request so a build made while the server runs is picked up without a restart.
        if not (self.dist / "index.html").is_file():
            return HTMLResponse(
                NOT_BUILT_PAGE, status_code=200 if path == "/" else 404, headers={"Cache-Control": REVALIDATE}
            )
        relative = path.lstrip("/")
        if relative and relative != "index.html":
            full_path, stat = await anyio.to_thread.run_sync(self.files.lookup_path, relative)
            if stat is not None and full_path and Path(full_path).is_file():
                found = self.files.file_response(full_path, stat, scope)
                found.headers["Cache-Control"] = IMMUTABLE if relative.startswith("assets/") else REVALIDATE
                return found
            if relative.startswith("assets/") or Path(relative).suffix:
                # A missing script or image must not come back as HTML with status 200.
                raise HTTPException(status_code=404)
        index_path = self.dist / "index.html"
        index_stat = await anyio.to_thread.run_sync(os.stat, index_path)
        index = self.files.file_response(index_path, index_stat, scope)
        index.headers["Cache-Control"] = REVALIDATE
        return index
