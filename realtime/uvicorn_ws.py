"""uvicorn's websockets sans-I/O protocol, offering prepared writes (realtime.frames) to the app.

Selected with `uvicorn.Config(ws=PreparedWritesProtocol)`. The capability appears in the scope's
`extensions` only when no per-message extension was negotiated (frame bytes are then the same for
every socket). Idle sockets are the common case, so what one holds is kept small: after the handshake
the request and response objects are let go, the receive queue and the writable flag are slotted
objects that allocate nothing until they are used, and the frame parser is restarted after the
handshake and, between frames, once 1 KiB has arrived since it last was, so that it keeps neither the
upgrade request nor a large frame it parsed (at most a few small ones' worth).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn._types import ASGIReceiveEvent, ASGISendEvent
from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.http11 import Request
from websockets.protocol import Protocol
from websockets.streams import StreamReader

from realtime.flag import Flag
from realtime.frames import PREPARED_WRITES

_PARSE = Protocol.parse.__code__
_AT_EOF = StreamReader.at_eof.__code__
# A restart costs about what parsing a small frame does, so it waits until the frames received since the
# last one add up to this; the frame the parser still holds is never larger.
RENEW_AFTER_BYTES = 1024


class Inbox:
    """The part of `asyncio.Queue` uvicorn's protocol uses (put_nowait, get, empty), for one reader.

    An asyncio.Queue allocates four deques up front (~3 KiB); this holds a list only while messages
    wait and a future only while the reader does."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[ASGIReceiveEvent] | None = None
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: ASGIReceiveEvent) -> None:
        if self._items is None:
            self._items = [item]
        else:
            self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def empty(self) -> bool:
        return not self._items

    async def get(self) -> ASGIReceiveEvent:
        while not self._items:
            if self._waiter is not None:
                raise RuntimeError("a WebSocket has one reader at a time")
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        items = self._items
        item = items.pop(0)
        if not items:
            self._items = None
        return item


class PreparedWritesProtocol(WebSocketsSansIOProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        # Same methods, a fraction of the memory (see the classes above).
        self.queue = Inbox()  # type: ignore[assignment]
        self.writable = Flag(True)  # type: ignore[assignment]
        self.unrenewed_bytes = 0

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.handshake_complete:
            self.after_frames(len(data))

    def after_frames(self, size: int) -> None:
        """Count `size` bytes of frames received; renew the parser once they add up to RENEW_AFTER_BYTES."""
        self.unrenewed_bytes += size
        if self.unrenewed_bytes >= RENEW_AFTER_BYTES and self.renew_parser():
            self.unrenewed_bytes = 0

    def renew_parser(self) -> bool:
        """Replace the frame parser by a fresh one if it is between frames with nothing buffered; True
        if it was replaced. The running one holds, as locals of its generators, the upgrade request
        (websockets' server-side parse) and the last frame it parsed, for as long as the socket lives."""
        conn = self.conn
        parser: Any = conn.parser
        frames = parser if parser.gi_code is _PARSE else parser.gi_yieldfrom
        waiting = getattr(frames, "gi_yieldfrom", None)
        if frames is None or frames.gi_code is not _PARSE:
            return False
        if waiting is None or waiting.gi_code is not _AT_EOF:
            return False
        if conn.reader.buffer or conn.reader.eof:
            return False
        fresh = Protocol.parse(conn)
        next(fresh)
        conn.parser = fresh
        parser.close()
        return True

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope: Any = getattr(self, "scope", None)
        if scope is not None and self.response.status_code == 101 and not self.conn.extensions:
            scope["extensions"][PREPARED_WRITES] = self

    async def send(self, message: ASGISendEvent) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept" and self.handshake_complete:
            # Only the handshake needs them; an idle socket should not keep its headers twice.
            self.__dict__.pop("request", None)
            self.__dict__.pop("response", None)
            self.renew_parser()

    def write_if_writable(self, data: bytes) -> bool:
        if not self.writable.value or self.close_sent or self.disconnected:  # type: ignore[attr-defined]
            return False
        if not self.transport.is_closing():
            self.transport.write(data)
        return True

    def write_prepared(self, data: bytes) -> bool:
        if self.close_sent or self.disconnected or self.transport.is_closing():
            return False
        self.transport.write(data)
        return True

    async def prepared_drained(self) -> None:
        await self.writable.wait()


def uvicorn_ws_options() -> dict[str, Any]:
    """The WebSocket options of `uvicorn.Config` the hub is built for: prepared writes, no per-message
    deflate (README, "Real time"), and no protocol-level pings (the hub's own ping is the keepalive)."""
    return {"ws": PreparedWritesProtocol, "ws_per_message_deflate": False, "ws_ping_interval": None}
