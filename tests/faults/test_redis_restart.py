"""Redis restarts during a continuous publication stream to 500 WebSocket subscribers spread over both
api instances (docs/PRODUCT.md): every client either receives every publication once, in order, with no gap,
or is told `recovered: false`; each instance's relay delivers again within 2 s of Redis coming back;
no process crashes."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from harness.cluster import Cluster
from realtime.history import RedisHistory
from realtime.protocol import publication_fragment
from tests.faults.helpers import Subscriber, gather_limited, report
from tests.helpers import Api

SUBSCRIBERS = 500
CHANNELS = 5  # one learner per channel (`user:{id}`), 100 connections each
RATE = 25.0  # publications per second, over all channels
DOWN_SECONDS = 8.0  # long enough for the relay's reconnect backoff to reach its cap

pytestmark = pytest.mark.timeout(300)


class Publisher:
    """Publishes through the hub's own publish path (offset + history + PUBLISH in one Lua script) at a
    fixed rate, round robin over the channels; what Redis accepted is remembered, failures retried."""

    def __init__(self, redis: Redis, channels: list[str]) -> None:
        self.history = RedisHistory(redis, size=200, ttl_seconds=600)
        self.channels = channels
        self.published: dict[str, list[tuple[int, str, float]]] = {c: [] for c in channels}
        self.failures = 0
        self.running = True

    async def run(self) -> None:
        n = 0
        while self.running:
            channel = self.channels[n % len(self.channels)]
            try:
                position = await self.history.publish(channel, publication_fragment("fault.tick", {"n": n}))
            except (RedisConnectionError, RedisTimeoutError, OSError):
                self.failures += 1
                await asyncio.sleep(0.05)
                continue
            self.published[channel].append((position.offset, position.epoch, time.monotonic()))
            n += 1
            await asyncio.sleep(1 / RATE)


async def made(
    history: RedisHistory, channel: str, recorded: list[tuple[int, str, float]]
) -> list[tuple[int, str]]:
    """What was really published on `channel`, (offset, epoch) in order. A publish whose reply was lost as
    Redis stopped under it raised, yet was made and delivered; the history's own account has it, so that
    account is the truth while it still holds the whole epoch, else what the publisher recorded."""
    epochs = {epoch for _, epoch, _ in recorded}
    if len(epochs) == 1:
        epoch = epochs.pop()
        recovery = await history.since(channel, 0, epoch)
        if recovery.recovered:
            return [(offset, epoch) for offset, _ in recovery.frames]
    return [(offset, epoch) for offset, epoch, _ in recorded]


def check(subscriber: Subscriber, start: dict[str, Any], published: list[tuple[int, str]]) -> str:
    """'complete', 'told' (got `recovered: false`), or a description of what went wrong."""
    frames = subscriber.publications()
    seen = [(frame["epoch"], frame["offset"]) for frame in frames]
    if len(set(seen)) != len(seen):
        return f"duplicates: {len(seen) - len(set(seen))}"
    expected = [(epoch, offset) for offset, epoch in published if offset > start["offset"]]
    if seen == expected:
        return "complete"
    if subscriber.told_lost():
        return "told"
    missing = sorted(set(expected) - set(seen))
    return f"gap: {len(missing)} missing, e.g. {missing[:3]}; got {len(seen)} of {len(expected)}"


async def test_redis_restart_under_500_subscribers_on_two_instances(
    healthy: Cluster, apis: list[Api]
) -> None:
    learners = [await apis[0].register() for _ in range(CHANNELS)]
    subscribers = [
        Subscriber(healthy.apis[n % 2].ws, learners[n % CHANNELS], f"user:{learners[n % CHANNELS].id}")
        for n in range(SUBSCRIBERS)
    ]
    await gather_limited(32, *(s.open() for s in subscribers))
    starts = await gather_limited(32, *(s.subscribe() for s in subscribers))
    pids = [process.pid for process in healthy.processes]

    redis = Redis.from_url(
        healthy.urls.redis_url,
        decode_responses=True,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), 2),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        socket_timeout=2,
    )
    publisher = Publisher(redis, sorted({s.channel for s in subscribers}))
    publishing = asyncio.create_task(publisher.run())
    try:
        await asyncio.sleep(3)
        before = sum(len(p) for p in publisher.published.values())
        down_at = time.monotonic()
        await asyncio.to_thread(healthy.stores.stop_redis)
        await asyncio.sleep(DOWN_SECONDS)
        await asyncio.to_thread(healthy.stores.start_redis)
        up_at = time.monotonic()
        await asyncio.sleep(5)
    finally:
        publisher.running = False
        await publishing
    # Every subscriber has what it will get once the last publication of its channel has arrived.
    last = {channel: entries[-1][0] for channel, entries in publisher.published.items()}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if all(
            any(frame["offset"] == last[s.channel] for frame in s.publications()) or s.told_lost()
            for s in subscribers
        ):
            break
        await asyncio.sleep(0.1)

    truth = {
        channel: await made(publisher.history, channel, recorded)
        for channel, recorded in publisher.published.items()
    }
    outcomes: dict[str, int] = {}
    problems = []
    for subscriber, start in zip(subscribers, starts, strict=True):
        outcome = check(subscriber, start, truth[subscriber.channel])
        key = outcome if outcome in ("complete", "told") else "wrong"
        outcomes[key] = outcomes.get(key, 0) + 1
        if key == "wrong":
            problems.append(outcome)
    # When each instance's subscribers got the first frame after Redis came back.
    resumed = {}
    for api in healthy.apis:
        mine = [s for s in subscribers if s.url == api.ws]
        times = [at for s in mine for at, frame in s.frames if "offset" in frame and at > up_at]
        resumed[api.name] = round(min(times) - up_at, 3) if times else None
    first_publish_after = min(
        (at for entries in publisher.published.values() for _, _, at in entries if at > up_at), default=None
    )
    alive = [process.alive for process in healthy.processes]
    report(
        "faults_redis_restart",
        {
            "subscribers": len(subscribers),
            "per_instance": {api.name: sum(s.url == api.ws for s in subscribers) for api in healthy.apis},
            "channels": CHANNELS,
            "publications": sum(len(p) for p in publisher.published.values()),
            # Including those whose reply was lost as Redis stopped (made, but counted as failures).
            "publications_made": sum(len(made) for made in truth.values()),
            "published_before_stop": before,
            "publish_failures_while_down": publisher.failures,
            "redis_down_s": round(up_at - down_at, 2),
            "outcomes": outcomes,
            "frames_received": sum(len(s.publications()) for s in subscribers),
            "relay_resumed_after_s": resumed,
            "first_publish_after_restart_s": None
            if first_publish_after is None
            else round(first_publish_after - up_at, 3),
            "processes_alive": sum(alive),
            "processes_restarted": sum(p.pid != pid for p, pid in zip(healthy.processes, pids, strict=True)),
        },
    )
    await gather_limited(64, *(s.close() for s in subscribers))
    await redis.aclose()
    assert problems == [], problems[:5]
    assert outcomes.get("complete", 0) + outcomes.get("told", 0) == SUBSCRIBERS
    assert all(value is not None and value <= 2.0 for value in resumed.values()), resumed
    assert all(alive) and [p.pid for p in healthy.processes] == pids
