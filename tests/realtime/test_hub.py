"""The hub's protocol end to end on its in-memory parts: authentication, subscriptions, ordered delivery
with offsets, recovery with `since`, presence, typing, re-checks, errors, and a slow consumer's 4008."""

from __future__ import annotations

import asyncio
import base64
import os
from typing import Any

import pytest
from prometheus_client import REGISTRY

from realtime.config import HubConfig
from realtime.connection import Connection
from realtime.hub import BUILTIN_OPS, Hub
from realtime.memory import MemoryOnline, memory_backends
from realtime.protocol import ProtocolError
from tests.realtime.conftest import HISTORY_SIZE, LATER, QUEUE_SIZE, Accounts, Rules, ServeHub, echo
from tests.ws_client import WsClient, open_sluggish


def on(channel: str, event: str | None = None) -> Any:
    return lambda message: (
        message.get("channel") == channel and (event is None or message.get("event") == event)
    )


async def publications(client: WsClient, channel: str, count: int) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []
    while len(received) < count:
        message = await client.recv()
        if message.get("channel") == channel and "offset" in message:
            received.append(message)
    return received


def the_connection(hub: Hub, user_id: int) -> Connection:
    (connection,) = hub.by_user[str(user_id)]
    return connection


async def test_auth_must_come_first_and_a_bad_token_closes_4001(serve_hub: ServeHub) -> None:
    served = await serve_hub()
    early = await served.client()
    await early.send(op="subscribe", channel="news", id=7)
    code, frames = await early.closed()
    assert code == 4001
    assert [(frame["id"], frame["ok"], frame["error"]["code"]) for frame in frames] == [
        (7, False, "auth_required")
    ]

    wrong = await served.client()
    await wrong.send(op="auth", token="nobody", id=1)
    code, frames = await wrong.closed()
    assert code == 4001
    assert frames[0]["error"]["code"] == "invalid_token"

    good = await served.client()
    answer = await good.request(op="auth", token="user:5")
    assert answer["ok"] is True and answer["user_id"] == "5"
    assert (await good.request(op="auth", token="user:5"))["error"]["code"] == "already_authenticated"


async def test_publications_arrive_once_in_order_with_increasing_offsets(serve_hub: ServeHub) -> None:
    served = await serve_hub()
    first, second = await served.client(1), await served.client(2)
    replies = [await client.request(op="subscribe", channel="news") for client in (first, second)]
    assert [(reply["ok"], reply["offset"], reply["epoch"]) for reply in replies] == [(True, 0, "")] * 2

    offsets = [await served.hub.publish("news", "story", {"n": n}) for n in range(40)]
    assert offsets == list(range(1, 41))
    for client in (first, second):
        received = await publications(client, "news", 40)
        assert [message["data"]["n"] for message in received] == list(range(40))
        assert [message["offset"] for message in received] == offsets
        assert {message["epoch"] for message in received} == {received[0]["epoch"]} != {""}
        assert {message["event"] for message in received} == {"story"}
    # Nothing more (no duplicate) is sent before the reply to a later request.
    for client in (first, second):
        ping = await client.send(op="ping")
        assert await client.recv() == {"id": ping, "ok": True, "pong": True}

    # Unsubscribed: publications stop.
    assert (await first.request(op="unsubscribe", channel="news"))["ok"] is True
    await served.hub.publish("news", "story", {"n": 40})
    assert [m["offset"] for m in await publications(second, "news", 1)] == [41]
    ping = await first.send(op="ping")
    assert await first.recv() == {"id": ping, "ok": True, "pong": True}


