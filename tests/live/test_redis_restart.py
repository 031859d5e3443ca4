"""Redis going away under the hub (docs/PRODUCT.md): local subscribers keep being served, the relay reconnects
with backoff and resumes; publications missed meanwhile are recovered from history, or subscribers are
told `{"event": "resubscribe", "recovered": false}`. Each test runs its own Valkey, so stopping it
disturbs nobody else."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.runtime import StoreUrls
from harness.cluster import RestartableValkey
from realtime.history import RedisHistory
from realtime.protocol import publication_fragment
from realtime.relay import BusRelay
from tests.helpers import Account, Api
from tests.live.conftest import Instance, WsClient, start_instance, stop_instance

Connect = Callable[..., Awaitable[WsClient]]


@pytest.fixture
def valkey(tmp_path: Path) -> Iterator[RestartableValkey]:
    server = RestartableValkey(tmp_path / "valkey")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pair(store_urls: StoreUrls, valkey: RestartableValkey) -> Iterator[tuple[Instance, Instance]]:
    """Two instances whose Redis is this test's Valkey (PostgreSQL and MongoDB are the shared ones)."""
    first = start_instance(store_urls, REDIS_URL=valkey.url)
    try:
        second = start_instance(store_urls, REDIS_URL=valkey.url)
    except BaseException:
        stop_instance(first)
        raise
    try:
        yield first, second
    finally:
        stop_instance(first)
        stop_instance(second)


@pytest.fixture
async def own_redis(valkey: RestartableValkey) -> AsyncIterator[Redis]:
    # With retries, so a pooled connection that died with the old server is replaced transparently.
    redis = Redis.from_url(
        valkey.url,
        decode_responses=True,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 3),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )
    yield redis
    await redis.aclose()


async def send_message(
    instance: Instance, sender: Account, to: Account, content: str, *, attempts: int = 1
) -> httpx.Response:
    """`attempts` > 1 retries a 503, as a client should (the first request on each pooled Redis connection
    that died with the old server fails: app/stores/redis.py configures no retries)."""
    async with httpx.AsyncClient(base_url=instance.http, timeout=10) as http:
        for _ in range(attempts):
            response = await http.post(
                f"/api/chats/{to.id}", headers=sender.headers, json={"content": content}
            )
            if response.status_code != 503:
                break
            await asyncio.sleep(0.2)
        return response


async def connect_retrying(ws_connect: Connect, instance: Instance, account: Account) -> WsClient:
    """Authentication that meets a dead pooled Redis connection is refused `unavailable`; reconnect."""
    for _ in range(5):
        ws = await ws_connect(instance.ws)
        answer = await ws.request(op="auth", token=account.access_token)
        if answer["ok"]:
            return ws
        assert answer["error"]["code"] == "unavailable", answer
        await asyncio.sleep(0.2)
    raise AssertionError("could not authenticate after Redis came back")


async def subscribe_retrying(ws: WsClient, **frame: Any) -> dict[str, Any]:
    """A subscribe that meets a dead pooled Redis connection is answered `unavailable`; retry it."""
    for _ in range(5):
        answer = await ws.request(op="subscribe", **frame)
        if answer["ok"] or answer["error"]["code"] != "unavailable":
            return answer
        await asyncio.sleep(0.2)
    return answer


async def wait_ready(instance: Instance, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=instance.http, timeout=3) as http:
        while (await http.get("/api/ready")).status_code != 200:
            assert time.monotonic() < deadline, "the instance never saw Redis again"
            await asyncio.sleep(0.2)


async def relay_reconnects(instance: Instance) -> float:
    async with httpx.AsyncClient(base_url=instance.http, timeout=3) as http:
        metrics = (await http.get("/metrics")).text
    line = next(
        line for line in metrics.splitlines() if line.startswith("learnflow_ws_relay_reconnects_total")
    )
    return float(line.split()[-1])


