"""The /ws protocol against a real `learnflow serve` with small limits: authentication, error
replies that keep the socket usable, documented close codes, limits, refresh and token expiry."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.helpers import Account, Api
from tests.live.conftest import Instance, WsClient
from tests.live.helpers import create_course, token_for

LIMITS = {
    "WS_AUTH_TIMEOUT_SECONDS": "1",
    "WS_MAX_SUBSCRIPTIONS": "3",
    "WS_MAX_CONNECTIONS_PER_USER": "2",
    "WS_MAX_FRAME_BYTES": "4096",
    "WS_FRAME_BURST": "10",
}

Connect = Callable[..., Awaitable[WsClient]]


@pytest.fixture
def hub(instance_with: Callable[..., Instance]) -> Instance:
    return instance_with(**LIMITS)


async def assert_usable(client: WsClient) -> None:
    answer = await client.request(op="ping")
    assert answer["ok"] is True and answer["pong"] is True


# -- authentication ----------------------------------------------------------------------------------


async def test_no_auth_frame_within_the_timeout_closes_4001(hub: Instance, ws_connect: Connect) -> None:
    client = await ws_connect(hub.ws)
    started = time.monotonic()
    code, frames = await client.closed(timeout=5)
    assert code == 4001 and frames == []
    assert 0.5 < time.monotonic() - started < 4


async def _deactivated(api: Api, client: httpx.AsyncClient) -> str:
    account = await api.account("learner")
    await api.set_user(account.id, is_active=False)
    return account.access_token


async def _revoked(api: Api, client: httpx.AsyncClient) -> str:
    account = await api.account("learner")
    response = await client.post("/api/auth/logout", headers=account.headers)
    assert response.status_code in (200, 204), response.text
    return account.access_token


async def _expired(api: Api, client: httpx.AsyncClient) -> str:
    return token_for((await api.account("learner")).id, expired=True)


async def _of_missing_user(api: Api, client: httpx.AsyncClient) -> str:
    return token_for(987654321)


async def _garbage(api: Api, client: httpx.AsyncClient) -> str:
    return "not-a-jwt"


@pytest.mark.parametrize(
    ("make_token", "code"),
    [
        (_garbage, "invalid_token"),
        (_expired, "token_expired"),
        (_revoked, "token_revoked"),
        (_deactivated, "account_deactivated"),
        (_of_missing_user, "invalid_token"),
    ],
)
async def test_a_refused_token_gets_an_error_reply_then_close_4001(
    hub: Instance,
    api: Api,
    client: httpx.AsyncClient,
    ws_connect: Connect,
    make_token: Callable[[Api, httpx.AsyncClient], Awaitable[str]],
    code: str,
) -> None:
    token = await make_token(api, client)
    ws = await ws_connect(hub.ws)
    await ws.send(op="auth", token=token, id="a1")
    close_code, frames = await ws.closed()
    assert close_code == 4001
    assert frames == [
        {"id": "a1", "ok": False, "error": {"code": code, "message": frames[0]["error"]["message"]}}
    ]


@pytest.mark.parametrize(
    ("first", "code"),
    [
        ('{"op": "ping", "id": 1}', "auth_required"),
        ('{"op": "subscribe", "channel": "user:1"}', "auth_required"),
        ('{"op": "auth"}', "invalid_frame"),
        ('{"op": "auth", "token": 42}', "invalid_frame"),
        ("{not json", "invalid_json"),
        ("[]", "invalid_frame"),
    ],
)
async def test_a_first_frame_that_is_not_a_valid_auth_closes_4001(
    hub: Instance, ws_connect: Connect, first: str, code: str
) -> None:
    ws = await ws_connect(hub.ws)
    await ws.connection.send(first)
    close_code, frames = await ws.closed()
    assert close_code == 4001
    assert [frame["error"]["code"] for frame in frames] == [code]


@pytest.mark.parametrize("name", ["token", "access_token", "jwt"])
async def test_a_token_in_the_url_is_refused_with_4001(
    hub: Instance, api: Api, ws_connect: Connect, name: str
) -> None:
    account = await api.account("learner")
    ws = await ws_connect(f"{hub.ws}?{name}={account.access_token}")
    close_code, frames = await ws.closed()
    assert close_code == 4001
    assert [frame["error"]["code"] for frame in frames] == ["token_in_url"]


async def test_auth_replies_with_the_user_and_expiry_and_a_second_auth_is_refused(
    hub: Instance, api: Api, ws_connect: Connect
) -> None:
    account = await api.account("learner")
    ws = await ws_connect(hub.ws)
    answer = await ws.request(op="auth", token=account.access_token)
    assert answer["ok"] is True and answer["user_id"] == str(account.id)
    assert answer["expires_at"] > time.time()
    again = await ws.request(op="auth", token=account.access_token)
    assert again["error"]["code"] == "already_authenticated"
    await assert_usable(ws)


# -- malformed frames: an error reply, and the socket stays usable ---------------------------------------


@pytest.mark.parametrize(
    ("raw", "code", "reply_id"),
    [
        ("{not json", "invalid_json", None),
        ('"just a string"', "invalid_frame", None),
        ("[1, 2]", "invalid_frame", None),
        ("42", "invalid_frame", None),
        ("null", "invalid_frame", None),
        ('{"id": 5}', "invalid_frame", 5),
        ('{"op": "", "id": 5}', "invalid_frame", 5),
        ('{"op": 7, "id": "x"}', "invalid_frame", "x"),
        ('{"op": "dance", "id": 6}', "unknown_op", 6),
        ('{"op": "heartbeat_v2", "id": "h"}', "unknown_op", "h"),
        ('{"op": "ping", "id": 1.5}', "invalid_frame", None),
        ('{"op": "ping", "id": true}', "invalid_frame", None),
        ('{"op": "ping", "id": {"a": 1}}', "invalid_frame", None),
        ('{"op": "ping", "id": [1]}', "invalid_frame", None),
        ('{"op": "ping", "id": "' + "x" * 65 + '"}', "invalid_frame", None),
        ('{"op": "ping", "id": 9007199254740993}', "invalid_frame", None),
        ('{"op": "subscribe", "id": 7}', "invalid_frame", 7),
        ('{"op": "subscribe", "id": 7, "channel": 12}', "invalid_frame", 7),
        ('{"op": "subscribe", "id": 7, "channel": ""}', "invalid_frame", 7),
        ('{"op": "subscribe", "id": 7, "channel": "' + "c" * 129 + '"}', "invalid_frame", 7),
        ('{"op": "unsubscribe", "id": 8, "channel": null}', "invalid_frame", 8),
        ('{"op": "presence", "id": 9, "channel": ["x"]}', "invalid_frame", 9),
        ('{"op": "refresh", "id": 10}', "invalid_frame", 10),
        ('{"op": "refresh", "id": 10, "token": 5}', "invalid_frame", 10),
        ('{"op": "refresh", "id": 10, "token": "garbage"}', "invalid_token", 10),
    ],
)
async def test_a_malformed_frame_gets_an_error_reply_and_the_socket_stays_usable(
    hub: Instance, api: Api, ws_connect: Connect, raw: str, code: str, reply_id: Any
) -> None:
    account = await api.account("learner")
    ws = await ws_connect(hub.ws, account.access_token)
    await ws.connection.send(raw)
    answer = await ws.recv()
    assert answer["ok"] is False and answer["id"] == reply_id
    assert answer["error"]["code"] == code and answer["error"]["message"]
    await assert_usable(ws)


@pytest.mark.parametrize(
    "since",
    [
        5,
        "0",
        [],
        {},
        {"offset": 1},
        {"epoch": "abc"},
        {"offset": -1, "epoch": "abc"},
        {"offset": "1", "epoch": "abc"},
        {"offset": 1.0, "epoch": "abc"},
        {"offset": True, "epoch": "abc"},
        {"offset": 1, "epoch": 7},
        {"offset": 1, "epoch": None},
    ],
)
async def test_a_bad_since_is_an_invalid_frame_and_subscribes_nothing(
    hub: Instance, api: Api, ws_connect: Connect, since: Any
) -> None:
    account = await api.account("learner")
    ws = await ws_connect(hub.ws, account.access_token)
    channel = f"user:{account.id}"
    answer = await ws.request(op="subscribe", channel=channel, since=since)
    assert answer["ok"] is False and answer["error"]["code"] == "invalid_frame"
    # Nothing was subscribed: a valid subscribe is a new subscription (one already held would not
    # answer `recovered`).
    fresh = await ws.request(op="subscribe", channel=channel, since={"offset": 0, "epoch": ""})
    assert fresh["ok"] is True and fresh["recovered"] is True


async def test_a_binary_frame_gets_an_error_reply(hub: Instance, api: Api, ws_connect: Connect) -> None:
    account = await api.account("learner")
    ws = await ws_connect(hub.ws, account.access_token)
    await ws.connection.send(json.dumps({"op": "ping", "id": 1}).encode())
    answer = await ws.recv()
    assert answer["ok"] is False and answer["error"]["code"] == "binary_not_supported"
    await assert_usable(ws)


@pytest.mark.parametrize("binary", [False, True])
async def test_an_oversized_frame_closes_1009(
    hub: Instance, api: Api, ws_connect: Connect, binary: bool
) -> None:
    account = await api.account("learner")
    ws = await ws_connect(hub.ws, account.access_token)
    text = json.dumps({"op": "ping", "id": 1, "pad": "x" * 5000})
    await ws.connection.send(text.encode() if binary else text)
    code, _ = await ws.closed()
    assert code == 1009
    await assert_instance_alive(hub)


async def test_an_oversized_first_frame_closes_1009(hub: Instance, ws_connect: Connect) -> None:
    ws = await ws_connect(hub.ws)
    await ws.connection.send(json.dumps({"op": "auth", "token": "x" * 5000}))
    code, _ = await ws.closed()
    assert code == 1009


async def assert_instance_alive(instance: Instance) -> None:
    async with httpx.AsyncClient(base_url=instance.http) as http:
        assert (await http.get("/api/health", timeout=5)).status_code == 200
    assert instance.alive


# -- limits ----------------------------------------------------------------------------------------------


async def test_a_frame_flood_gets_rate_limited_replies_then_close_4029(
    hub: Instance, api: Api, ws_connect: Connect
) -> None:
    account = await api.account("learner")
    ws = await ws_connect(hub.ws, account.access_token)
    for n in range(60):
        await ws.connection.send(json.dumps({"op": "ping", "id": n}))
    code, frames = await ws.closed()
    assert code == 4029
    pongs = [frame for frame in frames if frame.get("pong")]
    limited = [frame for frame in frames if frame.get("error", {}).get("code") == "rate_limited"]
    # The burst (10, less the auth frame) is served; later frames are refused, then the socket is closed.
    assert 9 <= len(pongs) <= 12
    assert limited and len(pongs) + len(limited) == len(frames)
    await assert_instance_alive(hub)


async def test_frames_within_the_rate_are_never_limited(hub: Instance, api: Api, ws_connect: Connect) -> None:
    account = await api.account("learner")
    ws = await ws_connect(hub.ws, account.access_token)
    for _ in range(25):
        await assert_usable(ws)
        await asyncio.sleep(0.06)


async def test_the_subscription_limit_is_an_error_reply(
    hub: Instance, api: Api, client: httpx.AsyncClient, ws_connect: Connect
) -> None:
    owner = await api.account("instructor")
    course_id = await create_course(client, owner)
    ws = await ws_connect(hub.ws, owner.access_token)
    channels = [f"user:{owner.id}"] + [f"course:{course_id}:{kind}" for kind in ("discussion", "leaderboard")]
    for channel in channels:
        assert (await ws.request(op="subscribe", channel=channel))["ok"] is True
    fourth = f"course:{course_id}:activity"
    refused = await ws.request(op="subscribe", channel=fourth)
    assert refused["ok"] is False and refused["error"]["code"] == "too_many_subscriptions"
    # Subscribing again to a channel already held is not a new subscription.
    assert (await ws.request(op="subscribe", channel=channels[0]))["ok"] is True
    assert (await ws.request(op="unsubscribe", channel=channels[1]))["ok"] is True
    assert (await ws.request(op="subscribe", channel=fourth))["ok"] is True


async def test_too_many_connections_per_user_closes_4010(
    hub: Instance, api: Api, ws_connect: Connect
) -> None:
    account = await api.account("learner")
    first = await ws_connect(hub.ws, account.access_token)
    await ws_connect(hub.ws, account.access_token)
    third = await ws_connect(hub.ws)
    await third.send(op="auth", token=account.access_token)
    code, frames = await third.closed()
    assert code == 4010 and frames == []
    # Another user is not affected, and a closed connection frees its place.
    other = await api.account("learner")
    await assert_usable(await ws_connect(hub.ws, other.access_token))
    await first.connection.close()
    deadline = time.monotonic() + 5
    while True:
        again = await ws_connect(hub.ws)
        answer = await again.request(op="auth", token=account.access_token)
        if answer.get("ok"):
            break
        assert time.monotonic() < deadline, "the closed connection never freed its place"
        await asyncio.sleep(0.1)
    await assert_usable(again)


async def test_ping_gets_a_pong_with_the_same_id(hub: Instance, api: Api, ws_connect: Connect) -> None:
    account = await api.account("learner")
    ws = await ws_connect(hub.ws, account.access_token)
    for frame_id in (17, "abc", -3):
        await ws.send(op="ping", id=frame_id)
        assert await ws.recv() == {"id": frame_id, "ok": True, "pong": True}
    await ws.connection.send('{"op": "ping"}')
    assert await ws.recv() == {"id": None, "ok": True, "pong": True}


# -- refresh and expiry ---------------------------------------------------------------------------------


async def _login(api: Api, account: Account) -> str:
    response = await api.login(account.email)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def test_refresh_with_a_new_token_of_the_same_user_works(
    hub: Instance, api: Api, ws_connect: Connect
) -> None:
    account = await api.account("learner")
    short = token_for(account.id, ttl_seconds=3)
    ws = await ws_connect(hub.ws, short)
    answer = await ws.request(op="refresh", token=await _login(api, account))
    assert answer["ok"] is True and answer["expires_at"] > time.time() + 60
    await asyncio.sleep(3.5)  # past the first token's expiry
    await assert_usable(ws)


async def test_refresh_with_another_users_token_or_a_bad_token_fails(
    hub: Instance, api: Api, ws_connect: Connect
) -> None:
    account, other = await api.account("learner"), await api.account("learner")
    ws = await ws_connect(hub.ws, account.access_token)
    wrong = await ws.request(op="refresh", token=other.access_token)
    assert wrong["ok"] is False and wrong["error"]["code"] == "wrong_user"
    expired = await ws.request(op="refresh", token=token_for(account.id, expired=True))
    assert expired["ok"] is False and expired["error"]["code"] == "token_expired"
    # The connection is still the original user's.
    assert (await ws.request(op="subscribe", channel=f"user:{account.id}"))["ok"] is True
    denied = await ws.request(op="subscribe", channel=f"user:{other.id}")
    assert denied["error"]["code"] == "forbidden"


async def test_token_expiry_without_refresh_closes_4009(hub: Instance, api: Api, ws_connect: Connect) -> None:
    account = await api.account("learner")
    ws = await ws_connect(hub.ws, token_for(account.id, ttl_seconds=2))
    await assert_usable(ws)
    code, _ = await ws.closed(timeout=5)
    assert code == 4009


async def test_a_refresh_with_another_short_token_moves_the_expiry(
    hub: Instance, api: Api, ws_connect: Connect
) -> None:
    account = await api.account("learner")
    ws = await ws_connect(hub.ws, token_for(account.id, ttl_seconds=2))
    await asyncio.sleep(1)
    answer = await ws.request(op="refresh", token=token_for(account.id, ttl_seconds=4))
    assert answer["ok"] is True
    started = time.monotonic()
    code, _ = await ws.closed(timeout=8)
    assert code == 4009 and time.monotonic() - started > 1.5
