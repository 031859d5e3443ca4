"""Bounded work per client on /ws: connection attempts per address, how long an unauthenticated socket is
held, and typing indicators per user and channel (each fans out to every subscriber of the channel)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from app.live.access import TYPING_INTERVAL_SECONDS
from tests.helpers import Api
from tests.live.conftest import Instance, WsClient
from tests.live.helpers import cast_for_course

Connect = Callable[..., Awaitable[WsClient]]
ATTEMPTS = 3


@pytest.fixture
def limited(instance_with: Callable[..., Instance]) -> Instance:
    return instance_with(RATE_LIMIT_WS_CONNECT=f"{ATTEMPTS}/minute")


async def open_from(instance: Instance, address: str | None) -> WsClient:
    """A socket whose client address is `address` (forwarded by the loopback proxy the server trusts)."""
    headers = {"X-Forwarded-For": address} if address else {}
    return WsClient(await connect(instance.ws, additional_headers=headers, max_size=2**22))


async def test_connection_attempts_are_limited_per_address(limited: Instance) -> None:
    opened: list[WsClient] = []
    try:
        for _ in range(ATTEMPTS):
            opened.append(await open_from(limited, "198.51.100.7"))
            assert (await opened[-1].request(op="ping"))["error"]["code"] == "auth_required"
        refused = await open_from(limited, "198.51.100.7")
        opened.append(refused)
        code, frames = await refused.closed()
        assert code == 4029
        assert frames == [
            {
                "id": None,
                "ok": False,
                "error": {"code": "rate_limited", "message": frames[0]["error"]["message"]},
            }
        ]
        # Another address is not affected, and clients on the server's own machine are never counted.
        other = await open_from(limited, "198.51.100.8")
        opened.append(other)
        assert (await other.request(op="ping"))["error"]["code"] == "auth_required"
        for _ in range(ATTEMPTS + 2):
            local = await open_from(limited, None)
            opened.append(local)
            assert (await local.request(op="ping"))["error"]["code"] == "auth_required"
    finally:
        for ws in opened:
            await ws.connection.close()


async def test_an_unauthenticated_socket_is_dropped_after_two_seconds(
    instances: tuple[Instance, Instance],
) -> None:
    silent = await open_from(instances[0], None)
    started = time.monotonic()
    code, frames = await silent.closed(timeout=4.0)
    held = time.monotonic() - started
    assert (code, frames) == (4001, [])
    assert 1.5 <= held <= 3.5, held


async def test_typing_fans_out_at_most_once_per_interval_per_user_and_channel(
    instances: tuple[Instance, Instance], api: Api, client: httpx.AsyncClient, ws_connect: Connect
) -> None:
    cast = await cast_for_course(api, client)
    channel = f"course:{cast.course_id}:discussion"
    typist = await ws_connect(instances[0].ws, cast.enrolled.access_token)
    watcher = await ws_connect(instances[1].ws, cast.owner.access_token)
    for ws in (typist, watcher):
        assert (await ws.request(op="subscribe", channel=channel))["ok"] is True

    replies: list[dict[str, Any]] = [await typist.request(op="typing", channel=channel) for _ in range(10)]
    assert replies[0]["ok"] is True
    assert all(r["ok"] is False and r["error"]["code"] == "rate_limited" for r in replies[1:]), replies
    assert await typing_events(watcher) == [cast.enrolled.id]
    # Another user on the same channel has an interval of their own.
    assert (await watcher.request(op="typing", channel=channel))["ok"] is True
    assert await typing_events(typist) == [cast.owner.id]
    await asyncio.sleep(TYPING_INTERVAL_SECONDS)
    assert (await typist.request(op="typing", channel=channel))["ok"] is True


async def typing_events(ws: WsClient, seconds: float = 1.0) -> list[int]:
    """The users whose typing indicators reach `ws` within `seconds`."""
    seen: list[int] = []
    try:
        async with asyncio.timeout(seconds):
            while True:
                message = await ws.recv()
                if message.get("event") == "typing":
                    seen.append(message["data"]["user"]["user_id"])
    except TimeoutError:
        pass
    return seen


async def test_a_frame_nested_thousands_deep_is_invalid_json_not_an_internal_error(
    instances: tuple[Instance, Instance], api: Api, ws_connect: Connect
) -> None:
    account = await api.register()
    ws = await ws_connect(instances[0].ws, account.access_token)
    for raw in ("[" * 30_000 + "]" * 30_000, '{"op":"ping","x":' + "[" * 15_000 + "]" * 15_000 + "}"):
        await ws.connection.send(raw)
        reply = await ws.recv()
        assert reply["ok"] is False and reply["error"]["code"] == "invalid_json", reply
    assert (await ws.request(op="ping"))["pong"] is True


@pytest.fixture
def full_and_limited(instance_with: Callable[..., Instance]) -> Instance:
    return instance_with(RATE_LIMIT_WS_CONNECT="2/minute", WS_MAX_CONNECTIONS="1")


async def test_a_full_hub_turns_sockets_away_before_the_connect_limit_counts_them(
    full_and_limited: Instance,
) -> None:
    address = "198.51.100.21"
    held = await open_from(full_and_limited, address)  # the address's first attempt, the hub's one place
    try:
        for _ in range(3):  # past the address's limit of 2 if they were counted
            with pytest.raises(InvalidStatus) as refused:
                await open_from(full_and_limited, address)
            assert refused.value.response.status_code == 503
    finally:
        await held.connection.close()
    async with asyncio.timeout(10):
        while True:  # the place comes back once the server has seen the close
            try:
                again = await open_from(full_and_limited, address)
                break
            except InvalidStatus as refused:
                assert refused.response.status_code == 503
                await asyncio.sleep(0.05)
    try:
        # The address's second counted attempt: admitted, not rate limited (4029).
        assert (await again.request(op="ping"))["error"]["code"] == "auth_required"
    finally:
        await again.connection.close()
