"""What a browser-like client that offers permessage-deflate gets from `learnflow serve`: no compression
negotiated, and every frame intact (small, 16-bit and 64-bit payload lengths, non-ASCII text)."""

from __future__ import annotations

import json

from websockets.asyncio.client import connect

from app.runtime import Runtime
from tests.helpers import Api
from tests.live.conftest import Instance, WsClient


async def test_a_client_offering_deflate_gets_uncompressed_correct_frames(
    instances: tuple[Instance, Instance], api: Api, runtime: Runtime
) -> None:
    assert runtime.hub is not None
    learner = await api.account("learner")
    channel = f"user:{learner.id}"
    async with connect(
        instances[0].ws,
        # The library's default offer is the browsers' one: permessage-deflate; client_max_window_bits.
        compression="deflate",
        max_size=2**22,
    ) as connection:
        assert connection.request is not None
        assert "permessage-deflate" in (connection.request.headers.get("Sec-WebSocket-Extensions") or "")
        assert connection.response is not None
        assert connection.response.headers.get("Sec-WebSocket-Extensions") is None
        assert connection.protocol.extensions == []
        client = WsClient(connection)
        assert (await client.request(op="auth", token=learner.access_token))["ok"] is True
        assert (await client.request(op="subscribe", channel=channel))["ok"] is True
        payloads = ["x", "é" * 200, "ü" * 40_000, "ok" * 70_000]
        for text in payloads:
            await runtime.hub.publish(channel, "note", {"text": text})
        received = [await client.until(lambda m: m.get("channel") == channel) for _ in payloads]
        assert [m["data"]["text"] for m in received] == payloads
        assert [m["offset"] for m in received] == [1, 2, 3, 4]
        assert (await client.request(op="ping"))["pong"] is True


async def test_a_client_offering_nothing_gets_the_same_frames(
    instances: tuple[Instance, Instance], api: Api, runtime: Runtime
) -> None:
    assert runtime.hub is not None
    learner = await api.account("learner")
    channel = f"user:{learner.id}"
    async with connect(instances[0].ws, compression=None) as connection:
        client = WsClient(connection)
        assert (await client.request(op="auth", token=learner.access_token))["ok"] is True
        assert (await client.request(op="subscribe", channel=channel))["ok"] is True
        await runtime.hub.publish(channel, "note", {"text": "plain"})
        message = await client.until(lambda m: m.get("channel") == channel)
        assert json.dumps(message["data"]) == json.dumps({"text": "plain"})
