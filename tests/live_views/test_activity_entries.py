"""A learner's entry in a course's activity hash: "session started ms|session seconds|last seen ms|lesson",
written by the script that notes accepted heartbeats; entries older versions wrote as JSON objects are
still read, by that script (a session goes on) and by the sweep (active or left)."""

from __future__ import annotations

import json
import time

import httpx

from app.live import store as live_store
from app.runtime import Runtime
from app.telemetry.activity import ActivityKeys
from tests.helpers import Api
from tests.live_views.helpers import heartbeat, make_course


def now_ms() -> int:
    return int(time.time() * 1000)


def test_an_entry_is_read_whatever_its_lesson_id_holds() -> None:
    assert live_store.activity_entry("7", "1000|42|2000|a|b") == {
        "user_id": 7,
        "lesson_id": "a|b",
        "session_started": 1000,
        "session_seconds": 42,
        "last_seen": 2000,
    }
    old = {"user_id": 7, "lesson_id": "x", "session_started": 1, "session_seconds": 2, "last_seen": 3}
    assert live_store.activity_entry("7", json.dumps(old)) == old


async def test_a_session_an_older_version_noted_goes_on(
    api: Api, client: httpx.AsyncClient, runtime: Runtime
) -> None:
    course = await make_course(api, client, lessons=2, learners=1)
    [learner] = course.learners
    key = ActivityKeys.activity(course.id)
    started = now_ms() - 100_000
    old = {
        "user_id": learner.id,
        "lesson_id": course.lessons[0],
        "session_started": started,
        "session_seconds": 40,
        "last_seen": now_ms() - 1_000,
    }
    await runtime.redis.hset(key, str(learner.id), json.dumps(old))

    credited = (await heartbeat(client, learner, course.id, course.lessons[1], 5, seq=1))["credited_seconds"]
    assert credited > 0
    raw = await runtime.redis.hget(key, str(learner.id))
    started_again, seconds, last_seen, lesson = raw.split("|", 3)
    assert int(started_again) == started and int(seconds) == 40 + credited
    assert lesson == course.lessons[1] and abs(int(last_seen) - now_ms()) < 5_000
    assert str(learner.id) not in await runtime.redis.lrange(ActivityKeys.joins(course.id), 0, -1)


async def test_the_sweep_reads_both_forms_and_drops_what_it_cannot_read(runtime: Runtime) -> None:
    course_id = 987_654
    key = ActivityKeys.activity(course_id)
    fresh, stale = now_ms() - 1_000, now_ms() - 3_600_000

    def as_json(user: int, last_seen: int) -> str:
        return json.dumps(
            {
                "user_id": user,
                "lesson_id": "L",
                "session_started": 5,
                "session_seconds": 6,
                "last_seen": last_seen,
            }
        )

    await runtime.redis.hset(
        key,
        mapping={
            "1": f"5|6|{fresh}|L|1",
            "2": as_json(2, fresh),
            "3": f"5|6|{stale}|L",
            "4": as_json(4, stale),
            "5": "not an entry",
        },
    )
    sweep = await live_store.sweep_activity(runtime.redis, course_id)
    expected = {"lesson_id": "L", "session_started": 5, "session_seconds": 6}
    assert sorted(sweep.active, key=lambda entry: entry["user_id"]) == [
        {"user_id": 1, **expected, "lesson_id": "L|1", "last_seen": fresh},
        {"user_id": 2, **expected, "last_seen": fresh},
    ]
    assert sorted(sweep.leaves, key=lambda entry: entry["user_id"]) == [
        {"user_id": 3, **expected, "last_seen": stale},
        {"user_id": 4, **expected, "last_seen": stale},
    ]
    assert sorted(await runtime.redis.hkeys(key)) == ["1", "2"]  # the left and the unreadable are gone
