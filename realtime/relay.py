"""The bus relay: the only bridge between Redis sharded pub/sub and the local hub.

One upstream shard-channel subscription (SSUBSCRIBE; in a cluster, on the shard owning the channel's
slot) per channel per process, reference-counted by local subscribers. Payloads
are `offset|epoch|frame` for publications with history and `-|-|frame` for ephemeral ones (typing,
presence diffs); the frame is relayed as-is, so it is encoded once per publication cluster-wide.
When Redis goes away the relay reconnects with capped, jittered backoff, resubscribes, and fills the
gap of every channel from history before it relays anything new (so order holds); where history cannot
fill it, `on_lost(channel)` is called and the hub tells subscribers
`{"channel", "event": "resubscribe", "recovered": false}` so they refetch. The same gap fill runs when one
channel's subscription is confirmed again without the relay reconnecting (a cluster client re-subscribes
the channels of one shard that went away and came back, on its own). A publication is relayed to the
hub at most once per epoch and offset.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence
from typing import Any

from prometheus_client import Counter
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import ClusterPubSub
from redis.exceptions import ClusterDownError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from realtime.backends import ControlHandler, Deliver, History, Lost
from realtime.flag import Flag
from realtime.keys import DEFAULT_KEYS, KeyLayout
from realtime.redis_client import RedisClient, shard_subscribers

log = logging.getLogger(__name__)

_CLUSTER_POLL_SECONDS = 0.05

FILL_ATTEMPTS = 3


def _not_bound(*_: Any) -> None:
    raise RuntimeError("the relay is not bound to a hub (Relay.bind)")


async def _control_not_bound(message: str) -> None:
    _not_bound(message)


async def channels_with_listeners(
    redis: RedisClient, channels: Sequence[str], keys: KeyLayout = DEFAULT_KEYS
) -> dict[str, bool]:
    """Whether any hub instance holds each channel (PUBSUB SHARDNUMSUB on the relay's shard channels,
    asked of the shard owning each). For processes without a hub of their own, e.g. workers that push
    a view only while someone watches it."""
    counts = await shard_subscribers(redis, [keys.shard_channel(channel) for channel in channels])
    return {channel: counts.get(keys.shard_channel(channel), 0) > 0 for channel in channels}


class BusRelay:
    def __init__(
        self,
        redis: RedisClient,
        history: History,
        *,
        # Reconnect attempts are cheap (a refused connect costs microseconds): a low cap bounds how long
        # relaying stays off after Redis is back (at most ~0.75 s with the jitter), whatever the outage.
        backoff_cap_seconds: float = 0.5,
        keys: KeyLayout = DEFAULT_KEYS,
        reconnects: Counter | None = None,
    ) -> None:
        self._redis = redis
        self._reconnects = reconnects
        self._keys = keys
        self._history = history
        self._deliver: Deliver = _not_bound
        self._on_control: ControlHandler = _control_not_bound
        self._on_lost: Lost = _not_bound
        self._backoff_cap = backoff_cap_seconds
        self._refs: dict[str, int] = {}
        self._confirmed: dict[str, Flag] = {}
        self._last: dict[str, tuple[int, str]] = {}
        # Per-user control channels, held while this process has a connection of the user.
        self._user_refs: dict[str, int] = {}
        self._user_confirmed: dict[str, Flag] = {}
        self._pubsub: PubSub | None = None
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    def bind(self, deliver: Deliver, on_control: ControlHandler, on_lost: Lost) -> None:
        self._deliver = deliver
        self._on_control = on_control
        self._on_lost = on_lost

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="bus-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await self._close_pubsub()

    async def acquire(self, channel: str) -> None:
        """Make sure the process receives `channel`; returns once Redis has confirmed the subscription,
        so anything published after this call returns is delivered."""
        self._refs[channel] = self._refs.get(channel, 0) + 1
        event = self._confirmed.setdefault(channel, Flag())
        if self._refs[channel] == 1 and self._pubsub is not None and self.connected.is_set():
            try:
                await self._pubsub.ssubscribe(self._keys.shard_channel(channel))
            except Exception:  # noqa: BLE001 - the reconnect loop resubscribes every channel
                log.warning("subscribe failed; the relay will resubscribe", extra={"channel": channel})
        try:
            await asyncio.wait_for(event.wait(), timeout=5.0)
        except TimeoutError:
            log.warning("subscription not confirmed in time", extra={"channel": channel})

    async def release(self, channel: str) -> None:
        count = self._refs.get(channel, 0) - 1
        if count > 0:
            self._refs[channel] = count
            return
        self._refs.pop(channel, None)
        self._confirmed.pop(channel, None)
        self._last.pop(channel, None)
        if self._pubsub is not None and self.connected.is_set():
            try:
                await self._pubsub.sunsubscribe(self._keys.shard_channel(channel))
            except Exception:  # noqa: BLE001 - a dead connection drops its subscriptions anyway
                pass

    async def acquire_user(self, user_id: str) -> None:
        """Receive the re-checks of `user_id` (one shard channel, tagged like `user:<id>`); returns once
        Redis has confirmed the subscription."""
        self._user_refs[user_id] = self._user_refs.get(user_id, 0) + 1
        event = self._user_confirmed.setdefault(user_id, Flag())
        if self._user_refs[user_id] == 1 and self._pubsub is not None and self.connected.is_set():
            try:
                await self._pubsub.ssubscribe(self._keys.user_control(user_id))
            except Exception:  # noqa: BLE001 - the reconnect loop resubscribes every channel
                log.warning("subscribe failed; the relay will resubscribe", extra={"user_id": user_id})
        try:
            await asyncio.wait_for(event.wait(), timeout=5.0)
        except TimeoutError:
            log.warning("user control subscription not confirmed in time", extra={"user_id": user_id})

    async def release_user(self, user_id: str) -> None:
        count = self._user_refs.get(user_id, 0) - 1
        if count > 0:
            self._user_refs[user_id] = count
            return
        self._user_refs.pop(user_id, None)
        self._user_confirmed.pop(user_id, None)
        if self._pubsub is not None and self.connected.is_set():
            try:
                await self._pubsub.sunsubscribe(self._keys.user_control(user_id))
            except Exception:  # noqa: BLE001 - a dead connection drops its subscriptions anyway
                pass

    def relaying(self) -> bool:
        return self.connected.is_set()

    def channels(self) -> list[str]:
        return list(self._refs)

    def track(self, channel: str, offset: int, epoch: str) -> None:
        """Where a channel was when a subscriber joined, so a gap can be filled even if nothing was
        relayed on it before Redis went away."""
        if channel in self._refs:
            self._last.setdefault(channel, (offset, epoch))

    async def publish_ephemeral(self, channel: str, frame: str) -> None:
        await self._redis.spublish(self._keys.shard_channel(channel), "-|-|" + frame)

    async def publish_control(self, message: str) -> None:
        await self._redis.spublish(self._keys.control_channel, message)

    async def publish_user_control(self, user_id: str, message: str) -> None:
        await self._redis.spublish(self._keys.user_control(user_id), message)

    async def has_listeners(self, channels: Sequence[str]) -> dict[str, bool]:
        return await channels_with_listeners(self._redis, channels, self._keys)

    async def _close_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        self.connected.clear()
        for event in (*self._confirmed.values(), *self._user_confirmed.values()):
            event.clear()
        if pubsub is not None:
            try:
                await pubsub.aclose()  # type: ignore[no-untyped-call, unused-ignore]  # typed from redis 8.2
            except Exception:  # noqa: BLE001 - closing a broken connection may fail; nothing to do
                pass

    async def _run(self) -> None:
        delay = 0.1
        first = True
        while True:
            try:
                pubsub = self._redis.pubsub()
                self._pubsub = pubsub
                names = self._subscription_names()
                await pubsub.ssubscribe(self._keys.control_channel, *names)
                # While that was on its way, acquire/release left their channels to this loop; from
                # here on they (un)subscribe themselves, so each list is taken right before its command
                # is written (redis-py writes before its first wait).
                self.connected.set()
                if late := self._subscription_names() - names:
                    await pubsub.ssubscribe(*late)
                if gone := names - self._subscription_names():
                    await pubsub.sunsubscribe(*gone)
                if not first:
                    if self._reconnects is not None:
                        self._reconnects.inc()
                    # Before anything new is relayed: what was published while we were away, in order.
                    # New messages wait on the subscribed connection meanwhile.
                    await self._fill_gaps(list(self._refs))
                first = False
                delay = 0.1
                await self._read(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - stay up: local delivery continues, we retry
                log.warning("relay lost redis; reconnecting", extra={"error": repr(exc), "delay": delay})
            await self._close_pubsub()
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(self._backoff_cap, delay * 2)

    def _subscription_names(self) -> set[str]:
        """The shard channels the held users and channels need."""
        return {
            *(self._keys.user_control(user) for user in self._user_refs),
            *(self._keys.shard_channel(channel) for channel in self._refs),
        }

    async def _read(self, pubsub: PubSub) -> None:
        while True:
            message: dict[str, Any] | None = await (
                # redis-py reads the shards' connections one after another, sharing the timeout out among
                # them: while it waits on an idle shard, a busy one's messages wait too (bench.crossinstance,
                # one busy channel: p99 664 ms with 1 s). 50 ms bounds that wait to ~35 ms; passes over idle
                # shards cost ~2 % of a core per process (5 ms: p99 5.6 ms but ~9 %).
                pubsub.get_sharded_message(timeout=_CLUSTER_POLL_SECONDS)
                if isinstance(pubsub, ClusterPubSub)
                else pubsub.get_message(timeout=1.0)
            )
            if message is None:
                continue
            kind = message["type"]
            name = message["channel"]
            if isinstance(name, bytes):
                name = name.decode()
            channel = self._keys.channel_of(name)
            user = self._keys.user_of_control(name)
            if kind == "ssubscribe" and user is not None:
                user_event = self._user_confirmed.get(user)
                if user_event is not None:
                    user_event.set()
                continue
            if kind == "ssubscribe" and channel is not None:
                event = self._confirmed.get(channel)
                if event is not None:
                    if event.is_set():
                        await self._fill_gaps([channel])  # re-subscribed after its shard came back
                    event.set()
                continue
            if kind != "smessage":
                continue
            data = message["data"]
            if isinstance(data, bytes):
                data = data.decode()
            if name == self._keys.control_channel or user is not None:
                try:
                    await self._on_control(data)
                except Exception:  # noqa: BLE001 - a failed re-check must not cost the relay its connection
                    log.exception("control message failed", extra={"control": data[:200]})
                continue
            if channel is not None:
                self._dispatch(channel, data)

    def _dispatch(self, channel: str, payload: str) -> None:
        offset_text, epoch, frame = payload.split("|", 2)
        if offset_text == "-":
            self._deliver(channel, None, epoch, frame)
            return
        offset = int(offset_text)
        last = self._last.get(channel)
        if last is not None and last[1] == epoch and offset <= last[0]:
            return  # already relayed (filled from history, then seen live)
        if channel in self._refs:
            self._last[channel] = (offset, epoch)
        self._deliver(channel, offset, epoch, frame)

    async def _fill_gaps(self, channels: list[str]) -> None:
        """After a reconnect: deliver what was published while the relay was away, from history."""
        for channel in channels:
            last = self._last.get(channel)
            if last is None:
                continue
            recovery = None
            for attempt in range(FILL_ATTEMPTS):
                try:
                    recovery = await self._history.since(channel, last[0], last[1])
                    break
                except (RedisConnectionError, RedisTimeoutError, ClusterDownError):
                    # E.g. a pooled connection that died with the old server, or a cluster that has not
                    # yet marked its restarted shard healthy; if Redis is away again,
                    # the reconnect loop comes back here later (the history may well be intact).
                    if attempt == FILL_ATTEMPTS - 1:
                        raise
                    await asyncio.sleep(0.1 * (attempt + 1))
                except Exception:  # noqa: BLE001 - unreadable history: treat it as lost
                    log.warning("gap fill failed", exc_info=True, extra={"channel": channel})
                    break
            if recovery is not None and recovery.recovered:
                for offset, frame in recovery.frames:
                    self._dispatch(channel, f"{offset}|{recovery.position.epoch}|{frame}")
            elif channel in self._refs:
                self._on_lost(channel)
