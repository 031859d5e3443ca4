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

GUID = b"258EAFA5-E14A-47C5-95CA-C5AB0DC85B11"
READY = b"\x81\x0b" + b'{"ok":true}'
OPEN: set[FloorProtocol] = set()


def frame(payload: bytes) -> bytes:
    length = len(payload)
    if length < 126:
        return bytes([0x81, length]) + payload
    if length < 65536:
        return bytes([0x81, 126]) + length.to_bytes(2, "big") + payload
    return bytes([0x81, 127]) + length.to_bytes(8, "big") + payload


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
        while pos + 2 <= len(data):
            length = data[pos + 1] & 0x7F
            head = 2
            if length == 126:
                length = int.from_bytes(data[pos + 2 : pos + 4], "big")
                head = 4
            elif length == 127:
                length = int.from_bytes(data[pos + 2 : pos + 10], "big")
                head = 10
            end = pos + head + 4 + length
            if end > len(data):
                break
            opcode = data[pos] & 0x0F
            mask = data[pos + head : pos + head + 4]
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(data[pos + head + 4 : end]))
            pos = end
            if opcode == 8:
                OPEN.discard(self)
                self.transport.write(bytes([0x88, len(payload[:2])]) + payload[:2])
                self.transport.close()
                return
            if opcode == 9:
                self.transport.write(bytes([0x8A, len(payload)]) + payload)
        self.buffer = data[pos:]


async def relay(redis_url: str, channel: str) -> None:
    redis = Redis.from_url(redis_url)
    pubsub = redis.pubsub()
    await pubsub.subscribe(channel)
    while True:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
        if message is None or message["type"] != "message":
            continue
        encoded = frame(message["data"])
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
    from bench._loadgen import raise_fd_limit

    raise_fd_limit()
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    asyncio.run(main())