async def test_since_recovers_what_was_missed_and_says_when_it_cannot(serve_hub: ServeHub) -> None:
    served = await serve_hub()
    client = await served.client(1)
    await client.request(op="subscribe", channel="news")
    for n in range(3):
        await served.hub.publish("news", "story", {"n": n})
    seen = await publications(client, "news", 3)
    epoch = seen[-1]["epoch"]
    await client.connection.close()

    # Away for two publications: the new connection gets exactly those, in order, then live ones.
    for n in range(3, 5):
        await served.hub.publish("news", "story", {"n": n})
    back = await served.client(1)
    answer = await back.request(op="subscribe", channel="news", since={"offset": 3, "epoch": epoch})
    assert (answer["recovered"], answer["offset"], answer["epoch"]) == (True, 5, epoch)
    await served.hub.publish("news", "story", {"n": 5})
    assert [m["offset"] for m in await publications(back, "news", 3)] == [4, 5, 6]

    # More missed than the history holds: not recovered, and no partial backlog.
    behind = await served.client(2)
    answer = await behind.request(op="subscribe", channel="news", since={"offset": 0, "epoch": epoch})
    assert (answer["recovered"], answer["offset"]) == (False, 6)
    await served.hub.publish("news", "story", {"n": 6})
    assert [m["offset"] for m in await publications(behind, "news", 1)] == [7]

    # An epoch the history never had, or an offset from the future: not recovered.
    for since in ({"offset": 6, "epoch": "other"}, {"offset": 99, "epoch": epoch}):
        stranger = await served.client(3)
        answer = await stranger.request(op="subscribe", channel="news", since=since)
        assert answer["recovered"] is False and answer["epoch"] == epoch

    # A channel with no history: a client that saw nothing has missed nothing.
    fresh = await served.client(4)
    answer = await fresh.request(op="subscribe", channel="room:empty", since={"offset": 0, "epoch": ""})
    assert (answer["recovered"], answer["offset"], answer["epoch"]) == (True, 0, "")
    assert HISTORY_SIZE < 7


async def test_presence_lists_members_and_announces_joins_and_leaves(serve_hub: ServeHub) -> None:
    served = await serve_hub()
    first = await served.client(1)
    await first.request(op="subscribe", channel="room:1")
    own = await first.until(on("room:1", "presence"))  # its own join comes first
    assert [entry["id"] for entry in own["joins"]] == [1]
    second = await served.client(2)
    await second.request(op="subscribe", channel="room:1")
    joined = await first.until(on("room:1", "presence"))
    assert [entry["id"] for entry in joined["joins"]] == [2] and joined["leaves"] == []

    members = (await second.request(op="presence", channel="room:1"))["members"]
    assert sorted(member["id"] for member in members) == [1, 2]
    assert all(member["client_id"] for member in members)

    await second.connection.close()
    left = await first.until(on("room:1", "presence"))
    assert left["joins"] == [] and [entry["id"] for entry in left["leaves"]] == [2]
    assert [m["id"] for m in (await first.request(op="presence", channel="room:1"))["members"]] == [1]

    # Channels without presence refuse the op.
    await first.request(op="subscribe", channel="news")
    refused = await first.request(op="presence", channel="news")
    assert refused["error"]["code"] == "not_subscribed"


async def test_typing_reaches_the_others_without_an_offset(serve_hub: ServeHub) -> None:
    served = await serve_hub()
    first, second = await served.client(1), await served.client(2)
    for client in (first, second):
        await client.request(op="subscribe", channel="room:2")
    assert (await first.request(op="typing", channel="room:2"))["ok"] is True
    typing = await second.until(on("room:2", "typing"))
    assert typing["data"] == {"user": {"id": 1}} and "offset" not in typing

    await first.request(op="subscribe", channel="news")
    assert (await first.request(op="typing", channel="news"))["error"]["code"] == "forbidden"


async def test_errors_are_answered_and_the_connection_stays(serve_hub: ServeHub) -> None:
    served = await serve_hub()
    client = await served.client(1)
    unknown = await client.request(op="dance")
    assert unknown["ok"] is False and unknown["error"]["code"] == "unknown_op"
    forbidden = await client.request(op="subscribe", channel="private:2")
    assert forbidden["error"]["code"] == "forbidden"
    assert (await client.request(op="subscribe", channel="private:1"))["ok"] is True
    bad_since = await client.request(op="subscribe", channel="news", since={"offset": -1, "epoch": ""})
    assert bad_since["error"]["code"] == "invalid_frame"
    assert (await client.request(op="echo", text="hi")) == {
        "id": client._next,
        "ok": True,
        "echo": "hi",
        "user": "1",
    }
    assert (await client.request(op="echo", text="fail"))["error"]["code"] == "refused"
    await client.connection.send("not json")
    assert (await client.recv())["error"]["code"] == "invalid_json"
    assert (await client.request(op="ping"))["pong"] is True


