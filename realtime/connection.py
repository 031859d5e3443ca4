"""One client socket: frames written straight to the socket while it keeps up, else a bounded outbox.

`send` never blocks the caller. Where the server offers prepared writes (realtime.frames), a frame is
written to the transport at once when nothing is waiting before it and the transport is writable;
otherwise it joins the connection's outbox, drained by a writer task that exists only while the
outbox is non-empty. Without the capability every frame goes through the outbox and the ASGI send.
A client that cannot keep up overflows its outbox and is closed as a slow consumer without slowing
anyone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter
from starlette.websockets import WebSocket, WebSocketState

from realtime.frames import PREPARED_WRITES, PreparedWriter, text_frame
from realtime.protocol import CLOSE_REASONS, CloseCode

log = logging.getLogger(__name__)
_ids = itertools.count(1)
# Connection ids key presence entries in Redis, shared by every instance (and by an instance's earlier
# lives): a per-process random prefix keeps them unique cluster-wide.
_ID_PREFIX = f"c{secrets.token_hex(4)}-"

FLUSH_BEFORE_CLOSE_SECONDS = 1.0
CLOSE_WAIT_SECONDS = 15.0


@dataclass(slots=True)
class HubPrincipal:
    """Who is connected, as the app's token verifier describes them; the hub treats it as opaque."""

    user_id: str
    expires_at: float
    info: dict[str, Any] = field(default_factory=dict)
    payload: Any = None
    # The app's memory for this connection (what it looked up for it); a re-check replaces the
    # principal, and this goes with it.
    state: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Subscription:
    """Where a subscriber is in its channel: the last offset it was sent, in which epoch ("" while the
    channel had no history)."""

    start_offset: int = 0
    epoch: str = ""
    # Live frames that arrive while the subscribe reply and recovery are being sent, kept in order as
    # (offset, epoch, frame); offset None is an ephemeral frame, epoch None a "history lost" notice.
    pending: list[tuple[int | None, str | None, str]] | None = field(default_factory=list)


class TokenBucket:
    __slots__ = ("rate", "capacity", "tokens", "stamp")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.capacity = float(burst)
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Connection:
    __slots__ = (
        "id",
        "websocket",
        "direct",
        "outbox",
        "queue_size",
        "principal",
        "subscriptions",
        "closing",
        "writer",
        "limiter",
        "slow_consumers",
        "violations",
        "answered",
        "closer",
        "__weakref__",  # realtime.expiry holds connections weakly
    )

    def __init__(
        self, websocket: WebSocket, *, queue_size: int, limiter: TokenBucket, slow_consumers: Counter
    ) -> None:
        self.id = f"{_ID_PREFIX}{next(_ids)}"
        self.websocket = websocket
        extensions = websocket.scope.get("extensions") or {}
        self.direct: PreparedWriter | None = extensions.get(PREPARED_WRITES)
        # Frame bytes (direct) or texts (fallback) waiting, oldest first; None while nothing waits.
        self.outbox: deque[Any] | None = None
        self.queue_size = queue_size
        self.principal: HubPrincipal | None = None
        self.subscriptions: dict[str, Subscription] = {}
        self.closing: CloseCode | None = None
        self.writer: asyncio.Task[None] | None = None
        self.limiter = limiter
        self.slow_consumers = slow_consumers
        self.violations = 0
        # True once the `auth` reply is on its way: no push may reach the client before it.
        self.answered = False
        self.closer: asyncio.Task[None] | None = None

    def send(self, frame: str, prepared: bytes | None = None) -> None:
        """Queue or write one text frame; `prepared` is its frame bytes when the caller built them once
        for many sockets."""
        if self.closing is not None:
            return
        direct = self.direct
        item: Any = frame
        if direct is not None:
            item = prepared if prepared is not None else text_frame(frame)
            if self.outbox is None and direct.write_if_writable(item):
                return
        outbox = self.outbox
        if outbox is None:
            outbox = self.outbox = deque()
        elif len(outbox) >= self.queue_size:
            self.slow_consumers.inc()
            self.close(CloseCode.SLOW_CONSUMER)
            return
        outbox.append(item)
        if self.writer is None:
            self.writer = asyncio.get_running_loop().create_task(self._write())

    def close(self, code: CloseCode) -> None:
        """Close soon (safe to call from fan-out). A slow consumer's queued frames are dropped; otherwise
        what is already queued (e.g. the reply that explains the close) is flushed first, briefly."""
        if self.closing is not None:
            return
        self.closing = code
        self.closer = asyncio.get_running_loop().create_task(self._close(code))

    async def _close(self, code: CloseCode) -> None:
        writer = self.writer
        if writer is not None:
            if code != CloseCode.SLOW_CONSUMER:
                await asyncio.wait({writer}, timeout=FLUSH_BEFORE_CLOSE_SECONDS)
            writer.cancel()
        self.outbox = None
        if self.websocket.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await self.websocket.close(code=int(code), reason=CLOSE_REASONS[code])

    async def finish(self) -> None:
        """Once the reader is done: let a pending close reach the client (bounded), stop the writer."""
        if self.closer is not None:
            await asyncio.wait({self.closer}, timeout=CLOSE_WAIT_SECONDS)
        if self.writer is not None:
            self.writer.cancel()
        self.outbox = None

    async def _write(self) -> None:
        """Drain the outbox in order; gone (and the outbox with it) once it is empty."""
        direct = self.direct
        try:
            while self.outbox:
                outbox = self.outbox
                if direct is not None:
                    await direct.prepared_drained()
                    if not outbox:
                        continue
                    if not direct.write_prepared(outbox.popleft()):
                        break
                else:
                    await self.websocket.send_text(outbox[0])
                    if outbox:
                        outbox.popleft()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the socket went away; the reader side cleans up
            if self.closing is None:
                self.closing = CloseCode.GOING_AWAY
        finally:
            self.outbox = None
            self.writer = None
