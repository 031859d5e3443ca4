"""The raw floor: a bare asyncio (uvloop) WebSocket server that relays Redis publications.

No ASGI, no per-connection task or queue: each publication received from Redis pub/sub is framed once
(RFC 6455 text frame header + payload) and the same bytes are written to every open socket's
transport. It answers the opening handshake, pings and closes, and nothing else. This is what the
machine, the kernel and the load generator can absorb; no real hub can beat it.

`python -m bench.fanout.floor --port P --channel C` with BENCH_REDIS_URL in the environment.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import os

from redis.asyncio import Redis

from bench._wsframe import CLOSE, PING, PONG, next_frame, server_frame, unmask

GUID = b"258EAFA5-E14A-47C5-95CA-C5AB0DC85B11"
READY = b"\x81\x0b" + b'{"ok":true}'
OPEN: set[FloorProtocol] = set()


class FloorProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.open = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        OPEN.discard(self)

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        data = self.buffer + data
        self.buffer = b""
        if not self.open:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                self.buffer = data
                return
            key = b""
            for line in data[:end].split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"sec-websocket-key":
                    key = value.strip()
            accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
            self.transport.write(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n" + READY
            )
            self.open = True
            OPEN.add(self)
            data = data[end + 4 :]
        # Client frames (always masked): answer pings and closes, ignore the rest.
        pos = 0
        while (found := next_frame(data, pos)) is not None:
            first, start, end = found
            opcode = first & 0x0F
            payload = unmask(data, start, end)
            pos = end
            if opcode == CLOSE:
                OPEN.discard(self)
                self.transport.write(server_frame(payload[:2], CLOSE))
                self.transport.close()
                return
            if opcode == PING:
                self.transport.write(server_frame(payload, PONG))
        self.buffer = data[pos:]


async def relay(redis_url: str, channel: str) -> None:
    redis = Redis.from_url(redis_url)
    pubsub = redis.pubsub()
    await pubsub.subscribe(channel)
    while True:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
        if message is None or message["type"] != "message":
            continue
        encoded = server_frame(message["data"])
        for protocol in OPEN:
            protocol.transport.write(encoded)  # type: ignore[union-attr]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--channel", default="bench:floor")
    args = parser.parse_args()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(FloorProtocol, "127.0.0.1", args.port, backlog=4096)
    async with server:
        await relay(os.environ["BENCH_REDIS_URL"], args.channel)


if __name__ == "__main__":
    from app.descriptors import raise_open_file_limit

    raise_open_file_limit()
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    asyncio.run(main())
