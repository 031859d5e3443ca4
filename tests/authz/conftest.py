"""One app and one world for the whole matrix module: building the world per cell would cost minutes.

The app runs in the test's event loop twice over: through httpx's ASGI transport for REST, and behind a
uvicorn server on a loopback port for the WebSocket cells (httpx speaks no WebSocket), both sharing
the same Runtime and hub.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from asgi_lifespan import LifespanManager

from app.main import create_app
from app.runtime import StoreUrls
from tests.authz.world import World, build_world
from tests.conftest import make_settings, reset_stores
from tests.helpers import Api


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Serve `app` (lifespan already running) on a free loopback port; yields the /ws URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        yield f"ws://127.0.0.1:{port}/ws"
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture(scope="module")
async def world(store_urls: StoreUrls, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    # Rate limits are not authorization, and this module calls as the same users hundreds of times.
    settings = make_settings(rate_limit_enabled=False, media_dir=tmp_path_factory.mktemp("authz-media"))
    app = create_app(settings, store_urls)
    async with LifespanManager(app):
        runtime = app.state.runtime
        await reset_stores(runtime)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            async with serving(app) as ws_url:
                yield await build_world(client, Api(client, runtime), ws_url)
