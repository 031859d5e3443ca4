"""The Redis-backed stores outside the hub, on the 3-master cluster: each multi-key script or transaction
keeps to one slot (a cross-slot one would fail with CROSSSLOT), and the results are the single-server ones."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import pytest

from app.errors import TooManyRequests
from app.http.ratelimit import RateLimiter
from app.live import store as live
from app.runtime import StoreUrls
from app.stores.login_attempts import LoginAttempts, ThrottlePolicy
from app.stores.redis import create_redis
from app.stores.revocation import RevocationList
from app.telemetry import activity
from harness.redis_cluster import RedisCluster
from realtime.keys import DEFAULT_KEYS
from realtime.online import OnlineUsers, count_online
from realtime.redis_client import RedisClient
from tests.http.test_runtime_close import assert_closing_the_runtime_closes_the_limiter


@pytest.fixture
async def redis(redis_cluster: RedisCluster) -> AsyncIterator[RedisClient]:
    client = create_redis(redis_cluster.url)
    await client.flushdb()
    yield client
    await client.aclose()


async def test_rate_limits_hold_on_the_cluster(redis: RedisClient, redis_cluster: RedisCluster) -> None:
    limiter = RateLimiter(redis_cluster.url)
    for remaining in (1, 0):
        state = await limiter.hit("2/minute", "login", "198.51.100.7")
        assert state is not None and state.remaining == remaining
    with pytest.raises(TooManyRequests):
        await limiter.hit("2/minute", "login", "198.51.100.7")
    assert await limiter.hit("2/minute", "login", "198.51.100.8") is not None


async def test_sign_in_throttling_and_revocations_on_the_cluster(redis: RedisClient) -> None:
    attempts = LoginAttempts(redis, ThrottlePolicy(1, 60, 60, 3600))
    assert await attempts.failed("ada@example.com", "10.0.0.1") == (1, 0)
    assert await attempts.failed("ada@example.com", "10.0.0.1") == (2, 1)
    assert await attempts.wait_seconds("ada@example.com", "10.0.0.1") == 1
    await attempts.succeeded("ada@example.com", "10.0.0.1")
    assert await attempts.is_known("ada@example.com", "10.0.0.1")
    assert await attempts.wait_seconds("ada@example.com", "10.0.0.1") == 0
    revocations = RevocationList(redis, 900)
    await revocations.revoke_sessions(["s1", "s2", "s3"])
    assert await revocations.is_revoked("jti-1", "s2")  # EXISTS over two slots, split by the client
    assert not await revocations.is_revoked("jti-1", "s9")
    await revocations.revoke_token("jti-1", 60)
    assert await revocations.is_revoked("jti-1", "s9")


async def test_live_view_claims_activity_and_online_counts_on_the_cluster(redis: RedisClient) -> None:
    await live.mark_leaderboards(redis, [1, 2, 3])
    assert await live.dirty_leaderboards(redis) == [1, 2, 3]
    assert await live.claim_leaderboard(redis, 2, 1000)
    assert not await live.claim_leaderboard(redis, 2, 1000)  # locked: one push per second
    assert await live.dirty_leaderboards(redis) == [1, 3]
    # What the heartbeat-accepting script leaves behind (app/telemetry/activity.py), written as it does.
    now_ms = int(time.time() * 1000)
    entry = {
        "user_id": 7,
        "lesson_id": "l1",
        "session_started": now_ms,
        "session_seconds": 15,
        "last_seen": now_ms,
    }
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hset(activity.ACTIVITY.format(5), "7", json.dumps(entry))
        pipe.rpush(activity.JOINS.format(5), "7")
        pipe.sadd(activity.DIRTY, "5")
        pipe.zadd(activity.COURSES, {"5": now_ms})
        pipe.zadd(activity.RECENT, {"5:7": now_ms})
        pipe.incr(activity.rate_key("hb", now_ms // 1000))
        await pipe.execute()
    sweep = await live.sweep_activity(redis, 5)
    assert sweep.changed and sweep.joins == [7] and [entry["user_id"] for entry in sweep.active] == [7]
    online = [OnlineUsers(redis, DEFAULT_KEYS.online, ttl_seconds=30) for _ in range(3)]
    for instance, users in zip(online, (["1", "2"], ["2", "3"], ["4"]), strict=True):
        await instance.refresh(users)
    assert await count_online(redis, DEFAULT_KEYS.online) == 4
    counts = await live.live_counts(redis, online_key=DEFAULT_KEYS.online)
    assert (
        counts.users_online == 4 and counts.active_by_course == {5: 1} and counts.heartbeats_per_minute == 1
    )


async def test_closing_the_runtime_closes_the_rate_limiters_cluster_connections(
    redis_cluster: RedisCluster, store_urls: StoreUrls
) -> None:
    await assert_closing_the_runtime_closes_the_limiter(store_urls, redis_cluster.urls)
