"""The reference hub: encode/broadcaster 0.3.1 (Redis backend) behind a Starlette WebSocket endpoint.

Built the way broadcaster's README builds its chat room: per connection one task reads the socket and
one iterates the broadcaster subscription (an unbounded asyncio.Queue) and sends every event. Run it
with `uvicorn bench.fanout.broadcaster_app:app`; BENCH_REDIS_URL names the Redis server and
BENCH_CHANNEL the channel (default `bench:fanout`).

Work-around, harness only: with redis-py 8 broadcaster's RedisBackend can lose its listener for good.
`RedisBackend.subscribe` sets its `_ready` event *before* awaiting `PubSub.subscribe`, and redis-py
only adds the channel to `PubSub.channels` after the SUBSCRIBE command was written; the listener task
wakes in between, finds `PubSub.subscribed` false, so `listen()` returns at once, the listener clears
`_ready` and waits for a subscribe that never comes again (later subscribers of the channel do not call
the backend). Before serving we therefore SUBSCRIBE the backend's PubSub connection to a private
hold channel, so `subscribed` is already true whenever the listener wakes, and we check end to end
that a publication reaches a subscriber. Broadcaster's fan-out path (listener → per-subscriber queue →
sender task → send_text) is untouched.

Work-around 2, also harness only: `Broadcast.subscribe` checks whether the channel has subscribers,
then awaits the backend's SUBSCRIBE, then *assigns* `_subscribers[channel] = {queue}`. Clients that
connect together all see an empty set, all await, and each assignment replaces the previous one:
in a first trial 59 of 100 subscribers that connected at once never received a frame. A keeper task
holds one subscription to the channel for the server's lifetime (draining its queue), so clients always
take the `add(queue)` branch. A start-up probe checks a publication reaches the keeper.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from broadcaster import Broadcast
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

CHANNEL = os.environ.get("BENCH_CHANNEL", "bench:fanout")
HOLD_CHANNEL = "bench:broadcaster-hold"
PROBE = '{"probe":true}'
broadcast = Broadcast(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))


async def _keeper(subscribed: asyncio.Event, probed: asyncio.Event) -> None:
    """Holds one subscription to CHANNEL for the server's lifetime (and drains it)."""
    async with broadcast.subscribe(CHANNEL) as subscriber:
        subscribed.set()
        async for event in subscriber:  # type: ignore[attr-defined]
            if event.message == PROBE:
                probed.set()


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    await broadcast.connect()
    # Work-around 1 (see the module docstring): keep the PubSub connection subscribed at all times.
    await broadcast._backend._pubsub.subscribe(HOLD_CHANNEL)  # type: ignore[attr-defined]
    # Work-around 2: a permanent subscriber, so the channel's subscriber set is never empty when clients
    # arrive and concurrent first subscribers cannot replace each other's queues.
    subscribed, probed = asyncio.Event(), asyncio.Event()
    keeper = asyncio.create_task(_keeper(subscribed, probed))
    await asyncio.wait_for(subscribed.wait(), 10)
    for _ in range(50):
        await broadcast.publish(CHANNEL, PROBE)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(probed.wait(), 0.1)
            break
    else:
        raise RuntimeError("broadcaster did not deliver the start-up probe")
    try:
        yield
    finally:
        keeper.cancel()
        await broadcast.disconnect()


async def receiver(websocket: WebSocket) -> None:
    async for _ in websocket.iter_text():
        pass  # subscribers send nothing in this bench; a chat room would broadcast.publish here


async def sender(websocket: WebSocket) -> None:
    async with broadcast.subscribe(channel=CHANNEL) as subscriber:
        await websocket.send_text('{"ok":true}')  # tells the load generator it is subscribed
        async for event in subscriber:  # type: ignore[attr-defined]
            await websocket.send_text(event.message)


async def endpoint(websocket: WebSocket) -> None:
    await websocket.accept()
    async with anyio.create_task_group() as group:

        async def run_receiver() -> None:
            await receiver(websocket)
            group.cancel_scope.cancel()

        group.start_soon(run_receiver)
        await sender(websocket)


async def health(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


app = Starlette(routes=[Route("/health", health), WebSocketRoute("/ws", endpoint)], lifespan=lifespan)
