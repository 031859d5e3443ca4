"""Closing the runtime closes every Redis connection it opened, the rate limiter's own client included
(`limits` opens its own redis-py client and has no close of its own)."""

from __future__ import annotations

from collections.abc import Sequence

import redis.asyncio as redis

from app.http.ratelimit import RateLimiter
from app.runtime import Runtime, StoreUrls
from app.telemetry import parts as telemetry_parts
from tests.conftest import make_settings


async def client_ids(node_urls: Sequence[str]) -> set[tuple[str, str]]:
    ids: set[tuple[str, str]] = set()
    for url in node_urls:
        async with redis.Redis.from_url(url) as node:
            ids |= {(url, str(client["id"])) for client in await node.client_list()}
    return ids


async def assert_closing_the_runtime_closes_the_limiter(urls: StoreUrls, node_urls: Sequence[str]) -> None:
    before = await client_ids(node_urls)
    runtime = Runtime.open(make_settings(rate_limit_enabled=True), urls)
    try:
        assert await runtime.rate_limiter.hit("5/minute", "close-test", "198.51.100.9") is not None
        opened = await client_ids(node_urls) - before
        assert opened, "the limiter's hit went over a connection of its own"
    finally:
        await runtime.close()
    assert not opened & await client_ids(node_urls)


async def test_closing_the_runtime_closes_the_rate_limiters_connections(store_urls: StoreUrls) -> None:
    await assert_closing_the_runtime_closes_the_limiter(store_urls, [store_urls.redis_url])


async def test_closing_a_limiter_whose_storage_has_no_client_does_nothing(store_urls: StoreUrls) -> None:
    limiter = RateLimiter(store_urls.redis_url)
    limiter._storage.bridge = object()  # type: ignore[assignment]  # as if `limits` moved its client
    await limiter.close()


async def test_a_domains_part_is_made_once_and_closed_with_the_runtime(store_urls: StoreUrls) -> None:
    before = await client_ids([store_urls.redis_url])
    runtime = Runtime.open(make_settings(), store_urls)
    try:
        stream = telemetry_parts.stream(runtime)
        assert telemetry_parts.stream(runtime) is stream
        other = Runtime.open(make_settings(), store_urls)
        try:
            assert telemetry_parts.stream(other) is not stream
        finally:
            await other.close()
        assert await stream.client.ping()
        opened = await client_ids([store_urls.redis_url]) - before
        assert opened, "the stream's client holds a connection of its own"
    finally:
        await runtime.close()
    assert not opened & await client_ids([store_urls.redis_url])
