"""A full hub (HubConfig.max_connections) turns sockets away before their upgrade, with HTTP 503 and
Retry-After, and takes new ones again as soon as others close; without the ASGI denial-response extension
it closes before the upgrade instead (uvicorn answers 403)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import uvicorn
from prometheus_client import REGISTRY
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from realtime.hub import Hub
from realtime.session import FULL_RETRY_AFTER_SECONDS, refuse_full
from realtime.uvicorn_ws import uvicorn_ws_options
from tests.realtime.conftest import ServeHub


def refused_count() -> float:
    return REGISTRY.get_sample_value("realtime_ws_refused_full_total") or 0.0


async def settled(hub: Hub, sockets: int) -> None:
    async with asyncio.timeout(5):
        while hub.open_sockets != sockets:
            await asyncio.sleep(0.01)


async def test_a_full_hub_refuses_before_the_upgrade_and_admits_again_when_a_socket_closes(
    serve_hub: ServeHub,
) -> None:
    served = await serve_hub(max_connections=2)
    first = await served.client(user_id=1)
    unauthenticated = await served.client()
    assert served.hub.open_sockets == 2
    before = refused_count()

    with pytest.raises(InvalidStatus) as refused:
        await connect(served.url)
    response = refused.value.response
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(FULL_RETRY_AFTER_SECONDS)
    assert json.loads(response.body) == {
        "id": None,
        "ok": False,
        "error": {"code": "server_full", "message": "this server holds all the sockets it can; retry later"},
    }
    assert refused_count() == before + 1
    assert served.hub.open_sockets == 2
    # The sockets it holds are unaffected.
    assert (await first.request(op="echo", text="still here"))["echo"] == "still here"

    await unauthenticated.connection.close()
    await settled(served.hub, 1)
    again = await served.client(user_id=2)
    assert (await again.request(op="echo", text="in"))["user"] == "2"
    assert served.hub.open_sockets == 2


async def test_sockets_that_end_in_any_way_give_their_place_back(serve_hub: ServeHub) -> None:
    served = await serve_hub(max_connections=3)
    refused_auth = await served.client()
    await refused_auth.send(op="auth", token="not a token")
    await refused_auth.connection.wait_closed()
    assert refused_auth.connection.close_code == 4001
    left = await served.client(user_id=1)
    await left.connection.close()
    await settled(served.hub, 0)
    held = [await served.client(user_id=user) for user in (3, 4, 5)]
    assert served.hub.open_sockets == len(held)


async def test_without_the_denial_extension_a_full_hub_closes_before_the_upgrade() -> None:
    async def endpoint(websocket: WebSocket) -> None:
        websocket.scope["extensions"].pop("websocket.http.response", None)
        await refuse_full(websocket)

    app = Starlette(routes=[WebSocketRoute("/ws", endpoint)])
    options: dict[str, Any] = {"host": "127.0.0.1", "port": 0, "lifespan": "off", "log_config": None}
    server = uvicorn.Server(uvicorn.Config(app, **options, **uvicorn_ws_options()))
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        with pytest.raises(InvalidStatus) as refused:
            await connect(f"ws://127.0.0.1:{port}/ws")
        assert refused.value.response.status_code == 403
    finally:
        server.should_exit = True
        async with asyncio.timeout(15):
            await task
