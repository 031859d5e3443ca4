"""Authorization is re-checked while connected (docs/PRODUCT.md): changes made through the API on one instance
reach the connections of the user concerned on every instance."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from app.live.access import TYPING_INTERVAL_SECONDS
from app.runtime import Runtime
from tests.helpers import Api
from tests.live.conftest import Instance, WsClient
from tests.live.helpers import cast_for_course

Connect = Callable[..., Awaitable[WsClient]]


async def frames_until_pong(ws: WsClient) -> list[dict[str, Any]]:
    ping_id = await ws.send(op="ping")
    frames = []
    while True:
        message = await ws.recv()
        if message.get("id") == ping_id and "ok" in message:
            return frames
        frames.append(message)


def is_unsubscribed(channel: str) -> Callable[[dict[str, Any]], bool]:
    return lambda m: m.get("event") == "unsubscribed" and m.get("channel") == channel


async def test_unenrolling_unsubscribes_the_learner_from_the_discussion(
    instances: tuple[Instance, Instance],
    api: Api,
    client: httpx.AsyncClient,
    runtime: Runtime,
    ws_connect: Connect,
) -> None:
    assert runtime.hub is not None
    cast = await cast_for_course(api, client)
    discussion = f"course:{cast.course_id}:discussion"
    leaderboard = f"course:{cast.course_id}:leaderboard"
    mine = f"user:{cast.enrolled.id}"
    learner = await ws_connect(instances[1].ws, cast.enrolled.access_token)
    for channel in (discussion, leaderboard, mine):
        assert (await learner.request(op="subscribe", channel=channel))["ok"] is True
    owner = await ws_connect(instances[1].ws, cast.owner.access_token)
    assert (await owner.request(op="subscribe", channel=discussion))["ok"] is True

    left = await client.delete(f"/api/courses/{cast.course_id}/unenroll", headers=cast.enrolled.headers)
    assert left.status_code in (200, 204), left.text
    notices = [
        await learner.until(is_unsubscribed(discussion)),
        await learner.until(is_unsubscribed(leaderboard)),
    ]
    assert notices == [
        {"channel": discussion, "event": "unsubscribed", "reason": "forbidden"},
        {"channel": leaderboard, "event": "unsubscribed", "reason": "forbidden"},
    ]
    # Nothing more from the course reaches them; the owner still gets it; their own channel stays.
    await runtime.hub.publish(discussion, "comment.created", {"id": 1})
    await runtime.hub.publish(mine, "test.note", {"n": 1})
    assert (await owner.until(lambda m: m.get("event") == "comment.created"))["channel"] == discussion
    await asyncio.sleep(0.2)
    assert [m.get("channel") for m in await frames_until_pong(learner) if "offset" in m] == [mine]
    again = await learner.request(op="subscribe", channel=discussion)
    assert again["ok"] is False and again["error"]["code"] == "forbidden"


async def test_deactivation_closes_every_socket_of_the_user_with_4003(
    instances: tuple[Instance, Instance], api: Api, client: httpx.AsyncClient, ws_connect: Connect
) -> None:
    cast = await cast_for_course(api, client)
    sockets = [await ws_connect(instance.ws, cast.enrolled.access_token) for instance in instances]
    await sockets[0].request(op="subscribe", channel=f"course:{cast.course_id}:discussion")
    bystander = await ws_connect(instances[0].ws, cast.other_learner.access_token)
    done = await client.post(f"/api/users/{cast.enrolled.id}/deactivate", headers=cast.admin.headers)
    assert done.status_code == 200, done.text
    for ws in sockets:
        assert (await ws.closed())[0] == 4003
    assert (await bystander.request(op="ping"))["pong"] is True
    # And they cannot come back.
    retry = await ws_connect(instances[1].ws)
    await retry.send(op="auth", token=cast.enrolled.access_token)
    code, frames = await retry.closed()
    assert code == 4001 and frames[0]["error"]["code"] in ("account_deactivated", "token_revoked")


async def test_a_demoted_admin_loses_admin_channels_and_is_told(
    instances: tuple[Instance, Instance], api: Api, client: httpx.AsyncClient, ws_connect: Connect
) -> None:
    cast = await cast_for_course(api, client)
    other_admin = await api.account("admin")
    activity = f"course:{cast.course_id}:activity"
    ws = await ws_connect(instances[0].ws, other_admin.access_token)
    for channel in ("admin:analytics", activity, f"user:{other_admin.id}"):
        assert (await ws.request(op="subscribe", channel=channel))["ok"] is True
    changed = await client.put(
        f"/api/users/{other_admin.id}/role", headers=cast.admin.headers, json={"role": "learner"}
    )
    assert changed.status_code == 200, changed.text
    frames = []
    while not any(m.get("event") == "user.role_changed" for m in frames):
        frames.append(await ws.recv())
    # Re-authorization comes first, so the notice finds the connection already acting on the new role.
    assert frames[-3:-1] == [
        {"channel": "admin:analytics", "event": "unsubscribed", "reason": "forbidden"},
        {"channel": activity, "event": "unsubscribed", "reason": "forbidden"},
    ]
    notice = frames[-1]
    assert notice["channel"] == f"user:{other_admin.id}"
    assert notice["data"] == {"user_id": other_admin.id, "role": "learner", "previous_role": "admin"}
    assert (await ws.request(op="subscribe", channel="admin:analytics"))["error"]["code"] == "forbidden"


async def test_a_promotion_takes_effect_without_reconnecting(
    instances: tuple[Instance, Instance], api: Api, client: httpx.AsyncClient, ws_connect: Connect
) -> None:
    cast = await cast_for_course(api, client)
    ws = await ws_connect(instances[1].ws, cast.other_learner.access_token)
    assert (await ws.request(op="subscribe", channel=f"user:{cast.other_learner.id}"))["ok"] is True
    assert (await ws.request(op="subscribe", channel="admin:analytics"))["ok"] is False
    changed = await client.put(
        f"/api/users/{cast.other_learner.id}/role", headers=cast.admin.headers, json={"role": "admin"}
    )
    assert changed.status_code == 200, changed.text
    await ws.until(lambda m: m.get("event") == "user.role_changed")
    assert (await ws.request(op="subscribe", channel="admin:analytics"))["ok"] is True


async def test_blocking_tells_the_user_and_stops_their_typing_but_not_their_reading(
    instances: tuple[Instance, Instance], api: Api, client: httpx.AsyncClient, ws_connect: Connect
) -> None:
    cast = await cast_for_course(api, client)
    discussion = f"course:{cast.course_id}:discussion"
    ws = await ws_connect(instances[0].ws, cast.enrolled.access_token)
    for channel in (discussion, f"user:{cast.enrolled.id}"):
        assert (await ws.request(op="subscribe", channel=channel))["ok"] is True
    assert (await ws.request(op="typing", channel=discussion))["ok"] is True
    blocked = await client.post(f"/api/users/{cast.enrolled.id}/block", headers=cast.admin.headers)
    assert blocked.status_code == 200, blocked.text
    notice = await ws.until(lambda m: m.get("event") == "user.blocked")
    assert notice["data"] == {"user_id": cast.enrolled.id, "is_blocked": True}
    typing = await ws.request(op="typing", channel=discussion)
    assert typing["ok"] is False and typing["error"]["code"] == "forbidden"
    assert [m for m in await frames_until_pong(ws) if m.get("event") == "unsubscribed"] == []
    unblocked = await client.post(f"/api/users/{cast.enrolled.id}/block", headers=cast.admin.headers)
    assert unblocked.status_code == 200, unblocked.text
    assert (await ws.until(lambda m: m.get("event") == "user.unblocked"))["data"]["is_blocked"] is False
    await asyncio.sleep(TYPING_INTERVAL_SECONDS)  # typing is limited to one per interval and channel
    assert (await ws.request(op="typing", channel=discussion))["ok"] is True


async def test_deleting_a_course_unsubscribes_everyone_but_its_managers_see_it_go(
    instances: tuple[Instance, Instance], api: Api, client: httpx.AsyncClient, ws_connect: Connect
) -> None:
    cast = await cast_for_course(api, client)
    discussion = f"course:{cast.course_id}:discussion"
    watchers = [
        await ws_connect(instances[0].ws, cast.enrolled.access_token),
        await ws_connect(instances[1].ws, cast.owner.access_token),
    ]
    for ws in watchers:
        assert (await ws.request(op="subscribe", channel=discussion))["ok"] is True
    deleted = await client.delete(f"/api/courses/{cast.course_id}", headers=cast.owner.headers)
    assert deleted.status_code in (200, 204), deleted.text
    for ws in watchers:
        await ws.until(is_unsubscribed(discussion))


async def test_signing_out_closes_the_sockets_of_that_session(
    instances: tuple[Instance, Instance], api: Api, client: httpx.AsyncClient, ws_connect: Connect
) -> None:
    cast = await cast_for_course(api, client)
    socket = await ws_connect(instances[1].ws, cast.enrolled.access_token)
    assert (await socket.request(op="subscribe", channel=f"user:{cast.enrolled.id}"))["ok"] is True
    out = await client.post("/api/auth/logout", headers=cast.enrolled.headers)
    assert out.status_code == 200
    code, _ = await socket.closed()
    assert code == 4003


async def test_unpublishing_a_course_unsubscribes_its_learners(
    instances: tuple[Instance, Instance], api: Api, client: httpx.AsyncClient, ws_connect: Connect
) -> None:
    cast = await cast_for_course(api, client)
    discussion = f"course:{cast.course_id}:discussion"
    learner = await ws_connect(instances[0].ws, cast.enrolled.access_token)
    assert (await learner.request(op="subscribe", channel=discussion))["ok"] is True
    hidden = await client.put(
        f"/api/courses/{cast.course_id}", headers=cast.owner.headers, json={"is_published": False}
    )
    assert hidden.status_code == 200, hidden.text
    notice = await learner.until(is_unsubscribed(discussion))
    assert notice["reason"] == "forbidden"


async def test_refresh_token_reuse_closes_the_thiefs_socket_with_4003(
    instances: tuple[Instance, Instance], api: Api, client: httpx.AsyncClient, ws_connect: Connect
) -> None:
    """A copied refresh token used by the thief first, then by its owner: the reuse ends the session
    for both, and the thief's open socket (which carries private events) is closed at once, not when
    its access token runs out."""
    cast = await cast_for_course(api, client)
    stolen = await client.post("/api/auth/refresh", json={"refresh_token": cast.enrolled.refresh_token})
    assert stolen.status_code == 200
    thief = await ws_connect(instances[0].ws, stolen.json()["access_token"])
    assert (await thief.request(op="subscribe", channel=f"user:{cast.enrolled.id}"))["ok"] is True
    bystander = await ws_connect(instances[1].ws, cast.other_learner.access_token)

    reuse = await client.post("/api/auth/refresh", json={"refresh_token": cast.enrolled.refresh_token})
    assert reuse.status_code == 401 and reuse.json()["error"]["code"] == "refresh_token_reused"
    code, _ = await thief.closed()
    assert code == 4003
    assert (await bystander.request(op="ping"))["pong"] is True
