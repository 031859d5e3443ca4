"""A test client of the hub's socket: frames with ids, replies matched to requests, the close code."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed


class WsClient:
    """A test client of /ws: sends frames with ids, collects everything else as it arrives."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self._next = 0

    async def send(self, **frame: Any) -> Any:
        self._next += 1
        frame.setdefault("id", self._next)
        await self.connection.send(json.dumps(frame))
        return frame["id"]

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.connection.recv(), timeout)
        value: dict[str, Any] = json.loads(raw)
        return value

    async def request(self, timeout: float = 5.0, **frame: Any) -> dict[str, Any]:
        """Send a frame and return its reply; other frames that arrive first are skipped."""
        frame_id = await self.send(**frame)
        while True:
            message = await self.recv(timeout)
            if message.get("id") == frame_id and "ok" in message:
                return message

    async def until(self, predicate: Any, timeout: float = 5.0) -> dict[str, Any]:
        while True:
            message = await self.recv(timeout)
            if predicate(message):
                return message

    async def closed(self, timeout: float = 5.0) -> tuple[int | None, list[dict[str, Any]]]:
        """Read until the server closes the socket: the close code and every frame received before it."""
        frames: list[dict[str, Any]] = []
        try:
            async with asyncio.timeout(timeout):
                while True:
                    frames.append(json.loads(await self.connection.recv()))
        except ConnectionClosed as exc:
            return (exc.rcvd.code if exc.rcvd is not None else None), frames


async def open_sluggish(url: str, port: int) -> WsClient:
    """A client with tiny socket buffers whose library stops reading once one frame is waiting: to the
    server, a client that stopped reading."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    connection = await connect(url, sock=sock, max_queue=1, max_size=2**22, compression=None)
    return WsClient(connection)
