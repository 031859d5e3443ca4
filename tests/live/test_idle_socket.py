"""What an idle, authenticated socket keeps alive under the server `learnflow serve` runs: no coroutine
frame of the HTTP-only middleware or the router (the request context still applies), and no object
from the upgrade request in the frame parser."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.http11 import Request

from app.runtime import Runtime
from realtime.uvicorn_ws import PreparedWritesProtocol, uvicorn_ws_options
from tests.helpers import Api, served_by_uvicorn
from tests.live.conftest import WsClient


@pytest.fixture
async def served(app_and_runtime: tuple[Any, Runtime]) -> AsyncIterator[uvicorn.Server]:
    app, _ = app_and_runtime
    async with served_by_uvicorn(app, proxy_headers=False, **uvicorn_ws_options()) as (server, _port):
        yield server


def awaited_chain(task: asyncio.Task[Any]) -> list[str]:
    """The qualified names of the coroutines a task is suspended in, outermost first."""
    names: list[str] = []
    awaiting: Any = task.get_coro()
    while awaiting is not None and hasattr(awaiting, "cr_code"):
        names.append(awaiting.cr_code.co_qualname)
        awaiting = awaiting.cr_await
    return names


def read_loop_task() -> asyncio.Task[Any]:
    """The one socket's read loop, which runs in a task of its own."""
    (reader,) = [
        task
        for task in asyncio.all_tasks()
        if getattr(task.get_coro(), "cr_code", None) is not None
        and task.get_coro().cr_code.co_qualname == "Sessions._read_loop"
    ]
    return reader


def generator_locals(generator: Any) -> Iterator[Any]:
    while generator is not None and getattr(generator, "gi_frame", None) is not None:
        yield from generator.gi_frame.f_locals.values()
        generator = generator.gi_yieldfrom


@asynccontextmanager
async def learner_socket(
    served: uvicorn.Server, api: Api, headers: dict[str, str] | None = None
) -> AsyncIterator[tuple[WsClient, str]]:
    """A new learner's socket to the served app, authenticated; yields it and the learner's hub id."""
    learner = await api.account("learner")
    client = WsClient(await connect(f"ws://127.0.0.1:{served.config.port}/ws", additional_headers=headers))
    try:
        assert (await client.request(op="auth", token=learner.access_token))["ok"] is True
        yield client, str(learner.id)
    finally:
        await client.connection.close()


async def test_an_idle_socket_keeps_no_http_middleware_frame_and_no_upgrade_request(
    served: uvicorn.Server, api: Api, runtime: Runtime
) -> None:
    hub = runtime.hub
    assert hub is not None
    async with learner_socket(served, api, {"X-Request-ID": "idle-1"}) as (client, learner_id):
        assert (await client.request(op="ping"))["pong"] is True
        (connection,) = hub.by_user[learner_id]
        protocol = connection.direct
        assert isinstance(protocol, PreparedWritesProtocol)
        # The request context still applies to the socket.
        assert connection.websocket.scope["request_id"] == "idle-1"
        assert connection.websocket.scope["client_ip"] == "127.0.0.1"

        (task,) = served.server_state.tasks
        # The socket's task waits in the session for its read loop, which runs in a task of its own.
        outer = awaited_chain(task)
        assert "RequestContextMiddleware.__call__" in outer and outer[-1] == "Sessions.serve", outer
        reader = read_loop_task()
        chain = outer + awaited_chain(reader)
        assert "Sessions._read_loop" in chain, chain
        skipped = (
            "CORSMiddleware",
            "ExceptionMiddleware",
            "ServerErrorMiddleware",
            "SecurityHeaders",
            "Router",
        )
        assert [name for name in chain if name.startswith(skipped)] == [], chain

        assert not any(isinstance(value, Request) for value in generator_locals(protocol.conn.parser))
        assert "request" not in vars(protocol) and "response" not in vars(protocol)


async def test_cancelling_a_sockets_task_ends_its_read_loop_and_its_session(
    served: uvicorn.Server, api: Api, runtime: Runtime
) -> None:
    hub = runtime.hub
    assert hub is not None
    async with learner_socket(served, api) as (_, learner_id):
        (task,) = served.server_state.tasks
        reader = read_loop_task()
        task.cancel()
        await asyncio.wait({task}, timeout=5)
        assert reader.cancelled()
        assert not hub.by_user.get(learner_id)  # the session cleaned up after itself
