"""The parts the hub is built on, as it uses them: channel history, presence, the bus relay, online users.

The hub receives them (`Hub(backends, config, ...)`), so the same hub runs on Redis across instances
(realtime.redis_backends) or on one process's memory (realtime.memory). An implementation must keep the
guarantees each protocol states; tests/realtime runs the hub on the in-memory parts, the other hub tests on
Redis.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Position:
    offset: int
    epoch: str


@dataclass(frozen=True)
class Recovery:
    frames: list[tuple[int, str]]
    recovered: bool
    position: Position


# What the relay hands the hub: deliver(channel, offset, epoch, frame) for every publication (offset None
# for an ephemeral frame), on_lost(channel) when a gap cannot be filled, and control messages (re-checks).
Deliver = Callable[[str, int | None, str, str], None]
Lost = Callable[[str], None]
ControlHandler = Callable[[str], Awaitable[None]]


class History(Protocol):
    """Per channel: publications with gap-free offsets in publish order, within an epoch that is created
    with the channel's first publication and disappears with its history. At most `size` publications
    are kept, for `ttl` seconds after the last one."""

    async def publish(self, channel: str, fragment: str) -> Position:
        """Append the publication (realtime.protocol.publication_fragment) and hand it to the relay of
        every instance."""

    async def position(self, channel: str) -> Position:
        """The last offset and the epoch (0 and "" when the channel has no history)."""

    async def since(self, channel: str, offset: int, epoch: str) -> Recovery:
        """The publications after `offset`, if the history still holds all of them in the same epoch."""


class Presence(Protocol):
    """Who is subscribed to a channel: an entry lives while its instance refreshes it, and expires `ttl`
    seconds after the last refresh."""

    async def join(self, channel: str, client_id: str, info: dict[str, Any]) -> None: ...

    async def leave(self, channel: str, client_id: str) -> None: ...

    async def refresh(self, entries: dict[str, list[str]]) -> None:
        """Extend the entries of this instance, {channel: [client ids]}; unknown entries are not created."""

    async def expire(self, channel: str) -> list[dict[str, Any]]:
        """Remove the entries nobody refreshed in time; returns their infos (to announce as leaves)."""

    async def members(self, channel: str) -> list[dict[str, Any]]: ...


class Relay(Protocol):
    """Carries publications (from History.publish), ephemeral frames and control messages to the hubs
    that hold the channel; hands them to the bound hub in publish order, each publication once."""

    def bind(self, deliver: Deliver, on_control: ControlHandler, on_lost: Lost) -> None:
        """Where to hand what arrives; called once, by the hub, before `start`."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def acquire(self, channel: str) -> None:
        """Receive `channel` (reference-counted); once this returns, every later publication arrives."""

    async def release(self, channel: str) -> None: ...

    async def acquire_user(self, user_id: str) -> None:
        """Receive the control messages of one user (re-checks)."""

    async def release_user(self, user_id: str) -> None: ...

    def track(self, channel: str, offset: int, epoch: str) -> None:
        """Where a channel was when a subscriber joined (the starting point of a gap fill)."""

    async def publish_ephemeral(self, channel: str, frame: str) -> None: ...

    async def publish_control(self, message: str) -> None: ...

    async def publish_user_control(self, user_id: str, message: str) -> None:
        """Delivered after everything published on `user:<id>` before it, and before anything after it."""

    async def has_listeners(self, channels: Sequence[str]) -> dict[str, bool]:
        """Whether any hub (on any instance this relay reaches) holds each channel."""

    def relaying(self) -> bool:
        """Whether a publication made now reaches this hub (the bus connection is up and subscribed)."""


class Online(Protocol):
    """The users holding at least one connection of this hub, for a count across instances."""

    async def add(self, user_id: str) -> None: ...

    async def remove(self, user_id: str) -> None: ...

    async def refresh(self, user_ids: Iterable[str]) -> None: ...

    async def forget(self) -> None: ...


@dataclass(frozen=True)
class Backends:
    history: History
    presence: Presence
    relay: Relay
    # None turns the online-users bookkeeping off.
    online: Online | None = None
    # Errors that mean "the backing store is unreachable": an op that fails with one is answered
    # `unavailable` (retry), not `internal_error`.
    unavailable: tuple[type[BaseException], ...] = ()