async def test_a_recheck_drops_forbidden_users_everywhere(serve_hub: ServeHub) -> None:
    served = await serve_hub()
    client = await served.client(9)
    await client.request(op="subscribe", channel="private:9")
    served.accounts.blocked.add("9")
    await served.hub.recheck_user("9")
    code, _ = await client.closed()
    assert code == 4003


async def test_has_listeners_follows_local_subscriptions(serve_hub: ServeHub) -> None:
    served = await serve_hub()
    assert await served.hub.has_listeners(["news", "room:3"]) == {"news": False, "room:3": False}
    client = await served.client(1)
    await client.request(op="subscribe", channel="news")
    assert await served.hub.has_listeners(["news", "room:3"]) == {"news": True, "room:3": False}
    await client.request(op="unsubscribe", channel="news")
    assert await served.hub.has_listeners(["news"]) == {"news": False}


# Incompressible and large, so the socket buffers fill long before the publications run out.
BLOB = base64.b64encode(os.urandom(37_500)).decode()


async def test_a_client_that_stops_reading_is_closed_4008_and_others_get_everything(
    serve_hub: ServeHub,
) -> None:
    served = await serve_hub()
    sluggish = await open_sluggish(served.url, served.port)
    served.opened.append(sluggish)
    assert (await sluggish.request(op="auth", token="user:1"))["ok"] is True
    assert (await sluggish.request(op="subscribe", channel="news"))["ok"] is True
    reader = await served.client(2)
    await reader.request(op="subscribe", channel="news")

    count = 200
    reading = asyncio.create_task(publications(reader, "news", count))
    for n in range(count):
        await served.hub.publish("news", "bulk", {"n": n, "blob": BLOB})
        await asyncio.sleep(0.003)
    received = await asyncio.wait_for(reading, 30)
    assert [m["data"]["n"] for m in received] == list(range(count))

    code, frames = await sluggish.closed(timeout=20)
    assert code == 4008
    delivered = [m["data"]["n"] for m in frames if m.get("channel") == "news"]
    assert delivered == list(range(len(delivered))) and len(delivered) < count
    assert QUEUE_SIZE < count
    assert (await reader.request(op="ping"))["pong"] is True
    assert list(served.hub.by_user) == ["2"]


async def test_online_users_count_people_not_connections(serve_hub: ServeHub) -> None:
    served = await serve_hub(track_online=True)
    online = served.hub.online
    assert isinstance(online, MemoryOnline)
    first, second = await served.client(1), await served.client(1)
    await served.client(2)
    assert online.count() == 2

    async def count_becomes(expected: int) -> None:
        async with asyncio.timeout(5):
            while online.count() != expected:
                await asyncio.sleep(0.01)

    await first.connection.close()
    await asyncio.sleep(0.1)
    assert online.count() == 2  # user 1 still holds a connection
    await second.connection.close()
    await count_becomes(1)
    await served.hub.stop()
    assert online.count() == 0


async def test_metrics_are_named_under_the_configured_namespace(serve_hub: ServeHub) -> None:
    served = await serve_hub(metrics_namespace="hubtest")
    assert REGISTRY.get_sample_value("hubtest_ws_connections") == 0
    client = await served.client(1)
    await client.request(op="subscribe", channel="news")
    assert REGISTRY.get_sample_value("hubtest_ws_connections") == 1
    assert REGISTRY.get_sample_value("hubtest_ws_messages_in_total") == 1  # the subscribe; auth is apart
    before = REGISTRY.get_sample_value("hubtest_ws_publications_total") or 0
    await served.hub.publish("news", "posted", {"n": 1})
    await publications(client, "news", 1)
    assert REGISTRY.get_sample_value("hubtest_ws_publications_total") == before + 1
    assert REGISTRY.get_sample_value("realtime_ws_connections") in (None, 0)


