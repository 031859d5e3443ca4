"""Time tracking on the 3-master Redis Cluster, with the heartbeat stream in partitions spread over the
shards: each accept call stays in one slot, every partition is folded exactly once, and a master killed and
restarted under heartbeats loses none and credits none twice (the refused ones are sent again with their
`seq`, as the web client does)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import httpx
import pytest
import redis.exceptions

from app.runtime import Runtime
from app.telemetry import keys
from app.telemetry.stream import GROUP
from harness.redis_cluster import RedisCluster
from tests.faults.test_compose_healthchecks import healthcheck, run
from tests.helpers import Account, Api
from tests.telemetry.helpers import Classroom, Written, assert_exact, classroom, drain, totals

PARTITIONS = 6


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"telemetry_partitions": PARTITIONS}


def owner(cluster: RedisCluster, partition: int) -> int:
    with cluster.client() as client:
        port = client.get_node_from_key(keys.stream(partition)).port
    return [node.port for node in cluster.nodes].index(port)


async def heartbeat(
    client: httpx.AsyncClient, learner: Account, course_id: int, lesson_id: str, seq: int
) -> httpx.Response:
    return await client.post(
        f"/api/courses/{course_id}/telemetry",
        headers=learner.headers,
        json={"lesson_id": lesson_id, "seconds_spent": 5, "seq": seq},
    )


async def one_round(
    client: httpx.AsyncClient, room: Classroom, seq: int, written: Written
) -> list[tuple[Account, int, str]]:
    """Every learner sends heartbeat `seq` in every course; returns those refused (store unavailable)."""
    refused = []
    for learner in room.learners:
        for course_id, lessons in room.courses.items():
            response = await heartbeat(client, learner, course_id, lessons[0], seq)
            if response.status_code == 503:
                refused.append((learner, course_id, lessons[0]))
                continue
            assert response.status_code == 202, response.text
            written_seconds = int(response.json()["credited_seconds"])
            if written_seconds:
                written.add(learner.id, course_id, written_seconds)
    return refused


async def test_partitions_spread_over_the_shards_and_fold_exactly_once(
    client: httpx.AsyncClient, api: Api, runtime: Runtime, redis_cluster: RedisCluster
) -> None:
    assert len({owner(redis_cluster, k) for k in range(PARTITIONS)}) > 1
    room = await classroom(api, learners=12, courses=2)
    written = Written()
    for seq in range(2):
        assert await one_round(client, room, seq, written) == []
    assert written.entries > 0
    await drain(runtime, PARTITIONS)
    assert_exact(await totals(runtime), written)


async def test_a_killed_master_loses_no_heartbeat_and_credits_none_twice(
    client: httpx.AsyncClient, api: Api, runtime: Runtime, redis_cluster: RedisCluster
) -> None:
    room = await classroom(api, learners=12, courses=1)
    written = Written()
    assert await one_round(client, room, 0, written) == []
    owners = {k: owner(redis_cluster, k) for k in range(PARTITIONS)}
    doomed = owners[keys.partition_of(room.learners[0].id, PARTITIONS)]
    on_doomed = {
        learner.id for learner in room.learners if owners[keys.partition_of(learner.id, PARTITIONS)] == doomed
    }

    redis_cluster.kill(doomed)
    refused = await one_round(client, room, 1, written)
    # While a shard is away the whole cluster refuses commands (full slot coverage is required), so
    # every heartbeat of the round may be refused; those of the lost shard's learners certainly are.
    assert on_doomed <= {learner.id for learner, _, _ in refused}
    redis_cluster.restart(doomed)

    # The refused heartbeats again, with the same seq, until the shard answers; then the whole round
    # once more, as a client that never saw its replies would: all duplicates, nothing credited.
    async with asyncio.timeout(60):
        while refused:
            learner, course_id, lesson_id = refused[0]
            response = await heartbeat(client, learner, course_id, lesson_id, 1)
            if response.status_code == 503:
                await asyncio.sleep(0.2)
                continue
            assert response.status_code == 202, response.text
            if response.json()["credited_seconds"]:
                written.add(learner.id, course_id, int(response.json()["credited_seconds"]))
            refused.pop(0)
    for learner in room.learners:
        for course_id, lessons in room.courses.items():
            again = await heartbeat(client, learner, course_id, lessons[0], 1)
            assert again.status_code == 202 and again.json()["duplicate"] is True, again.text

    await drain(runtime, PARTITIONS, timeout=60)
    assert_exact(await totals(runtime), written)


async def test_the_worker_healthcheck_reads_the_cluster_when_it_is_configured(
    redis_cluster: RedisCluster,
) -> None:
    argv = healthcheck("worker")
    seeds = ",".join(redis_cluster.urls)
    cluster = redis_cluster.client()
    with contextlib.suppress(redis.exceptions.ResponseError):  # BUSYGROUP: a worker made it already
        cluster.xgroup_create(keys.stream(0), GROUP, id="0", mkstream=True)
    cluster.xreadgroup(GROUP, f"{socket.gethostname()}-1-health", {keys.stream(0): ">"}, count=1)
    assert (
        await asyncio.to_thread(run, argv, REDIS_URL="redis://127.0.0.1:1/0", REDIS_CLUSTER_URLS=seeds) == 0
    )
    # The cluster seeds win over REDIS_URL: seeds that do not answer fail the check.
    assert await asyncio.to_thread(run, argv, REDIS_CLUSTER_URLS="redis://127.0.0.1:1") != 0
