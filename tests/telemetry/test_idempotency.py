"""Heartbeats without `seq` are credited once per request, and acceptance is never sent twice by the
Redis client itself (a lost reply is reported, not retried behind the caller's back)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from redis.asyncio import RedisCluster

from app.courses import store as courses
from app.runtime import Runtime
from app.telemetry import parts as telemetry_parts
from app.telemetry.stream import STREAM
from tests.helpers import Api
from tests.telemetry.helpers import classroom

pytestmark = pytest.mark.timeout(60)


def retries(client: Any) -> int:
    """How many times the client resends a command by itself (a cluster client keeps its `retry`)."""
    retry = client.retry if isinstance(client, RedisCluster) else client.get_retry()
    assert retry is not None
    return int(retry.get_retries())


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"telemetry_tolerance_seconds": 30}


async def test_a_retried_rest_heartbeat_with_the_same_idempotency_key_is_credited_once(
    api: Api, client: httpx.AsyncClient, runtime: Runtime
) -> None:
    room = await classroom(api, learners=2, courses=1, lessons=1)
    first, second = room.learners
    ((course_id, lessons),) = room.courses.items()
    url = f"/api/courses/{course_id}/telemetry"
    body = {"lesson_id": lessons[0], "seconds_spent": 5}
    key = {"Idempotency-Key": "4f1c7d0e-retry-me"}

    sent = await client.post(url, headers={**first.headers, **key}, json=body)
    assert sent.status_code == 202 and sent.json()["duplicate"] is False
    assert sent.json()["credited_seconds"] == 5
    retried = await client.post(url, headers={**first.headers, **key}, json=body)
    assert retried.status_code == 202, retried.text
    assert retried.json()["duplicate"] is True and retried.json()["credited_seconds"] == 0
    assert await runtime.redis.xlen(STREAM) == 1

    # Keys belong to their user; another request of the same user is a new heartbeat.
    other_user = await client.post(url, headers={**second.headers, **key}, json=body)
    assert other_user.json()["duplicate"] is False and other_user.json()["credited_seconds"] == 5
    new_request = await client.post(url, headers={**first.headers, "Idempotency-Key": "another"}, json=body)
    assert new_request.json()["duplicate"] is False and new_request.json()["credited_seconds"] == 5
    without_key = await client.post(url, headers=first.headers, json=body)
    assert without_key.json()["duplicate"] is False and without_key.json()["credited_seconds"] == 5
    assert await runtime.redis.xlen(STREAM) == 4


async def test_the_same_acceptance_sent_again_counts_once_and_the_client_never_resends_it(
    api: Api, runtime: Runtime
) -> None:
    """A heartbeat without `seq` carries a key made up by the server, so the same script call arriving
    twice (a resend after a lost reply) credits once; and the acceptance client does not resend at all."""
    room = await classroom(api, learners=1, courses=1, lessons=1)
    learner = room.learners[0]
    ((course_id, lessons),) = room.courses.items()
    async with runtime.db.read() as tx:
        enrollment = await courses.enrollment(tx, learner.id, course_id)
    assert enrollment is not None
    call: dict[str, Any] = {
        "user_id": learner.id,
        "course_id": course_id,
        "lesson_id": lessons[0],
        "seconds": 4,
        "seq": None,
        "enrollment_id": enrollment.id,
        "idempotency_key": "server-made-key",
    }
    once = await telemetry_parts.stream(runtime).accept(**call)
    twice = await telemetry_parts.stream(runtime).accept(**call)
    assert (once.duplicate, once.credited_seconds) == (False, 4)
    assert (twice.duplicate, twice.credited_seconds) == (True, 0)
    assert await runtime.redis.xlen(STREAM) == 1
    assert retries(telemetry_parts.stream(runtime).client) == 0
    assert retries(runtime.redis) > 0  # other, idempotent commands still retry


async def test_the_streams_redis_syncs_every_write_before_it_is_answered(runtime: Runtime) -> None:
    config = await telemetry_parts.stream(runtime).client.config_get("append*")
    assert config["appendonly"] == "yes" and config["appendfsync"] == "always"
