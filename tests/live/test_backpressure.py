"""Backpressure (docs/PRODUCT.md): a client that stops reading overflows its own bounded queue and is closed
with 4008; another subscriber of the same channel gets everything, and the instance stays up."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from app.runtime import Runtime
from tests.helpers import Api
from tests.live.conftest import Instance, WsClient
from tests.ws_client import open_sluggish as open_sluggish_client

Connect = Callable[..., Awaitable[WsClient]]
PUBLICATIONS = 200
# Incompressible, so permessage-deflate cannot shrink the flood into the socket buffers.
BLOB = base64.b64encode(os.urandom(37_500)).decode()


@pytest.fixture
def tight(instance_with: Callable[..., Instance]) -> Instance:
    return instance_with(WS_OUTGOING_QUEUE_SIZE="16")


async def open_sluggish(instance: Instance) -> WsClient:
    return await open_sluggish_client(instance.ws, instance.port)


async def test_a_client_that_stops_reading_is_closed_4008_and_others_get_everything(
    tight: Instance, api: Api, runtime: Runtime, ws_connect: Connect
) -> None:
    assert runtime.hub is not None
    learner = await api.account("learner")
    channel = f"user:{learner.id}"
    sluggish = await open_sluggish(tight)
    try:
        assert (await sluggish.request(op="auth", token=learner.access_token))["ok"] is True
        assert (await sluggish.request(op="subscribe", channel=channel))["ok"] is True
        reader = await ws_connect(tight.ws, learner.access_token)
        assert (await reader.request(op="subscribe", channel=channel))["ok"] is True

        async def read_everything() -> list[dict[str, Any]]:
            received: list[dict[str, Any]] = []
            while len(received) < PUBLICATIONS:
                message = await reader.recv(timeout=10)
                if message.get("channel") == channel:
                    received.append(message)
            return received

        reading = asyncio.create_task(read_everything())
        for n in range(PUBLICATIONS):
            await runtime.hub.publish(channel, "bulk", {"n": n, "blob": BLOB})
            await asyncio.sleep(0.003)
        received = await asyncio.wait_for(reading, 30)
        # The reader got every publication, in order, once; and is still connected.
        assert [m["data"]["n"] for m in received] == list(range(PUBLICATIONS))
        assert [m["offset"] for m in received] == list(range(1, PUBLICATIONS + 1))
        assert (await reader.request(op="ping"))["pong"] is True

        # The sluggish client, once it reads again, finds what fitted in its buffers, then 4008.
        code, frames = await sluggish.closed(timeout=20)
        assert code == 4008
        delivered = [m["data"]["n"] for m in frames if m.get("channel") == channel]
        assert delivered == list(range(len(delivered))) and len(delivered) < PUBLICATIONS
    finally:
        await sluggish.connection.close()

    async with httpx.AsyncClient(base_url=tight.http) as http:
        assert (await http.get("/api/health")).status_code == 200
        metrics = (await http.get("/metrics")).text
    slow = [line for line in metrics.splitlines() if line.startswith("learnflow_ws_slow_consumers_total")]
    assert slow and float(slow[0].split()[-1]) >= 1
    # New connections are served as usual.
    again = await ws_connect(tight.ws, learner.access_token)
    assert (await again.request(op="subscribe", channel=channel))["ok"] is True


async def test_a_slow_consumer_on_one_instance_does_not_slow_the_other(
    tight: Instance, instances: tuple[Instance, Instance], api: Api, runtime: Runtime, ws_connect: Connect
) -> None:
    """Publications keep flowing to every instance while one of them is disconnecting a slow client."""
    assert runtime.hub is not None
    learner = await api.account("learner")
    channel = f"user:{learner.id}"
    sluggish = await open_sluggish(tight)
    try:
        assert (await sluggish.request(op="auth", token=learner.access_token))["ok"] is True
        assert (await sluggish.request(op="subscribe", channel=channel))["ok"] is True
        elsewhere = await ws_connect(instances[0].ws, learner.access_token)
        assert (await elsewhere.request(op="subscribe", channel=channel))["ok"] is True
        for n in range(PUBLICATIONS):
            await runtime.hub.publish(channel, "bulk", {"n": n, "blob": BLOB})
            if n % 20 == 0:
                await asyncio.sleep(0.01)
        seen = 0
        while seen < PUBLICATIONS:
            message = await elsewhere.recv(timeout=10)
            if message.get("channel") == channel:
                assert message["data"]["n"] == seen
                seen += 1
        code, _ = await sluggish.closed(timeout=20)
        assert code == 4008
    finally:
        await sluggish.connection.close()
