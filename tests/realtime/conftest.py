"""The hub on its in-memory parts (realtime.memory), with no Redis: a minimal Starlette app whose only
route is the hub's socket, served by a real uvicorn on loopback with the server protocol `learnflow serve`
uses (prepared frame writes). The token verifier and authorizer are the test's own."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
import uvicorn
from prometheus_client import CollectorRegistry, Counter
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from websockets.asyncio.client import connect

from realtime.config import HubConfig
from realtime.connection import Connection, HubPrincipal, TokenBucket
from realtime.contracts import AuthFailed, OpHandler
from realtime.hub import Hub
from realtime.memory import memory_backends
from realtime.protocol import ClientFrame, ProtocolError
from realtime.uvicorn_ws import uvicorn_ws_options
from tests.ws_client import WsClient

HISTORY_SIZE = 5
QUEUE_SIZE = 16


_UNUSED_SLOW_CONSUMERS = Counter("test_bare_slow_consumers", "unused", registry=CollectorRegistry())


def bare_connection(principal: HubPrincipal | None = None) -> Connection:
    """A connection with no socket behind it, for the hub's bookkeeping (expiry, keepalive), which reads
    only its principal and whether it is closing; it must never be written to."""
    made = Connection(
        SimpleNamespace(scope={}),  # type: ignore[arg-type]
        queue_size=1,
        limiter=TokenBucket(1.0, 1),
        slow_consumers=_UNUSED_SLOW_CONSUMERS,
    )
    made.principal = principal
    return made


class Accounts:
    """Tokens are `user:<id>`; a blocked user's connections fail re-validation."""

    def __init__(self) -> None:
        self.blocked: set[str] = set()

    async def verify(self, token: str) -> HubPrincipal:
        kind, _, user_id = token.partition(":")
        if kind != "user" or not user_id.isdigit():
            raise AuthFailed("invalid_token", "the token is not valid")
        if user_id in self.blocked:
            raise AuthFailed("blocked", "this account is blocked")
        return HubPrincipal(user_id, time.time() + 3600, info={"id": int(user_id)})

    async def revalidate(self, principal: HubPrincipal) -> HubPrincipal | None:
        return None if principal.user_id in self.blocked else principal


class Rules:
    """`news` and `room:*` are open to everyone; `private:<id>` only to that user; typing only in rooms."""

    async def may_subscribe(self, principal: HubPrincipal, channel: str) -> bool:
        if channel == "news" or channel.startswith("room:"):
            return True
        return channel == f"private:{principal.user_id}"

    async def may_publish_typing(self, principal: HubPrincipal, channel: str) -> bool:
        return channel.startswith("room:")


async def echo(principal: HubPrincipal, frame: ClientFrame) -> dict[str, Any]:
    text = frame.text("text")
    if text == "fail":
        raise ProtocolError("refused", "echo refuses this text", frame.id)
    return {"echo": text, "user": principal.user_id}


# The futures of `later` ops not answered yet, by their frame's text: the test settles them.
LATER: dict[str, asyncio.Future[dict[str, Any]]] = {}


def later(principal: HubPrincipal, frame: ClientFrame) -> asyncio.Future[dict[str, Any]]:
    """An op whose answer comes later: it returns a future, which the test settles."""
    future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    LATER[frame.text("text") or ""] = future
    return future


@dataclass
class Served:
    hub: Hub
    accounts: Accounts
    url: str
    port: int
    opened: list[WsClient] = field(default_factory=list)

    async def client(self, user_id: int | None = None) -> WsClient:
        """A connected client, authenticated as `user_id` unless it is None."""
        client = WsClient(await connect(self.url, max_size=2**22))
        self.opened.append(client)
        if user_id is not None:
            answer = await client.request(op="auth", token=f"user:{user_id}")
            assert answer["ok"] is True, answer
        return client


ServeHub = Callable[..., Awaitable[Served]]


@pytest.fixture
async def serve_hub() -> AsyncIterator[ServeHub]:
    """Start a hub (HubConfig fields may be overridden) behind a real uvicorn; stopped after the test."""
    running: list[tuple[Served, uvicorn.Server, asyncio.Task[None]]] = []

    async def start(**overrides: Any) -> Served:
        settings: dict[str, Any] = {
            "history_size": HISTORY_SIZE,
            "outgoing_queue_size": QUEUE_SIZE,
            "frames_per_second": 1000.0,
            "frame_burst": 1000,
            "track_online": False,
            **overrides,
        }
        config = HubConfig(**settings)
        accounts = Accounts()
        handlers: dict[str, OpHandler] = {"echo": echo, "later": later}
        hub = Hub(
            memory_backends(config),
            config,
            verifier=accounts,
            authorizer=Rules(),
            handlers=handlers,
            presence_for=lambda channel: channel.startswith("room:"),
        )
        await hub.start()
        app = Starlette(routes=[WebSocketRoute("/ws", hub.serve)])
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=0,
                lifespan="off",
                log_config=None,
                access_log=False,
                **uvicorn_ws_options(),
            )
        )
        task = asyncio.create_task(server.serve())
        async with asyncio.timeout(10):
            while not server.started:
                assert not task.done(), task
                await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        served = Served(hub, accounts, f"ws://127.0.0.1:{port}/ws", port)
        running.append((served, server, task))
        return served

    yield start
    for served, server, task in running:
        for client in served.opened:
            await client.connection.close()
        await served.hub.stop()
        server.should_exit = True
        async with asyncio.timeout(15):
            await task
