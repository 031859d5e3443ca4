"""An acceptance call that fails in Redis has written nothing. Redis does not undo the writes a script
made before its error, so the script reads every key it checks (and the stream key's type) before it
writes any: otherwise the heartbeats ahead of the failure would have their `seq` guards and budgets moved
without a stream entry, and their retry, same `seq`, would read as a duplicate and never be credited."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator

import pytest
from redis.exceptions import OutOfMemoryError, ResponseError

from app.errors import StoreUnavailable
from app.runtime import Runtime
from app.stores.availability import client_error
from app.telemetry import keys as keys_
from app.telemetry import parts as telemetry_parts
from app.telemetry.batcher import Acceptance
from app.telemetry.stream import STREAM, TelemetryStream
from realtime.redis_client import RedisClient
from tests.telemetry.helpers import stream_key_holds_a_string

pytestmark = pytest.mark.timeout(60)

COURSE = 7
_users = itertools.count(880_001)


def _budget(stream: TelemetryStream, user: int) -> str:
    return keys_.budget(keys_.partition_of(user, stream.partitions), user)


def _seq(stream: TelemetryStream, user: int) -> str:
    return keys_.last_seq(keys_.partition_of(user, stream.partitions), user, COURSE)


async def _accept_together(stream: TelemetryStream, users: list[int]) -> list[Acceptance | BaseException]:
    """One heartbeat (5 s, seq 1) per user, queued in the same tick: one acceptance call."""
    futures = [
        stream.accept(user_id=user, course_id=COURSE, lesson_id="L1", seconds=5, seq=1, enrollment_id=user)
        for user in users
    ]
    return list(await asyncio.gather(*futures, return_exceptions=True))


async def _last_entry(redis: RedisClient) -> str | None:
    newest = await redis.xrevrange(STREAM, count=1)
    return str(newest[0][0]) if newest else None


@contextlib.asynccontextmanager
async def _broken(redis: RedisClient, stream: TelemetryStream, how: str, second: int) -> AsyncIterator[str]:
    """Inside, a key of the call is in a state its script fails on (yielded); repaired afterwards."""
    if how == "the stream key holds a string":
        async with stream_key_holds_a_string(redis):
            yield STREAM
        return
    if how == "the second learner's budget is not a number":
        key = _budget(stream, second)
        await redis.set(key, "soon")
    else:  # "the second learner's seq key is a list"
        key = _seq(stream, second)
        await redis.rpush(key, "a list")
    try:
        yield key
    finally:
        await redis.delete(key)


@pytest.mark.parametrize(
    "how",
    [
        "the stream key holds a string",
        "the second learner's budget is not a number",
        "the second learner's seq key is a list",
    ],
)
async def test_a_call_that_fails_has_written_nothing_and_its_retry_is_credited(
    runtime: Runtime, how: str
) -> None:
    stream = telemetry_parts.stream(runtime)
    redis = runtime.redis
    first, second = next(_users), next(_users)
    last = await _last_entry(redis)
    async with _broken(redis, stream, how, second) as broken:
        outcomes = await _accept_together(stream, [first, second])
        assert all(isinstance(outcome, ResponseError) for outcome in outcomes), outcomes
        # Neither learner's budget or seq moved (but the key broken on purpose), nothing was appended.
        untouched = [
            _budget(stream, first),
            _seq(stream, first),
            _budget(stream, second),
            _seq(stream, second),
        ]
        unbroken = [key for key in untouched if key != broken]
        assert [await redis.exists(key) for key in unbroken] == [0] * len(unbroken)
    assert await _last_entry(redis) == last  # nothing appended

    retried = await _accept_together(stream, [first, second])

    credited = [(a.duplicate, a.credited_seconds) for a in retried if isinstance(a, Acceptance)]
    assert credited == [(False, 5), (False, 5)]
    ids = [a.entry_id for a in retried if isinstance(a, Acceptance)]
    assert ids[0] is not None and ids[1] == f"{ids[0]}.1"  # both in the call's one entry


async def test_a_redis_out_of_memory_refuses_the_call_before_it_writes_and_says_so(runtime: Runtime) -> None:
    stream = telemetry_parts.stream(runtime)
    redis = runtime.redis
    first, second = next(_users), next(_users)
    last = await _last_entry(redis)
    memory = str((await redis.config_get("maxmemory"))["maxmemory"])
    policy = str((await redis.config_get("maxmemory-policy"))["maxmemory-policy"])
    await redis.config_set("maxmemory-policy", "noeviction")
    await redis.config_set("maxmemory", 1)  # below what it uses: every write is refused
    try:
        outcomes = await _accept_together(stream, [first, second])
    finally:
        await redis.config_set("maxmemory", memory)
        await redis.config_set("maxmemory-policy", policy)

    refusals = [outcome for outcome in outcomes if isinstance(outcome, OutOfMemoryError)]
    assert len(refusals) == 2, outcomes
    told = client_error(refusals[0])
    assert isinstance(told, StoreUnavailable) and told.details == {"store": "redis"}  # 503, Retry-After
    written = [_budget(stream, first), _seq(stream, first), _budget(stream, second), _seq(stream, second)]
    assert [await redis.exists(key) for key in written] == [0, 0, 0, 0]
    assert await _last_entry(redis) == last
    retried = await _accept_together(stream, [first, second])
    assert [(a.duplicate, a.credited_seconds) for a in retried if isinstance(a, Acceptance)] == [
        (False, 5)
    ] * 2
