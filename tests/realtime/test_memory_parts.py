"""The in-memory history and presence keep the guarantees of the Redis ones (realtime.backends): offsets
and epochs, bounded history, expiry with the epoch, `since`; presence refresh and expiry."""

from __future__ import annotations

import json
from typing import Any

from realtime.memory import MemoryHistory, MemoryPresence, MemoryRelay
from realtime.protocol import publication_fragment


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def relayed_to(relay: MemoryRelay) -> list[tuple[str, int | None, str, str]]:
    seen: list[tuple[str, int | None, str, str]] = []

    async def control(message: str) -> None:
        pass

    relay.bind(lambda *frame: seen.append(frame), control, lambda channel: None)
    return seen


async def test_history_offsets_trim_and_since() -> None:
    relay = MemoryRelay()
    seen = relayed_to(relay)
    await relay.acquire("c")
    history = MemoryHistory(relay, size=3, ttl_seconds=60, clock=Clock())
    assert await history.position("c") == (await history.since("c", 0, "")).position
    assert (await history.since("c", 0, "")).recovered is True

    positions = [await history.publish("c", publication_fragment("e", {"n": n})) for n in range(5)]
    epoch = positions[0].epoch
    assert [p.offset for p in positions] == [1, 2, 3, 4, 5] and {p.epoch for p in positions} == {epoch}
    # Every publication went to the relay, as the frame a subscriber receives.
    assert [(channel, offset, e) for channel, offset, e, _ in seen] == [("c", n, epoch) for n in range(1, 6)]
    assert json.loads(seen[0][3]) == {
        "channel": "c",
        "offset": 1,
        "epoch": epoch,
        "event": "e",
        "data": {"n": 0},
    }

    kept = await history.since("c", 2, epoch)
    assert kept.recovered is True and [offset for offset, _ in kept.frames] == [3, 4, 5]
    assert [json.loads(frame)["data"]["n"] for _, frame in kept.frames] == [2, 3, 4]
    assert (await history.since("c", 5, epoch)).frames == [] and (
        await history.since("c", 5, epoch)
    ).recovered
    trimmed = await history.since("c", 1, epoch)  # offset 2 fell out of the 3 kept
    assert (trimmed.recovered, trimmed.frames) == (False, [])
    assert (await history.since("c", 2, "another")).recovered is False
    assert (await history.since("c", 6, epoch)).recovered is False
    assert (await history.since("c", 0, "")).recovered is False


async def test_history_expires_with_its_epoch() -> None:
    clock = Clock()
    relay = MemoryRelay()
    history = MemoryHistory(relay, size=10, ttl_seconds=60, clock=clock)
    first = await history.publish("c", publication_fragment("e", 1))
    clock.now += 59
    await history.publish("c", publication_fragment("e", 2))  # extends the life of the whole history
    clock.now += 59
    assert (await history.position("c")).offset == 2
    clock.now += 1
    position = await history.position("c")
    assert (position.offset, position.epoch) == (0, "")
    assert (await history.since("c", 2, first.epoch)).recovered is False
    again = await history.publish("c", publication_fragment("e", 3))
    assert again.offset == 1 and again.epoch != first.epoch


async def test_relay_hands_over_only_held_channels_and_runs_control_before_returning() -> None:
    relay = MemoryRelay()
    seen = relayed_to(relay)
    controls: list[str] = []

    async def control(message: str) -> None:
        controls.append(message)

    relay.bind(lambda *frame: seen.append(frame), control, lambda channel: None)
    await relay.publish_ephemeral("c", "{}")
    await relay.acquire("c")
    await relay.acquire("c")
    await relay.publish_ephemeral("c", '{"x":1}')
    await relay.release("c")
    assert await relay.has_listeners(["c", "d"]) == {"c": True, "d": False}
    await relay.release("c")
    await relay.publish_ephemeral("c", "{}")
    assert seen == [("c", None, "-", '{"x":1}')]
    assert await relay.has_listeners(["c"]) == {"c": False}
    await relay.publish_user_control("7", "recheck|7")
    assert controls == ["recheck|7"]


async def test_presence_join_leave_refresh_and_expiry() -> None:
    clock = Clock()
    presence = MemoryPresence(ttl_seconds=30, clock=clock)
    info: dict[str, Any] = {"client_id": "a", "id": 1}
    await presence.join("room", "a", info)
    await presence.join("room", "b", {"client_id": "b", "id": 2})
    info["id"] = 99  # the stored entry is a copy
    assert sorted(m["id"] for m in await presence.members("room")) == [1, 2]

    clock.now += 20
    await presence.refresh({"room": ["a", "ghost"], "elsewhere": ["a"]})
    clock.now += 15  # b expired, a was refreshed
    assert [m["id"] for m in await presence.members("room")] == [1]
    assert await presence.expire("room") == [{"client_id": "b", "id": 2}]
    assert await presence.expire("room") == []
    await presence.refresh({"room": ["b"]})  # refresh never brings an entry back
    assert [m["id"] for m in await presence.members("room")] == [1]

    await presence.leave("room", "a")
    assert await presence.members("room") == []
    assert await presence.expire("room") == []
