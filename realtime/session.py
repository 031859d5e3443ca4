"""One socket's session: authentication, then its frames (subscribe, ops) until it closes.

`Sessions` serves every socket of one hub and holds nothing of its own: a connection's state is its
`Connection`, channel membership is the hub's registry, and fan-out stays in the hub
(docs/ARCHITECTURE.md, "Real time").
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from realtime.connection import Connection, HubPrincipal, Subscription, TokenBucket
from realtime.contracts import AuthFailed
from realtime.protocol import (
    ClientFrame,
    CloseCode,
    ProtocolError,
    control_frame,
    dumps,
    error_reply,
    parse_frame,
    reply,
)

if TYPE_CHECKING:
    from realtime.hub import Hub

log = logging.getLogger(__name__)


FULL_RETRY_AFTER_SECONDS = 5


async def refuse_full(websocket: WebSocket) -> None:
    """Turn a socket away before its upgrade because the hub is full: HTTP 503 with Retry-After and the
    error body of the protocol (`server_full`) where the server offers the ASGI WebSocket Denial Response
    extension, otherwise a close before the upgrade (uvicorn answers 403)."""
    body = error_reply(None, "server_full", "this server holds all the sockets it can; retry later")
    denial = Response(
        body,
        status_code=503,
        media_type="application/json",
        headers={"Retry-After": str(FULL_RETRY_AFTER_SECONDS)},
    )
    try:
        await websocket.send_denial_response(denial)
    except RuntimeError:
        await websocket.close(int(CloseCode.TRY_AGAIN_LATER))


class Sessions:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def recheck(self, connection: Connection) -> None:
        """Re-validate a connection's principal and re-authorize its subscriptions (a control message)."""
        principal = connection.principal
        if principal is None:
            return
        refreshed = await self.hub.verifier.revalidate(principal)
        if refreshed is None:
            connection.close(CloseCode.FORBIDDEN)
            return
        self._adopt(connection, refreshed)
        for channel in list(connection.subscriptions):
            if not await self.hub.authorizer.may_subscribe(refreshed, channel):
                await self._unsubscribe(connection, channel)
                connection.send(control_frame(channel, "unsubscribed", reason="forbidden"))

    def _adopt(self, connection: Connection, principal: HubPrincipal) -> None:
        """The connection acts as `principal` from now on (auth, `refresh`, a re-check), and is closed when
        that principal's token expires."""
        connection.principal = principal
        self.hub.expiries.watch(connection)

    async def serve(self, websocket: WebSocket) -> None:
        hub = self.hub
        config = hub.config
        metrics = hub.metrics
        if hub.full():
            metrics.refused_full.inc()
            await refuse_full(websocket)
            return
        # Counted from before the upgrade, so sockets mid-handshake cannot overshoot the bound together.
        hub.open_sockets += 1
        try:
            await websocket.accept()
        except BaseException:
            hub.open_sockets -= 1
            raise
        connection = Connection(
            websocket,
            queue_size=config.outgoing_queue_size,
            limiter=TokenBucket(config.frames_per_second, config.frame_burst),
            slow_consumers=metrics.slow_consumers,
        )
        metrics.connections.inc()
        try:
            if await self._authenticate(connection):
                # In a task of its own: a frame that waits (a heartbeat waits a second or more for its
                # batch under load) then resumes through the loop's few coroutines only, not also through
                # the ASGI server's, the app's and its middleware's. Cancelling the socket's task cancels
                # the loop's, which it is waiting on.
                await asyncio.create_task(self._read_loop(connection))
        except WebSocketDisconnect:
            pass
        except Exception:  # noqa: BLE001 - one broken connection never takes the process down
            log.exception("connection failed", extra={"connection": connection.id})
            connection.close(CloseCode.INTERNAL_ERROR)
        finally:
            metrics.connections.dec()
            hub.open_sockets -= 1
            await self._cleanup(connection)
            await connection.finish()

    async def _authenticate(self, connection: Connection) -> bool:
        websocket = connection.websocket
        try:
            raw = await asyncio.wait_for(websocket.receive_text(), self.hub.config.auth_timeout_seconds)
        except (TimeoutError, KeyError, RuntimeError):
            connection.close(CloseCode.UNAUTHORIZED)
            return False
        frame_id: Any = None
        try:
            frame = parse_frame(raw)
            frame_id = frame.id
            if frame.op != "auth":
                raise ProtocolError("auth_required", "the first frame must be {op: auth, token}", frame.id)
            principal = await self.hub.verifier.verify(frame.text("token", max_length=8192) or "")
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
        if len(self.hub.by_user[principal.user_id]) >= self.hub.config.max_connections_per_user:
            connection.close(CloseCode.TOO_MANY_CONNECTIONS)
            return False
        self._adopt(connection, principal)
        self.hub.by_user[principal.user_id].add(connection)
        self.hub.keepalive.add(connection)
        if len(self.hub.by_user[principal.user_id]) == 1:
            await self._set_online(principal.user_id, online=True)
        await self.hub.relay.acquire_user(principal.user_id)
        connection.send(reply(frame.id, user_id=principal.user_id, expires_at=principal.expires_at))
        connection.answered = True
        return True

    async def _refuse(self, connection: Connection, frame_id: Any, exc: ProtocolError | AuthFailed) -> None:
        """Answer the failed `auth` frame, then close with 4001."""
        connection.send(error_reply(frame_id, exc.code, exc.message))
        connection.close(CloseCode.UNAUTHORIZED)

    async def _read_loop(self, connection: Connection) -> None:
        websocket = connection.websocket
        limit = self.hub.config.max_frame_bytes
        while connection.closing is None:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            self.hub.metrics.messages_in.inc()
            text = message.get("text")
            size = len(text) if text is not None else len(message.get("bytes") or b"")
            if size > limit:
                connection.close(CloseCode.FRAME_TOO_LARGE)
                return
            # Binary frames count against the rate too: a flood of them is refused like any other.
            if not connection.limiter.take():
                connection.violations += 1
                if connection.violations > self.hub.config.frame_burst:
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
            if isinstance(exc, self.hub.unavailable):
                log.warning("op failed: message bus unavailable", extra={"connection": connection.id})
                connection.send(error_reply(frame_id, "unavailable", "the message bus is unavailable; retry"))
            else:
                log.exception("op failed", extra={"connection": connection.id})
                connection.send(error_reply(frame_id, "internal_error", "the operation failed"))

    async def _dispatch(self, connection: Connection, frame: ClientFrame) -> str | None:
        principal = connection.principal
        assert principal is not None
        op = frame.op
        # The app's ops first: they carry most frames, and none of them can be a built-in (Hub refuses it).
        handler = self.hub.handlers.get(op)
        if handler is not None:
            return reply(frame.id, **(await handler(principal, frame)))
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
            if channel not in connection.subscriptions or not self.hub.presence_for(channel):
                raise ProtocolError("not_subscribed", "subscribe to a channel with presence first", frame.id)
            return reply(frame.id, channel=channel, members=await self.hub.presence.members(channel))
        if op == "typing":
            channel = frame.channel()
            if channel not in connection.subscriptions or not await self.hub.authorizer.may_publish_typing(
                principal, channel
            ):
                raise ProtocolError("forbidden", "you may not send typing indicators here", frame.id)
            await self.hub.publish_ephemeral(
                channel, "typing", {"user": principal.info or {"id": principal.user_id}}
            )
            return reply(frame.id)
        if op == "refresh":
            try:
                refreshed = await self.hub.verifier.verify(frame.text("token", max_length=8192) or "")
            except AuthFailed as exc:
                raise ProtocolError(exc.code, exc.message, frame.id) from exc
            if refreshed.user_id != principal.user_id:
                raise ProtocolError("wrong_user", "the new token belongs to another user", frame.id)
            self._adopt(connection, refreshed)
            return reply(frame.id, expires_at=refreshed.expires_at)
        if op == "auth":
            raise ProtocolError("already_authenticated", "this connection is already authenticated", frame.id)
        raise ProtocolError("unknown_op", f"unknown op {op!r}", frame.id)

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
            position = await self.hub.history.position(channel)
            connection.send(reply(frame.id, channel=channel, offset=position.offset, epoch=position.epoch))
            return
        if len(connection.subscriptions) >= self.hub.config.max_subscriptions:
            raise ProtocolError("too_many_subscriptions", "subscription limit reached", frame.id)
        if not await self.hub.authorizer.may_subscribe(principal, channel):
            raise ProtocolError("forbidden", "you may not subscribe to this channel", frame.id)
        subscription = Subscription()
        connection.subscriptions[channel] = subscription
        self.hub.subscribers[channel][connection] = subscription
        try:
            await self.hub.relay.acquire(channel)
            fields: dict[str, Any] = {"channel": channel}
            if since is not None:
                recovery = await self.hub.history.since(channel, since["offset"], since["epoch"])
                position = recovery.position
                fields["recovered"] = recovery.recovered
                backlog = recovery.frames
            else:
                position = await self.hub.history.position(channel)
                backlog = []
        except BaseException:
            # The bus or history is unreachable (or the task was cancelled): leave nothing half-subscribed.
            if connection.subscriptions.get(channel) is subscription:
                self.hub.forget(connection, channel)
                await self.hub.relay.release(channel)
            raise
        if connection.subscriptions.get(channel) is not subscription:
            # Re-authorization removed it while the history was being read.
            raise ProtocolError("forbidden", "you may not subscribe to this channel", frame.id)
        subscription.start_offset = backlog[-1][0] if backlog else position.offset
        subscription.epoch = position.epoch
        self.hub.relay.track(channel, position.offset, position.epoch)
        fields.update(offset=position.offset, epoch=position.epoch)
        connection.send(reply(frame.id, **fields))
        for _, stored in backlog:
            connection.send(stored)
        pending, subscription.pending = subscription.pending or [], None
        for offset, epoch, live in pending:
            self.hub.forward(connection, channel, subscription, offset, epoch, live)
        if self.hub.presence_for(channel):
            await self._announce(connection, channel, joined=True)

    async def _announce(self, connection: Connection, channel: str, *, joined: bool) -> None:
        """Presence entry and diff; best effort (entries expire on their own if this fails)."""
        if connection.principal is None:
            return
        info = {"client_id": connection.id, **connection.principal.info}
        try:
            if joined:
                await self.hub.presence.join(channel, connection.id, info)
            else:
                await self.hub.presence.leave(channel, connection.id)
            diff = {"joins": [info], "leaves": []} if joined else {"joins": [], "leaves": [info]}
            await self.hub.relay.publish_ephemeral(
                channel, dumps({"channel": channel, "event": "presence", **diff})
            )
        except Exception:  # noqa: BLE001 - the bus away: the subscription itself stands
            log.warning("presence update failed", extra={"channel": channel, "connection": connection.id})

    async def _unsubscribe(self, connection: Connection, channel: str) -> None:
        if not self.hub.forget(connection, channel):
            return
        await self.hub.relay.release(channel)
        if self.hub.presence_for(channel):
            await self._announce(connection, channel, joined=False)

    async def _cleanup(self, connection: Connection) -> None:
        if connection.closing is None:
            connection.closing = CloseCode.NORMAL
        self.hub.keepalive.discard(connection)
        for channel in list(connection.subscriptions):
            try:
                await self._unsubscribe(connection, channel)
            except Exception:  # noqa: BLE001 - presence entries expire on their own
                log.warning("cleanup failed", extra={"channel": channel})
        if connection.principal is not None:
            connections = self.hub.by_user.get(connection.principal.user_id)
            if connections is not None and connection in connections:
                connections.discard(connection)
                if not connections:
                    self.hub.by_user.pop(connection.principal.user_id, None)
                    await self._set_online(connection.principal.user_id, online=False)
                await self.hub.relay.release_user(connection.principal.user_id)

    async def _set_online(self, user_id: str, *, online: bool) -> None:
        """Online-users bookkeeping; best effort (the presence loop rewrites it every few seconds)."""
        if self.hub.online is None:
            return
        try:
            if online:
                await self.hub.online.add(user_id)
            elif user_id not in self.hub.by_user:
                await self.hub.online.remove(user_id)
        except Exception:  # noqa: BLE001 - the store away: the next refresh repairs it
            log.warning("online-users update failed", extra={"user_id": user_id})