async def channel_frames(
    ws: WsClient, channel: str, until: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    """Frames of `channel` up to and including the first that satisfies `until` (15 s at most)."""
    frames: list[dict[str, Any]] = []
    async with asyncio.timeout(15):
        while True:
            message = await ws.recv(timeout=15)
            if message.get("channel") == channel:
                frames.append(message)
                if until(message):
                    return frames


def content_is(text: str) -> Callable[[dict[str, Any]], bool]:
    return lambda m: m.get("event") == "message.sent" and m["data"]["content"] == text


async def test_a_redis_restart_under_two_instances(
    pair: tuple[Instance, Instance],
    valkey: RestartableValkey,
    own_redis: Redis,
    api: Api,
    ws_connect: Connect,
) -> None:
    first, second = pair
    admin, learner = await api.account("admin"), await api.account("learner")
    channel = f"user:{learner.id}"
    watcher = await ws_connect(second.ws, learner.access_token)
    assert (await watcher.request(op="subscribe", channel=channel))["ok"] is True
    dropper = await ws_connect(second.ws, learner.access_token)
    assert (await dropper.request(op="subscribe", channel=channel))["ok"] is True

    assert (await send_message(first, admin, learner, "before")).status_code == 201
    before = (await channel_frames(watcher, channel, content_is("before")))[-1]
    assert before["offset"] == 1
    await dropper.connection.close()

    valkey.stop()
    # Redis is away: nothing crashes, local connections are served, what needs Redis fails cleanly.
    down = await send_message(first, admin, learner, "while down")
    assert down.status_code in (201, 503), down.text
    for instance in pair:
        async with httpx.AsyncClient(base_url=instance.http, timeout=5) as http:
            assert (await http.get("/api/health")).status_code == 200
            assert (await http.get("/api/ready")).status_code == 503
    assert (await watcher.request(op="ping"))["pong"] is True
    newcomer = await ws_connect(second.ws)
    answer = await newcomer.request(op="auth", token=learner.access_token, timeout=15)
    assert answer["ok"] is False and answer["error"]["code"] == "unavailable"
    assert (await newcomer.closed())[0] == 4001
    await asyncio.sleep(1.5)  # let the relay's backoff grow a little

    valkey.start()
    reconnects = await relay_reconnects(second)
    # Published by "another instance" while this one's relay is still away: history must bring it.
    history = RedisHistory(own_redis, size=200, ttl_seconds=600)
    gap = await history.publish(channel, publication_fragment("test.gap", {"n": 1}))
    gap_missed_by_relay = await relay_reconnects(second) == reconnects
    await wait_ready(first)
    await wait_ready(second)

    assert (await send_message(first, admin, learner, "after", attempts=5)).status_code == 201
    frames = await channel_frames(watcher, channel, content_is("after"))
    # Nothing lost (the Valkey keeps an append-only file): what "another instance" published while the
    # relay was away, then the new message, in order, once each, in the same epoch.
    assert [(m.get("offset"), m["event"]) for m in frames] == [
        (gap.offset, "test.gap"),
        (gap.offset + 1, "message.sent"),
    ]
    assert {m["epoch"] for m in frames} == {before["epoch"]}
    print(f"gap publication made before the relay reconnected: {gap_missed_by_relay}")

    # The client that was away recovers everything it missed (or is told it cannot).
    back = await connect_retrying(ws_connect, first, learner)
    since = {"offset": before["offset"], "epoch": before["epoch"]}
    answer = await subscribe_retrying(back, channel=channel, since=since)
    assert answer["ok"] is True and answer["recovered"] is True, answer
    recovered = await channel_frames(back, channel, content_is("after"))
    assert [(m["offset"], m["event"]) for m in recovered] == [(2, "test.gap"), (3, "message.sent")]
    for instance in pair:
        assert instance.alive


async def test_a_redis_that_comes_back_empty_tells_subscribers_to_refetch(
    pair: tuple[Instance, Instance], valkey: RestartableValkey, api: Api, ws_connect: Connect
) -> None:
    first, second = pair
    admin, learner = await api.account("admin"), await api.account("learner")
    channel = f"user:{learner.id}"
    watchers = [await ws_connect(instance.ws, learner.access_token) for instance in pair]
    for watcher in watchers:
        assert (await watcher.request(op="subscribe", channel=channel))["ok"] is True
    assert (await send_message(first, admin, learner, "one")).status_code == 201
    assert (await send_message(first, admin, learner, "two")).status_code == 201
    old = [(await channel_frames(watcher, channel, content_is("two")))[-1] for watcher in watchers]
    assert {m["offset"] for m in old} == {2}

    valkey.stop()
    valkey.wipe()
    valkey.start()
    await wait_ready(first)
    await wait_ready(second)
    # The accounts' sessions were in PostgreSQL, the revocation list in the lost Redis: still signed in.
    three = await send_message(first, admin, learner, "three", attempts=5)
    assert three.status_code == 201, three.text
    for watcher in watchers:
        frames = await channel_frames(watcher, channel, content_is("three"))
        assert frames[0] == {"channel": channel, "event": "resubscribe", "recovered": False}
        fresh = frames[-1]
        assert fresh["offset"] == 1 and fresh["epoch"] != old[0]["epoch"]
        # Once each: no second notice for the same loss.
        assert [m.get("event") for m in frames].count("resubscribe") == 1

    # A client that was away with a position in the lost epoch is told it cannot recover.
    late = await connect_retrying(ws_connect, second, learner)
    since = {"offset": 2, "epoch": old[0]["epoch"]}
    answer = await subscribe_retrying(late, channel=channel, since=since)
    assert answer["ok"] is True and answer["recovered"] is False and answer["offset"] == 1


async def noop(_: str) -> None:
    return None


async def test_the_relay_fills_a_gap_from_history_in_order(
    valkey: RestartableValkey, own_redis: Redis
) -> None:
    """In-process, so the gap is certain: publications made after Redis came back but before the relay
    resubscribed are delivered once each, in order, ahead of anything newer."""
    history = RedisHistory(own_redis, size=100, ttl_seconds=600)
    delivered: list[tuple[int | None, str]] = []
    lost: list[str] = []
    relay = BusRelay(own_redis, history)
    relay.bind(lambda channel, offset, epoch, frame: delivered.append((offset, frame)), noop, lost.append)
    await relay.start()
    published: list[int] = []

    async def publish() -> None:
        position = await history.publish("gap", publication_fragment("e", {"n": len(published) + 1}))
        published.append(position.offset)

    try:
        async with asyncio.timeout(60):
            await relay.connected.wait()
            await relay.acquire("gap")
            relay.track("gap", 0, "")
            await publish()
            for _ in range(10):
                # In threads, so the relay keeps trying (and failing) while the server is away.
                await asyncio.to_thread(valkey.stop)
                while relay.connected.is_set():
                    await asyncio.sleep(0.01)
                await asyncio.sleep(1.0)
                await asyncio.to_thread(valkey.start)
                for _ in range(3):
                    await publish()
                if not relay.connected.is_set():
                    break  # published while the relay was away: the gap is real
            else:
                pytest.fail("the relay always reconnected before the test could publish")
            await relay.connected.wait()
            await publish()
            while len(delivered) < len(published):
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        assert [offset for offset, _ in delivered] == published == list(range(1, len(published) + 1))
        assert [json.loads(frame)["data"]["n"] for _, frame in delivered] == published
        assert lost == []
    finally:
        await relay.stop()
