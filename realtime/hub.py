"""The hub: local connections and channel membership, wired to the bus relay, history and presence.

It knows nothing about the application: an app hands it a token verifier, an authorizer and handlers
for application ops (see realtime.contracts).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from realtime.backends import Backends
from realtime.config import HubConfig
from realtime.connection import Connection, Subscription, TokenBucket
from realtime.contracts import AuthFailed, Authorizer, OpHandler, TokenVerifier
from realtime.frames import text_frame
from realtime.metrics import CONNECTIONS, MESSAGES_IN, MESSAGES_OUT, PUBLICATIONS_OUT
from realtime.protocol import (
    ClientFrame,
    CloseCode,
    ProtocolError,
    control_frame,
    dumps,
    error_reply,
    parse_frame,
    publication_fragment,
    reply,
)

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
        self.subscribers: dict[str, dict[Connection, Subscription]] = defaultdict(dict)
        self.by_user: dict[str, set[Connection]] = defaultdict(set)
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
                    connection.send(frame, prepared)
                    sent += 1
            else:
                self._forward(connection, channel, subscription, offset, epoch, frame, prepared)
                sent += 1
        PUBLICATIONS_OUT.inc()
        MESSAGES_OUT.inc(sent)

    def history_lost(self, channel: str) -> None:
        """The relay could not fill a gap: subscribers are told to refetch (`recovered: false`)."""
        notice = control_frame(channel, "resubscribe", recovered=False)
        for connection, subscription in self.subscribers.get(channel, {}).items():
            if subscription.pending is not None:
                subscription.pending.append((None, None, notice))
            else:
                self._forward(connection, channel, subscription, None, None, notice)

    @staticmethod
    def _forward(
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
                await self._recheck(connection)
        elif kind == "recheck_prefix":
            affected = {
                connection
                for channel, subscribers in self.subscribers.items()
                if channel.startswith(argument)
                for connection in subscribers
            }
            for connection in affected:
                await self._recheck(connection)

    async def _recheck(self, connection: Connection) -> None:
        principal = connection.principal
        if principal is None:
            return
        refreshed = await self.verifier.revalidate(principal)
        if refreshed is None:
            connection.close(CloseCode.FORBIDDEN)
            return
        connection.principal = refreshed
        for channel in list(connection.subscriptions):
            if not await self.authorizer.may_subscribe(refreshed, channel):
                await self._unsubscribe(connection, channel)
                connection.send(control_frame(channel, "unsubscribed", reason="forbidden"))

    # -- the socket --------------------------------------------------------------------------------

    async def serve(self, websocket: WebSocket) -> None:
        await websocket.accept()
        config = self.config
        connection = Connection(
            websocket,
            queue_size=config.outgoing_queue_size,
            limiter=TokenBucket(config.frames_per_second, config.frame_burst),
        )
        CONNECTIONS.inc()
        try:
            if await self._authenticate(connection):
                await self._read_loop(connection)
        except WebSocketDisconnect:
            pass
        except Exception:  # noqa: BLE001 - one broken connection never takes the process down
            log.exception("connection failed", extra={"connection": connection.id})
            connection.close(CloseCode.INTERNAL_ERROR)
        finally:
            CONNECTIONS.dec()
            await self._cleanup(connection)
            await connection.finish()

    async def _authenticate(self, connection: Connection) -> bool:
        websocket = connection.websocket
        try:
            raw = await asyncio.wait_for(websocket.receive_text(), self.config.auth_timeout_seconds)
        except (TimeoutError, KeyError, RuntimeError):
            connection.close(CloseCode.UNAUTHORIZED)
            return False
        frame_id: Any = None
        try:
            frame = parse_frame(raw)
            frame_id = frame.id
            if frame.op != "auth":
                raise ProtocolError("auth_required", "the first frame must be {op: auth, token}", frame.id)
            principal = await self.verifier.verify(frame.text("token", max_length=8192) or "")
        except ProtocolError as exc:
            await self._refuse(connection, exc.frame_id if exc.frame_id is not None else frame_id, exc)
            return False
        except AuthFailed as exc:
            await self._refuse(connection, frame_id, exc)
            return False
        except Exception:  # noqa: BLE001 - e.g. a store is down: refuse this one, stay up
            log.warning("authentication failed", exc_info=True, extra={"connection": connection.id})
            await self._refuse(
                connection, frame_id, AuthFailed("unavailable", "cannot authenticate now; retry later")
            )
            return False
        if len(self.by_user[principal.user_id]) >= self.config.max_connections_per_user:
            connection.close(CloseCode.TOO_MANY_CONNECTIONS)
            return False
        connection.principal = principal
        self.by_user[principal.user_id].add(connection)
        if len(self.by_user[principal.user_id]) == 1:
            await self._set_online(principal.user_id, online=True)
        await self.relay.acquire_user(principal.user_id)
        connection.send(reply(frame.id, user_id=principal.user_id, expires_at=principal.expires_at))
        return True

    async def _refuse(self, connection: Connection, frame_id: Any, exc: ProtocolError | AuthFailed) -> None:
        """Answer the failed `auth` frame, then close with 4001."""
        connection.send(error_reply(frame_id, exc.code, exc.message))
        connection.close(CloseCode.UNAUTHORIZED)

    async def _read_loop(self, connection: Connection) -> None:
        websocket = connection.websocket
        limit = self.config.max_frame_bytes
        while connection.closing is None:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            MESSAGES_IN.inc()
            text = message.get("text")
            size = len(text) if text is not None else len(message.get("bytes") or b"")
            if size > limit:
                connection.close(CloseCode.FRAME_TOO_LARGE)
                return
            # Binary frames count against the rate too: a flood of them is refused like any other.
            if not connection.limiter.take():
                connection.violations += 1
                if connection.violations > self.config.frame_burst:
                    connection.close(CloseCode.RATE_LIMITED)
                    return
                connection.send(error_reply(None, "rate_limited", "too many frames; slow down"))
                continue
            if text is None:
                connection.send(error_reply(None, "binary_not_supported", "send JSON text frames"))
                continue
            await self._handle(connection, text)

    async def _handle(self, connection: Connection, text: str) -> None:
        frame_id: Any = None
        try:
            frame = parse_frame(text)
            frame_id = frame.id
            response = await self._dispatch(connection, frame)
            if response is not None:
                connection.send(response)
        except ProtocolError as exc:
            connection.send(
                error_reply(exc.frame_id if exc.frame_id is not None else frame_id, exc.code, exc.message)
            )
        except Exception as exc:  # noqa: BLE001 - one bad frame never takes the connection or process down
            if isinstance(exc, self.unavailable):
                log.warning("op failed: message bus unavailable", extra={"connection": connection.id})
                connection.send(error_reply(frame_id, "unavailable", "the message bus is unavailable; retry"))
            else:
                log.exception("op failed", extra={"connection": connection.id})
                connection.send(error_reply(frame_id, "internal_error", "the operation failed"))

    async def _dispatch(self, connection: Connection, frame: ClientFrame) -> str | None:
        principal = connection.principal
        assert principal is not None
        op = frame.op
        if op == "ping":
            return reply(frame.id, pong=True)
        if op == "subscribe":
            await self._subscribe(connection, frame)
            return None
        if op == "unsubscribe":
            channel = frame.channel()
            await self._unsubscribe(connection, channel)
            return reply(frame.id, channel=channel)
        if op == "presence":
            channel = frame.channel()
            if channel not in connection.subscriptions or not self.presence_for(channel):
                raise ProtocolError("not_subscribed", "subscribe to a channel with presence first", frame.id)
            return reply(frame.id, channel=channel, members=await self.presence.members(channel))
        if op == "typing":
            channel = frame.channel()
            if channel not in connection.subscriptions or not await self.authorizer.may_publish_typing(
                principal, channel
            ):
                raise ProtocolError("forbidden", "you may not send typing indicators here", frame.id)
            await self.publish_ephemeral(
                channel, "typing", {"user": principal.info or {"id": principal.user_id}}
            )
            return reply(frame.id)
        if op == "refresh":
            try:
                refreshed = await self.verifier.verify(frame.text("token", max_length=8192) or "")
            except AuthFailed as exc:
                raise ProtocolError(exc.code, exc.message, frame.id) from exc
            if refreshed.user_id != principal.user_id:
                raise ProtocolError("wrong_user", "the new token belongs to another user", frame.id)
            connection.principal = refreshed
            return reply(frame.id, expires_at=refreshed.expires_at)
        if op == "auth":
            raise ProtocolError("already_authenticated", "this connection is already authenticated", frame.id)
        handler = self.handlers.get(op)
        if handler is None:
            raise ProtocolError("unknown_op", f"unknown op {op!r}", frame.id)
        return reply(frame.id, **(await handler(principal, frame)))

    async def _subscribe(self, connection: Connection, frame: ClientFrame) -> None:
        principal = connection.principal
        assert principal is not None
        channel = frame.channel()
        since = frame.body.get("since")
        if since is not None and not (
            isinstance(since, dict)
            and isinstance(since.get("offset"), int)
            and not isinstance(since.get("offset"), bool)
            and since["offset"] >= 0
            and isinstance(since.get("epoch"), str)
        ):
            raise ProtocolError(
                "invalid_frame", "`since` must be {offset: int >= 0, epoch: string}", frame.id
            )
        if channel in connection.subscriptions:
            position = await self.history.position(channel)
            connection.send(reply(frame.id, channel=channel, offset=position.offset, epoch=position.epoch))
            return
        if len(connection.subscriptions) >= self.config.max_subscriptions:
            raise ProtocolError("too_many_subscriptions", "subscription limit reached", frame.id)
        if not await self.authorizer.may_subscribe(principal, channel):
            raise ProtocolError("forbidden", "you may not subscribe to this channel", frame.id)
        subscription = Subscription()
        connection.subscriptions[channel] = subscription
        self.subscribers[channel][connection] = subscription
        try:
            await self.relay.acquire(channel)
            fields: dict[str, Any] = {"channel": channel}
            if since is not None:
                recovery = await self.history.since(channel, since["offset"], since["epoch"])
                position = recovery.position
                fields["recovered"] = recovery.recovered
                backlog = recovery.frames
            else:
                position = await self.history.position(channel)
                backlog = []
        except BaseException:
            # Redis is unreachable (or the task was cancelled): leave nothing half-subscribed behind.
            if connection.subscriptions.get(channel) is subscription:
                self._forget(connection, channel)
                await self.relay.release(channel)
            raise
        if connection.subscriptions.get(channel) is not subscription:
            # Re-authorization removed it while the history was being read.
            raise ProtocolError("forbidden", "you may not subscribe to this channel", frame.id)
        subscription.start_offset = backlog[-1][0] if backlog else position.offset
        subscription.epoch = position.epoch
        self.relay.track(channel, position.offset, position.epoch)
        fields.update(offset=position.offset, epoch=position.epoch)
        connection.send(reply(frame.id, **fields))
        for _, stored in backlog:
            connection.send(stored)
        pending, subscription.pending = subscription.pending or [], None
        for offset, epoch, live in pending:
            self._forward(connection, channel, subscription, offset, epoch, live)
        if self.presence_for(channel):
            await self._announce(connection, channel, joined=True)

    def _forget(self, connection: Connection, channel: str) -> bool:
        if connection.subscriptions.pop(channel, None) is None:
            return False
        subscribers = self.subscribers.get(channel)
        if subscribers is not None:
            subscribers.pop(connection, None)
            if not subscribers:
                self.subscribers.pop(channel, None)
        return True

    async def _announce(self, connection: Connection, channel: str, *, joined: bool) -> None:
        """Presence entry and diff; best effort (entries expire on their own if this fails)."""
        if connection.principal is None:
            return
        info = {"client_id": connection.id, **connection.principal.info}
        try:
            if joined:
                await self.presence.join(channel, connection.id, info)
            else:
                await self.presence.leave(channel, connection.id)
            diff = {"joins": [info], "leaves": []} if joined else {"joins": [], "leaves": [info]}
            await self.relay.publish_ephemeral(
                channel, dumps({"channel": channel, "event": "presence", **diff})
            )
        except Exception:  # noqa: BLE001 - Redis away: the subscription itself stands
            log.warning("presence update failed", extra={"channel": channel, "connection": connection.id})

    async def _unsubscribe(self, connection: Connection, channel: str) -> None:
        if not self._forget(connection, channel):
            return
        await self.relay.release(channel)
        if self.presence_for(channel):
            await self._announce(connection, channel, joined=False)

    async def _cleanup(self, connection: Connection) -> None:
        if connection.closing is None:
            connection.closing = CloseCode.NORMAL
        for channel in list(connection.subscriptions):
            try:
                await self._unsubscribe(connection, channel)
            except Exception:  # noqa: BLE001 - presence entries expire on their own
                log.warning("cleanup failed", extra={"channel": channel})
        if connection.principal is not None:
            connections = self.by_user.get(connection.principal.user_id)
            if connections is not None and connection in connections:
                connections.discard(connection)
                if not connections:
                    self.by_user.pop(connection.principal.user_id, None)
                    await self._set_online(connection.principal.user_id, online=False)
                await self.relay.release_user(connection.principal.user_id)

    async def _set_online(self, user_id: str, *, online: bool) -> None:
        """Online-users bookkeeping; best effort (the presence loop rewrites it every few seconds)."""
        if self.online is None:
            return
        try:
            if online:
                await self.online.add(user_id)
            elif user_id not in self.by_user:
                await self.online.remove(user_id)
        except Exception:  # noqa: BLE001 - Redis away: the next refresh repairs it
            log.warning("online-users update failed", extra={"user_id": user_id})

    # -- background loops ----------------------------------------------------------------------------

    async def _ping_loop(self) -> None:
        """The only keepalive: the server does not send protocol-level pings as well (README)."""
        frame = dumps({"event": "ping"})
        prepared = text_frame(frame)
        while True:
            await asyncio.sleep(self.config.server_ping_seconds)
            for connections in list(self.by_user.values()):
                for connection in list(connections):
                    connection.send(frame, prepared)

    async def _expiry_loop(self) -> None:
        """Once a second, close the connections whose token expired (one sweep, no timer per socket)."""
        while True:
            await asyncio.sleep(EXPIRY_SWEEP_SECONDS)
            now = time.time()
            for connections in list(self.by_user.values()):
                for connection in list(connections):
                    principal = connection.principal
                    if principal is not None and principal.expires_at <= now:
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
