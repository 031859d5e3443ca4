"""Whether anyone listens to a channel, as the workers ask it before pushing a live view: true while some
hub instance holds the channel on the bus (here, this test's own hub), false again once it lets go."""

from __future__ import annotations

import asyncio
import time
import uuid

from app.live import store as live
from app.runtime import Runtime


async def test_listeners_appear_and_disappear_with_the_relay_subscription(runtime: Runtime) -> None:
    hub = runtime.hub
    assert hub is not None
    held, other = f"test:{uuid.uuid4().hex}", f"test:{uuid.uuid4().hex}"
    assert await hub.has_listeners([held, other]) == {held: False, other: False}
    await hub.relay.acquire(held)
    try:
        assert await hub.has_listeners([held, other]) == {held: True, other: False}
        # A process without a hub of its own (a worker) gets the same answer.
        assert await live.listened(runtime.redis, [held, other]) == {held: True, other: False}
    finally:
        await hub.relay.release(held)
    # The unsubscribe is confirmed asynchronously and the count is asked over another connection.
    deadline = time.monotonic() + 5
    while (await live.listened(runtime.redis, [held]))[held]:
        assert time.monotonic() < deadline, "still listened to 5 s after the release"
        await asyncio.sleep(0.02)
    assert await hub.has_listeners([held]) == {held: False}
