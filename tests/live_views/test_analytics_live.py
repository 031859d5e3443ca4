"""GET /api/analytics/live and the `admin:analytics` channel: users online, learners active per course in the
last 5 minutes, heartbeats and messages per minute; admins only; pushed only while someone listens."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from app.live.store import listened
from app.runtime import Runtime
from tests.helpers import Api
from tests.live.conftest import WsClient
from tests.live_views.helpers import eventually, frames, heartbeat, make_course, published, subscribe
from workers.live import LiveWorker

Connect = Callable[..., Awaitable[WsClient]]
FIELDS = {
    "users_online",
    "active_learners",
    "courses",
    "heartbeats_per_minute",
    "messages_per_minute",
    "generated_at",
}


async def snapshot(client: httpx.AsyncClient, admin: Any) -> dict[str, Any]:
    response = await client.get("/api/analytics/live", headers=admin.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == FIELDS
    return body


async def test_an_idle_platform(api: Api, client: httpx.AsyncClient) -> None:
    admin = await api.account("admin")
    body = await snapshot(client, admin)
    assert body["generated_at"].endswith("Z")
    assert {key: value for key, value in body.items() if key != "generated_at"} == {
        "users_online": 0,
        "active_learners": 0,
        "courses": [],
        "heartbeats_per_minute": 0,
        "messages_per_minute": 0,
    }


async def test_heartbeats_messages_and_active_learners_per_course(
    api: Api, client: httpx.AsyncClient
) -> None:
    admin = await api.account("admin")
    busy = await make_course(api, client, lessons=2, learners=2, title="Busy")
    quiet = await make_course(api, client, lessons=1, learners=1, title="Quiet")
    await make_course(api, client, lessons=1, learners=1, title="Idle")
    first, second = busy.learners
    await heartbeat(client, first, busy.id, busy.lessons[0], 10, seq=1)
    await heartbeat(client, first, busy.id, busy.lessons[1], 10, seq=2)
    await heartbeat(client, second, busy.id, busy.lessons[0], 10, seq=1)
    await heartbeat(client, quiet.learners[0], quiet.id, quiet.lessons[0], 10, seq=1)
    duplicate = await heartbeat(client, quiet.learners[0], quiet.id, quiet.lessons[0], 10, seq=1)
    assert duplicate["duplicate"] is True  # not counted
    for text in ("hello", "are you there?"):
        sent = await client.post(f"/api/chats/{busy.owner.id}", headers=first.headers, json={"content": text})
        assert sent.status_code == 201, sent.text
    refused = await client.post(f"/api/chats/{quiet.owner.id}", headers=first.headers, json={"content": "x"})
    assert refused.status_code == 404  # may not message them: not sent, not counted

    body = await snapshot(client, admin)
    assert body["heartbeats_per_minute"] == 4
    assert body["messages_per_minute"] == 2
    assert body["active_learners"] == 3
    assert body["courses"] == [
        {"course_id": busy.id, "title": "Busy", "active_learners": 2},
        {"course_id": quiet.id, "title": "Quiet", "active_learners": 1},
    ]


async def test_users_online_counts_distinct_connected_users(
    api: Api, client: httpx.AsyncClient, ws_url: str, ws_connect: Connect
) -> None:
    admin, learner = await api.account("admin"), await api.account("learner")
    learner_tabs = [await ws_connect(ws_url, learner.access_token) for _ in range(2)]
    await ws_connect(ws_url, admin.access_token)
    await ws_connect(ws_url)  # connected but not authenticated: nobody yet
    assert (await snapshot(client, admin))["users_online"] == 2

    await learner_tabs[0].connection.close()

    async def still_two() -> bool:
        return (await snapshot(client, admin))["users_online"] == 2

    await eventually(still_two)  # one tab is still open
    await learner_tabs[1].connection.close()

    async def only_the_admin() -> bool:
        return (await snapshot(client, admin))["users_online"] == 1

    await eventually(only_the_admin)


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 401), ("learner", 403), ("blocked", 403), ("instructor", 403), ("admin", 200)],
)
async def test_only_admins_get_the_live_snapshot(
    api: Api, client: httpx.AsyncClient, who: str, status: int
) -> None:
    headers = {}
    if who != "anonymous":
        role = "learner" if who == "blocked" else who
        headers = (await api.account(role, blocked=who == "blocked")).headers
    response = await client.get("/api/analytics/live", headers=headers)
    assert response.status_code == status, response.text
    if status != 200:
        assert response.json()["error"]["code"]


async def test_analytics_are_pushed_only_while_an_admin_listens(
    api: Api,
    client: httpx.AsyncClient,
    runtime: Runtime,
    ws_url: str,
    ws_connect: Connect,
    worker: LiveWorker,
) -> None:
    admin = await api.account("admin")
    course = await make_course(api, client, lessons=1, learners=1)
    await heartbeat(client, course.learners[0], course.id, course.lessons[0], 10, seq=1)
    assert await worker.analytics_tick() is False
    assert await published(runtime, "admin:analytics") == []

    ws = await ws_connect(ws_url, admin.access_token)
    assert (await subscribe(ws, "admin:analytics"))["ok"]
    assert await worker.analytics_tick() is True
    [push] = await frames(ws, "admin:analytics")
    assert push["event"] == "analytics"
    data = push["data"]
    rest = await snapshot(client, admin)
    assert {key: value for key, value in data.items() if key != "generated_at"} == {
        key: value for key, value in rest.items() if key != "generated_at"
    }
    assert data["users_online"] == 1 and data["heartbeats_per_minute"] == 1
    assert data["courses"] == [{"course_id": course.id, "title": "Live course", "active_learners": 1}]

    assert (await ws.request(op="unsubscribe", channel="admin:analytics"))["ok"]

    async def nobody_listens() -> bool:
        return (await listened(runtime.redis, ["admin:analytics"])) == {"admin:analytics": False}

    await eventually(nobody_listens)
    assert await worker.analytics_tick() is False
    assert len(await published(runtime, "admin:analytics")) == 1
