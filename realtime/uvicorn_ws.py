"""uvicorn's websockets sans-I/O protocol, offering prepared writes (realtime.frames) to the app.

Selected with `uvicorn.Config(ws=PreparedWritesProtocol)`. The capability appears in the scope's
`extensions` only when no per-message extension was negotiated (frame bytes are then the same for
every socket); after the handshake the request and response objects are let go.
"""

from __future__ import annotations

from typing import Any

from uvicorn._types import ASGISendEvent
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

from realtime.frames import PREPARED_WRITES


class PreparedWritesProtocol(WebSocketsSansIOProtocol):
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

    def prepared_writable(self) -> bool:
        return self.writable.is_set() and not self.close_sent and not self.disconnected

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
