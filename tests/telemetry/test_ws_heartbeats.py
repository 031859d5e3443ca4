"""The `heartbeat` op of /ws: the REST heartbeat over the socket, same rules and same answers.

The app runs under a real uvicorn on a local port (the hub's ops are wired by app.live.wiring exactly as
in `learnflow serve`); the same payloads go through REST and WS and must be accepted or refused alike.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from app.runtime import Runtime
from app.telemetry import parts as telemetry_parts
from app.telemetry.stream import PACKED, STREAM, parse_entries
from tests.helpers import Account, Api, served_by_uvicorn
from tests.live.conftest import WsClient
from tests.telemetry.helpers import Classroom, classroom, make_course, read_new, stream_key_holds_a_string
from workers.telemetry import TelemetryWorker

Connect = Callable[[Account], Awaitable[WsClient]]


@pytest.fixture
async def ws_url(app_and_runtime: tuple[Any, Runtime]) -> AsyncIterator[str]:
    """The test app (lifespan already running) served by uvicorn on a free port."""
    app, runtime = app_and_runtime
    async with served_by_uvicorn(app, ws_max_size=runtime.settings.ws_max_frame_bytes) as (_server, port):
        yield f"ws://127.0.0.1:{port}/ws"


@pytest.fixture
async def ws(ws_url: str) -> AsyncIterator[Connect]:
    opened: list[WsClient] = []

    async def open_as(account: Account) -> WsClient:
        client = WsClient(await connect(ws_url))
        opened.append(client)
        answer = await client.request(op="auth", token=account.access_token)
        assert answer["ok"], answer
        return client

    yield open_as
    for client in opened:
        await client.connection.close()


@pytest.fixture
async def room(api: Api) -> Classroom:
    return await classroom(api, learners=1, courses=1, lessons=2)


async def ws_heartbeat(client: WsClient, **fields: Any) -> dict[str, Any]:
    return await client.request(op="heartbeat", **fields)


async def first_refusal(socket: WsClient, course_id: int, lesson_id: str) -> dict[str, Any]:
    """The first refused heartbeat, sent every 0.1 s for at most 5 s (a change reaches the socket
    through the bus)."""
    async with asyncio.timeout(5):
        while True:
            answer = await ws_heartbeat(socket, course_id=course_id, lesson_id=lesson_id, seconds_spent=1)
            if not answer["ok"]:
                return answer
            await asyncio.sleep(0.1)


async def test_accepted_over_ws_like_rest_and_folded(
    room: Classroom, ws: Connect, client: httpx.AsyncClient, runtime: Runtime
) -> None:
    learner = room.learners[0]
    ((course_id, lessons),) = room.courses.items()
    socket = await ws(learner)
    first = await ws_heartbeat(socket, course_id=course_id, lesson_id=lessons[0], seconds_spent=10, seq=1)
    assert first == {
        "id": first["id"],
        "ok": True,
        "accepted": True,
        "duplicate": False,
        "credited_seconds": 10,
    }
    again = await ws_heartbeat(socket, course_id=course_id, lesson_id=lessons[0], seconds_spent=10, seq=1)
    assert again["ok"] and again["duplicate"] is True and again["credited_seconds"] == 0
    # One sequence per user and course, whichever way the heartbeat arrives.
    over_rest = await client.post(
        f"/api/courses/{course_id}/telemetry",
        headers=learner.headers,
        json={"lesson_id": lessons[0], "seconds_spent": 3, "seq": 1},
    )
    assert over_rest.status_code == 202 and over_rest.json()["duplicate"] is True
    # The socket's reply carries every field of the REST one but its REST-only `status`.
    assert set(over_rest.json()) - {"status"} == set(first) - {"id", "ok"}
    without_seq = await ws_heartbeat(socket, course_id=course_id, lesson_id=lessons[1], seconds_spent=2)
    assert without_seq["ok"] and without_seq["duplicate"] is False and without_seq["credited_seconds"] == 2

    raw: Any = await runtime.redis.xrange(STREAM)
    assert [list(fields) for _, fields in raw] == [[PACKED], [PACKED]]  # one field per entry
    entries = parse_entries(0, raw)
    enrollment = entries[0].enrollment_id  # the enrollment the time counts toward
    assert enrollment is not None and enrollment > 0
    assert [(e.user_id, e.course_id, e.lesson_id, e.seconds, e.enrollment_id) for e in entries] == [
        (learner.id, course_id, lessons[0], 10, enrollment),
        (learner.id, course_id, lessons[1], 2, enrollment),
    ]
    assert abs(entries[0].at_ms - time.time() * 1000) < 60_000
    worker = TelemetryWorker(runtime, consumer="ws-test")
    await worker.consumer.ensure_group()
    ids, read = await read_new(worker.consumer, 100)
    await worker.process(ids, read, redelivered=False)
    progress = await client.get(f"/api/courses/{course_id}/progress", headers=learner.headers)
    assert progress.json()["total_seconds_spent"] == 12
    assert progress.json()["lesson_times"] == {lessons[0]: 10, lessons[1]: 2}


# (case, who, payload changes) -> the REST status and the error code both transports must give.
REFUSALS: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("other learner", "stranger", {}, 403, "not_enrolled"),
    ("course owner", "teacher", {}, 403, "not_enrolled"),
    ("other instructor", "instructor", {}, 403, "not_enrolled"),
    ("admin", "admin", {}, 403, "not_enrolled"),
    ("blocked learner", "blocked", {}, 403, "user_blocked"),
    ("draft course", "learner", {"course": "draft"}, 403, "not_enrolled"),
    ("no such course", "learner", {"course_id": 2_000_000_000}, 403, "not_enrolled"),
    ("course id out of range", "learner", {"course_id": 2**31}, 404, "not_found"),
    ("lesson of another course", "learner", {"lesson_id": "foreign"}, 404, "lesson_not_found"),
    ("unknown lesson", "learner", {"lesson_id": "nope"}, 404, "lesson_not_found"),
]

INVALID: list[tuple[dict[str, Any], str]] = [
    ({"seconds_spent": 0}, "seconds_spent"),
    ({"seconds_spent": 61}, "seconds_spent"),
    ({"seconds_spent": "ten"}, "seconds_spent"),
    ({"seconds_spent": None}, "seconds_spent"),
    ({"lesson_id": ""}, "lesson_id"),
    ({"lesson_id": "x" * 65}, "lesson_id"),
    ({"lesson_id": 5}, "lesson_id"),
    ({"lesson_id": None}, "lesson_id"),
    ({"seq": -1}, "seq"),
    ({"seq": 2**60}, "seq"),
    ({"client_ts": -5}, "client_ts"),
]


async def _people(api: Api, client: httpx.AsyncClient, room: Classroom) -> dict[str, Account]:
    stranger = await api.account("learner")
    blocked = await api.account("learner")
    ((course_id, _),) = room.courses.items()
    enrolled = await client.post(f"/api/courses/{course_id}/enroll", headers=blocked.headers)
    assert enrolled.status_code == 201
    await api.set_user(blocked.id, is_blocked=True)
    return {
        "learner": room.learners[0],
        "stranger": stranger,
        "teacher": room.teacher,
        "instructor": await api.account("instructor"),
        "admin": await api.account("admin"),
        "blocked": blocked,
    }


async def test_refused_over_ws_as_over_rest(
    room: Classroom, api: Api, ws: Connect, client: httpx.AsyncClient
) -> None:
    people = await _people(api, client, room)
    ((course_id, lessons),) = room.courses.items()
    draft = (
        await client.post(
            "/api/courses",
            headers=room.teacher.headers,
            json={"title": "D", "category": "C", "level": "Beginner"},
        )
    ).json()["id"]
    _, foreign_lessons = await make_course(client, room.teacher, lessons=1)
    sockets: dict[str, WsClient] = {}
    for case, who, changes, status, code in REFUSALS:
        body: dict[str, Any] = {"lesson_id": lessons[0], "seconds_spent": 5, "seq": 1}
        target = course_id
        if changes.get("course") == "draft":
            target = draft
        elif "course_id" in changes:
            target = changes["course_id"]
        if changes.get("lesson_id") == "foreign":
            body["lesson_id"] = foreign_lessons[0]
        elif "lesson_id" in changes:
            body["lesson_id"] = changes["lesson_id"]
        account = people[who]
        rest = await client.post(f"/api/courses/{target}/telemetry", headers=account.headers, json=body)
        assert (rest.status_code, rest.json()["error"]["code"]) == (status, code), (case, rest.text)
        if who not in sockets:
            sockets[who] = await ws(account)
        answer = await ws_heartbeat(sockets[who], course_id=target, **body)
        assert answer["ok"] is False and answer["error"]["code"] == code, (case, answer)
        assert answer["error"]["message"]
    # Every refusal left the connections open and usable.
    for socket in sockets.values():
        assert (await socket.request(op="ping"))["ok"]


async def test_validation_errors_name_the_field(
    room: Classroom, ws: Connect, client: httpx.AsyncClient
) -> None:
    learner = room.learners[0]
    ((course_id, lessons),) = room.courses.items()
    socket = await ws(learner)
    for changes, field in INVALID:
        body = {"lesson_id": lessons[0], "seconds_spent": 5, "seq": 1, **changes}
        rest = await client.post(f"/api/courses/{course_id}/telemetry", headers=learner.headers, json=body)
        assert rest.status_code == 422, (changes, rest.text)
        assert [d["field"] for d in rest.json()["error"]["details"]] == [field], rest.text
        answer = await ws_heartbeat(socket, course_id=course_id, **body)
        assert answer["ok"] is False and answer["error"]["code"] == "validation_error", (changes, answer)
        assert f"{field}:" in answer["error"]["message"], answer
    missing = await ws_heartbeat(socket, course_id=course_id, seconds_spent=5)
    assert missing["error"]["code"] == "validation_error" and "lesson_id:" in missing["error"]["message"]
    for bad in (None, "1", str(course_id), 1.5, True, [course_id]):
        answer = await ws_heartbeat(socket, course_id=bad, lesson_id=lessons[0], seconds_spent=5)
        assert answer["ok"] is False and answer["error"]["code"] == "validation_error", (bad, answer)
        assert "course_id" in answer["error"]["message"]
    no_course = await ws_heartbeat(socket, lesson_id=lessons[0], seconds_spent=5)
    assert no_course["error"]["code"] == "validation_error" and "course_id" in no_course["error"]["message"]
    # Nothing refused reached the stream, and the connection still works.
    accepted = await ws_heartbeat(socket, course_id=course_id, lesson_id=lessons[0], seconds_spent=5, seq=2)
    assert accepted["ok"] and accepted["credited_seconds"] == 5
    # A key the body does not declare is ignored over both (as the original REST API did).
    extra = {"lesson_id": lessons[0], "seconds_spent": 5, "seq": 3, "colour": "red"}
    rest = await client.post(f"/api/courses/{course_id}/telemetry", headers=learner.headers, json=extra)
    assert rest.status_code == 202 and rest.json()["status"] == "success", rest.text
    answer = await ws_heartbeat(socket, course_id=course_id, **{**extra, "seq": 4})
    assert answer["ok"] is True and "colour" not in answer and "status" not in answer, answer


async def test_heartbeat_before_auth_is_refused(room: Classroom, ws_url: str) -> None:
    ((course_id, lessons),) = room.courses.items()
    socket = WsClient(await connect(ws_url))
    try:
        await socket.send(op="heartbeat", course_id=course_id, lesson_id=lessons[0], seconds_spent=5)
        code, frames = await socket.closed()
        assert code == 4001
        assert frames and frames[0]["error"]["code"] == "auth_required"
    finally:
        await socket.connection.close()


async def test_blocked_while_connected(
    room: Classroom, api: Api, ws: Connect, client: httpx.AsyncClient
) -> None:
    learner = room.learners[0]
    ((course_id, lessons),) = room.courses.items()
    admin = await api.account("admin")
    socket = await ws(learner)
    ok = await ws_heartbeat(socket, course_id=course_id, lesson_id=lessons[0], seconds_spent=5)
    assert ok["ok"], ok
    blocked = await client.post(f"/api/users/{learner.id}/block", headers=admin.headers)
    assert blocked.status_code == 200 and blocked.json()["is_blocked"] is True, blocked.text
    # The hub re-reads the account through the bus; the next heartbeats are refused.
    answer = await first_refusal(socket, course_id, lessons[0])
    assert answer["error"]["code"] == "user_blocked"


async def test_leaving_the_course_counts_on_the_sockets_next_heartbeats_not_after_the_cache_expires(
    room: Classroom, ws: Connect, client: httpx.AsyncClient
) -> None:
    learner = room.learners[0]
    ((course_id, lessons),) = room.courses.items()
    socket = await ws(learner)
    ok = await ws_heartbeat(socket, course_id=course_id, lesson_id=lessons[0], seconds_spent=5)
    assert ok["ok"], ok  # the enrollment is now kept by the connection and by the process
    left = await client.delete(f"/api/courses/{course_id}/unenroll", headers=learner.headers)
    assert left.status_code == 200, left.text
    # The unenrollment re-checks the user's sockets through the bus; the kept enrollment goes with it
    # (the process would otherwise keep it for 24-36 s).
    answer = await first_refusal(socket, course_id, lessons[0])
    assert answer["error"]["code"] == "not_enrolled"
    over_rest = await client.post(
        f"/api/courses/{course_id}/telemetry",
        headers=learner.headers,
        json={"lesson_id": lessons[0], "seconds_spent": 1},
    )
    assert over_rest.status_code == 403 and over_rest.json()["error"]["code"] == "not_enrolled"


async def test_inflation_over_ws_is_credited_wall_clock_only(
    room: Classroom, ws: Connect, client: httpx.AsyncClient, runtime: Runtime
) -> None:
    learner = room.learners[0]
    ((course_id, lessons),) = room.courses.items()
    socket = await ws(learner)
    loop = asyncio.get_running_loop()
    credited = 0
    started = loop.time()
    for seq in range(6):
        answer = await ws_heartbeat(
            socket, course_id=course_id, lesson_id=lessons[0], seconds_spent=60, seq=seq
        )
        assert answer["ok"], answer
        credited += answer["credited_seconds"]
        await asyncio.sleep(1)
    # The budget is per user, whatever the transport: REST right after gets (almost) nothing more.
    rest = await client.post(
        f"/api/courses/{course_id}/telemetry",
        headers=learner.headers,
        json={"lesson_id": lessons[1], "seconds_spent": 60, "seq": 99},
    )
    credited += rest.json()["credited_seconds"]
    elapsed = loop.time() - started
    first = runtime.settings.telemetry_first_heartbeat_max_seconds
    tolerance = runtime.settings.telemetry_tolerance_seconds
    assert first <= credited <= elapsed + first + tolerance
    assert credited < 60  # the first claim alone was 60 seconds
    stream: Any = await runtime.redis.xrange(STREAM)
    in_stream = sum(entry.seconds for entry in parse_entries(0, stream))
    assert in_stream == credited


async def test_past_its_bound_a_socket_heartbeat_is_refused_before_it_is_read(
    room: Classroom, ws: Connect, runtime: Runtime
) -> None:
    learner = room.learners[0]
    ((course_id, lessons),) = room.courses.items()
    socket = await ws(learner)
    batcher = telemetry_parts.stream(runtime).batcher
    batcher.in_flight = batcher.bound()  # every place taken, as under a flood
    try:
        length_before = await runtime.redis.xlen(STREAM)
        shed_before, batches_before = batcher.shed, batcher.batches
        valid = await ws_heartbeat(socket, course_id=course_id, lesson_id=lessons[0], seconds_spent=5, seq=1)
        # Not even validated: the refusal is the same whatever the frame holds.
        invalid = await ws_heartbeat(socket, course_id="nope", seconds_spent=500)
        for answer in (valid, invalid):
            assert answer["ok"] is False and answer["error"]["code"] == "overloaded", answer
            assert "again shortly" in answer["error"]["message"]
        assert valid["id"] != invalid["id"]  # each refusal answers its own frame
        assert batcher.shed == shed_before + 2 and batcher.batches == batches_before
        assert await runtime.redis.xlen(STREAM) == length_before
    finally:
        batcher.in_flight = 0
    retried = await ws_heartbeat(socket, course_id=course_id, lesson_id=lessons[0], seconds_spent=5, seq=1)
    assert retried["ok"] is True and retried["duplicate"] is False and retried["credited_seconds"] == 5
    invalid = await ws_heartbeat(socket, course_id="nope", seconds_spent=500)
    assert invalid["error"]["code"] == "validation_error"  # read as before once there is room


async def test_an_acceptance_call_that_fails_answers_its_frame_and_gives_back_its_place(
    room: Classroom, ws: Connect, runtime: Runtime
) -> None:
    learner = room.learners[0]
    ((course_id, lessons),) = room.courses.items()
    socket = await ws(learner)
    first = await ws_heartbeat(socket, course_id=course_id, lesson_id=lessons[0], seconds_spent=5, seq=1)
    assert first["ok"] is True, first
    batcher = telemetry_parts.stream(runtime).batcher
    async with stream_key_holds_a_string(runtime.redis):
        failed = await ws_heartbeat(socket, course_id=course_id, lesson_id=lessons[0], seconds_spent=5, seq=2)
        assert failed["ok"] is False and failed["error"]["code"] == "internal_error", failed
        assert batcher.in_flight == 0
    # The socket goes on, and the failed heartbeat sent again is taken: the failed call wrote nothing.
    again = await ws_heartbeat(socket, course_id=course_id, lesson_id=lessons[0], seconds_spent=5, seq=2)
    assert again["ok"] is True and again["duplicate"] is False
