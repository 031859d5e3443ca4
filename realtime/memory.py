"""The hub's parts in one process's memory: history, presence, a relay and online users, with no Redis.

For a single-process deployment, development, and tests of the hub on its own (tests/realtime). The
semantics are those of the Redis parts (realtime.history, realtime.presence, realtime.relay): offsets
are gap-free within an epoch, history is bounded by size and expires `ttl` seconds after the last
publication (its epoch with it), `since` recovers exactly when every missed publication is still held;
presence entries expire when not refreshed. The relay reaches this process only: a publication is handed
to the hub before `publish` returns, so delivery is in publish order and nothing can be missed.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from realtime.backends import Backends, ControlHandler, Deliver, Lost, Position, Recovery
from realtime.config import HubConfig
from realtime.protocol import publication_frame

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class MemoryRelay:
    def __init__(self) -> None:
        self._deliver: Deliver | None = None
        self._on_control: ControlHandler | None = None
        self._refs: dict[str, int] = {}

    def bind(self, deliver: Deliver, on_control: ControlHandler, on_lost: Lost) -> None:
        # Nothing is ever lost in one process, so on_lost is never called.
        self._deliver = deliver
        self._on_control = on_control

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        self._refs.clear()

    async def acquire(self, channel: str) -> None:
        self._refs[channel] = self._refs.get(channel, 0) + 1

    async def release(self, channel: str) -> None:
        count = self._refs.get(channel, 0) - 1
        if count > 0:
            self._refs[channel] = count
        else:
            self._refs.pop(channel, None)

    async def acquire_user(self, user_id: str) -> None:
        pass  # control messages reach this process's hub whoever is connected

    async def release_user(self, user_id: str) -> None:
        pass

    def track(self, channel: str, offset: int, epoch: str) -> None:
        pass  # there is no gap to fill

    def relay(self, channel: str, offset: int | None, epoch: str, frame: str) -> None:
        """Hand one frame to the hub if it holds the channel (called by MemoryHistory.publish)."""
        if self._deliver is not None and channel in self._refs:
            self._deliver(channel, offset, epoch, frame)

    async def publish_ephemeral(self, channel: str, frame: str) -> None:
        self.relay(channel, None, "-", frame)

    async def publish_control(self, message: str) -> None:
        # Run to completion before returning: a publication after it finds the re-check done.
        if self._on_control is None:
            return
        try:
            await self._on_control(message)
        except Exception:  # noqa: BLE001 - as on the bus: a failed re-check does not fail the publisher
            log.exception("control message failed", extra={"control": message[:200]})

    async def publish_user_control(self, user_id: str, message: str) -> None:
        await self.publish_control(message)

    async def has_listeners(self, channels: Sequence[str]) -> dict[str, bool]:
        return {channel: channel in self._refs for channel in channels}

    def relaying(self) -> bool:
        return True  # publications are handed over in-process


@dataclass
class _ChannelHistory:
    epoch: str
    expires_at: float
    offset: int = 0
    frames: deque[tuple[int, str]] = field(default_factory=deque)


class MemoryHistory:
    def __init__(
        self, relay: MemoryRelay, *, size: int, ttl_seconds: float, clock: Clock = time.monotonic
    ) -> None:
        if size < 1 or ttl_seconds <= 0:
            raise ValueError("history size and ttl must be positive")
        self._relay = relay
        self._size = size
        self._ttl = ttl_seconds
        self._clock = clock
        self._channels: dict[str, _ChannelHistory] = {}

    def _current(self, channel: str) -> _ChannelHistory | None:
        state = self._channels.get(channel)
        if state is not None and state.expires_at <= self._clock():
            del self._channels[channel]  # expired: the epoch goes with the history
            return None
        return state

    async def publish(self, channel: str, fragment: str) -> Position:
        state = self._current(channel)
        if state is None:
            state = _ChannelHistory(uuid.uuid4().hex[:12], 0.0, frames=deque(maxlen=self._size))
            self._channels[channel] = state
        state.offset += 1
        state.expires_at = self._clock() + self._ttl
        frame = publication_frame(channel, state.offset, state.epoch, fragment)
        state.frames.append((state.offset, frame))
        self._relay.relay(channel, state.offset, state.epoch, frame)
        return Position(state.offset, state.epoch)

    async def position(self, channel: str) -> Position:
        state = self._current(channel)
        return Position(0, "") if state is None else Position(state.offset, state.epoch)

    async def since(self, channel: str, offset: int, epoch: str) -> Recovery:
        state = self._current(channel)
        if state is None:
            return Recovery([], offset == 0 and not epoch, Position(0, ""))
        position = Position(state.offset, state.epoch)
        if epoch != position.epoch or offset > position.offset:
            return Recovery([], False, position)
        frames = [(number, frame) for number, frame in state.frames if number > offset]
        missing = position.offset - offset
        complete = len(frames) == missing and (not frames or frames[0][0] == offset + 1)
        return Recovery(frames if complete else [], complete, position)


class MemoryPresence:
    def __init__(self, *, ttl_seconds: float, clock: Clock = time.monotonic) -> None:
        self.ttl = ttl_seconds
        self._clock = clock
        # {channel: {client id: (info as JSON, expires at)}}; JSON so callers never share the dicts.
        self._channels: dict[str, dict[str, tuple[str, float]]] = {}

    async def join(self, channel: str, client_id: str, info: dict[str, Any]) -> None:
        self._channels.setdefault(channel, {})[client_id] = (json.dumps(info), self._clock() + self.ttl)

    async def leave(self, channel: str, client_id: str) -> None:
        entries = self._channels.get(channel)
        if entries is not None:
            entries.pop(client_id, None)
            if not entries:
                del self._channels[channel]

    async def refresh(self, entries: dict[str, list[str]]) -> None:
        expiry = self._clock() + self.ttl
        for channel, client_ids in entries.items():
            known = self._channels.get(channel)
            if known is None:
                continue
            for client_id in client_ids:
                entry = known.get(client_id)
                if entry is not None:
                    known[client_id] = (entry[0], expiry)

    async def expire(self, channel: str) -> list[dict[str, Any]]:
        entries = self._channels.get(channel)
        if not entries:
            return []
        now = self._clock()
        stale = [client_id for client_id, (_, expires_at) in entries.items() if expires_at <= now]
        gone = [json.loads(entries.pop(client_id)[0]) for client_id in stale]
        if not entries:
            del self._channels[channel]
        return gone

    async def members(self, channel: str) -> list[dict[str, Any]]:
        now = self._clock()
        entries = self._channels.get(channel, {})
        return [json.loads(info) for info, expires_at in entries.values() if expires_at >= now]


class MemoryOnline:
    """The users connected to this process's hub; `count()` is what `count_online` is for Redis."""

    def __init__(self) -> None:
        self._users: set[str] = set()

    async def add(self, user_id: str) -> None:
        self._users.add(user_id)

    async def remove(self, user_id: str) -> None:
        self._users.discard(user_id)

    async def refresh(self, user_ids: Iterable[str]) -> None:
        self._users = set(user_ids)

    async def forget(self) -> None:
        self._users.clear()

    def count(self) -> int:
        return len(self._users)


def memory_backends(config: HubConfig, *, clock: Clock = time.monotonic) -> Backends:
    """History, presence and relay for a hub that runs in this process alone."""
    relay = MemoryRelay()
    return Backends(
        history=MemoryHistory(
            relay, size=config.history_size, ttl_seconds=config.history_ttl_seconds, clock=clock
        ),
        presence=MemoryPresence(ttl_seconds=config.presence_ttl_seconds, clock=clock),
        relay=relay,
        online=MemoryOnline() if config.track_online else None,
    )
