"""uvicorn's websockets sans-I/O protocol, offering prepared writes (realtime.frames) to the app.

Selected with `uvicorn.Config(ws=PreparedWritesProtocol)`. The capability appears in the scope's
`extensions` only when no per-message extension was negotiated (frame bytes are then the same for
every socket). Idle sockets are the common case, so what one holds is kept small: after the handshake
the request and response objects are let go, the receive queue and the writable flag are slotted
objects that allocate nothing until they are used, and the frame parser is restarted after the
handshake and, between frames, once 1 KiB has arrived since it last was, so that it keeps neither the
upgrade request nor a large frame it parsed (at most a few small ones' worth).

Whole client text frames (masked, unfragmented, no extension bits: what every client op is) that arrive
while the parser rests between frames are read here in a few byte comparisons rather than through
websockets' generator-based parser, which took about 30 % of the api's CPU while it answered small
frames (docs/performance/telemetry-ingest.md, "Frames without the parser"). Anything else, and whatever
follows it in the same read, goes to that parser, which reports protocol errors as before.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn._types import ASGIReceiveEvent, ASGISendEvent
from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.http11 import Request
from websockets.protocol import OPEN, Protocol
from websockets.streams import StreamReader

try:
    from websockets.speedups import apply_mask
except ImportError:  # websockets built without its C extension
    from websockets.utils import apply_mask

from realtime.flag import Flag
from realtime.frames import PREPARED_WRITES

_PARSE = Protocol.parse.__code__
_AT_EOF = StreamReader.at_eof.__code__
# A restart costs about what parsing a small frame does, so it waits until the frames received since the
# last one add up to this; the frame the parser still holds is never larger.
RENEW_AFTER_BYTES = 1024
# First byte of a whole text frame (FIN set, no RSV bits, opcode 1); a client's second byte has the mask
# bit set, its low seven bits the length or 126 for a 16-bit length (127, a 64-bit one, is left to the
# parser).
_WHOLE_TEXT = 0x81
_MASKED = 0x80
_LENGTH_16 = 126


def _parser_at_rest(conn: Protocol) -> bool:
    """True if websockets' parser waits for the first byte of a frame with nothing buffered."""
    if conn.reader.buffer or conn.reader.eof:
        return False
    parser: Any = conn.parser
    frames = parser if parser.gi_code is _PARSE else parser.gi_yieldfrom
    if frames is None or frames.gi_code is not _PARSE:
        return False
    waiting = frames.gi_yieldfrom
    return waiting is not None and waiting.gi_code is _AT_EOF


class Inbox:
    """The part of `asyncio.Queue` uvicorn's protocol uses (put_nowait, get, empty), for one reader.

    An asyncio.Queue allocates four deques up front (~3 KiB); this holds a list only while messages
    wait and a future only while the reader does."""

    __slots__ = ("_items", "_waiter", "_loop")

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._items: list[ASGIReceiveEvent] | None = None
        self._waiter: asyncio.Future[None] | None = None
        # The socket's loop, when known: asking for the running one costs a getpid() call on Python 3.11,
        # once per frame here.
        self._loop = loop

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
            waiter = self._waiter = (self._loop or asyncio.get_running_loop()).create_future()
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
        self.queue = Inbox(self.loop)  # type: ignore[assignment]
        self.writable = Flag(True)  # type: ignore[assignment]
        self.unrenewed_bytes = 0

    def data_received(self, data: bytes) -> None:
        conn = self.conn
        at_rest = (
            self.handshake_complete
            and not self.close_sent
            and conn.current_size is None
            and conn.state is OPEN
            and _parser_at_rest(conn)
        )
        taken = self.take_whole_text_frames(data) if at_rest else 0
        if taken:
            if not self.read_paused:  # as uvicorn does after queueing a message
                self.read_paused = True
                self.transport.pause_reading()
            if taken == len(data):
                return
            data = data[taken:]
        super().data_received(data)
        if self.handshake_complete:
            self.after_frames(len(data))

    def take_whole_text_frames(self, data: bytes) -> int:
        """Queue the whole text frames `data` starts with, up to the first that is anything else or is
        cut short (malformed UTF-8 included); returns how many bytes they took."""
        limit = self.conn.max_message_size
        queue = self.queue
        at, end = 0, len(data)
        while end - at >= 6 and data[at] == _WHOLE_TEXT:
            second = data[at + 1]
            if not second & _MASKED:
                break
            length = second & 0x7F
            start = at + 6
            if length == _LENGTH_16:
                start = at + 8
                if start > end:
                    break
                length = (data[at + 2] << 8) | data[at + 3]
            elif length > _LENGTH_16:
                break
            stop = start + length
            if stop > end or (limit is not None and length > limit):
                break
            try:
                text = apply_mask(data[start:stop], data[start - 4 : start]).decode()
            except UnicodeDecodeError:
                break
            queue.put_nowait({"type": "websocket.receive", "text": text})
            at = stop
        return at

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
        if not _parser_at_rest(conn):
            return False
        parser: Any = conn.parser
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
