"""The hub: the registry of local connections and channel membership, and the fan-out of what the relay
delivers; each socket is served by realtime.session.

It knows nothing about the application: an app hands it a token verifier, an authorizer and handlers
for application ops (see realtime.contracts), and the parts it is built on (realtime.backends).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from starlette.websockets import WebSocket

from realtime.backends import Backends
from realtime.config import HubConfig
from realtime.connection import Connection, Subscription
from realtime.contracts import Authorizer, OpHandler, TokenVerifier
from realtime.expiry import ExpiryWatch
from realtime.frames import text_frame
from realtime.keepalive import KeepaliveSlices
from realtime.metrics import hub_metrics
from realtime.protocol import CloseCode, control_frame, dumps, publication_fragment
from realtime.session import Sessions

log = logging.getLogger(__name__)

EXPIRY_SWEEP_SECONDS = 1.0
BUILTIN_OPS = ("subscribe", "unsubscribe", "ping", "presence", "typing", "refresh", "auth")


class Hub:
    def __init__(
        self,
        backends: Backends,
        config: HubConfig,
        *,
        verifier: TokenVerifier,
        authorizer: Authorizer,
        handlers: dict[str, OpHandler] | None = None,
        presence_for: Callable[[str], bool] = lambda channel: False,
    ) -> None:
        self.config = config
        self.metrics = hub_metrics(config.metrics_namespace)
        self.verifier = verifier
        self.authorizer = authorizer
        self.handlers = dict(handlers or {})
        clash = set(self.handlers) & set(BUILTIN_OPS)
        if clash:
            raise ValueError(f"application ops may not replace built-in ops: {sorted(clash)}")
        self.presence_for = presence_for
        self.history = backends.history
        self.presence = backends.presence
        self.online = backends.online
        self.relay = backends.relay
        self.unavailable = backends.unavailable
        self.relay.bind(self.deliver, self._on_control, self.history_lost)
        self.sessions = Sessions(self)
        self.subscribers: dict[str, dict[Connection, Subscription]] = defaultdict(dict)
        self.by_user: dict[str, set[Connection]] = defaultdict(set)
        self.expiries = ExpiryWatch()  # who to close with TOKEN_EXPIRED, and when
        self.keepalive = KeepaliveSlices(config.server_ping_seconds)  # who to ping, and when
        self.open_sockets = 0  # sockets served now, from before their upgrade (HubConfig.max_connections)
        self._tasks: list[asyncio.Task[None]] = []

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.relay.start()
        self._tasks = [
            asyncio.create_task(self._ping_loop(), name="hub-ping"),
            asyncio.create_task(self._presence_loop(), name="hub-presence"),
            asyncio.create_task(self._expiry_loop(), name="hub-expiry"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for connections in list(self.by_user.values()):
            for connection in list(connections):
                connection.close(CloseCode.GOING_AWAY)
        if self.online is not None:
            with contextlib.suppress(Exception):  # store away: the entries expire on their own
                await asyncio.wait_for(self.online.forget(), 2.0)
        await self.relay.stop()

    # -- publishing (used by the app) --------------------------------------------------------------

    async def publish(self, channel: str, event: str, data: Any) -> int:
        """Publish with history: every subscriber on every instance receives it, in offset order."""
        position = await self.history.publish(channel, publication_fragment(event, data))
        return position.offset

    async def publish_ephemeral(self, channel: str, event: str, data: Any) -> None:
        """Publish without history (typing indicators and the like): best effort, never recovered."""
        await self.relay.publish_ephemeral(channel, control_frame(channel, event, data=data))

    async def recheck_user(self, user_id: str) -> None:
        """Re-run authorization for every connection of a user, on every instance. Sent on the user's own
        control channel, which shares a shard with `user:<id>`, so a notice published on `user:<id>` after
        this call reaches the connection after the re-check has run (the relay handles messages in order)."""
        await self.relay.publish_user_control(user_id, f"recheck|{user_id}")

    async def has_listeners(self, channels: Sequence[str]) -> dict[str, bool]:
        """Whether any hub the relay reaches (this one included) has a subscriber of each channel."""
        return await self.relay.has_listeners(channels)

    async def recheck_channels(self, prefix: str) -> None:
        """Re-run authorization for every subscription to channels starting with `prefix`, everywhere."""
        await self.relay.publish_control(f"recheck_prefix|{prefix}")

    # -- delivery (called by the relay, synchronously) ---------------------------------------------

    def deliver(self, channel: str, offset: int | None, epoch: str, frame: str) -> None:
        subscribers = self.subscribers.get(channel)
        if not subscribers:
            return
        # The frame's bytes are built once for every subscriber of this instance.
        prepared = text_frame(frame)
        sent = 0
        for connection, subscription in subscribers.items():
            if subscription.pending is not None:
                subscription.pending.append((offset, epoch, frame))
            elif offset is not None and epoch == subscription.epoch:
                # The common case, inlined: the next publication of the epoch this subscriber follows.
                if offset > subscription.start_offset:
                    subscription.start_offset = offset
                    # Connection.send's direct write, inlined: it runs once per subscriber.
                    direct = connection.direct
                    if (
                        direct is None
                        or connection.outbox is not None
                        or connection.closing is not None
                        or not direct.write_if_writable(prepared)
                    ):
                        connection.send(frame, prepared)
                    sent += 1
            else:
                self.forward(connection, channel, subscription, offset, epoch, frame, prepared)
                sent += 1
        self.metrics.publications_out.inc()
        self.metrics.messages_out.inc(sent)

    def history_lost(self, channel: str) -> None:
        """The relay could not fill a gap: subscribers are told to refetch (`recovered: false`)."""
        notice = control_frame(channel, "resubscribe", recovered=False)
        for connection, subscription in self.subscribers.get(channel, {}).items():
            if subscription.pending is not None:
                subscription.pending.append((None, None, notice))
            else:
                self.forward(connection, channel, subscription, None, None, notice)

    @staticmethod
    def forward(
        connection: Connection,
        channel: str,
        subscription: Subscription,
        offset: int | None,
        epoch: str | None,
        frame: str,
        prepared: bytes | None = None,
    ) -> None:
        """Send one frame to one subscriber: publications once each, in offset order within an epoch."""
        if offset is None:
            if epoch is None:
                # After "history lost", whatever epoch comes next is taken as it is.
                subscription.epoch, subscription.start_offset = "", 0
            connection.send(frame, prepared)
            return
        if epoch != subscription.epoch:
            if subscription.epoch:
                # The history this subscriber was following is gone (flushed, expired, Redis lost):
                # offsets restarted in a new epoch, and continuity cannot be vouched for.
                connection.send(control_frame(channel, "resubscribe", recovered=False))
            subscription.epoch, subscription.start_offset = epoch or "", 0
        if offset > subscription.start_offset:
            subscription.start_offset = offset
            connection.send(frame, prepared)

    async def _on_control(self, message: str) -> None:
        kind, _, argument = message.partition("|")
        if kind == "recheck":
            for connection in list(self.by_user.get(argument, ())):
                await self.sessions.recheck(connection)
        elif kind == "recheck_prefix":
            affected = {
                connection
                for channel, subscribers in self.subscribers.items()
                if channel.startswith(argument)
                for connection in subscribers
            }
            for connection in affected:
                await self.sessions.recheck(connection)

    # -- sockets and the registry ---------------------------------------------------------------------

    def full(self) -> bool:
        """True while the hub holds `HubConfig.max_connections` sockets: `serve` turns new ones away."""
        limit = self.config.max_connections
        return limit is not None and self.open_sockets >= limit

    def serve(self, websocket: WebSocket) -> Coroutine[Any, Any, None]:
        """The WebSocket endpoint: one session per socket (realtime.session). Returns the session's
        coroutine rather than awaiting it, so no frame of this method is kept while the socket lives."""
        return self.sessions.serve(websocket)

    def forget(self, connection: Connection, channel: str) -> bool:
        """Take a subscription out of the connection and the registry; False if it was not there."""
        if connection.subscriptions.pop(channel, None) is None:
            return False
        subscribers = self.subscribers.get(channel)
        if subscribers is not None:
            subscribers.pop(connection, None)
            if not subscribers:
                self.subscribers.pop(channel, None)
        return True

    # -- background loops ----------------------------------------------------------------------------

    async def _ping_loop(self) -> None:
        """The only keepalive: the server does not send protocol-level pings as well (README). One slice
        of the sockets per tick (realtime.keepalive), each socket once per `server_ping_seconds`."""
        frame = dumps({"event": "ping"})
        prepared = text_frame(frame)
        tick = 0
        while True:
            await asyncio.sleep(self.keepalive.tick_seconds)
            for connection in self.keepalive.due(tick):
                if connection.answered:  # still authenticating: its first frame is the auth reply
                    connection.send(frame, prepared)
            tick += 1

    async def _expiry_loop(self) -> None:
        """Once a second, close the connections whose token expired (no timer per socket, and only the
        expired ones are looked at: realtime.expiry)."""
        while True:
            await asyncio.sleep(EXPIRY_SWEEP_SECONDS)
            for connection in self.expiries.due(time.time()):
                connection.close(CloseCode.TOKEN_EXPIRED)

    async def _presence_loop(self) -> None:
        interval = max(0.5, self.config.presence_ttl_seconds / 3)
        while True:
            await asyncio.sleep(interval)
            try:
                mine: dict[str, list[str]] = {}
                for channel, subscribers in self.subscribers.items():
                    if self.presence_for(channel):
                        mine[channel] = [connection.id for connection in subscribers]
                await self.presence.refresh(mine)
                if self.online is not None:
                    await self.online.refresh(list(self.by_user))
                for channel in mine:
                    gone = await self.presence.expire(channel)
                    if gone:
                        await self.relay.publish_ephemeral(
                            channel,
                            dumps({"channel": channel, "event": "presence", "joins": [], "leaves": gone}),
                        )
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - retried on the next tick
                log.warning("presence refresh failed", exc_info=True)
