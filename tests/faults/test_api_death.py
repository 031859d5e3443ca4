"""An api instance dies (SIGKILL) under clients subscribed to a course channel with presence, on both
instances: its presence entries expire (after WS_PRESENCE_TTL_SECONDS without a refresh) and are
announced as leaves by the surviving instance; its clients reconnect to the other instance, subscribe
with `since` and recover, in order and once each, what was published while they were away."""

from __future__ import annotations

import asyncio
import time

import pytest

from harness.cluster import Cluster
from tests.faults.conftest import FAULT_ENV
from tests.faults.helpers import Subscriber, course_with_learners, gather_limited, report
from tests.helpers import Api

pytestmark = pytest.mark.timeout(180)
PER_INSTANCE = 5
WHILE_AWAY = 4  # discussion posts made while the victims' clients are disconnected


async def post(api: Api, author_headers: dict[str, str], course_id: int, text: str) -> None:
    made = await api.client.post(
        f"/api/courses/{course_id}/discussions", headers=author_headers, json={"content": text}
    )
    assert made.status_code == 201, made.text


async def test_killed_api_instance_presence_expires_and_clients_recover_elsewhere(
    healthy: Cluster, apis: list[Api]
) -> None:
    ttl = float(FAULT_ENV["WS_PRESENCE_TTL_SECONDS"])
    course = await course_with_learners(apis, 2 * PER_INSTANCE)
    channel = f"course:{course.course_id}:discussion"
    victim, survivor = healthy.apis
    clients = [
        Subscriber((victim if n < PER_INSTANCE else survivor).ws, learner, channel)
        for n, learner in enumerate(course.learners)
    ]
    doomed, staying = clients[:PER_INSTANCE], clients[PER_INSTANCE:]
    await gather_limited(8, *(c.open() for c in clients))
    for client in clients:
        await client.subscribe()
    members = (await staying[0].request(op="presence", channel=channel))["members"]
    assert {m["user_id"] for m in members} == {learner.id for learner in course.learners}
    doomed_ids = {m["client_id"] for m in members if m["user_id"] in {c.account.id for c in doomed}}
    assert len(doomed_ids) == PER_INSTANCE

    await post(apis[1], course.teacher.headers, course.course_id, "before")
    for client in clients:
        while not client.publications():
            await asyncio.sleep(0.02)
    positions = [client.last_position() for client in doomed]

    killed_at = time.monotonic()
    victim.kill()
    # The victims' sockets drop; what is published now, they miss.
    for client in doomed:
        while client.closed_at is None:
            await asyncio.sleep(0.02)
    dropped = max(client.closed_at or killed_at for client in doomed) - killed_at
    for n in range(WHILE_AWAY):
        await post(apis[1], course.teacher.headers, course.course_id, f"while away {n}")

    # The survivor announces the dead instance's entries as leaves once they expire.
    leaves_seen: float | None = None
    deadline = killed_at + ttl + 5
    while leaves_seen is None and time.monotonic() < deadline:
        left = {
            member["client_id"]
            for _, frame in staying[0].frames
            if frame.get("event") == "presence"
            for member in frame.get("leaves", [])
        }
        if doomed_ids <= left:
            leaves_seen = time.monotonic() - killed_at
        await asyncio.sleep(0.05)
    members_after = (await staying[0].request(op="presence", channel=channel))["members"]

    # The victims' clients come back through the other instance and resume where they were.
    reconnected_at = time.monotonic()
    returned = [Subscriber(survivor.ws, client.account, channel) for client in doomed]
    await gather_limited(8, *(client.open() for client in returned))
    answers = [
        await client.subscribe(since=position) for client, position in zip(returned, positions, strict=True)
    ]
    await post(apis[1], course.teacher.headers, course.course_id, "after")
    expected_tail = WHILE_AWAY + 1
    for client in returned:
        while len(client.publications()) < expected_tail:
            assert time.monotonic() - reconnected_at < 20, client.frames
            await asyncio.sleep(0.02)
    recovery_s = time.monotonic() - reconnected_at
    members_final = (await staying[0].request(op="presence", channel=channel))["members"]

    report(
        "faults_api_death",
        {
            "clients_per_instance": PER_INSTANCE,
            "presence_ttl_s": ttl,
            "sockets_dropped_after_s": round(dropped, 3),
            "leaves_announced_after_s": None if leaves_seen is None else round(leaves_seen, 2),
            "published_while_away": WHILE_AWAY,
            "recovered": [answer["recovered"] for answer in answers],
            "reconnect_and_recover_s": round(recovery_s, 2),
            "members_after_expiry": len(members_after),
            "members_after_reconnect": len(members_final),
        },
    )
    await gather_limited(16, *(client.close() for client in [*clients, *returned]))

    assert leaves_seen is not None and leaves_seen <= ttl + 3.0, leaves_seen
    assert {m["client_id"] for m in members_after} & doomed_ids == set()
    assert len(members_after) == PER_INSTANCE
    assert all(answer["recovered"] is True for answer in answers), answers
    for client, position in zip(returned, positions, strict=True):
        assert position is not None
        offsets = [frame["offset"] for frame in client.publications()]
        assert offsets == list(range(position["offset"] + 1, position["offset"] + 1 + expected_tail))
        assert {frame["epoch"] for frame in client.publications()} == {position["epoch"]}
        texts = [frame["data"].get("content") for frame in client.publications()]
        assert texts[:WHILE_AWAY] == [f"while away {n}" for n in range(WHILE_AWAY)] and texts[-1] == "after"
    for client in staying:  # never disconnected: every post, once each, in order
        offsets = [frame["offset"] for frame in client.publications()]
        assert offsets == list(range(offsets[0], offsets[0] + WHILE_AWAY + 2))
    assert len(members_final) == 2 * PER_INSTANCE
    assert survivor.alive and not victim.alive