async def test_the_auth_reply_comes_before_any_keepalive(serve_hub: ServeHub) -> None:
    served = await serve_hub(track_online=True, server_ping_seconds=0.02)
    online = served.hub.online
    assert isinstance(online, MemoryOnline)
    release = asyncio.Event()
    real_add = online.add

    async def slow_add(user_id: str) -> None:  # authentication still under way for a few pings
        await release.wait()
        await real_add(user_id)

    online.add = slow_add  # type: ignore[method-assign]
    client = await served.client()
    await client.connection.send('{"op": "auth", "id": 1, "token": "user:5"}')
    await asyncio.sleep(0.15)
    release.set()
    first = await client.recv()
    assert first.get("id") == 1 and first["ok"] is True, first
    async with asyncio.timeout(5):
        while (await client.recv()).get("event") != "ping":
            pass  # the keepalive reaches it once it is answered


@pytest.mark.parametrize("op", BUILTIN_OPS)
def test_an_app_op_may_not_take_a_built_in_name(op: str) -> None:
    # The session looks up the app's ops before the built-in ones: a clash would hide a built-in.
    config = HubConfig(track_online=False)
    with pytest.raises(ValueError, match="may not replace built-in ops"):
        Hub(memory_backends(config), config, verifier=Accounts(), authorizer=Rules(), handlers={op: echo})


async def test_app_ops_and_built_ins_are_answered_side_by_side(serve_hub: ServeHub) -> None:
    served = await serve_hub()
    client = await served.client(5)
    echoed = await client.request(op="echo", text="hi")
    assert echoed["ok"] is True and echoed["echo"] == "hi" and echoed["user"] == "5"
    pong = await client.request(op="ping")
    assert pong["ok"] is True and pong["pong"] is True
    unknown = await client.request(op="nope")
    assert unknown["ok"] is False and unknown["error"]["code"] == "unknown_op"


async def _later(text: str) -> asyncio.Future[dict[str, Any]]:
    """The future of the `later` op sent with `text`, once the hub has handled its frame."""
    async with asyncio.timeout(5):
        while text not in LATER:
            await asyncio.sleep(0.01)
    return LATER.pop(text)


async def test_an_op_that_returns_a_future_is_answered_when_it_is_settled_in_its_frames_order(
    serve_hub: ServeHub,
) -> None:
    served = await serve_hub()
    client = await served.client(1)
    first = await client.send(op="later", text="a")
    ping = await client.send(op="ping")
    answer = await _later("a")
    with pytest.raises(TimeoutError):
        await client.recv(timeout=0.3)  # the ping's reply does not overtake the op's
    answer.set_result({"value": 1})
    assert await client.recv() == {"id": first, "ok": True, "value": 1}
    assert await client.recv() == {"id": ping, "ok": True, "pong": True}


async def test_an_op_whose_future_fails_is_answered_with_its_error_and_the_socket_goes_on(
    serve_hub: ServeHub,
) -> None:
    served = await serve_hub()
    client = await served.client(1)
    refused = await client.send(op="later", text="refused")
    (await _later("refused")).set_exception(ProtocolError("refused", "not now", None))
    assert await client.recv() == {
        "id": refused,
        "ok": False,
        "error": {"code": "refused", "message": "not now"},
    }
    broken = await client.send(op="later", text="broken")
    (await _later("broken")).set_exception(RuntimeError("a bug"))
    reply = await client.recv()
    assert reply["id"] == broken and reply["error"]["code"] == "internal_error"
    assert "a bug" not in reply["error"]["message"]  # logged, not told
    assert (await client.request(op="echo", text="still here"))["echo"] == "still here"
