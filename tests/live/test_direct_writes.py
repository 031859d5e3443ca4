"""Both write paths of the hub against a real uvicorn serving the app: prepared frame bytes written
straight to the socket (the server protocol `learnflow serve` uses) and the plain ASGI send (any other
server). Each must deliver every publication once, in order, with replies never overtaking earlier
pushes; a socket whose transport is paused must queue and be closed 4008 at the bound; nothing is
written after the close frame."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn
from websockets.asyncio.client import connect

from app.runtime import Runtime
from realtime.connection import Connection
from realtime.hub import Hub
from realtime.uvicorn_ws import PreparedWritesProtocol, uvicorn_ws_options
from tests.helpers import Api, served_by_uvicorn
from tests.live.conftest import WsClient

QUEUE = 16
BLOB = base64.b64encode(os.urandom(30_000)).decode()


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"ws_outgoing_queue_size": QUEUE, "ws_frames_per_second": 1000.0, "ws_frame_burst": 1000}


@dataclass
class Served:
    path: str
    url: str
    server: uvicorn.Server

    def pause_writing(self, paused: bool) -> None:
        """What the transport tells its protocol when its buffer passes the high-water mark (and
        drains again), for every open socket."""
        for protocol in self.server.server_state.connections:
            if paused:
                protocol.pause_writing()
            else:
                protocol.resume_writing()


@pytest.fixture(params=["prepared", "fallback"])
async def served(
    request: pytest.FixtureRequest, app_and_runtime: tuple[Any, Runtime]
) -> AsyncIterator[Served]:
    app, _ = app_and_runtime
    options: dict[str, Any] = (
        uvicorn_ws_options()
        if request.param == "prepared"
        else {"ws": "websockets-sansio", "ws_per_message_deflate": False}
    )
    async with served_by_uvicorn(app, **options) as (server, port):
        yield Served(request.param, f"ws://127.0.0.1:{port}/ws", server)


def the_connection(hub: Hub, user_id: int) -> Connection:
    (connection,) = hub.by_user[str(user_id)]
    return connection


def expect_path(connection: Connection, path: str) -> None:
    if path == "prepared":
        assert isinstance(connection.direct, PreparedWritesProtocol)
    else:
        assert connection.direct is None


async def test_every_publication_arrives_in_order_and_replies_never_overtake_pushes(
    served: Served, api: Api, runtime: Runtime
) -> None:
    hub = runtime.hub
    assert hub is not None
    learner = await api.account("learner")
    channel = f"user:{learner.id}"
    client = WsClient(await connect(served.url, max_size=2**22))
    try:
        assert (await client.request(op="auth", token=learner.access_token))["ok"] is True
        assert (await client.request(op="subscribe", channel=channel))["ok"] is True
        connection = the_connection(hub, learner.id)
        expect_path(connection, served.path)
        subscription = connection.subscriptions[channel]
        publications = 150

        # For each ping: how many pushes the hub had handed to the connection when it was sent.
        pushed_before: dict[Any, int] = {}

        async def publish_and_ping() -> None:
            for n in range(publications):
                # A stretch where the socket takes nothing: pushes and replies both wait in the outbox.
                if n in (40, 100):
                    served.pause_writing(True)
                elif n in (45, 105):
                    served.pause_writing(False)
                # Some frames large enough to fill the transport's buffer now and then.
                await hub.publish(channel, "n", {"n": n, "blob": BLOB[: 3000 if n % 10 else 20_000]})
                pushed_before[await client.send(op="ping")] = subscription.start_offset
                await asyncio.sleep(0.002)

        async def read() -> tuple[list[int], dict[Any, int]]:
            offsets: list[int] = []
            seen_at_reply: dict[Any, int] = {}
            while len(offsets) < publications or len(seen_at_reply) < publications:
                message = await client.recv(timeout=15)
                if message.get("channel") == channel:
                    offsets.append(message["offset"])
                elif message.get("pong"):
                    seen_at_reply[message["id"]] = len(offsets)
            return offsets, seen_at_reply

        reading = asyncio.create_task(read())
        await publish_and_ping()
        offsets, seen_at_reply = await asyncio.wait_for(reading, 30)
        assert offsets == list(range(1, publications + 1))
        assert seen_at_reply.keys() == pushed_before.keys()
        overtaken = {
            i: (pushed_before[i], seen) for i, seen in seen_at_reply.items() if seen < pushed_before[i]
        }
        assert overtaken == {}
        assert connection.closing is None
    finally:
        await client.connection.close()


async def open_sluggish(url: str) -> WsClient:
    """A client with tiny socket buffers whose library stops reading once one frame is waiting."""
    host, port = url.removeprefix("ws://").split("/")[0].split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    return WsClient(await connect(url, sock=sock, max_queue=1, max_size=2**22, compression=None))


async def test_a_paused_transport_queues_then_closes_4008_at_the_bound_and_writes_nothing_after(
    served: Served, api: Api, runtime: Runtime
) -> None:
    hub = runtime.hub
    assert hub is not None
    learner = await api.account("learner")
    channel = f"user:{learner.id}"
    sluggish = await open_sluggish(served.url)
    try:
        assert (await sluggish.request(op="auth", token=learner.access_token))["ok"] is True
        assert (await sluggish.request(op="subscribe", channel=channel))["ok"] is True
        connection = the_connection(hub, learner.id)
        expect_path(connection, served.path)
        queued: list[int] = []
        for n in range(200):
            await hub.publish(channel, "bulk", {"n": n, "blob": BLOB})
            await asyncio.sleep(0.003)
            if connection.outbox:
                queued.append(len(connection.outbox))
            if connection.closing is not None:
                break
        # The socket stopped taking frames: they waited in the outbox, up to its bound, then 4008.
        assert queued and max(queued) >= QUEUE // 2
        assert connection.closing == 4008
        code, frames = await sluggish.closed(timeout=20)
        assert code == 4008
        delivered = [m["data"]["n"] for m in frames if m.get("channel") == channel]
        assert delivered == list(range(len(delivered))) and len(delivered) < 200
        if connection.direct is not None:
            # After the close frame the socket takes no more bytes, and the hub sends none.
            assert connection.direct.write_prepared(b"\x81\x01x") is False
            assert connection.direct.write_if_writable(b"\x81\x01x") is False  # the fan-out's path too
    finally:
        await sluggish.connection.close()
