"""History and recovery: a client that resubscribes with `since` gets exactly what it missed,
in order, with `recovered: true`, or `recovered: false` when the history cannot guarantee it (trimmed,
flushed, another epoch)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from app.runtime import Runtime
from tests.helpers import Account, Api
from tests.live.conftest import Instance, WsClient

Connect = Callable[..., Awaitable[WsClient]]
EVENT = "test.note"


async def publish(runtime: Runtime, channel: str, *numbers: int) -> list[int]:
    """Publish through the in-process hub (another instance, as far as the servers are concerned)."""
    assert runtime.hub is not None
    return [await runtime.hub.publish(channel, EVENT, {"n": n}) for n in numbers]


async def frames_until_pong(ws: WsClient, timeout: float = 5.0) -> list[dict[str, Any]]:
    """Everything the server sends before the reply to a ping sent now (so nothing is pending)."""
    ping_id = await ws.send(op="ping")
    frames = []
    while True:
        message = await ws.recv(timeout)
        if message.get("id") == ping_id and "ok" in message:
            return frames
        frames.append(message)


async def collect(ws: WsClient, channel: str, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []
    while len(received) < count:
        message = await ws.recv(timeout)
        if message.get("channel") == channel and "offset" in message:
            received.append(message)
    return received


async def watch(
    instance: Instance, ws_connect: Connect, account: Account, **since: Any
) -> tuple[WsClient, dict[str, Any]]:
    ws = await ws_connect(instance.ws, account.access_token)
    answer = await ws.request(op="subscribe", channel=f"user:{account.id}", **since)
    assert answer["ok"] is True, answer
    return ws, answer


async def test_a_resubscribing_client_gets_exactly_what_it_missed_in_order(
    instances: tuple[Instance, Instance], api: Api, runtime: Runtime, ws_connect: Connect
) -> None:
    first, second = instances
    learner = await api.account("learner")
    channel = f"user:{learner.id}"
    ws, answer = await watch(second, ws_connect, learner)
    assert answer["offset"] == 0 and answer["epoch"] == "" and "recovered" not in answer
    await publish(runtime, channel, 1, 2)
    seen = await collect(ws, channel, 2)
    assert [m["offset"] for m in seen] == [1, 2] and [m["data"]["n"] for m in seen] == [1, 2]
    assert seen[0]["epoch"] == seen[1]["epoch"] != "" and seen[0]["event"] == EVENT
    await ws.connection.close()

    missed = await publish(runtime, channel, 3, 4, 5, 6)
    assert missed == [3, 4, 5, 6]

    again, answer = await watch(first, ws_connect, learner, since={"offset": 2, "epoch": seen[1]["epoch"]})
    assert answer["recovered"] is True and answer["offset"] == 6 and answer["epoch"] == seen[1]["epoch"]
    recovered = await frames_until_pong(again)
    assert [(m["channel"], m["offset"], m["data"]["n"]) for m in recovered] == [
        (channel, n, n) for n in (3, 4, 5, 6)
    ]
    assert all(m["epoch"] == seen[1]["epoch"] and m["event"] == EVENT for m in recovered)
    # Live publications continue after the backlog, once each.
    await publish(runtime, channel, 7)
    live = await collect(again, channel, 1)
    assert live[0]["offset"] == 7 and await frames_until_pong(again) == []


async def test_since_the_current_position_recovers_nothing_and_succeeds(
    instances: tuple[Instance, Instance], api: Api, runtime: Runtime, ws_connect: Connect
) -> None:
    learner = await api.account("learner")
    await publish(runtime, f"user:{learner.id}", 1, 2, 3)
    _, current = await watch(instances[0], ws_connect, learner)
    ws, answer = await watch(
        instances[1], ws_connect, learner, since={"offset": current["offset"], "epoch": current["epoch"]}
    )
    assert answer["recovered"] is True and answer["offset"] == 3
    assert await frames_until_pong(ws) == []


async def test_since_nothing_on_an_empty_channel_is_recovered(
    instances: tuple[Instance, Instance], api: Api, runtime: Runtime, ws_connect: Connect
) -> None:
    learner = await api.account("learner")
    ws, answer = await watch(instances[0], ws_connect, learner, since={"offset": 0, "epoch": ""})
    assert answer["recovered"] is True and answer["offset"] == 0 and answer["epoch"] == ""
    await publish(runtime, f"user:{learner.id}", 1)
    assert [m["offset"] for m in await collect(ws, f"user:{learner.id}", 1)] == [1]


@pytest.mark.parametrize(
    "since",
    [
        {"offset": 1, "epoch": "another-epoch"},
        {"offset": 0, "epoch": ""},
        {"offset": 1, "epoch": ""},
        {"offset": 99, "epoch": "CURRENT"},
    ],
    ids=["other-epoch", "empty-epoch", "offset-without-epoch", "offset-ahead"],
)
async def test_a_position_the_history_cannot_vouch_for_is_not_recovered(
    instances: tuple[Instance, Instance],
    api: Api,
    runtime: Runtime,
    ws_connect: Connect,
    since: dict[str, Any],
) -> None:
    learner = await api.account("learner")
    channel = f"user:{learner.id}"
    await publish(runtime, channel, 1, 2, 3)
    _, current = await watch(instances[0], ws_connect, learner)
    if since["epoch"] == "CURRENT":
        since = {**since, "epoch": current["epoch"]}
    ws, answer = await watch(instances[1], ws_connect, learner, since=since)
    assert answer["recovered"] is False
    assert (answer["offset"], answer["epoch"]) == (3, current["epoch"])
    assert await frames_until_pong(ws) == []
    # Still subscribed: the next publication arrives.
    await publish(runtime, channel, 4)
    assert [m["offset"] for m in await collect(ws, channel, 1)] == [4]


async def test_a_flushed_history_is_not_recovered(
    instances: tuple[Instance, Instance], api: Api, runtime: Runtime, ws_connect: Connect
) -> None:
    learner = await api.account("learner")
    channel = f"user:{learner.id}"
    ws, _ = await watch(instances[0], ws_connect, learner)
    await publish(runtime, channel, 1)
    last = (await collect(ws, channel, 1))[0]
    await ws.connection.close()
    await publish(runtime, channel, 2, 3)
    await runtime.redis.flushdb()
    since = {"offset": last["offset"], "epoch": last["epoch"]}
    again, answer = await watch(instances[1], ws_connect, learner, since=since)
    assert answer["recovered"] is False and (answer["offset"], answer["epoch"]) == (0, "")
    assert await frames_until_pong(again) == []
    # After the flush, publications start a new epoch; a position in the old one is still not recovered.
    await publish(runtime, channel, 4)
    renewed = (await collect(again, channel, 1))[0]
    assert renewed["offset"] == 1 and renewed["epoch"] != last["epoch"] and renewed["data"] == {"n": 4}
    third, answer = await watch(instances[0], ws_connect, learner, since=since)
    assert answer["recovered"] is False and answer["epoch"] == renewed["epoch"]


async def test_a_live_subscriber_keeps_receiving_across_a_lost_history(
    instances: tuple[Instance, Instance], api: Api, runtime: Runtime, ws_connect: Connect
) -> None:
    """History lost under a subscriber (flushed, expired after a quiet spell): offsets restart at 1 in a
    new epoch. The subscriber is told it cannot rely on continuity and keeps getting publications."""
    learner = await api.account("learner")
    channel = f"user:{learner.id}"
    ws, _ = await watch(instances[0], ws_connect, learner)
    await publish(runtime, channel, 1, 2, 3)
    old = await collect(ws, channel, 3)
    await runtime.redis.flushdb()
    await publish(runtime, channel, 4, 5)
    frames = [m for m in await _frames_for(ws, channel, 3) if m.get("channel") == channel]
    assert frames[0] == {"channel": channel, "event": "resubscribe", "recovered": False}
    assert [(m["offset"], m["data"]["n"]) for m in frames[1:]] == [(1, 4), (2, 5)]
    assert frames[1]["epoch"] != old[0]["epoch"]


async def _frames_for(ws: WsClient, channel: str, count: int) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    while len(frames) < count:
        message = await ws.recv()
        if message.get("channel") == channel:
            frames.append(message)
    return frames


async def test_publications_racing_a_resubscribe_are_neither_lost_nor_duplicated(
    instances: tuple[Instance, Instance], api: Api, runtime: Runtime, ws_connect: Connect
) -> None:
    learner = await api.account("learner")
    channel = f"user:{learner.id}"
    await publish(runtime, channel, *range(1, 11))
    _, start = await watch(instances[0], ws_connect, learner)
    total = 60

    async def keep_publishing() -> None:
        for n in range(11, total + 1):
            await publish(runtime, channel, n)
            await asyncio.sleep(0.002)

    publisher = asyncio.create_task(keep_publishing())
    await asyncio.sleep(0.03)
    ws, answer = await watch(instances[1], ws_connect, learner, since={"offset": 5, "epoch": start["epoch"]})
    await publisher
    assert answer["recovered"] is True
    received = await collect(ws, channel, total - 5)
    assert [m["offset"] for m in received] == list(range(6, total + 1))
    assert [m["data"]["n"] for m in received] == list(range(6, total + 1))
    assert await frames_until_pong(ws) == []


# -- a trimmed history, on an instance that keeps only five publications per channel ---------------------


@pytest.fixture
def small(instance_with: Callable[..., Instance]) -> Instance:
    return instance_with(WS_HISTORY_SIZE="5")


async def send_messages(instance: Instance, sender: Account, to: Account, count: int) -> None:
    async with httpx.AsyncClient(base_url=instance.http) as http:
        for n in range(count):
            sent = await http.post(f"/api/chats/{to.id}", headers=sender.headers, json={"content": f"m{n}"})
            assert sent.status_code == 201, sent.text


async def test_recovery_within_the_history_size_then_not_after_it_is_trimmed(
    small: Instance, api: Api, ws_connect: Connect
) -> None:
    admin, learner = await api.account("admin"), await api.account("learner")
    channel = f"user:{learner.id}"
    ws, _ = await watch(small, ws_connect, learner)
    await send_messages(small, admin, learner, 1)
    first = (await collect(ws, channel, 1))[0]
    assert first["event"] == "message.sent" and first["data"]["content"] == "m0"
    await ws.connection.close()

    await send_messages(small, admin, learner, 5)  # exactly the history size
    ws, answer = await watch(
        small, ws_connect, learner, since={"offset": first["offset"], "epoch": first["epoch"]}
    )
    assert answer["recovered"] is True
    recovered = await frames_until_pong(ws)
    assert [m["offset"] for m in recovered] == [first["offset"] + n for n in range(1, 6)]
    assert [m["data"]["content"] for m in recovered] == [f"m{n}" for n in range(5)]
    last = recovered[-1]
    await ws.connection.close()

    await send_messages(small, admin, learner, 6)  # one more than the history keeps
    ws, answer = await watch(
        small, ws_connect, learner, since={"offset": last["offset"], "epoch": last["epoch"]}
    )
    assert answer["recovered"] is False and answer["offset"] == last["offset"] + 6
    assert answer["epoch"] == last["epoch"]
    assert await frames_until_pong(ws) == []
